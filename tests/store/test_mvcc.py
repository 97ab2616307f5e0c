"""The tricky cases of the MVCC core, each run on the compiled core and on the plain-Python model.

One test body, two implementations: the model is the reference, so a case both pass is a case
the model states correctly and the compiled core meets.
"""
from __future__ import annotations

import random

import pytest

from pykube_plane._mvcc import MVCC, WatchIndex
from pykube_plane.store.kv import (
    EVENT_DELETE, EVENT_PUT, RESULT_EQUAL, RESULT_GREATER, RESULT_LESS, RESULT_NOT_EQUAL,
    TARGET_CREATE, TARGET_LEASE, TARGET_MOD, TARGET_VALUE, TARGET_VERSION, Compare,
    CompactedError, DeleteOp, DeleteResult, Event, FutureRevisionError, InvalidRequestError,
    KeyNotFoundError, KeyValue, PutOp, PutResult, RangeOp, RangeResult, StoreError, TxnOp,
    TxnResult, prefix_end,
)

from .mvcc_model import MVCCModel, WatchIndexModel


@pytest.fixture(params=["compiled", "model"])
def kind(request):
    return MVCC if request.param == "compiled" else MVCCModel


@pytest.fixture
def store(kind):
    return kind()


def values(result: RangeResult) -> list[tuple[bytes, bytes]]:
    return [(kv.key, kv.value) for kv in result.kvs]


# --------------------------------------------------------------------------------- revisions


def test_an_empty_store_is_at_revision_one(store):
    assert (store.revision, store.compact_revision) == (1, 0)
    assert store.range(b"a") == RangeResult([], 0, False, 1)
    assert store.take_events() == []


def test_put_creates_then_versions_a_key(store):
    assert store.put(b"k", b"v1") == PutResult(2, None)
    assert store.put(b"k", b"v2", prev_kv=True) == PutResult(3, KeyValue(b"k", b"v1", 2, 2, 1))
    assert store.range(b"k").kvs == [KeyValue(b"k", b"v2", 2, 3, 2)]
    assert store.range(b"k", revision=2).kvs == [KeyValue(b"k", b"v1", 2, 2, 1)]


def test_delete_resets_version_and_create_revision(store):
    store.put(b"k", b"a")                      # 2
    store.put(b"k", b"b")                      # 3
    assert store.delete_range(b"k") == DeleteResult(4, 1, [])
    assert store.range(b"k").count == 0
    store.put(b"k", b"c")                      # 5
    assert store.range(b"k").kvs == [KeyValue(b"k", b"c", 5, 5, 1)]
    assert store.range(b"k", revision=4).kvs == []
    assert store.range(b"k", revision=3).kvs == [KeyValue(b"k", b"b", 2, 3, 2)]


def test_deleting_nothing_takes_no_revision(store):
    store.put(b"a", b"1")
    assert store.delete_range(b"zzz") == DeleteResult(2, 0, [])
    assert store.delete_range(b"b", b"c") == DeleteResult(2, 0, [])
    assert store.revision == 2
    assert [e.kv.key for e in store.take_events()] == [b"a"]


