"""Deterministic simulation of a Raft cluster: in-memory nodes, a simulated clock and a
simulated network, all driven by one seeded random.Random, so a seed replays exactly.

Time is counted in steps; each node ticks every TICK steps (at its own phase). A message
takes 1..max_delay steps, sometimes much longer (which reorders), and may be dropped or
duplicated; partitions cut links; crashed nodes lose everything they had not persisted and
restart from their MemoryStorage. Clients issue puts, compare-and-sets and ReadIndex gets
against random members and record every invocation and response; at the end the history
must be linearizable. Raft's safety properties are checked after every step (safety.py).

Run one seed by hand:  RAFT_SIM_SEED=1234 .venv/bin/pytest -q tests/raft/test_sim.py -k seed
"""
from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

from types import ModuleType

from pykube_plane import _raft as compiled_raft
from pykube_plane._raft import (
    CONF_CHANGE_ADD_LEARNER_NODE,
    CONF_CHANGE_ADD_NODE,
    CONF_CHANGE_REMOVE_NODE,
    MSG_SNAP,
    ROLE_LEADER,
)

from . import linearizability
from .harness import NodeApp
from .linearizability import Operation
from .safety import SafetyChecker
from .statemachine import Command, KVStateMachine

TICK = 10
KEYS = ("a", "b", "c")


@dataclass
class Faults:
    drop: float
    duplicate: float
    max_delay: int
    long_delay: float
    partitions: bool
    crashes: bool
    membership: bool
    transfers: bool
    compact_every: int  # compact once this many entries are applied past the snapshot (0: never)
    pre_vote: bool
    check_quorum: bool
    max_inflight: int
    max_size_per_msg: int

    @staticmethod
    def random(rng: random.Random) -> Faults:
        return Faults(
            drop=rng.choice([0.0, 0.01, 0.05, 0.15, 0.3]),
            duplicate=rng.choice([0.0, 0.02, 0.1]),
            max_delay=rng.choice([2, 5, 12]),
            long_delay=rng.choice([0.0, 0.01, 0.05, 0.1]),
            partitions=rng.random() < 0.5,
            crashes=rng.random() < 0.5,
            membership=rng.random() < 0.35,
            transfers=rng.random() < 0.3,
            compact_every=rng.choice([0, 3, 5, 20]),
            pre_vote=rng.random() < 0.75,
            check_quorum=rng.random() < 0.75,
            max_inflight=rng.choice([1, 4, 256]),
            max_size_per_msg=rng.choice([0, 200, 1 << 20]),
        )


@dataclass
class Client:
    id: int
    seq: int = 0
    op: Operation | None = None
    node: int = 0
    ctx: bytes = b""
    deadline: int = 0
    read_index: int | None = None
    last_seen: dict = field(default_factory=dict)  # key -> a value it saw (cas candidates)


@dataclass
class SimResult:
    seed: int
    history: list[Operation]
    safety_checks: int
    messages: int
    leaders: int
    completed_ops: int
    non_linearizable_keys: list[str]


