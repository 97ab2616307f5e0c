"""A RaftNode with the application around it, as the real driver will be, minus I/O:
persist (into the MemoryStorage that outlives a crash), hand messages out, apply committed
entries (conf changes included), advance. Used by the transcripts and the simulation."""
from __future__ import annotations

from types import ModuleType
from typing import Any, Callable

from pykube_plane import _raft as compiled_raft


class NodeApp:
    def __init__(self, node_id: int, peers: tuple[int, ...] = (), *,
                 state_machine: Callable[[], Any], learners: tuple[int, ...] = (),
                 storage: Any = None, impl: ModuleType = compiled_raft,
                 **raft_options: Any) -> None:
        """`impl` is the Raft implementation: the compiled core, or the plain-Python
        reference (tests/raft/reference_raft.py) for differential runs."""
        self.id = node_id
        self.impl = impl
        self.peers = tuple(peers)
        self.learners = tuple(learners)
        self.make_state_machine = state_machine
        self.raft_options = raft_options
        self.storage = storage if storage is not None else impl.MemoryStorage()
        self.alive = True
        self.start()

    def start(self) -> None:
        """(Re)start from what the storage holds, as after a crash."""
        snapshot = self.storage.snapshot()
        self.state_machine = self.make_state_machine()
        if snapshot.index:
            self.state_machine.restore(snapshot.data)
        self.conf_state = snapshot.conf_state
        self.applied_index = snapshot.index
        self.node = self.impl.RaftNode(self.id, self.peers, learners=self.learners,
                                       storage=self.storage, **self.raft_options)
        self.alive = True

    def crash(self) -> None:
        self.alive = False

    def process_ready(self) -> tuple[Any, list[tuple[Any, Any]]]:
        """Handle one Ready in contract order. Returns it with the (entry, result) pairs
        applied; the caller sends ready.messages (already persisted here)."""
        rd = self.node.ready()
        if rd.snapshot is not None:
            self.storage.apply_snapshot(rd.snapshot)
            self.state_machine.restore(rd.snapshot.data)
            self.conf_state = rd.snapshot.conf_state
            self.applied_index = rd.snapshot.index
        if rd.entries:
            self.storage.append(rd.entries)
        if rd.hard_state is not None:
            self.storage.set_hard_state(rd.hard_state)
        results = []
        for entry in rd.committed_entries:
            if entry.type == self.impl.ENTRY_CONF_CHANGE:
                cc = self.impl.ConfChange.decode(entry.data)
                self.conf_state = self.node.apply_conf_change(cc)
                results.append((entry, self.conf_state))
            elif entry.data:
                results.append((entry, self.state_machine.apply(entry.data)))
            else:
                results.append((entry, None))  # a new leader's empty entry
            self.applied_index = entry.index
        self.node.advance()
        return rd, results

    def compact(self, keep: int = 0) -> bool:
        """Snapshot the state machine at the applied index and drop the log before it,
        keeping `keep` entries for followers that are only a little behind."""
        if self.applied_index <= self.storage.snapshot().index:
            return False
        self.storage.create_snapshot(self.applied_index, self.conf_state,
                                     self.state_machine.snapshot())
        upto = self.applied_index - keep
        if upto >= self.storage.first_index():
            self.storage.compact(upto)
        return True