def test_generations_and_tombstones_across_compactions(store):
    # etcd key_index.go's example, one revision later (an empty store is at revision 1):
    # put(2) put(3) tombstone(4) put(5) tombstone(6) on "foo"
    store.put(b"foo", b"v2")
    store.put(b"foo", b"v3")
    store.delete_range(b"foo")
    store.put(b"foo", b"v5")
    store.delete_range(b"foo")
    store.put(b"bar", b"b7")                   # 7: keeps the store moving past foo's tombstone
    assert store.stats()["revisions"] == 6

    store.compact(3)                           # {3, 4(t)} {5, 6(t)} {}
    assert store.stats()["revisions"] == 5
    assert values(store.range(b"foo", revision=3)) == [(b"foo", b"v3")]
    with pytest.raises(CompactedError) as err:
        store.range(b"foo", revision=2)
    assert err.value.compact_revision == 3

    store.compact(5)                           # {5, 6(t)} {}
    assert store.stats()["revisions"] == 3
    assert values(store.range(b"foo", revision=5)) == [(b"foo", b"v5")]
    assert store.range(b"foo", revision=6).count == 0

    store.compact(6)                           # {6(t)} {}: a tombstone exactly at the compaction stays
    assert store.stats() | {"bytes": 0} == {"keys": 2, "live_keys": 1, "revisions": 2,
                                            "history": 2, "bytes": 0}
    history = store.events_since(b"foo", b"", 6, 0)
    assert history == [Event(EVENT_DELETE, KeyValue(b"foo", b"", 0, 6, 0, 0), None)]

    store.compact(7)                           # {} : foo leaves the index
    assert store.stats()["keys"] == 1
    assert store.range(b"a", b"\0").kvs == [KeyValue(b"bar", b"b7", 7, 7, 1)]
    store.put(b"foo", b"again")
    assert store.range(b"foo").kvs == [KeyValue(b"foo", b"again", 8, 8, 1)]


def test_compaction_keeps_the_latest_revision_of_each_key(store):
    store.put(b"a", b"1")                      # 2
    store.put(b"b", b"1")                      # 3
    store.put(b"a", b"2")                      # 4
    store.put(b"c", b"1")                      # 5
    store.compact(4)
    assert values(store.range(b"a", b"\0", revision=4)) == [(b"a", b"2"), (b"b", b"1")]
    assert store.stats()["revisions"] == 3
    with pytest.raises(CompactedError):
        store.compact(4)
    with pytest.raises(CompactedError):
        store.compact(3)
    with pytest.raises(FutureRevisionError):
        store.compact(6)
    store.compact(5)
    assert store.compact_revision == 5


# --------------------------------------------------------------------------------- ranges


def test_range_limit_more_count_and_flags(store):
    for i in range(5):
        store.put(b"/p/%d" % i, b"value%d" % i)
    store.put(b"/q", b"other")
    end = prefix_end(b"/p/")
    limited = store.range(b"/p/", end, limit=2)
    assert (limited.count, limited.more, [kv.key for kv in limited.kvs]) == (5, True, [b"/p/0", b"/p/1"])
    exact = store.range(b"/p/", end, limit=5)
    assert (exact.count, exact.more, len(exact.kvs)) == (5, False, 5)
    counted = store.range(b"/p/", end, count_only=True, limit=2)
    assert (counted.kvs, counted.count, counted.more) == ([], 5, False)
    keys = store.range(b"/p/", end, keys_only=True)
    assert {kv.value for kv in keys.kvs} == {b""} and keys.kvs[3].version == 1
    assert [kv.key for kv in store.range(b"/p/3", b"\0").kvs] == [b"/p/3", b"/p/4", b"/q"]
    assert store.range(b"/p/3", b"/p/1").count == 0      # range_end before key: nothing
    assert store.range(b"/p/3", b"/p/3").count == 0
    assert store.range(b"\0", b"\0").count == 6          # etcd's "every key"


def test_range_at_old_revisions_sees_the_past(store):
    store.put(b"/a", b"1")                     # 2
    store.put(b"/b", b"1")                     # 3
    store.delete_range(b"/a")                  # 4
    store.put(b"/c", b"1")                     # 5
    at = {rev: [kv.key for kv in store.range(b"/", b"0", revision=rev).kvs] for rev in range(1, 6)}
    assert at == {1: [], 2: [b"/a"], 3: [b"/a", b"/b"], 4: [b"/b"], 5: [b"/b", b"/c"]}
    assert store.range(b"/", b"0", revision=4).revision == 5  # the header is the current revision


def test_future_and_compacted_revisions_fail_in_etcd_terms(store):
    store.put(b"a", b"1")
    store.put(b"a", b"2")
    with pytest.raises(FutureRevisionError) as err:
        store.range(b"a", revision=4)
    assert str(err.value) == "etcdserver: mvcc: required revision is a future revision"
    store.compact(3)
    with pytest.raises(CompactedError) as err:
        store.range(b"a", revision=2)
    assert str(err.value) == "etcdserver: mvcc: required revision has been compacted"
    assert values(store.range(b"a", revision=3)) == [(b"a", b"2")]
    with pytest.raises(CompactedError):
        store.hash_kv(2)
    with pytest.raises(FutureRevisionError):
        store.hash_kv(9)
    with pytest.raises(CompactedError):
        store.events_since(b"a", b"", 2, 0)