class Simulation:
    def __init__(self, seed: int, *, nodes: int | None = None, duration_ticks: int = 200,
                 clients: int = 3, quiet_ticks: int = 60,
                 impl: ModuleType = compiled_raft) -> None:
        self.seed = seed
        self.impl = impl
        self.rng = random.Random(seed)
        self.faults = Faults.random(self.rng)
        if nodes is None:
            nodes = self.rng.choice((3, 3, 5))
        self.duration = duration_ticks * TICK
        self.quiet = quiet_ticks * TICK
        self.now = 0
        self.clock = 0  # logical time of history events
        self.queue: list[tuple[int, int, object]] = []
        self.sent = 0
        self.groups: dict[int, int] = {}
        self.checker = SafetyChecker()
        self.history: list[Operation] = []
        self.clients = [Client(i + 1) for i in range(clients)]
        self.waiting_writes: dict[tuple[int, int, int], Client] = {}
        self.waiting_reads: dict[tuple[int, bytes], Client] = {}
        self.next_id = nodes + 1
        self.members: set[int] = set(range(1, nodes + 1))  # nodes meant to be in the cluster
        self.removed: set[int] = set()
        self.down_until: dict[int, int] = {}
        self.partition_until = 0
        f = self.faults
        self.raft_options = dict(pre_vote=f.pre_vote, check_quorum=f.check_quorum,
                                 max_inflight=f.max_inflight,
                                 max_size_per_msg=f.max_size_per_msg, seed=seed)
        self.phase = {}
        self.apps: dict[int, NodeApp] = {}
        for node_id in sorted(self.members):
            self.start_node(node_id, tuple(sorted(self.members)))

    # --- nodes -----------------------------------------------------------------------------

    def start_node(self, node_id: int, peers: tuple[int, ...]) -> None:
        self.apps[node_id] = NodeApp(node_id, peers, state_machine=KVStateMachine,
                                     impl=self.impl, **self.raft_options)
        self.phase[node_id] = self.rng.randrange(TICK)
        self.settle(self.apps[node_id])

    def settle(self, app: NodeApp) -> None:
        """Process the node's Readies in contract order, checking safety at each."""
        node = app.node
        while app.alive and node.has_ready():
            applied_before = app.applied_index
            rd, applied = app.process_ready()
            self.checker.after_ready(node, rd, applied, applied_before)
            for m in rd.messages:
                self.send(m)
            for entry, result in applied:
                if isinstance(result, self.impl.ConfState):
                    self.on_conf_applied(app, result)
                elif result is not None:
                    self.on_write_applied(app, result)
            for rs in rd.read_states:
                client = self.waiting_reads.pop((app.id, rs.ctx), None)
                if client is not None and client.ctx == rs.ctx:
                    client.read_index = rs.index
            if self.faults.compact_every and (
                    app.applied_index - app.storage.snapshot().index >= self.faults.compact_every):
                app.compact(keep=self.rng.choice([0, 2, 10]))
        self.serve_reads(app)
        self.checker.after_step(node)

    def on_conf_applied(self, app: NodeApp, conf) -> None:
        # A member removed from the configuration is shut down (as etcd stops it) once
        # anyone applies its removal.
        for node_id in list(self.members):
            if node_id not in conf.voters and node_id not in conf.learners \
                    and node_id in self.apps and app.node.role == ROLE_LEADER:
                self.members.discard(node_id)
                self.removed.add(node_id)
                self.apps[node_id].crash()

    # --- network ---------------------------------------------------------------------------

    def connected(self, a: int, b: int) -> bool:
        return self.groups.get(a, 0) == self.groups.get(b, 0)

    def send(self, m) -> None:
        f = self.faults
        self.sent += 1
        if self.rng.random() < f.drop:
            self.snapshot_failed(m)
            return
        copies = 2 if self.rng.random() < f.duplicate else 1
        for _ in range(copies):
            delay = self.rng.randint(1, f.max_delay)
            if self.rng.random() < f.long_delay:
                delay += self.rng.randint(TICK, 8 * TICK)
            self.sent += 1
            heapq.heappush(self.queue, (self.now + delay, self.sent, m))

    def snapshot_failed(self, m) -> None:
        # The transport notices a snapshot stream breaking (TCP does); plain messages vanish.
        if m.type == MSG_SNAP:
            sender = self.apps.get(m.from_)
            if sender is not None and sender.alive:
                sender.node.report_snapshot(m.to, True)
                self.settle(sender)

    def deliver(self, m) -> None:
        target = self.apps.get(m.to)
        if target is None or not target.alive or not self.connected(m.from_, m.to):
            self.snapshot_failed(m)
            return
        target.node.step(m)
        self.settle(target)
        if m.type == MSG_SNAP:
            sender = self.apps.get(m.from_)
            if sender is not None and sender.alive:
                sender.node.report_snapshot(m.to, False)
                self.settle(sender)

    # --- faults ----------------------------------------------------------------------------

    def leader(self) -> NodeApp | None:
        leaders = [a for a in self.apps.values() if a.alive and a.node.role == ROLE_LEADER]
        return max(leaders, key=lambda a: a.node.term) if leaders else None

    def inject_faults(self) -> None:
        f, rng = self.faults, self.rng
        # Restarts and healing first.
        for node_id, until in list(self.down_until.items()):
            if self.now >= until:
                del self.down_until[node_id]
                if node_id in self.members:
                    self.checker.forget_node(node_id)
                    self.apps[node_id].start()
                    self.settle(self.apps[node_id])
        if self.groups and self.now >= self.partition_until:
            self.groups = {}
        if f.crashes and rng.random() < 0.01:
            alive = [i for i in sorted(self.members) if self.apps[i].alive]
            leader = self.leader()
            if leader is not None and rng.random() < 0.5:
                # Leaders crashing soon after appending make the classic unsafe histories
                # (Raft paper, Figure 8) reachable.
                alive = [leader.id]
            if alive:
                victim = rng.choice(alive)
                self.apps[victim].crash()
                self.down_until[victim] = self.now + rng.randint(2, 40) * TICK
        if f.partitions and not self.groups and rng.random() < 0.01:
            nodes = sorted(self.apps)
            cut = rng.sample(nodes, rng.randint(1, max(1, len(nodes) // 2)))
            self.groups = {n: 1 for n in cut}
            self.partition_until = self.now + rng.randint(5, 60) * TICK
        leader = self.leader()
        if leader is None:
            return
        if f.transfers and rng.random() < 0.005:
            leader.node.transfer_leader(rng.choice(sorted(leader.node.voters)))
            self.settle(leader)
        if f.membership and rng.random() < 0.005:
            self.change_membership(leader)

    def change_membership(self, leader: NodeApp) -> None:
        rng = self.rng
        voters, learners = leader.node.voters, leader.node.learners
        choice = rng.random()
        if learners and choice < 0.5:
            cc = self.impl.ConfChange(CONF_CHANGE_ADD_NODE, rng.choice(learners))  # promote
        elif len(voters) < 5 and choice < 0.75:
            new_id = self.next_id
            self.next_id += 1
            self.members.add(new_id)
            self.start_node(new_id, ())
            kind = CONF_CHANGE_ADD_LEARNER_NODE if rng.random() < 0.5 else CONF_CHANGE_ADD_NODE
            cc = self.impl.ConfChange(kind, new_id)
        elif len(voters) > 3 or (learners and rng.random() < 0.5):
            cc = self.impl.ConfChange(CONF_CHANGE_REMOVE_NODE, rng.choice(voters + learners))
        else:
            return
        try:
            leader.node.propose_conf_change(cc)
        except self.impl.ProposalDropped:
            pass
        self.settle(leader)

    # --- clients ---------------------------------------------------------------------------

    def pick_node(self) -> NodeApp | None:
        alive = [self.apps[i] for i in sorted(self.members) if self.apps[i].alive]
        if not alive:
            return None
        leader = self.leader()
        if leader is not None and leader.id in self.members and self.rng.random() < 0.6:
            return leader
        return self.rng.choice(alive)

    def finish(self, client: Client, output, answered: bool) -> None:
        op = client.op
        self.clock += 1
        self.history.append(Operation(op.client, op.call, self.clock if answered else None,
                                      op.op, op.key, op.value, op.expected, output))
        if answered and op.op == "get":
            client.last_seen[op.key] = output
        client.op = None
        client.read_index = None

    def on_write_applied(self, app: NodeApp, result: tuple) -> None:
        client_id, seq, output = result
        client = self.waiting_writes.pop((app.id, client_id, seq), None)
        if client is not None and client.op is not None and client.seq == seq:
            if client.op.op == "put":
                client.last_seen[client.op.key] = client.op.value
            self.finish(client, output, True)

    def serve_reads(self, app: NodeApp) -> None:
        for client in self.clients:
            if (client.op is not None and client.op.op == "get" and client.node == app.id
                    and client.read_index is not None and app.alive
                    and app.applied_index >= client.read_index):
                self.finish(client, app.state_machine.get(client.op.key), True)

    def run_clients(self) -> None:
        rng = self.rng
        for client in self.clients:
            if client.op is not None:
                if self.now >= client.deadline:
                    # Give up: a write's fate stays unknown, a read simply never happened.
                    self.waiting_writes.pop((client.node, client.id, client.seq), None)
                    self.waiting_reads.pop((client.node, client.ctx), None)
                    if client.op.op == "get":
                        client.op = None
                        client.read_index = None
                    else:
                        self.finish(client, None, False)
                continue
            if rng.random() < 0.5:
                continue
            app = self.pick_node()
            if app is None:
                continue
            client.seq += 1
            key = rng.choice(KEYS)
            kind = rng.choice(("put", "put", "get", "get", "cas"))
            value = f"{client.id}.{client.seq}"
            expected = None
            if kind == "cas":
                expected = rng.choice([client.last_seen.get(key), None])
            self.clock += 1
            client.op = Operation(client.id, self.clock, None, kind, key,
                                  value if kind != "get" else None, expected)
            client.node = app.id
            client.deadline = self.now + 30 * TICK
            try:
                if kind == "get":
                    client.ctx = f"{client.id}:{client.seq}".encode()
                    self.waiting_reads[(app.id, client.ctx)] = client
                    app.node.read_index(client.ctx)
                else:
                    cmd = Command(client.id, client.seq, kind, key, value, expected)
                    self.waiting_writes[(app.id, client.id, client.seq)] = client
                    app.node.propose(cmd.encode())
            except self.impl.ProposalDropped:
                # Definitely not in any log: as if never invoked.
                self.waiting_reads.pop((app.id, client.ctx), None)
                self.waiting_writes.pop((app.id, client.id, client.seq), None)
                client.op = None
            self.settle(app)

    # --- main loop -------------------------------------------------------------------------

    def step_time(self, faults: bool, clients: bool) -> None:
        now = self.now
        if faults:
            self.inject_faults()
        while self.queue and self.queue[0][0] <= now:
            _, _, m = heapq.heappop(self.queue)
            self.deliver(m)
        for node_id, app in list(self.apps.items()):
            if app.alive and now % TICK == self.phase[node_id]:
                app.node.tick()
                self.settle(app)
        if clients and now % 3 == 0:
            self.run_clients()
        self.now += 1

    def calm_down(self) -> None:
        """End of the faulty period: heal, restart, keep the network reliable."""
        self.groups = {}
        for node_id in sorted(self.down_until):
            if node_id in self.members:
                self.checker.forget_node(node_id)
                self.apps[node_id].start()
                self.settle(self.apps[node_id])
        self.down_until = {}
        f = self.faults
        f.drop = f.duplicate = f.long_delay = 0.0
        f.max_delay = min(f.max_delay, 3)

    def converged(self) -> bool:
        leader = self.leader()
        if leader is None:
            return False
        members = [self.apps[i] for i in sorted(set(leader.node.voters)
                                                 | set(leader.node.learners))
                   if i in self.apps and self.apps[i].alive]
        target = leader.node.commit
        return all(a.applied_index == target for a in members) and \
            len({repr(sorted(a.state_machine.data.items())) for a in members}) == 1

    def run(self) -> SimResult:
        while self.now < self.duration:
            self.step_time(faults=True, clients=True)
        self.calm_down()
        end = self.now + self.quiet
        while self.now < end:
            self.step_time(faults=False, clients=True)
        # Let the last client operations finish, then require the cluster to converge.
        end = self.now + self.quiet
        while self.now < end and not (self.converged() and all(c.op is None
                                                               for c in self.clients)):
            self.step_time(faults=False, clients=False)
            for client in self.clients:
                if client.op is not None and self.now >= client.deadline:
                    self.run_clients_timeout(client)
        if not self.converged():
            raise AssertionError(f"seed {self.seed}: cluster did not converge after faults "
                                 f"healed: {self.describe_nodes()}")
        bad = linearizability.check(self.history)
        leaders = len(self.checker.leader_of_term)
        return SimResult(self.seed, self.history, self.checker.checks, self.sent, leaders,
                         sum(1 for op in self.history if op.ret is not None), bad)

    def run_clients_timeout(self, client: Client) -> None:
        self.waiting_writes.pop((client.node, client.id, client.seq), None)
        self.waiting_reads.pop((client.node, client.ctx), None)
        if client.op.op == "get":
            client.op = None
            client.read_index = None
        else:
            self.finish(client, None, False)

    def describe_nodes(self) -> str:
        return "; ".join(f"{i}{'' if a.alive else '(down)'}: {a.node!r} applied="
                         f"{a.applied_index}" for i, a in sorted(self.apps.items()))


def run_seed(seed: int, **kwargs) -> SimResult:
    return Simulation(seed, **kwargs).run()
