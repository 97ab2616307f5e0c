"""The transcript interpreter: a hand-driven cluster (no randomness, no clock) whose every
command prints what happened, so a scenario file pairs inputs with expected outputs.

File format (one block per command; blank lines separate blocks, '#' lines are comments):

    propose 1 hello
    ----
    <expected output, one or more lines, no blank line>

Commands (ids are node ids):
    add-nodes N [voters=1,2,3] [learners=4,5] [pre-vote=true] [check-quorum=true]
              [election=10] [heartbeat=1] [max-inflight=256] [max-size=1048576]
                                     bootstrap nodes (voters default 1..N) and apply that
    add-node ID [options]            a fresh node that joins later (no peers, empty log)
    campaign ID | tick ID [N] | tick-election ID | tick-heartbeat ID
    tick-all [N]                     N rounds of one tick on every live node
    propose ID DATA | propose-conf-change ID add|add-learner|remove NODE
    transfer-leader ID TO | read-index ID CTX
    deliver [FROM->TO ...] [type=MsgApp]   deliver the queued messages that match (once)
    stabilize                        deliver everything, in order, until no message is left
    drop [FROM->TO ...]              discard queued messages that match
    partition 1 2 / 3                messages across groups are lost; `heal` undoes it
    crash ID | restart ID            a crash loses everything not persisted
    compact ID [KEEP]                snapshot at the applied index, keep KEEP entries
    status [ID ...] | log ID | progress ID
Every step prints the Ready it caused: role changes, installed snapshots, applied entries,
read states; each delivered message is printed when it arrives (or is dropped).
"""
from __future__ import annotations

import shlex
from dataclasses import dataclass, field
from pathlib import Path

from types import ModuleType

from pykube_plane import _raft as compiled_raft

from .harness import NodeApp
from .statemachine import RecordingStateMachine

CONF_CHANGE_WORDS = {"add": compiled_raft.CONF_CHANGE_ADD_NODE,
                     "add-learner": compiled_raft.CONF_CHANGE_ADD_LEARNER_NODE,
                     "remove": compiled_raft.CONF_CHANGE_REMOVE_NODE}
MESSAGE_TYPES = {name: code for code, name in compiled_raft.MESSAGE_NAMES.items()}
ROLE_NAMES = compiled_raft.ROLE_NAMES


@dataclass
class Block:
    line_no: int
    command: str
    expected: list[str]


def parse(text: str) -> list[Block]:
    lines = text.splitlines()
    blocks: list[Block] = []
    i = 0
    while i < len(lines):
        line = lines[i].rstrip()
        if not line or line.startswith("#"):
            i += 1
            continue
        if i + 1 >= len(lines) or lines[i + 1].rstrip() != "----":
            raise ValueError(f"line {i + 1}: command {line!r} must be followed by '----'")
        start = i
        i += 2
        expected = []
        while i < len(lines) and lines[i].strip():
            expected.append(lines[i].rstrip())
            i += 1
        blocks.append(Block(start + 1, line, expected))
    return blocks


def render(blocks: list[Block], outputs: list[list[str]], original: str) -> str:
    """The file with each block's expected output replaced (comments kept)."""
    lines = original.splitlines()
    out: list[str] = []
    i = 0
    by_line = {b.line_no - 1: (b, o) for b, o in zip(blocks, outputs)}
    while i < len(lines):
        if i in by_line:
            block, output = by_line[i]
            out.extend([lines[i], "----", *output])
            i += 2
            while i < len(lines) and lines[i].strip():
                i += 1
            continue
        out.append(lines[i])
        i += 1
    return "\n".join(out) + "\n"


