"""Limits and less common requests, answered the same by kplane store and real etcd."""
from __future__ import annotations

import asyncio

import grpc
import pytest

from pykube_plane.store.etcdpb import rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from pykube_plane.store.kv import NoSpaceError
from pykube_plane.store.remote import RemoteKV

from .conftest import SERVER_KINDS
from .servers import start_server


@pytest.fixture
async def stubs(server):
    async with grpc.aio.insecure_channel(server.endpoint) as channel:
        yield pb_grpc.KVStub(channel), channel


async def test_too_many_txn_ops_and_overlapping_writes(stubs, prefix):
    kv, _ = stubs
    ops = [pb.RequestOp(request_put=pb.PutRequest(key=prefix + b"%d" % i)) for i in range(129)]
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await kv.Txn(pb.TxnRequest(success=ops))
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert exc.value.details() == "etcdserver: too many operations in txn request"
    put_and_delete = [pb.RequestOp(request_put=pb.PutRequest(key=prefix + b"a")),
                      pb.RequestOp(request_delete_range=pb.DeleteRangeRequest(
                          key=prefix, range_end=prefix + b"\xff"))]
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await kv.Txn(pb.TxnRequest(success=put_and_delete))
    assert exc.value.details() == "etcdserver: duplicate key given in txn request"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await kv.Range(pb.RangeRequest(key=b""))
    assert exc.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert exc.value.details() == "etcdserver: key is not provided"


async def test_range_sort_and_revision_filters(stubs, prefix):
    kv, _ = stubs
    revs = {}
    for k, v in [(b"a", b"3"), (b"b", b"1"), (b"c", b"2")]:
        revs[k] = (await kv.Put(pb.PutRequest(key=prefix + k, value=v))).header.revision
    end = prefix + b"\xff"
    by_value = await kv.Range(pb.RangeRequest(key=prefix, range_end=end, sort_target=pb.RangeRequest.VALUE,
                                              sort_order=pb.RangeRequest.DESCEND, limit=2))
    assert [m.value for m in by_value.kvs] == [b"3", b"2"] and by_value.more and by_value.count == 3
    by_key_desc = await kv.Range(pb.RangeRequest(key=prefix, range_end=end,
                                                 sort_order=pb.RangeRequest.DESCEND))
    assert [m.key[-1:] for m in by_key_desc.kvs] == [b"c", b"b", b"a"]
    newer = await kv.Range(pb.RangeRequest(key=prefix, range_end=end, min_mod_revision=revs[b"b"]))
    assert [m.key[-1:] for m in newer.kvs] == [b"b", b"c"] and newer.count == 3
    in_txn = await kv.Txn(pb.TxnRequest(success=[pb.RequestOp(request_range=pb.RangeRequest(
        key=prefix, range_end=end, sort_target=pb.RangeRequest.MOD, sort_order=pb.RangeRequest.DESCEND,
        limit=1))]))
    assert [m.key[-1:] for m in in_txn.responses[0].response_range.kvs] == [b"c"]


async def test_put_ignore_value_and_ignore_lease(stubs, prefix):
    kv, _ = stubs
    await kv.Put(pb.PutRequest(key=prefix + b"k", value=b"keep"))
    resp = await kv.Put(pb.PutRequest(key=prefix + b"k", ignore_value=True, prev_kv=True))
    assert resp.prev_kv.value == b"keep"
    got = await kv.Range(pb.RangeRequest(key=prefix + b"k"))
    assert got.kvs[0].value == b"keep" and got.kvs[0].version == 2
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await kv.Put(pb.PutRequest(key=prefix + b"absent", ignore_value=True))
    assert exc.value.details() == "etcdserver: key not found"
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await kv.Put(pb.PutRequest(key=prefix + b"k", value=b"x", ignore_value=True))
    assert exc.value.details() == "etcdserver: value is provided"


async def test_thousands_of_watch_streams_opened_at_once(server, prefix):
    """4000 gRPC watch streams opened in one burst (one watcher each, over 20 connections) all
    get the same event: a reconnect storm must not drop streams."""
    streams, connections = 4000, 20
    channels = [grpc.aio.insecure_channel(server.endpoint) for _ in range(connections)]
    calls = []
    try:
        kv = pb_grpc.KVStub(channels[0])
        start = (await kv.Range(pb.RangeRequest(key=prefix))).header.revision + 1
        create = pb.WatchRequest(create_request=pb.WatchCreateRequest(key=prefix + b"k",
                                                                      start_revision=start))
        created = 0
        all_created = asyncio.Event()

        async def one_stream(i: int) -> int:
            nonlocal created

            async def requests():
                yield create
                await asyncio.Event().wait()

            call = pb_grpc.WatchStub(channels[i % connections]).Watch(requests())
            calls.append(call)
            async for resp in call:
                if resp.created:
                    created += 1
                    if created == streams:
                        all_created.set()
                elif resp.events:
                    return resp.events[0].kv.mod_revision
            return -1

        tasks = [asyncio.ensure_future(one_stream(i)) for i in range(streams)]
        await asyncio.wait_for(all_created.wait(), 120)
        rev = (await kv.Put(pb.PutRequest(key=prefix + b"k", value=b"v"))).header.revision
        got = await asyncio.wait_for(asyncio.gather(*tasks), 120)
        assert got == [rev] * streams
    finally:
        for call in calls:
            call.cancel()
        for ch in channels:
            await ch.close()