def test_empty_keys_are_invalid(store):
    for call in (lambda: store.range(b""), lambda: store.put(b"", b"v"),
                 lambda: store.delete_range(b""),
                 lambda: store.txn([Compare(b"", TARGET_VERSION, RESULT_EQUAL, 0)], [], []),
                 lambda: store.txn([], [RangeOp(b"")], [])):
        with pytest.raises(InvalidRequestError) as err:
            call()
        assert str(err.value) == "etcdserver: key is not provided"
    assert store.revision == 1


# --------------------------------------------------------------------------------- puts


def test_ignore_value_and_ignore_lease(store):
    store.put(b"k", b"v", lease=7)
    assert store.put(b"k", b"", lease=9, ignore_value=True).revision == 3
    assert store.range(b"k").kvs == [KeyValue(b"k", b"v", 2, 3, 2, 9)]
    store.put(b"k", b"w", ignore_lease=True)
    assert store.range(b"k").kvs == [KeyValue(b"k", b"w", 2, 4, 3, 9)]
    with pytest.raises(KeyNotFoundError) as err:
        store.put(b"missing", b"", ignore_value=True)
    assert str(err.value) == "etcdserver: key not found"
    with pytest.raises(InvalidRequestError, match="value is provided"):
        store.put(b"k", b"x", ignore_value=True)
    with pytest.raises(InvalidRequestError, match="lease is provided"):
        store.put(b"k", b"x", lease=1, ignore_lease=True)
    assert store.revision == 4


def test_lease_attachments_follow_puts_and_deletes(store):
    store.put(b"a", b"1", lease=5)
    store.put(b"b", b"1", lease=5)
    store.put(b"c", b"1", lease=6)
    assert store.lease_keys(5) == [b"a", b"b"]
    store.put(b"b", b"2", lease=6)              # moves b to lease 6
    store.put(b"c", b"2", ignore_lease=True)    # keeps c on lease 6
    store.delete_range(b"a")
    assert (store.lease_keys(5), store.lease_keys(6), store.lease_keys(0)) == ([], [b"b", b"c"], [])
    store.put(b"a", b"3", lease=5)
    assert store.lease_keys(5) == [b"a"]


# --------------------------------------------------------------------------------- txns


def test_txn_takes_one_revision_with_sub_revisions(store):
    store.put(b"x", b"0")                      # 2
    result = store.txn([], [PutOp(b"a", b"1"), PutOp(b"b", b"1"), DeleteOp(b"x")], [])
    assert result == TxnResult(True, [PutResult(3), PutResult(3), DeleteResult(3, 1)], 3)
    events = store.take_events()
    assert [(e.type, e.kv.key, e.kv.mod_revision) for e in events] == [
        (EVENT_PUT, b"x", 2), (EVENT_PUT, b"a", 3), (EVENT_PUT, b"b", 3), (EVENT_DELETE, b"x", 3)]
    assert events[3].prev_kv == KeyValue(b"x", b"0", 2, 2, 1)
    # a txn that changes nothing takes no revision
    assert store.txn([], [RangeOp(b"a")], []).revision == 3
    assert store.txn([], [DeleteOp(b"nothing")], []).revision == 3
    assert store.revision == 3


def test_txn_response_revisions_follow_etcd(store):
    # etcd issue 14490: a delete that finds nothing before any change reports the old revision
    store.put(b"/xxx/a", b"0")                 # 2
    result = store.txn([], [DeleteOp(b"/xxx/r/", prefix_end(b"/xxx/r/")), PutOp(b"/xxx/a", b"b"),
                            RangeOp(b"/xxx/a")], [])
    assert [r.revision for r in result.responses] == [2, 3, 3] and result.revision == 3


