"""Stateful property tests: random request streams drive the compiled MVCC core and the model.

Every request goes to both; results, errors, events, histories, hashes and dumps must agree.
Keys come from a small set so requests collide: the same key is put, deleted, re-created and
compacted within one run.
"""
from __future__ import annotations

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from pykube_plane._mvcc import MVCC, WatchIndex
from pykube_plane.store.kv import (
    RESULT_EQUAL, RESULT_GREATER, RESULT_LESS, RESULT_NOT_EQUAL, TARGET_CREATE, TARGET_LEASE,
    TARGET_MOD, TARGET_VALUE, TARGET_VERSION, Compare, DeleteOp, PutOp, RangeOp, StoreError,
    TxnOp, prefix_end,
)

from .mvcc_model import MVCCModel, WatchIndexModel

KEYS = [b"a", b"a/1", b"a/2", b"ab", b"b", b"b\x00", b"c", b"\xff"]
keys = st.sampled_from(KEYS)
values = st.binary(max_size=6)
leases = st.sampled_from([0, 0, 0, 1, 2])


@st.composite
def range_ends(draw, key: bytes):
    return draw(st.sampled_from([b"", b"", b"\0", prefix_end(key), *KEYS]))


@st.composite
def key_ranges(draw):
    key = draw(keys)
    return key, draw(range_ends(key))


@st.composite
def put_ops(draw):
    ignore_value = draw(st.integers(0, 5)) == 0
    ignore_lease = draw(st.integers(0, 5)) == 0
    # mostly valid: a value / lease given with ignore_* is refused
    value = b"" if ignore_value and draw(st.integers(0, 3)) else draw(values)
    lease = 0 if ignore_lease and draw(st.integers(0, 3)) else draw(leases)
    return PutOp(draw(keys), value, lease, draw(st.booleans()), ignore_value, ignore_lease)


@st.composite
def delete_ops(draw):
    key, end = draw(key_ranges())
    return DeleteOp(key, end, draw(st.booleans()))


@st.composite
def range_ops(draw):
    key, end = draw(key_ranges())
    return RangeOp(key, end, draw(st.integers(0, 12)), draw(st.integers(0, 3)), draw(st.booleans()),
                   draw(st.booleans()))


@st.composite
def compares(draw):
    key, end = draw(key_ranges())
    target = draw(st.sampled_from([TARGET_VERSION, TARGET_CREATE, TARGET_MOD, TARGET_VALUE,
                                   TARGET_LEASE]))
    operand = draw(values) if target == TARGET_VALUE else draw(st.integers(0, 8))
    result = draw(st.sampled_from([RESULT_EQUAL, RESULT_NOT_EQUAL, RESULT_LESS, RESULT_GREATER]))
    return Compare(key, target, result, operand, end if draw(st.integers(0, 3)) == 0 else b"")


def ops(depth: int):
    leaf = st.one_of(put_ops(), put_ops(), delete_ops(), range_ops())
    if depth == 0:
        return leaf
    return st.one_of(leaf, txn_ops(depth - 1))


def txn_ops(depth: int):
    return st.builds(TxnOp, st.lists(compares(), max_size=2), st.lists(ops(depth), max_size=3),
                     st.lists(ops(depth), max_size=3))


def outcome(call):
    """A call's result, or its error as (type name, etcd message)."""
    try:
        return call()
    except StoreError as exc:
        return (type(exc).__name__, str(exc), getattr(exc, "compact_revision", None))


