"""Raft's safety properties (Raft paper, Figure 3), checked incrementally as the simulation
runs, so a violation is caught at the step that caused it:

- Election safety: at most one leader per term.
- Log matching: two logs holding an entry with the same index and term hold the same entry
  and agree on everything before it. Checked by induction as entries are persisted: an
  (index, term) pair always names the same payload and the same previous term.
- Leader completeness: a leader of term T holds every entry known committed before T.
- State machine safety: no two nodes apply different entries at one index.
"""
from __future__ import annotations

from pykube_plane._raft import ROLE_LEADER, RaftNode, Ready


class SafetyViolation(AssertionError):
    pass


class SafetyChecker:
    def __init__(self) -> None:
        self.leader_of_term: dict[int, int] = {}
        self.log_entries: dict[tuple[int, int], tuple[int, bytes, int | None]] = {}
        self.applied: dict[int, tuple[int, int, bytes]] = {}
        self.committed_term: dict[int, int] = {}  # index -> term of the committed entry
        self.commit_known_in_term: dict[int, int] = {}  # term -> highest commit seen in it
        self.seen_commit: dict[int, int] = {}  # node -> highest commit checked
        self.checks = 0

    def fail(self, message: str) -> None:
        raise SafetyViolation(message)

    def after_ready(self, node: RaftNode, rd: Ready, applied: list, applied_before: int) -> None:
        """Log matching for what was persisted, state machine safety for what was applied."""
        if rd.snapshot is not None:
            s = rd.snapshot
            self.record_committed(s.index, s.term, f"snapshot on {node.id}")
        for e in rd.entries:
            prev_term = node.term_at(e.index - 1)
            key = (e.index, e.term)
            known = self.log_entries.get(key)
            if known is None:
                self.log_entries[key] = (e.type, e.data, prev_term)
            else:
                if (known[0], known[1]) != (e.type, e.data):
                    self.fail(f"log matching: node {node.id} persisted {e.describe()} but "
                              f"another log has a different entry at {e.term}/{e.index}")
                if known[2] is not None and prev_term is not None and known[2] != prev_term:
                    self.fail(f"log matching: node {node.id} has term {prev_term} at "
                              f"{e.index - 1} before {e.term}/{e.index}, another log {known[2]}")
        expected_index = applied_before + 1
        for e, _ in applied:
            if e.index != expected_index:
                self.fail(f"node {node.id} applied {e.index}, expected {expected_index}")
            expected_index += 1
            mine = (e.term, e.type, e.data)
            other = self.applied.setdefault(e.index, mine)
            if other != mine:
                self.fail(f"state machine safety: node {node.id} applied {e.describe()} at "
                          f"{e.index}, another node applied term {other[0]} data {other[2]!r}")
            self.record_committed(e.index, e.term, f"applied on {node.id}")
        self.checks += 1

    def record_committed(self, index: int, term: int, where: str) -> None:
        known = self.committed_term.setdefault(index, term)
        if known != term:
            self.fail(f"two different entries committed at {index}: terms {known} and {term} "
                      f"({where})")

    def after_step(self, node: RaftNode) -> None:
        """Election safety, commit consistency and leader completeness for one node."""
        commit = node.commit
        seen = self.seen_commit.get(node.id, 0)
        if commit > seen:
            for index in range(max(seen + 1, node.first_index() - 1), commit + 1):
                t = node.term_at(index)
                if t is not None:
                    self.record_committed(index, t, f"commit index of {node.id}")
            self.seen_commit[node.id] = commit
            # Known committed while this node was in node.term: every leader of a later term
            # must hold it.
            if commit > self.commit_known_in_term.get(node.term, 0):
                self.commit_known_in_term[node.term] = commit
        if node.role == ROLE_LEADER:
            leader = self.leader_of_term.setdefault(node.term, node.id)
            if leader != node.id:
                self.fail(f"election safety: nodes {leader} and {node.id} both lead term "
                          f"{node.term}")
            must_hold = max((c for t, c in self.commit_known_in_term.items() if t < node.term),
                            default=0)
            if must_hold:
                if node.last_index() < must_hold:
                    self.fail(f"leader completeness: leader {node.id} of term {node.term} "
                              f"ends at {node.last_index()}, {must_hold} was committed")
                t = node.term_at(must_hold)
                if t is not None and t != self.committed_term.get(must_hold, t):
                    self.fail(f"leader completeness: leader {node.id} of term {node.term} has "
                              f"term {t} at committed index {must_hold}, committed term is "
                              f"{self.committed_term[must_hold]}")
        self.checks += 1

    def forget_node(self, node_id: int) -> None:
        """A restarted node re-reads its commit index from its hard state."""
        self.seen_commit.pop(node_id, None)
