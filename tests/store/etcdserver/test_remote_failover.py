"""The remote backend survives server restarts and dead endpoints, on both servers."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane.store.kv import EVENT_PUT, prefix_end
from pykube_plane.store.remote import EndpointsUnavailableError, RemoteKV
from tests.conftest import free_port

from .conftest import SERVER_KINDS
from .servers import start_server


@pytest.fixture(params=SERVER_KINDS)
def own_server(request, tmp_path):
    srv = start_server(request.param, tmp_path)
    yield srv
    srv.stop()


async def test_watch_resumes_after_restart_without_gap_or_duplicate(own_server):
    kv = RemoteKV([own_server.endpoint], retry_budget=30.0)
    try:
        first = await kv.put(b"/r/a", b"0")
        watch = kv.watch(b"/r/", prefix_end(b"/r/"), start_revision=first)
        seen = []
        while len(seen) < 1:
            seen.extend((await asyncio.wait_for(watch.__anext__(), 10)).events)

        await asyncio.to_thread(own_server.restart)
        for i in range(1, 4):
            await kv.put(b"/r/a", str(i).encode())

        while len(seen) < 4:
            seen.extend((await asyncio.wait_for(watch.__anext__(), 30)).events)
        assert [e.kv.value for e in seen] == [b"0", b"1", b"2", b"3"]
        assert all(e.type == EVENT_PUT for e in seen)
        revisions = [e.kv.mod_revision for e in seen]
        assert revisions == sorted(set(revisions))
        await watch.cancel()
    finally:
        await kv.close()


async def test_dead_endpoint_in_the_list_is_skipped(own_server):
    dead = f"127.0.0.1:{free_port()}"
    kv = RemoteKV([dead, own_server.endpoint])
    try:
        rev = await kv.put(b"/f/k", b"v")  # never reached the dead one: safe to retry the write
        assert (await kv.range(b"/f/k")).kvs[0].mod_revision == rev
    finally:
        await kv.close()


async def test_no_reachable_endpoint_raises_a_store_error():
    kv = RemoteKV([f"127.0.0.1:{free_port()}"], retry_budget=0.5, request_timeout=0.5)
    try:
        with pytest.raises(EndpointsUnavailableError):
            await kv.range(b"/k")
    finally:
        await kv.close()


async def test_lease_keepalive_stream_reopens_after_restart(own_server):
    kv = RemoteKV([own_server.endpoint], retry_budget=30.0)
    try:
        grant = await kv.lease_grant(60)
        assert await kv.lease_keepalive(grant.id) == 60
        await asyncio.to_thread(own_server.restart)
        assert await kv.lease_keepalive(grant.id) == 60
    finally:
        await kv.close()