class MVCCAgainstModel(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        # trimming one key per compaction / write keeps a compaction's cleanup pending across
        # many requests, so every request also meets a half-trimmed store
        self.compiled = MVCC(compaction_batch=1)
        self.model = MVCCModel()

    def both(self, call):
        got, want = outcome(lambda: call(self.compiled)), outcome(lambda: call(self.model))
        assert got == want
        return want

    def a_revision(self, data, low: int = 0):
        """Any revision from `low` to one past the current, the edges more often than not."""
        edges = [r for r in (self.model.compact_revision, self.model.revision) if r >= low]
        return data.draw(st.one_of(st.sampled_from(edges), st.integers(low, self.model.revision + 1))
                         if edges else st.integers(low, self.model.revision + 1))

    def write(self, op):
        if type(op) is PutOp:
            self.both(lambda s: s.put(op.key, op.value, op.lease, op.prev_kv, op.ignore_value,
                                      op.ignore_lease))
        else:
            self.both(lambda s: s.delete_range(op.key, op.range_end, op.prev_kv))

    @initialize(writes=st.lists(put_ops(), max_size=8))
    def seed(self, writes):
        for op in writes:
            self.write(op)

    @rule(writes=st.lists(st.one_of(put_ops(), put_ops(), delete_ops()), min_size=1, max_size=4))
    def put_or_delete(self, writes):
        for op in writes:
            self.write(op)

    @rule(op=txn_ops(2))
    def txn(self, op):
        self.both(lambda s: s.txn(op.compare, op.success, op.failure))

    @rule(key_range=key_ranges(), data=st.data(), limit=st.integers(0, 3), count_only=st.booleans(),
          keys_only=st.booleans())
    def range(self, key_range, data, limit, count_only, keys_only):
        revision = self.a_revision(data)
        self.both(lambda s: s.range(key_range[0], key_range[1], revision, limit, count_only,
                                    keys_only))

    @precondition(lambda self: self.model.revision > 1)
    @rule(data=st.data())
    def compact(self, data):
        revision = self.a_revision(data, max(1, self.model.compact_revision))
        self.both(lambda s: s.compact(revision))
        # the compiled core has trimmed one key so far: the history from the compact revision
        # on and the state at it must already be those of a fully compacted store
        at = self.model.compact_revision
        self.both(lambda s: s.events_since(b"\0", b"\0", at, 0))
        self.both(lambda s: s.range(b"\0", b"\0", at))

    @rule()
    def take_events(self):
        self.both(lambda s: s.take_events())

    @rule(key_range=key_ranges(), data=st.data())
    def events_since(self, key_range, data):
        start = self.a_revision(data)
        end = data.draw(st.sampled_from([0, start, start + 2]))
        self.both(lambda s: s.events_since(key_range[0], key_range[1], start, end))

    @rule(data=st.data())
    def hash_kv(self, data):
        revision = self.a_revision(data)
        self.both(lambda s: s.hash_kv(revision))

    @rule(lease=st.sampled_from([1, 2]))
    def lease_keys(self, lease):
        self.both(lambda s: s.lease_keys(lease))

    @rule()
    def compact_step(self):
        self.compiled.compact_step(1)

    @rule()
    def same_state(self):
        """Stats and dumps match (both finish any pending trim first)."""
        mine, theirs = self.compiled.stats(), self.model.stats()
        del mine["bytes"], theirs["bytes"]
        assert mine == theirs
        assert self.compiled.dump() == self.model.dump()

    @rule()
    def reload(self):
        """Snapshot and restore both (pending events are not part of the state: drain first)."""
        self.both(lambda s: s.take_events())
        data = self.model.dump()
        self.compiled = MVCC.load(self.compiled.dump())
        self.model = MVCCModel.load(data)

    @invariant()
    def same_revisions(self):
        assert (self.compiled.revision, self.compiled.compact_revision) == \
            (self.model.revision, self.model.compact_revision)

    def teardown(self):
        self.same_state()


TestMVCCAgainstModel = MVCCAgainstModel.TestCase
TestMVCCAgainstModel.settings = settings(max_examples=150, stateful_step_count=50, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow])


class WatchIndexAgainstBruteForce(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.index = WatchIndex()
        self.model = WatchIndexModel()
        self.next_id = 0

    @rule(key_range=key_ranges())
    def add(self, key_range):
        self.index.add(self.next_id, *key_range)
        self.model.add(self.next_id, *key_range)
        self.next_id += 1

    @precondition(lambda self: self.next_id > 0)
    @rule(data=st.data())
    def remove(self, data):
        watch_id = data.draw(st.integers(0, self.next_id))
        self.index.remove(watch_id)
        self.model.remove(watch_id)

    @rule(key=st.one_of(keys, st.binary(max_size=3)))
    def match(self, key):
        assert sorted(self.index.match(key)) == self.model.match(key)

    @invariant()
    def same_size(self):
        assert len(self.index) == len(self.model)


TestWatchIndexAgainstBruteForce = WatchIndexAgainstBruteForce.TestCase
TestWatchIndexAgainstBruteForce.settings = settings(max_examples=60, stateful_step_count=50,
                                                    deadline=None)