@pytest.mark.parametrize("kind", SERVER_KINDS)
async def test_space_quota_raises_nospace_until_disarmed(tmp_path, kind):
    srv = await asyncio.to_thread(start_server, kind, tmp_path, "--quota-backend-bytes", "300000")
    kv = RemoteKV([srv.endpoint])
    try:
        value = b"x" * 8192
        with pytest.raises(NoSpaceError) as exc:
            for _ in range(400):
                await kv.put(b"/quota/k", value)
        assert exc.value.message == "etcdserver: mvcc: database space exceeded"
        alarms = await kv.alarms()
        assert [a.alarm for a in alarms.alarms] == [pb.NOSPACE]
        status = await kv.status()
        assert any("NOSPACE" in e for e in status.errors)
        with pytest.raises(NoSpaceError):
            await kv.put(b"/quota/other", b"small")
        assert (await kv.range(b"/quota/k")).kvs[0].value == value  # reads still work
        # how an operator gets space back: compact, defragment, disarm
        await kv.compact(status.revision)
        await kv.defragment()
        (raised,) = alarms.alarms
        assert raised.memberID == status.member_id
        disarmed = await kv.alarms(pb.AlarmRequest.DEACTIVATE, pb.NOSPACE, raised.memberID)
        assert [a.alarm for a in disarmed.alarms] == [pb.NOSPACE]
        assert (await kv.alarms()).alarms == []
        assert await kv.put(b"/quota/other", b"small") > 0
    finally:
        await kv.close()
        await asyncio.to_thread(srv.stop)


async def test_odd_ranges_and_lease_ttls_are_answered_like_etcd(stubs, prefix):
    kv, channel = stubs
    lease = pb_grpc.LeaseStub(channel)
    await kv.Put(pb.PutRequest(key=prefix + b"a", value=b"1"))
    backwards = await kv.Range(pb.RangeRequest(key=prefix + b"b", range_end=prefix + b"a"))
    assert backwards.count == 0 and not backwards.kvs
    negative = await kv.Range(pb.RangeRequest(key=prefix + b"a", revision=-5, limit=-1))
    assert negative.count == 1  # a revision <= 0 means latest, a limit <= 0 means none
    assert (await kv.DeleteRange(pb.DeleteRangeRequest(key=prefix + b"b",
                                                       range_end=prefix + b"a"))).deleted == 0
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await kv.Compact(pb.CompactionRequest(revision=10**12))
    assert exc.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert exc.value.details() == "etcdserver: mvcc: required revision is a future revision"
    assert (await lease.LeaseGrant(pb.LeaseGrantRequest(TTL=0))).TTL >= 1  # raised to the minimum
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await lease.LeaseGrant(pb.LeaseGrantRequest(TTL=10**12))
    assert exc.value.code() == grpc.StatusCode.OUT_OF_RANGE
    assert exc.value.details() == "etcdserver: too large lease TTL"
    granted = await lease.LeaseGrant(pb.LeaseGrantRequest(TTL=30, ID=0x5EED))
    with pytest.raises(grpc.aio.AioRpcError) as exc:
        await lease.LeaseGrant(pb.LeaseGrantRequest(TTL=30, ID=granted.ID))
    assert exc.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert exc.value.details() == "etcdserver: lease already exists"
    await lease.LeaseRevoke(pb.LeaseRevokeRequest(ID=granted.ID))


async def test_health_and_metrics_endpoints(server):
    import aiohttp

    async with aiohttp.ClientSession() as http:
        async with http.get(server.metrics_url + "/health") as resp:
            assert resp.status == 200
            assert (await resp.json(content_type=None))["health"] == "true"
        async with http.get(server.metrics_url + "/metrics") as resp:
            text = await resp.text()
            assert resp.status == 200
    assert "etcd_server_has_leader 1" in text
    assert "etcd_mvcc_db_total_size_in_bytes" in text


async def test_watch_stream_keeps_delivering_after_the_client_half_closes(server, prefix):
    async with grpc.aio.insecure_channel(server.endpoint) as channel:
        kv = pb_grpc.KVStub(channel)
        start = (await kv.Range(pb.RangeRequest(key=prefix))).header.revision + 1
        call = pb_grpc.WatchStub(channel).Watch()
        await call.write(pb.WatchRequest(create_request=pb.WatchCreateRequest(
            key=prefix + b"k", start_revision=start)))
        await call.done_writing()
        created = await asyncio.wait_for(call.read(), 10)
        assert created.created
        rev = (await kv.Put(pb.PutRequest(key=prefix + b"k", value=b"v"))).header.revision
        event = await asyncio.wait_for(call.read(), 10)
        assert event.events[0].kv.mod_revision == rev
        call.cancel()


async def test_watch_ids_chosen_by_the_client_and_duplicates(server, prefix):
    async with grpc.aio.insecure_channel(server.endpoint) as channel:
        call = pb_grpc.WatchStub(channel).Watch()
        create = pb.WatchRequest(create_request=pb.WatchCreateRequest(key=prefix, watch_id=7))
        await call.write(create)
        first = await asyncio.wait_for(call.read(), 10)
        assert first.created and first.watch_id == 7 and not first.canceled
        await call.write(create)
        dup = await asyncio.wait_for(call.read(), 10)
        assert dup.created and dup.canceled and dup.watch_id == -1
        await call.write(pb.WatchRequest(cancel_request=pb.WatchCancelRequest(watch_id=7)))
        gone = await asyncio.wait_for(call.read(), 10)
        assert gone.canceled and gone.watch_id == 7
        call.cancel()