def test_reads_in_a_txn_see_its_earlier_writes(store):
    store.put(b"a", b"old")                    # 2
    store.put(b"b", b"doomed")                 # 3
    result = store.txn([], [PutOp(b"a", b"new"), RangeOp(b"a"), DeleteOp(b"b", prev_kv=True),
                            RangeOp(b"a", b"c")], [])
    put, seen, deleted, after = result.responses
    assert seen.kvs == [KeyValue(b"a", b"new", 2, 4, 2)] and seen.revision == 4
    assert deleted.prev_kvs == [KeyValue(b"b", b"doomed", 3, 3, 1)]
    assert [kv.key for kv in after.kvs] == [b"a"]
    assert result.revision == 4


def test_txn_put_and_delete_of_one_key_is_refused(store):
    for success in ([PutOp(b"a", b"1"), PutOp(b"a", b"2")],
                    [PutOp(b"a", b"1"), DeleteOp(b"a")],
                    [DeleteOp(b"a", b"b"), PutOp(b"a1", b"1")],
                    [DeleteOp(b"a", b"\0"), PutOp(b"z", b"1")],
                    [TxnOp([], [PutOp(b"a", b"1")], []), PutOp(b"a", b"2")],
                    [TxnOp([], [DeleteOp(b"a")], []), PutOp(b"a", b"2")],
                    [PutOp(b"a", b"1"), TxnOp([], [], [DeleteOp(b"a")])]):
        with pytest.raises(InvalidRequestError) as err:
            store.txn([], success, [])
        assert str(err.value) == "etcdserver: duplicate key given in txn request"
    assert store.revision == 1 and store.take_events() == []


def test_txn_nested_put_stands_outside_a_disjoint_delete(store):
    result = store.txn([], [TxnOp([], [PutOp(b"a", b"1")], [PutOp(b"a", b"2")]), DeleteOp(b"b"),
                            DeleteOp(b"a0", b"c")], [])
    assert result.revision == 2 and values(store.range(b"a")) == [(b"a", b"1")]


def test_compare_rules(store):
    store.put(b"k1", b"v", lease=3)            # 2
    store.put(b"k2", b"w")                     # 3

    def holds(*compare: Compare) -> bool:
        return store.txn(list(compare), [], []).succeeded

    assert holds(Compare(b"k1", TARGET_VALUE, RESULT_EQUAL, b"v"))
    assert holds(Compare(b"k1", TARGET_VALUE, RESULT_LESS, b"w"))
    assert holds(Compare(b"k1", TARGET_VALUE, RESULT_GREATER, b"u"))
    assert holds(Compare(b"k1", TARGET_VERSION, RESULT_EQUAL, 1))
    assert holds(Compare(b"k1", TARGET_CREATE, RESULT_EQUAL, 2))
    assert holds(Compare(b"k2", TARGET_MOD, RESULT_GREATER, 2))
    assert holds(Compare(b"k1", TARGET_LEASE, RESULT_EQUAL, 3))
    # a missing key: version / create / mod / lease are 0, and no value compare holds
    assert holds(Compare(b"nope", TARGET_VERSION, RESULT_EQUAL, 0))
    assert holds(Compare(b"nope", TARGET_CREATE, RESULT_LESS, 1))
    assert not holds(Compare(b"nope", TARGET_VALUE, RESULT_EQUAL, b""))
    assert not holds(Compare(b"nope", TARGET_VALUE, RESULT_NOT_EQUAL, b"x"))
    # over a range the compare must hold for every key in it
    assert holds(Compare(b"k", TARGET_VERSION, RESULT_EQUAL, 1, b"l"))
    assert not holds(Compare(b"k", TARGET_MOD, RESULT_EQUAL, 2, b"l"))
    assert holds(Compare(b"k", TARGET_MOD, RESULT_LESS, 4, b"\0"))
    assert holds(Compare(b"x", TARGET_VERSION, RESULT_EQUAL, 0, b"y"))  # an empty range: zero
    assert not holds(Compare(b"x", TARGET_VALUE, RESULT_EQUAL, b"", b"y"))
    with pytest.raises(InvalidRequestError):
        holds(Compare(b"k1", "bogus", RESULT_EQUAL, 1))
    with pytest.raises(InvalidRequestError):
        holds(Compare(b"k1", TARGET_VALUE, RESULT_EQUAL, 1))


