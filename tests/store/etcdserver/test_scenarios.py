"""KV scenarios through the remote client, one body per scenario, run against both servers."""
from __future__ import annotations

import asyncio

import grpc
import pytest

from pykube_plane.store.etcdpb import rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from pykube_plane.store.kv import (
    EVENT_DELETE, EVENT_PUT, FILTER_NOPUT, RESULT_EQUAL, RESULT_GREATER, TARGET_MOD, TARGET_VALUE,
    TARGET_VERSION, Compare, CompactedError, DeleteOp, DeleteResult, FutureRevisionError,
    InvalidRequestError, KeyValue, LeaseNotFoundError, PutOp, PutResult, RangeOp, RangeResult,
    RequestTooLargeError, TxnOp, TxnResult, prefix_end,
)


async def next_response(watch, timeout: float = 10.0):
    return await asyncio.wait_for(watch.__anext__(), timeout)


async def collect_events(watch, count: int, timeout: float = 10.0) -> list:
    events: list = []
    while len(events) < count:
        resp = await next_response(watch, timeout)
        events.extend(resp.events)
    return events


async def test_put_then_range_by_key_prefix_limit_and_count(client, prefix):
    revs = [await client.put(prefix + k, v) for k, v in [(b"a", b"1"), (b"b", b"2"), (b"c", b"3")]]
    assert revs == sorted(revs) and len(set(revs)) == 3

    one = await client.range(prefix + b"b")
    assert one.kvs == [KeyValue(prefix + b"b", b"2", revs[1], revs[1], 1)]
    assert one.count == 1 and not one.more and one.revision >= revs[2]

    everything = await client.range(prefix, prefix_end(prefix))
    assert [kv.key for kv in everything.kvs] == [prefix + b"a", prefix + b"b", prefix + b"c"]

    limited = await client.range(prefix, prefix_end(prefix), limit=2)
    assert len(limited.kvs) == 2 and limited.more and limited.count == 3

    counted = await client.range(prefix, prefix_end(prefix), count_only=True)
    assert counted.kvs == [] and counted.count == 3

    keys = await client.range(prefix, prefix_end(prefix), keys_only=True)
    assert [kv.value for kv in keys.kvs] == [b"", b"", b""]

    old = await client.range(prefix + b"a", revision=revs[0])
    assert old.kvs[0].value == b"1"


async def test_versions_count_puts_and_reset_on_delete(client, prefix):
    key = prefix + b"k"
    first = await client.put(key, b"v1")
    second = await client.put(key, b"v2")
    kv = (await client.range(key)).kvs[0]
    assert (kv.create_revision, kv.mod_revision, kv.version) == (first, second, 2)

    deleted = await client.delete_range(key, prev_kv=True)
    assert deleted.deleted == 1 and deleted.prev_kvs[0].value == b"v2"
    assert (await client.range(key)).kvs == []

    again = await client.put(key, b"v3")
    kv = (await client.range(key)).kvs[0]
    assert (kv.create_revision, kv.version) == (again, 1)


async def test_delete_range_counts_and_returns_previous_values(client, prefix):
    for k in (b"x1", b"x2", b"y"):
        await client.put(prefix + k, k)
    res = await client.delete_range(prefix + b"x", prefix_end(prefix + b"x"), prev_kv=True)
    assert isinstance(res, DeleteResult) and res.deleted == 2
    assert sorted(kv.value for kv in res.prev_kvs) == [b"x1", b"x2"]
    nothing = await client.delete_range(prefix + b"absent")
    assert nothing.deleted == 0


async def test_txn_compare_and_swap(client, prefix):
    key = prefix + b"cas"
    rev = await client.put(key, b"old")
    won = await client.txn(
        [Compare(key, TARGET_MOD, RESULT_EQUAL, rev)],
        [PutOp(key, b"new", prev_kv=True), RangeOp(key)],
        [RangeOp(key)])
    assert isinstance(won, TxnResult) and won.succeeded
    put_res, range_res = won.responses
    assert isinstance(put_res, PutResult) and put_res.prev_kv.value == b"old"
    assert isinstance(range_res, RangeResult) and range_res.kvs[0].value == b"new"

    lost = await client.txn([Compare(key, TARGET_MOD, RESULT_EQUAL, rev)], [PutOp(key, b"never")],
                            [RangeOp(key)])
    assert not lost.succeeded and lost.responses[0].kvs[0].value == b"new"
    assert lost.revision == won.revision  # a failed compare with reads only writes nothing