@dataclass
class Cluster:
    impl: ModuleType = compiled_raft
    nodes: dict[int, NodeApp] = field(default_factory=dict)
    queue: list = field(default_factory=list)
    groups: dict[int, int] = field(default_factory=dict)  # node -> partition group
    terms: dict[int, int] = field(default_factory=dict)  # node -> last term printed
    out: list[str] = field(default_factory=list)

    # --- plumbing ---

    def emit(self, line: str) -> None:
        self.out.append(line)

    def connected(self, a: int, b: int) -> bool:
        return self.groups.get(a, 0) == self.groups.get(b, 0)

    def settle(self, node_id: int) -> None:
        """Process every Ready of a node, printing what it shows."""
        app = self.nodes[node_id]
        while app.alive and app.node.has_ready():
            rd, applied = app.process_ready()
            if rd.soft_state is not None or (
                    rd.hard_state is not None and rd.hard_state.term != self.terms.get(node_id)):
                n = app.node
                self.emit(f"{node_id}: {ROLE_NAMES[n.role]} term={n.term} lead={n.lead}")
            if rd.hard_state is not None:
                self.terms[node_id] = rd.hard_state.term
            if rd.snapshot is not None:
                s = rd.snapshot
                self.emit(f"{node_id}: installed snapshot {s.term}/{s.index} "
                          f"voters={list(s.conf_state.voters)} "
                          f"learners={list(s.conf_state.learners)}")
            if applied:
                self.emit(f"{node_id}: applied " + ", ".join(e.describe() for e, _ in applied))
            for rs in rd.read_states:
                self.emit(f"{node_id}: read-state index={rs.index} ctx={rs.ctx.decode()}")
            self.queue.extend(rd.messages)

    def deliver_one(self, m) -> None:
        target = self.nodes.get(m.to)
        if target is None or not target.alive:
            self.emit(f"{m.describe()} (dropped: {m.to} is down)")
            return
        if not self.connected(m.from_, m.to):
            self.emit(f"{m.describe()} (dropped: partition)")
            return
        self.emit(m.describe())
        target.node.step(m)
        self.settle(m.to)

    @staticmethod
    def matches(m, pairs: list[tuple[int, int]], types: set[int]) -> bool:
        if pairs and (m.from_, m.to) not in pairs:
            return False
        return not types or m.type in types

    @staticmethod
    def parse_filters(args: list[str]) -> tuple[list[tuple[int, int]], set[int]]:
        pairs, types = [], set()
        for a in args:
            if a.startswith("type="):
                types.update(MESSAGE_TYPES[t] for t in a[5:].split(","))
            else:
                src, dst = a.split("->")
                pairs.append((int(src), int(dst)))
        return pairs, types

    # --- commands ---

    def run(self, command: str) -> list[str]:
        self.out = []
        words = shlex.split(command)
        name, args = words[0], words[1:]
        handler = getattr(self, "cmd_" + name.replace("-", "_"), None)
        if handler is None:
            raise ValueError(f"unknown command {name!r}")
        handler(args)
        return self.out or ["ok"]

    @staticmethod
    def options(args: list[str]) -> tuple[list[str], dict]:
        positional, opts = [], {}
        names = {"pre-vote": ("pre_vote", lambda v: v == "true"),
                 "check-quorum": ("check_quorum", lambda v: v == "true"),
                 "election": ("election_tick", int), "heartbeat": ("heartbeat_tick", int),
                 "max-inflight": ("max_inflight", int), "max-size": ("max_size_per_msg", int)}
        for a in args:
            if "=" in a and a.split("=")[0] in names:
                key, value = a.split("=", 1)
                attr, convert = names[key]
                opts[attr] = convert(value)
            else:
                positional.append(a)
        return positional, opts

    def cmd_add_nodes(self, args: list[str]) -> None:
        positional, opts = self.options([a for a in args if not a.startswith(("voters=",
                                                                               "learners="))])
        n = int(positional[0])
        voters = tuple(range(1, n + 1))
        learners: tuple[int, ...] = ()
        for a in args:
            if a.startswith("voters="):
                voters = tuple(int(x) for x in a[7:].split(","))
            if a.startswith("learners="):
                learners = tuple(int(x) for x in a[9:].split(","))
        for node_id in sorted(set(voters) | set(learners)):
            self.nodes[node_id] = NodeApp(node_id, voters, learners=learners, impl=self.impl,
                                          state_machine=RecordingStateMachine, **opts)
        for node_id in sorted(set(voters) | set(learners)):
            self.settle(node_id)

    def cmd_add_node(self, args: list[str]) -> None:
        positional, opts = self.options(args)
        node_id = int(positional[0])
        self.nodes[node_id] = NodeApp(node_id, (), impl=self.impl,
                                      state_machine=RecordingStateMachine, **opts)
        self.settle(node_id)

    def cmd_campaign(self, args: list[str]) -> None:
        node_id = int(args[0])
        self.nodes[node_id].node.campaign()
        self.settle(node_id)

    def cmd_tick(self, args: list[str]) -> None:
        node_id = int(args[0])
        for _ in range(int(args[1]) if len(args) > 1 else 1):
            self.nodes[node_id].node.tick()
        self.settle(node_id)

    def cmd_tick_all(self, args: list[str]) -> None:
        """Time passes for everyone: N rounds, each live node ticking once per round."""
        for _ in range(int(args[0]) if args else 1):
            for node_id in sorted(self.nodes):
                if self.nodes[node_id].alive:
                    self.nodes[node_id].node.tick()
                    self.settle(node_id)

    def cmd_tick_election(self, args: list[str]) -> None:
        """Tick until the node's election timeout fires (at most twice the timeout)."""
        node_id = int(args[0])
        node = self.nodes[node_id].node
        term, role = node.term, node.role
        limit = 2 * self.nodes[node_id].raft_options.get("election_tick", 10)
        for _ in range(limit):
            node.tick()
            if node.term != term or node.role != role or node.has_ready():
                break
        self.settle(node_id)

    def cmd_tick_heartbeat(self, args: list[str]) -> None:
        node_id = int(args[0])
        for _ in range(self.nodes[node_id].raft_options.get("heartbeat_tick", 1)):
            self.nodes[node_id].node.tick()
        self.settle(node_id)

    def propose_call(self, node_id: int, call) -> None:
        try:
            call()
        except self.impl.ProposalDropped as e:
            self.emit(f"dropped: {e}")
        self.settle(node_id)

    def cmd_propose(self, args: list[str]) -> None:
        node_id = int(args[0])
        self.propose_call(node_id, lambda: self.nodes[node_id].node.propose(args[1].encode()))

    def cmd_propose_conf_change(self, args: list[str]) -> None:
        node_id = int(args[0])
        cc = self.impl.ConfChange(CONF_CHANGE_WORDS[args[1]], int(args[2]))
        self.propose_call(node_id, lambda: self.nodes[node_id].node.propose_conf_change(cc))

    def cmd_transfer_leader(self, args: list[str]) -> None:
        node_id = int(args[0])
        self.nodes[node_id].node.transfer_leader(int(args[1]))
        self.settle(node_id)

    def cmd_read_index(self, args: list[str]) -> None:
        node_id = int(args[0])
        self.propose_call(node_id, lambda: self.nodes[node_id].node.read_index(args[1].encode()))

    def cmd_deliver(self, args: list[str]) -> None:
        pairs, types = self.parse_filters(args)
        chosen = [m for m in self.queue if self.matches(m, pairs, types)]
        self.queue = [m for m in self.queue if not self.matches(m, pairs, types)]
        for m in chosen:
            self.deliver_one(m)

    def cmd_drop(self, args: list[str]) -> None:
        pairs, types = self.parse_filters(args)
        for m in [m for m in self.queue if self.matches(m, pairs, types)]:
            self.emit(f"{m.describe()} (dropped)")
        self.queue = [m for m in self.queue if not self.matches(m, pairs, types)]

    def cmd_stabilize(self, args: list[str]) -> None:
        for node_id in sorted(self.nodes):
            self.settle(node_id)
        while self.queue:
            self.deliver_one(self.queue.pop(0))

    def cmd_partition(self, args: list[str]) -> None:
        self.groups = {}
        group = 0
        for a in args:
            if a == "/":
                group += 1
            else:
                self.groups[int(a)] = group

    def cmd_heal(self, args: list[str]) -> None:
        self.groups = {}

    def cmd_crash(self, args: list[str]) -> None:
        self.nodes[int(args[0])].crash()

    def cmd_restart(self, args: list[str]) -> None:
        node_id = int(args[0])
        self.nodes[node_id].start()
        self.terms[node_id] = self.nodes[node_id].node.term
        self.settle(node_id)
        self.cmd_status([str(node_id)])

    def cmd_compact(self, args: list[str]) -> None:
        app = self.nodes[int(args[0])]
        app.compact(int(args[1]) if len(args) > 1 else 0)
        s = app.storage.snapshot()
        self.emit(f"{app.id}: snapshot {s.term}/{s.index}, log from {app.storage.first_index()}")

    def cmd_status(self, args: list[str]) -> None:
        for node_id in [int(a) for a in args] or sorted(self.nodes):
            app = self.nodes[node_id]
            n = app.node
            state = ROLE_NAMES[n.role] if app.alive else "down"
            line = (f"{node_id}: {state} term={n.term} lead={n.lead} commit={n.commit} "
                    f"applied={n.applied} last={n.last_index()} voters={list(n.voters)}")
            if n.learners:
                line += f" learners={list(n.learners)}"
            self.emit(line)

    def cmd_log(self, args: list[str]) -> None:
        n = self.nodes[int(args[0])].node
        entries = n.entries(n.first_index(), n.last_index() + 1)
        self.emit(" ".join(e.describe() for e in entries) or "(empty)")

    def cmd_progress(self, args: list[str]) -> None:
        n = self.nodes[int(args[0])].node
        for peer in sorted(set(n.voters) | set(n.learners)):
            p = n.progress_of(peer)
            if p is None:
                continue
            line = f"{peer}: {p['state']} match={p['match']} next={p['next']}"
            if p["is_learner"]:
                line += " learner"
            if p["inflight"]:
                line += f" inflight={p['inflight']}"
            self.emit(line)


def run_file(path: Path, impl: ModuleType = compiled_raft) -> tuple[list[Block], list[list[str]]]:
    text = path.read_text()
    blocks = parse(text)
    cluster = Cluster(impl)
    outputs = []
    for block in blocks:
        try:
            outputs.append(cluster.run(block.command))
        except Exception as e:  # a crash is an output too, so the diff shows where
            outputs.append([f"error: {type(e).__name__}: {e}"])
    return blocks, outputs