def test_nested_compares_see_the_state_before_the_txn(store):
    store.put(b"flag", b"0")                   # 2
    result = store.txn(
        [Compare(b"flag", TARGET_VALUE, RESULT_EQUAL, b"0")],
        [PutOp(b"flag", b"1"),
         TxnOp([Compare(b"flag", TARGET_VALUE, RESULT_EQUAL, b"0")],
               [PutOp(b"seen", b"before")], [PutOp(b"seen", b"after")])],
        [])
    assert result.succeeded and result.responses[1].succeeded
    assert values(store.range(b"seen")) == [(b"seen", b"before")]
    assert result.responses[1].revision == 3


def test_malformed_txn_ops_are_refused_before_any_write(store):
    for ops in ([PutOp(b"a", b"1"), PutOp(b"b", "text")],
                [PutOp(b"a", b"1"), PutOp(b"b", b"1", lease=2**63)],
                [PutOp(b"a", b"1"), RangeOp(b"a", None)],
                [PutOp(b"a", b"1"), DeleteOp("b")],
                [PutOp(b"a", b"1"), "not an op"]):
        with pytest.raises(InvalidRequestError):
            store.txn([], ops, [])
    with pytest.raises(InvalidRequestError):
        store.txn([Compare(b"a", TARGET_VERSION, RESULT_EQUAL, "1")], [PutOp(b"a", b"1")], [])
    assert store.revision == 1 and store.take_events() == []


def test_failed_checks_leave_no_trace(store):
    store.put(b"a", b"1")                      # 2
    store.put(b"a", b"2")                      # 3
    store.compact(3)
    for ops in ([PutOp(b"b", b"1"), RangeOp(b"a", revision=2)],
                [PutOp(b"b", b"1"), RangeOp(b"a", revision=4)],
                [PutOp(b"b", b"1"), PutOp(b"missing", ignore_value=True)],
                [PutOp(b"b", b"1"), TxnOp([], [PutOp(b"missing", ignore_lease=True)], [])]):
        with pytest.raises((CompactedError, FutureRevisionError, KeyNotFoundError)):
            store.txn([], ops, [])
    assert store.revision == 3 and store.range(b"b").count == 0
    assert [e.kv.mod_revision for e in store.take_events()] == [2, 3]
    # the failure branch is not checked when the success branch runs
    result = store.txn([], [RangeOp(b"a")], [RangeOp(b"a", revision=99)])
    assert result.succeeded and result.revision == 3


def test_a_large_compaction_is_trimmed_in_bounded_steps():
    store, model = MVCC(compaction_batch=10), MVCCModel()
    for s in (store, model):
        for i in range(100):
            s.put(b"/k/%03d" % i, b"a")
        for i in range(0, 100, 2):
            s.put(b"/k/%03d" % i, b"b")
        s.delete_range(b"/k/050", b"/k/060")
        s.take_events()
        s.compact(s.revision - 10)
    # reads are already those of the compacted store while most keys still await their trim
    waiting = store.compact_step(5)
    assert 0 < waiting < 150
    assert store.range(b"/", b"\0") == model.range(b"/", b"\0")
    compact = store.compact_revision
    assert store.range(b"/", b"\0", revision=compact) == model.range(b"/", b"\0", revision=compact)
    assert store.events_since(b"/", b"\0", compact, 0) == model.events_since(b"/", b"\0", compact, 0)
    for s in (store, model):
        s.put(b"/k/000", b"c")                 # a write trims a few more keys on its way
    assert store.compact_step(1) < waiting
    assert store.take_events() == model.take_events()
    while store.compact_step(7):
        pass
    assert store.dump() == model.dump()


# --------------------------------------------------------------------------------- events


