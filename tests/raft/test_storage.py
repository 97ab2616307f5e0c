"""MemoryStorage against a plain model (a dict of index -> term/data plus the snapshot
position), through random sequences of appends, snapshots and compactions."""
from __future__ import annotations

import pytest
from hypothesis import settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from pykube_plane._raft import (
    CompactedError,
    ConfState,
    Entry,
    HardState,
    MemoryStorage,
    Snapshot,
    SnapshotOutOfDateError,
    UnavailableError,
)


class StorageModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.storage = MemoryStorage()
        self.terms: dict[int, int] = {}  # index -> term, for indexes still held (and the dummy)
        self.datas: dict[int, bytes] = {}
        self.offset = 0  # index of the placeholder (compacted up to here)
        self.last = 0
        self.snapshot_index = 0
        self.terms[0] = 0

    @rule(start_back=st.integers(0, 5), count=st.integers(1, 6), term_bump=st.integers(0, 2))
    def append(self, start_back, count, term_bump):
        # Raft never overwrites entries a snapshot covers (they are committed).
        start = max(self.offset + 1, self.snapshot_index + 1, self.last + 1 - start_back)
        base_term = self.terms.get(start - 1, 0)
        ents = [Entry(base_term + term_bump, i, b"d%d" % i) for i in range(start, start + count)]
        self.storage.append(ents)
        for i in list(self.terms):
            if i >= start:
                del self.terms[i]
                self.datas.pop(i, None)
        for e in ents:
            self.terms[e.index] = e.term
            self.datas[e.index] = e.data
        self.last = start + count - 1

    @precondition(lambda self: self.last > self.snapshot_index)
    @rule(data=st.data())
    def snapshot(self, data):
        index = data.draw(st.integers(self.snapshot_index + 1, self.last))
        snap = self.storage.create_snapshot(index, ConfState((1, 2, 3)), b"state")
        assert (snap.index, snap.term) == (index, self.terms[index])
        self.snapshot_index = index

    @precondition(lambda self: self.snapshot_index > self.offset)
    @rule(data=st.data())
    def compact(self, data):
        index = data.draw(st.integers(self.offset + 1, self.snapshot_index))
        self.storage.compact(index)
        for i in list(self.terms):
            if i < index:
                del self.terms[i]
                self.datas.pop(i, None)
        self.offset = index

    @rule(term=st.integers(1, 9), extra=st.integers(1, 5))
    def install_snapshot(self, term, extra):
        index = max(self.last, self.snapshot_index) + extra
        self.storage.apply_snapshot(Snapshot(index, term, ConfState((1,)), b"x"))
        self.terms = {index: term}
        self.datas = {}
        self.offset = self.last = self.snapshot_index = index

    @invariant()
    def matches_model(self):
        s = self.storage
        assert s.first_index() == self.offset + 1
        assert s.last_index() == self.last
        for i, t in self.terms.items():
            assert s.term(i) == t
        if self.offset > 0:
            with pytest.raises(CompactedError):
                s.term(self.offset - 1)
        with pytest.raises(UnavailableError):
            s.term(self.last + 1)
        got = s.entries(self.offset + 1, self.last + 1)
        assert [(e.index, e.term, e.data) for e in got] == [
            (i, self.terms[i], self.datas[i]) for i in range(self.offset + 1, self.last + 1)]


TestStorageModel = StorageModel.TestCase
TestStorageModel.settings = settings(max_examples=60, stateful_step_count=30, deadline=None)


def test_entries_respects_max_size_but_returns_at_least_one():
    s = MemoryStorage()
    s.append([Entry(1, i, b"x" * 10) for i in range(1, 6)])
    assert len(s.entries(1, 6, max_size=25)) == 2
    assert len(s.entries(1, 6, max_size=0)) == 1
    assert len(s.entries(1, 6)) == 5


def test_append_overwrites_a_conflicting_tail():
    s = MemoryStorage()
    s.append([Entry(1, i) for i in range(1, 6)])
    s.append([Entry(2, 3), Entry(2, 4)])
    assert s.last_index() == 4
    assert [s.term(i) for i in range(1, 5)] == [1, 1, 2, 2]


def test_append_with_a_gap_is_refused():
    s = MemoryStorage()
    s.append([Entry(1, 1)])
    with pytest.raises(UnavailableError):
        s.append([Entry(1, 5)])


def test_compaction_never_goes_past_the_snapshot():
    s = MemoryStorage()
    s.append([Entry(1, i) for i in range(1, 10)])
    s.create_snapshot(5, ConfState((1,)), b"")
    with pytest.raises(UnavailableError):
        s.compact(6)
    s.compact(5)
    with pytest.raises(CompactedError):
        s.compact(5)
    assert s.first_index() == 6


def test_older_snapshots_are_refused():
    s = MemoryStorage()
    s.apply_snapshot(Snapshot(10, 2, ConfState((1,)), b""))
    with pytest.raises(SnapshotOutOfDateError):
        s.apply_snapshot(Snapshot(10, 2, ConfState((1,)), b""))
    with pytest.raises(SnapshotOutOfDateError):
        s.create_snapshot(9, ConfState((1,)), b"")


def test_initial_state_reports_hard_state_and_configuration():
    s = MemoryStorage()
    s.set_hard_state(HardState(3, 2, 7))
    s.apply_snapshot(Snapshot(7, 3, ConfState((1, 2), (4,)), b""))
    hs, cs = s.initial_state()
    assert (hs.term, hs.vote, hs.commit) == (3, 2, 7)
    assert (cs.voters, cs.learners) == ((1, 2), (4,))


def test_compact_beyond_the_log_is_a_clean_error():
    storage = MemoryStorage()
    storage.append([Entry(1, i, b"") for i in (1, 2, 3)])
    storage.create_snapshot(3, ConfState((1,)), b"")
    storage.append([Entry(2, 2, b"")])           # overwrites below the snapshot (never in Raft)
    with pytest.raises(UnavailableError, match="beyond the last index"):
        storage.compact(3)