async def test_txn_value_version_compares_and_nested_txn(client, prefix):
    a, b = prefix + b"a", prefix + b"b"
    await client.put(a, b"1")
    res = await client.txn(
        [Compare(a, TARGET_VALUE, RESULT_EQUAL, b"1"), Compare(a, TARGET_VERSION, RESULT_GREATER, 0)],
        [TxnOp([Compare(b, TARGET_VERSION, RESULT_EQUAL, 0)], [PutOp(b, b"created")], []),
         DeleteOp(a)],
        [])
    assert res.succeeded
    inner, deleted = res.responses
    assert isinstance(inner, TxnResult) and inner.succeeded
    assert isinstance(deleted, DeleteResult) and deleted.deleted == 1
    after = await client.range(prefix, prefix_end(prefix))
    assert [(kv.key, kv.value) for kv in after.kvs] == [(b, b"created")]
    # one revision for the whole txn
    assert after.kvs[0].mod_revision == res.revision


async def test_compacted_and_future_revisions_are_rejected(client, prefix):
    key = prefix + b"k"
    first = await client.put(key, b"1")
    second = await client.put(key, b"2")
    await client.compact(second)
    with pytest.raises(CompactedError) as exc:
        await client.range(key, revision=first)
    assert exc.value.message == "etcdserver: mvcc: required revision has been compacted"
    assert (await client.range(key, revision=second)).kvs[0].value == b"2"
    with pytest.raises(FutureRevisionError):
        await client.range(key, revision=second + 1000)
    with pytest.raises(CompactedError):
        await client.compact(first)


async def test_malformed_requests_get_etcd_errors_and_server_stays_up(client, prefix):
    with pytest.raises(InvalidRequestError) as exc:
        await client.put(b"", b"v")
    assert exc.value.message == "etcdserver: key is not provided"
    with pytest.raises(RequestTooLargeError) as exc:
        await client.put(prefix + b"big", b"x" * (1536 * 1024 + 1))
    assert exc.value.message == "etcdserver: request is too large"
    with pytest.raises(LeaseNotFoundError):
        await client.put(prefix + b"k", b"v", lease=0x7EADBEEF)
    with pytest.raises(LeaseNotFoundError):
        await client.lease_revoke(0x7EADBEEF)
    with pytest.raises(InvalidRequestError) as exc:
        await client.txn([], [PutOp(prefix + b"d", b"1"), PutOp(prefix + b"d", b"2")])
    assert exc.value.message == "etcdserver: duplicate key given in txn request"
    assert await client.put(prefix + b"alive", b"yes") > 0


async def test_request_size_limit_status_codes(server, prefix):
    """The raw gRPC codes etcd answers: InvalidArgument for a too-large request, OutOfRange
    for a compacted revision, NotFound for an unknown lease."""
    async with grpc.aio.insecure_channel(server.endpoint) as ch:
        kv = pb_grpc.KVStub(ch)
        lease = pb_grpc.LeaseStub(ch)
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await kv.Put(pb.PutRequest(key=prefix + b"big", value=b"x" * (1600 * 1024)))
        assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert exc.value.details() == "etcdserver: request is too large"
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await lease.LeaseRevoke(pb.LeaseRevokeRequest(ID=0x7EADBEEF))
        assert exc.value.code() == grpc.StatusCode.NOT_FOUND
        rev = (await kv.Put(pb.PutRequest(key=prefix + b"k", value=b"1"))).header.revision
        await kv.Put(pb.PutRequest(key=prefix + b"k", value=b"2"))
        await kv.Compact(pb.CompactionRequest(revision=rev + 1))
        with pytest.raises(grpc.aio.AioRpcError) as exc:
            await kv.Range(pb.RangeRequest(key=prefix + b"k", revision=rev))
        assert exc.value.code() == grpc.StatusCode.OUT_OF_RANGE
        # and the server still serves
        resp = await kv.Range(pb.RangeRequest(key=prefix + b"k"))
        assert resp.kvs[0].value == b"2" and resp.header.cluster_id and resp.header.member_id
        assert resp.header.raft_term >= 1


async def test_watch_from_an_old_revision_replays_history(client, prefix):
    start = await client.put(prefix + b"a", b"1")
    await client.put(prefix + b"b", b"2")
    await client.delete_range(prefix + b"a")
    watch = client.watch(prefix, prefix_end(prefix), start_revision=start, prev_kv=True)
    events = await collect_events(watch, 3)
    assert [(e.type, e.kv.key) for e in events] == [
        (EVENT_PUT, prefix + b"a"), (EVENT_PUT, prefix + b"b"), (EVENT_DELETE, prefix + b"a")]
    assert events[2].prev_kv.value == b"1"
    live = await client.put(prefix + b"c", b"3")
    (event,) = await collect_events(watch, 1)
    assert event.kv.mod_revision == live and event.kv.value == b"3"
    await watch.cancel()