def test_take_events_survives_a_compaction_in_between(store):
    store.put(b"a", b"1")                      # 2
    store.put(b"a", b"2")                      # 3
    store.delete_range(b"a")                   # 4
    store.compact(4)
    events = store.take_events()
    assert [(e.type, e.kv.mod_revision) for e in events] == [(EVENT_PUT, 2), (EVENT_PUT, 3),
                                                             (EVENT_DELETE, 4)]
    assert events[1].prev_kv == KeyValue(b"a", b"1", 2, 2, 1)
    assert events[2].prev_kv == KeyValue(b"a", b"2", 2, 3, 2)
    assert store.take_events() == []


def test_events_since_returns_history_in_order_with_prev_kv(store):
    store.put(b"/w/a", b"1")                   # 2
    store.put(b"/x", b"1")                     # 3
    store.put(b"/w/b", b"1")                   # 4
    store.put(b"/w/a", b"2")                   # 5
    store.delete_range(b"/w/", prefix_end(b"/w/"))  # 6
    history = store.events_since(b"/w/", prefix_end(b"/w/"), 3, 5)
    assert [(e.kv.key, e.kv.mod_revision) for e in history] == [(b"/w/b", 4), (b"/w/a", 5)]
    assert history[1].prev_kv == KeyValue(b"/w/a", b"1", 2, 2, 1)
    deletes = store.events_since(b"/w/", prefix_end(b"/w/"), 6, 0)
    assert [(e.type, e.kv.key) for e in deletes] == [(EVENT_DELETE, b"/w/a"), (EVENT_DELETE, b"/w/b")]
    store.compact(5)
    # from the compact revision on, the history is whole; prev_kv before it is gone
    since = store.events_since(b"/w/", prefix_end(b"/w/"), 5, 0)
    assert [(e.kv.key, e.kv.mod_revision, e.prev_kv) for e in since][0] == (b"/w/a", 5, None)
    assert len(since) == 3


# --------------------------------------------------------------------------------- state


def test_dump_and_load_round_trip(kind):
    store = kind()
    rng = random.Random(7)
    for i in range(300):
        key = b"/k/%03d" % rng.randrange(60)
        if rng.random() < 0.2:
            store.delete_range(key)
        else:
            store.put(key, b"v%d" % i * rng.randrange(1, 5), lease=rng.choice([0, 0, 3]))
    store.compact(store.revision - 100)
    data = store.dump()
    for loaded in (MVCC.load(data), MVCCModel.load(data)):
        assert loaded.dump() == data
        assert (loaded.revision, loaded.compact_revision) == (store.revision, store.compact_revision)
        assert loaded.range(b"/", b"\0") == store.range(b"/", b"\0")
        assert loaded.range(b"/", b"\0", revision=store.compact_revision) == \
            store.range(b"/", b"\0", revision=store.compact_revision)
        assert loaded.hash_kv() == store.hash_kv()
        assert loaded.lease_keys(3) == store.lease_keys(3)
        assert loaded.events_since(b"/", b"\0", store.compact_revision, 0) == \
            store.events_since(b"/", b"\0", store.compact_revision, 0)
        assert loaded.take_events() == []
        loaded.put(b"/k/new", b"x")
        assert loaded.revision == store.revision + 1


def test_a_damaged_dump_is_refused(kind):
    store = kind()
    store.put(b"a", b"1")
    data = store.dump()
    for broken in (data[:-1], data[:10], b"", data[:20] + bytes([data[20] ^ 1]) + data[21:],
                   b"X" + data[1:]):
        with pytest.raises(StoreError) as err:
            kind.load(broken)
        assert str(err.value) == "etcdserver: mvcc: corrupt snapshot data"


def test_hash_kv_depends_on_history_up_to_the_revision(store):
    store.put(b"a", b"1")
    first = store.hash_kv()
    store.put(b"b", b"1")
    assert store.hash_kv(2) == first and store.hash_kv() != first
    assert store.hash_kv(0) == store.hash_kv(3)


