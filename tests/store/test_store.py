"""The embedded Store through its Python face: etcd semantics, watch, leases, durability."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane.store import store as store_module
from pykube_plane.store import watch as watch_module
from pykube_plane.store.kv import (
    EVENT_DELETE, EVENT_PUT, FILTER_NOPUT, Compare, CompactedError, DeleteOp,
    FutureRevisionError, InvalidRequestError, KV, LeaseNotFoundError, PutOp, RangeOp,
    RequestTooLargeError, StoreClosedError, TxnOp, prefix_end, RESULT_EQUAL, TARGET_MOD,
    TARGET_VALUE, TARGET_VERSION,
)
from pykube_plane.store.store import Store


@pytest.fixture
async def store(tmp_path):
    s = await Store.open(tmp_path / "data", fsync=False)
    yield s
    await s.close()


async def next_response(watch, timeout=5.0):
    return await asyncio.wait_for(watch.__anext__(), timeout)


async def test_the_documented_shape(tmp_path):
    store = await Store.open(tmp_path / "data")
    assert isinstance(store, KV)
    rev = await store.put(b"/a", b"1")
    res = await store.range(b"/a")
    assert res.kvs[0].value == b"1" and res.revision == rev and res.count == 1
    await store.close()


async def test_put_range_delete_revisions(store):
    r1 = await store.put(b"/k/a", b"1")
    r2 = await store.put(b"/k/b", b"2")
    r3 = await store.put(b"/k/a", b"3")
    assert (r1 + 1, r1 + 2) == (r2, r3)
    res = await store.range(b"/k/", prefix_end(b"/k/"))
    assert [(kv.key, kv.value, kv.version) for kv in res.kvs] == [(b"/k/a", b"3", 2), (b"/k/b", b"2", 1)]
    a = res.kvs[0]
    assert (a.create_revision, a.mod_revision) == (r1, r3)
    old = await store.range(b"/k/a", revision=r1)
    assert old.kvs[0].value == b"1"
    limited = await store.range(b"/k/", prefix_end(b"/k/"), limit=1)
    assert limited.count == 2 and limited.more and len(limited.kvs) == 1
    counted = await store.range(b"/k/", prefix_end(b"/k/"), count_only=True)
    assert counted.count == 2 and counted.kvs == []
    deleted = await store.delete_range(b"/k/", prefix_end(b"/k/"), prev_kv=True)
    assert deleted.deleted == 2 and {kv.key for kv in deleted.prev_kvs} == {b"/k/a", b"/k/b"}
    assert (await store.range(b"/k/a")).count == 0
    with pytest.raises(FutureRevisionError):
        await store.range(b"/k/a", revision=store.revision + 10)


async def test_txn_is_one_revision_and_compares(store):
    rev = await store.put(b"/x", b"1")
    res = await store.txn([Compare(b"/x", TARGET_MOD, RESULT_EQUAL, rev)],
                          [PutOp(b"/x", b"2"), PutOp(b"/y", b"2"), RangeOp(b"/x")],
                          [RangeOp(b"/x")])
    assert res.succeeded and res.revision == rev + 1
    assert res.responses[2].kvs[0].value == b"2"  # reads inside a txn see its writes
    x, y = (await store.range(b"/x")).kvs[0], (await store.range(b"/y")).kvs[0]
    assert x.mod_revision == y.mod_revision == rev + 1
    stale = await store.txn([Compare(b"/x", TARGET_MOD, RESULT_EQUAL, rev)], [PutOp(b"/x", b"3")],
                            [RangeOp(b"/x")])
    assert not stale.succeeded and stale.responses[0].kvs[0].value == b"2"
    assert store.revision == rev + 1  # a txn that only read did not bump the revision
    missing = await store.txn([Compare(b"/nope", TARGET_VERSION, RESULT_EQUAL, 0)],
                              [PutOp(b"/nope", b"v")], [])
    assert missing.succeeded
    with pytest.raises(InvalidRequestError, match="duplicate key"):
        await store.txn([], [PutOp(b"/d", b"1"), PutOp(b"/d", b"2")])


async def test_compaction(store):
    r1 = await store.put(b"/c", b"1")
    await store.put(b"/c", b"2")
    r3 = await store.put(b"/c", b"3")
    await store.compact(r3)
    with pytest.raises(CompactedError):
        await store.range(b"/c", revision=r1)
    assert (await store.range(b"/c", revision=r3)).kvs[0].value == b"3"
    with pytest.raises(CompactedError):
        await store.compact(r1)
    with pytest.raises(FutureRevisionError):
        await store.compact(store.revision + 5)


async def test_bad_requests_get_etcd_errors(store):
    with pytest.raises(InvalidRequestError, match="key is not provided"):
        await store.put(b"", b"v")
    with pytest.raises(RequestTooLargeError):
        await store.put(b"/big", b"x" * (2 * 1024 * 1024))
    with pytest.raises(LeaseNotFoundError):
        await store.put(b"/l", b"v", lease=12345)
    with pytest.raises(LeaseNotFoundError):
        await store.txn([], [PutOp(b"/l", b"v", lease=12345)])
    assert (await store.range(b"/l")).count == 0  # nothing half-written
    assert (await store.range(b"/big")).count == 0


async def test_watch_live_history_filters_and_prev_kv(store):
    r1 = await store.put(b"/w/a", b"1")
    live = store.watch(b"/w/", prefix_end(b"/w/"), prev_kv=True)
    history = store.watch(b"/w/", prefix_end(b"/w/"), start_revision=r1)
    no_puts = store.watch(b"/w/", prefix_end(b"/w/"), filters=[FILTER_NOPUT])
    other = store.watch(b"/other")
    await store.txn([], [PutOp(b"/w/a", b"2"), PutOp(b"/w/b", b"1")])
    await store.delete_range(b"/w/a")

    resp = await next_response(live)
    assert [e.kv.key for e in resp.events] == [b"/w/a", b"/w/b"]  # one txn, one response
    assert resp.events[0].prev_kv.value == b"1" and resp.events[1].prev_kv is None
    resp = await next_response(live)
    assert resp.events[0].type == EVENT_DELETE and resp.events[0].prev_kv.value == b"2"

    seen = []
    while len(seen) < 4:
        seen += (await next_response(history)).events
    assert [(e.type, e.kv.key, e.kv.mod_revision) for e in seen] == [
        (EVENT_PUT, b"/w/a", r1), (EVENT_PUT, b"/w/a", r1 + 1), (EVENT_PUT, b"/w/b", r1 + 1),
        (EVENT_DELETE, b"/w/a", r1 + 2)]
    assert all(e.prev_kv is None for e in seen)

    resp = await next_response(no_puts)
    assert [e.type for e in resp.events] == [EVENT_DELETE]
    other.request_progress()
    progress = await next_response(other)
    assert progress.events == [] and progress.revision == store.revision
    await live.cancel()
    with pytest.raises(StopAsyncIteration):
        await next_response(live)


async def test_watch_from_compacted_revision_is_cancelled(store):
    r1 = await store.put(b"/z", b"1")
    await store.put(b"/z", b"2")
    r3 = await store.put(b"/z", b"3")
    await store.compact(r3)
    w = store.watch(b"/z", start_revision=r1)
    resp = await next_response(w)
    assert resp.canceled and resp.compact_revision == r3
    with pytest.raises(StopAsyncIteration):
        await next_response(w)


async def test_slow_watcher_never_blocks_writers_and_catches_up(store, monkeypatch):
    monkeypatch.setattr(watch_module, "MAX_PENDING_EVENTS", 16)
    slow = store.watch(b"/s/", prefix_end(b"/s/"))
    fast = store.watch(b"/s/", prefix_end(b"/s/"))
    fast_seen: list[int] = []

    async def drain_fast():
        async for resp in fast:
            fast_seen.extend(e.kv.mod_revision for e in resp.events)
            if len(fast_seen) == 200:
                return

    drainer = asyncio.create_task(drain_fast())
    first = store.revision + 1
    for i in range(200):  # the slow watcher reads nothing meanwhile: writes must still complete
        await store.put(b"/s/%03d" % i, b"v")
    await asyncio.wait_for(drainer, 10)
    slow_seen: list[int] = []
    while len(slow_seen) < 200:
        slow_seen += [e.kv.mod_revision for e in (await next_response(slow)).events]
    expected = list(range(first, first + 200))
    assert fast_seen == expected and slow_seen == expected  # in order, once each, nothing lost


async def test_many_watchers_on_many_prefixes(store):
    watchers = [store.watch(b"/p%d/" % i, prefix_end(b"/p%d/" % i)) for i in range(500)]
    await store.put(b"/p123/x", b"v")
    resp = await next_response(watchers[123])
    assert resp.events[0].kv.key == b"/p123/x"
    for i in (0, 12, 124, 499):  # "/p12/" must not match "/p123/x"
        watchers[i].request_progress()
        assert (await next_response(watchers[i])).events == []


async def test_lease_expiry_deletes_its_keys_in_one_revision(store, monkeypatch):
    monkeypatch.setattr(store_module, "LEASE_CHECK_INTERVAL", 0.05)
    grant = await store.lease_grant(1)  # etcd raises a 1 s TTL to its 2 s minimum
    assert grant.ttl == 2
    await store.put(b"/lease/a", b"1", lease=grant.id)
    await store.put(b"/lease/b", b"1", lease=grant.id)
    status = await store.lease_time_to_live(grant.id, keys=True)
    assert status.granted_ttl == 2 and status.keys == [b"/lease/a", b"/lease/b"]
    w = store.watch(b"/lease/", prefix_end(b"/lease/"))
    resp = await next_response(w, timeout=10)
    assert [e.type for e in resp.events] == [EVENT_DELETE, EVENT_DELETE]
    assert resp.events[0].kv.mod_revision == resp.events[1].kv.mod_revision
    assert (await store.lease_time_to_live(grant.id)).ttl == -1
    assert await store.leases() == []


async def test_lease_revoke_and_keepalive(store):
    grant = await store.lease_grant(30)
    assert await store.lease_keepalive(grant.id) == 30
    await store.put(b"/r", b"1", lease=grant.id)
    rev = await store.lease_revoke(grant.id)
    assert (await store.range(b"/r")).count == 0 and rev == store.revision
    with pytest.raises(LeaseNotFoundError):
        await store.lease_revoke(grant.id)
    with pytest.raises(LeaseNotFoundError):
        await store.lease_keepalive(grant.id)


async def test_restart_recovers_everything(tmp_path):
    data = tmp_path / "data"
    store = await Store.open(data)
    for i in range(50):
        await store.put(b"/r/%d" % i, b"%d" % i)
    await store.delete_range(b"/r/7")
    grant = await store.lease_grant(60)
    await store.put(b"/r/leased", b"x", lease=grant.id)
    rev = store.revision
    await store.close()

    store = await Store.open(data)
    assert store.revision == rev
    res = await store.range(b"/r/", prefix_end(b"/r/"))
    assert res.count == 50 and b"/r/7" not in {kv.key for kv in res.kvs}
    assert await store.leases() == [grant.id]
    assert (await store.lease_time_to_live(grant.id, keys=True)).keys == [b"/r/leased"]
    assert await store.put(b"/r/after", b"1") == rev + 1
    await store.close()


async def test_snapshots_and_wal_release_keep_state(tmp_path):
    data = tmp_path / "data"
    store = await Store.open(data, snapshot_count=25)
    for i in range(120):
        await store.put(b"/s/%d" % (i % 30), b"%d" % i)
    await store.compact(store.revision - 10)
    rev, compact = store.revision, store.compact_revision
    await store.close()
    assert len(list((data / "member" / "snap").iterdir())) >= 1
    store = await Store.open(data)
    assert (store.revision, store.compact_revision) == (rev, compact)
    assert (await store.range(b"/s/", prefix_end(b"/s/"), count_only=True)).count == 30
    assert (await store.range(b"/s/29")).kvs[0].value == b"119"
    await store.close()


async def test_snapshot_save_and_restore(tmp_path):
    store = await Store.open(tmp_path / "a")
    for i in range(20):
        await store.put(b"/snap/%d" % i, b"v%d" % i)
    path = tmp_path / "backup.db"
    rev = await store.snapshot_save(path)
    await store.close()
    assert Store.snapshot_status(path)["revision"] == rev
    Store.snapshot_restore(path, tmp_path / "b")
    restored = await Store.open(tmp_path / "b")
    assert restored.revision == rev
    assert (await restored.range(b"/snap/", prefix_end(b"/snap/"), count_only=True)).count == 20
    assert restored.member_id != store.member_id
    assert await restored.put(b"/snap/new", b"1") == rev + 1   # the log goes on after the snapshot
    await restored.close()
    reopened = await Store.open(tmp_path / "b")
    assert (await reopened.range(b"/snap/new")).kvs[0].value == b"1"
    await reopened.close()
    damaged = tmp_path / "damaged.db"
    damaged.write_bytes(path.read_bytes()[:-10])
    with pytest.raises(Exception, match="checksum"):
        Store.snapshot_restore(damaged, tmp_path / "c")


async def test_closed_store_refuses_work(tmp_path):
    store = await Store.open(tmp_path / "data")
    w = store.watch(b"/a")
    pending = [asyncio.create_task(store.put(b"/q%d" % i, b"v")) for i in range(20)]
    await asyncio.sleep(0)
    await store.close()
    assert all(t.done() for t in pending)  # queued writes were finished, not dropped
    results = [t.result() for t in pending]
    assert results == sorted(results)
    with pytest.raises(StopAsyncIteration):
        await next_response(w)
    with pytest.raises(StoreClosedError):
        await store.put(b"/a", b"1")


async def test_concurrent_writers_share_fsyncs(tmp_path):
    store = await Store.open(tmp_path / "data")
    revs = await asyncio.gather(*(store.put(b"/g/%d" % i, b"v") for i in range(200)))
    assert sorted(revs) == list(range(2, 202))
    assert store.wal_stats["fsyncs"] < 100
    await store.close()