async def test_watch_filters_and_txn_events_arrive_together(client, prefix):
    base = (await client.range(prefix + b"none")).revision
    only_deletes = client.watch(prefix, prefix_end(prefix), start_revision=base + 1,
                                filters=[FILTER_NOPUT])
    everything = client.watch(prefix, prefix_end(prefix), start_revision=base + 1)
    await client.put(prefix + b"a", b"1")
    res = await client.txn([], [PutOp(prefix + b"b", b"2"), DeleteOp(prefix + b"a")])
    responses = []
    while sum(len(r.events) for r in responses) < 3:
        responses.append(await next_response(everything))
    # Several revisions may share a response, but one revision is never split across two.
    holding_txn = [r for r in responses if any(e.kv.mod_revision == res.revision for e in r.events)]
    assert len(holding_txn) == 1
    assert [(e.type, e.kv.key) for e in holding_txn[0].events if e.kv.mod_revision == res.revision] \
        == [(EVENT_PUT, prefix + b"b"), (EVENT_DELETE, prefix + b"a")]
    resp = await next_response(only_deletes)
    assert [(e.type, e.kv.key) for e in resp.events] == [(EVENT_DELETE, prefix + b"a")]
    await only_deletes.cancel()
    await everything.cancel()


async def test_watch_on_compacted_revision_is_canceled_with_compact_revision(client, prefix):
    first = await client.put(prefix + b"k", b"1")
    second = await client.put(prefix + b"k", b"2")
    await client.compact(second)
    watch = client.watch(prefix + b"k", start_revision=first)
    resp = await next_response(watch)
    assert resp.canceled and resp.compact_revision >= second
    with pytest.raises(StopAsyncIteration):
        await next_response(watch)


async def test_watch_progress_request(client, prefix):
    rev = await client.put(prefix + b"k", b"1")
    watch = client.watch(prefix + b"k", start_revision=rev + 1)
    await client.put(prefix + b"k", b"2")
    await collect_events(watch, 1)
    watch.request_progress()
    resp = await next_response(watch)
    assert resp.events == [] and not resp.canceled and resp.revision >= rev + 1
    await watch.cancel()


async def test_leases_keep_keys_until_revoked(client, prefix):
    grant = await client.lease_grant(60)
    assert grant.ttl == 60 and grant.id > 0
    assert grant.id in await client.leases()
    await client.put(prefix + b"a", b"1", lease=grant.id)
    await client.put(prefix + b"b", b"2", lease=grant.id)
    assert await client.lease_keepalive(grant.id) == 60
    status = await client.lease_time_to_live(grant.id, keys=True)
    assert status.granted_ttl == 60 and 0 < status.ttl <= 60
    assert sorted(status.keys) == [prefix + b"a", prefix + b"b"]
    kv = (await client.range(prefix + b"a")).kvs[0]
    assert kv.lease == grant.id

    rev = await client.lease_revoke(grant.id)
    assert (await client.range(prefix, prefix_end(prefix))).kvs == []
    assert rev >= kv.mod_revision
    assert (await client.lease_time_to_live(grant.id)).ttl == -1
    with pytest.raises(LeaseNotFoundError):
        await client.lease_keepalive(grant.id)


async def test_lease_expiry_deletes_its_keys(client, prefix):
    grant = await client.lease_grant(2)
    rev = await client.put(prefix + b"ephemeral", b"1", lease=grant.id)
    watch = client.watch(prefix + b"ephemeral", start_revision=rev + 1)
    (event,) = await collect_events(watch, 1, timeout=15.0)
    assert event.type == EVENT_DELETE
    assert (await client.range(prefix + b"ephemeral")).kvs == []
    await watch.cancel()


async def test_many_concurrent_watch_streams(server, prefix):
    """Hundreds of watchers on many gRPC streams all see the same write."""
    from pykube_plane.store.remote import RemoteKV

    clients = [RemoteKV([server.endpoint]) for _ in range(20)]
    try:
        base = (await clients[0].range(prefix + b"k")).revision
        watches = [c.watch(prefix + b"k", start_revision=base + 1) for c in clients for _ in range(25)]
        rev = await clients[0].put(prefix + b"k", b"hello")
        got = await asyncio.gather(*(collect_events(w, 1) for w in watches))
        assert all(evs[0].kv.mod_revision == rev for evs in got)
    finally:
        await asyncio.gather(*(c.close() for c in clients))