def test_the_two_implementations_agree_bit_for_bit():
    compiled, model = MVCC(), MVCCModel()
    for store in (compiled, model):
        store.put(b"a", b"1", lease=4)
        store.txn([], [PutOp(b"b", b"2"), PutOp(b"c", b"3")], [])
        store.delete_range(b"a")
        store.compact(3)
    assert compiled.dump() == model.dump()
    assert compiled.hash_kv() == model.hash_kv()


def test_many_keys_keep_their_order_through_churn():
    # enough keys to split and merge the compiled core's chunks and grow its hash table
    store = MVCC()
    rng = random.Random(1)
    keys = [b"/registry/pods/ns%d/pod-%05d" % (i % 7, i) for i in range(6000)]
    rng.shuffle(keys)
    for key in keys:
        store.put(key, key[-5:])
    assert [kv.key for kv in store.range(b"/", b"\0").kvs] == sorted(keys)
    doomed = set(rng.sample(keys, 5000))
    for key in doomed:
        store.delete_range(key)
    store.compact(store.revision)
    store.put(b"/registry/zz", b"last")
    store.compact(store.revision)
    kept = sorted(set(keys) - doomed) + [b"/registry/zz"]
    assert [kv.key for kv in store.range(b"/", b"\0").kvs] == kept
    assert store.stats()["keys"] == len(kept)
    for key in rng.sample(kept, 200):
        assert store.range(key).kvs[0].key == key
    for key in rng.sample(sorted(doomed), 200):
        assert store.range(key).count == 0
    again = [b"/registry/pods/ns0/new-%d" % i for i in range(3000)]
    for key in again:
        store.put(key, b"x")
    assert [kv.key for kv in store.range(b"/", b"\0").kvs] == sorted(kept + again)


# --------------------------------------------------------------------------------- watch index


@pytest.fixture(params=["compiled", "model"])
def watch_index(request):
    return WatchIndex() if request.param == "compiled" else WatchIndexModel()


def test_watch_index_exact_prefix_range_and_remove(watch_index):
    index = watch_index
    index.add(1, b"/pods/a", b"")                        # one key
    index.add(2, b"/pods/", prefix_end(b"/pods/"))       # a prefix
    index.add(3, b"/pods/b", b"/pods/d")                 # a range
    index.add(4, b"/pods/a", b"")                        # a second watcher of one key
    index.add(5, b"/", b"\0")                            # everything from "/" on
    index.add(6, b"/pods/z", b"/pods/a")                 # an empty range: matches nothing
    assert len(index) == 6
    assert sorted(index.match(b"/pods/a")) == [1, 2, 4, 5]
    assert sorted(index.match(b"/pods/b")) == [2, 3, 5]
    assert sorted(index.match(b"/pods/d")) == [2, 5]     # range_end is exclusive
    assert sorted(index.match(b"/nodes/x")) == [5]
    assert index.match(b"a") == [5] and index.match(b"") == []
    with pytest.raises(InvalidRequestError):
        index.add(3, b"x", b"")
    for watch_id in (1, 3, 5, 6):
        index.remove(watch_id)
    index.remove(99)                                     # unknown: ignored
    assert len(index) == 2
    assert sorted(index.match(b"/pods/a")) == [2, 4]
    assert sorted(index.match(b"/pods/c")) == [2]
    index.remove(2)
    index.remove(4)
    assert index.match(b"/pods/a") == [] and len(index) == 0


def test_watch_index_matches_brute_force_with_many_ranges():
    rng = random.Random(3)
    index, model = WatchIndex(), WatchIndexModel()
    alive = []
    for watch_id in range(3000):
        start = b"/r/%03d" % rng.randrange(1000)
        end = rng.choice([b"", b"\0", prefix_end(start), b"/r/%03d" % rng.randrange(1000)])
        index.add(watch_id, start, end)
        model.add(watch_id, start, end)
        alive.append(watch_id)
        if rng.random() < 0.3:
            gone = alive.pop(rng.randrange(len(alive)))
            index.remove(gone)
            model.remove(gone)
    for probe in range(0, 1000, 7):
        key = b"/r/%03d" % probe
        assert sorted(index.match(key)) == model.match(key)
    assert len(index) == len(model)
