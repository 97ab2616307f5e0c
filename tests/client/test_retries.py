"""Retries of the REST client against a real API server behind an HTTP proxy that injects the
answers real servers and load balancers give under stress: 429 and 503 with Retry-After, bare
5xx, refused connections, and watch streams cut in the middle."""
from __future__ import annotations

import asyncio

import aiohttp
import orjson
import pytest
from aiohttp import web

from pykube_plane.client import (
    Client, ConnectionFailed, InternalError, RetryPolicy, ServiceUnavailable, TooManyRequests,
)
from pykube_plane.client.backoff import Backoff

from tests.conftest import free_port


class FaultProxy:
    """Forwards HTTP to the API server, except for the faults queued for matching requests."""

    def __init__(self, target: str, port: int = 0) -> None:
        self.target = target
        self.port = port
        self.faults: list[tuple[str, int, str | None]] = []     # (method, status, Retry-After)
        self.cut_watch_after: int | None = None                 # close watch streams after N events
        self.seen: list[tuple[str, str]] = []
        self._runner: web.AppRunner | None = None
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, handler_cancellation=True)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self._session = aiohttp.ClientSession()

    async def stop(self) -> None:
        if self._session is not None:
            await self._session.close()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def fail(self, method: str, status: int, times: int = 1, retry_after: str | None = None) -> None:
        self.faults.extend([(method, status, retry_after)] * times)

    def count(self, method: str) -> int:
        return sum(1 for m, _ in self.seen if m == method)

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        self.seen.append((request.method, request.path))
        for i, (method, status, retry_after) in enumerate(self.faults):
            if method == request.method:
                del self.faults[i]
                headers = {"Retry-After": retry_after} if retry_after is not None else {}
                body = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "message": f"injected {status}", "reason": "", "code": status}
                return web.Response(status=status, body=orjson.dumps(body), content_type="application/json",
                                    headers=headers)
        assert self._session is not None
        headers = {k: v for k, v in request.headers.items() if k.lower() not in ("host", "content-length")}
        async with self._session.request(request.method, self.target + request.path_qs, headers=headers,
                                         data=await request.read()) as upstream:
            response = web.StreamResponse(status=upstream.status,
                                          headers={"Content-Type": upstream.headers.get("Content-Type", "")})
            await response.prepare(request)
            watch = request.query.get("watch") == "true"
            events = 0
            async for chunk in upstream.content.iter_any():
                await response.write(chunk)
                events += chunk.count(b"\n")
                if watch and self.cut_watch_after is not None and events >= self.cut_watch_after:
                    assert request.transport is not None
                    request.transport.abort()                 # the stream breaks mid-way
                    return response
            await response.write_eof()
            return response


@pytest.fixture
async def faulty(tmp_path):
    from pykube_plane.apiserver.server import APIServer
    from pykube_plane.store.store import Store
    store = await Store.open(tmp_path / "store", fsync=False)
    server = APIServer(store, port=0)
    await server.start()
    proxy = FaultProxy(server.url)
    await proxy.start()
    client = Client(proxy.url, retry=RetryPolicy(max_retries=3, initial=0.01, cap=0.05))
    try:
        yield proxy, client
    finally:
        await client.close()
        await proxy.stop()
        await server.stop()
        await store.close()


def configmap(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


async def test_429_is_retried_for_every_verb(faulty):
    proxy, client = faulty
    proxy.fail("GET", 429, times=2, retry_after="0")
    proxy.fail("POST", 429, times=1, retry_after="0")
    await client.create(configmap("a"))
    assert (await client.get("configmaps", "a"))["metadata"]["name"] == "a"
    assert proxy.count("POST") == 2 and proxy.count("GET") == 3


async def test_5xx_with_retry_after_is_retried_even_for_writes(faulty):
    proxy, client = faulty
    proxy.fail("POST", 503, times=2, retry_after="0")
    await client.create(configmap("once"))
    assert proxy.count("POST") == 3
    listed = await client.list("configmaps", namespace="default")
    assert [o["metadata"]["name"] for o in listed["items"]] == ["once"]


async def test_bare_5xx_is_retried_only_for_reads(faulty):
    proxy, client = faulty
    proxy.fail("POST", 503)
    with pytest.raises(ServiceUnavailable):
        await client.create(configmap("b"))                    # a write may have happened: no retry
    proxy.fail("POST", 500)
    with pytest.raises(InternalError):
        await client.create(configmap("b"))
    assert proxy.count("POST") == 2
    proxy.fail("GET", 503, times=2)
    await client.list("configmaps")
    assert proxy.count("GET") == 3
    proxy.fail("GET", 500)
    with pytest.raises(InternalError):                           # 500 without Retry-After: final
        await client.list("configmaps")


async def test_retries_give_up_with_the_last_error(faulty):
    proxy, client = faulty
    proxy.fail("GET", 429, times=10, retry_after="0")
    with pytest.raises(TooManyRequests) as caught:
        await client.get("configmaps", "x")
    assert proxy.count("GET") == 4 and caught.value.retry_after == 0.0


def test_retry_after_is_what_the_client_waits():
    client = Client("http://127.0.0.1:1", retry=RetryPolicy(max_retries=3, max_retry_after=5))
    status = {"kind": "Status", "code": 429, "reason": "TooManyRequests", "message": "slow down"}
    backoff = Backoff(initial=0.01)
    assert client._retry_delay("create", TooManyRequests(status, 429, {"Retry-After": "3"}), 0, backoff) == 3
    assert client._retry_delay("create", TooManyRequests(status, 429, {"Retry-After": "60"}), 0, backoff) == 5
    assert client._retry_delay("create", TooManyRequests(status, 429, {"Retry-After": "3"}), 3, backoff) is None
    refused = ConnectionFailed("refused", request_sent=False)
    broken = ConnectionFailed("reset", request_sent=True)
    assert client._retry_delay("create", refused, 0, backoff) is not None
    assert client._retry_delay("create", broken, 0, backoff) is None
    assert client._retry_delay("get", broken, 0, backoff) is not None


async def test_connection_refused_until_the_server_listens(faulty):
    proxy, _ = faulty
    port = free_port()
    late = FaultProxy(proxy.target, port)
    client = Client(f"http://127.0.0.1:{port}", retry=RetryPolicy(max_retries=20, initial=0.05, cap=0.3))
    try:
        async def open_later():
            await asyncio.sleep(0.3)
            await late.start()
        opener = asyncio.ensure_future(open_later())
        created = await client.create(configmap("late"))        # refused first: never sent, so retried
        await opener
        assert created["metadata"]["name"] == "late" and late.count("POST") == 1
    finally:
        await client.close()
        await late.stop()
    with pytest.raises(ConnectionFailed) as caught:
        await Client(f"http://127.0.0.1:{free_port()}", retry=RetryPolicy(max_retries=1, initial=0.01)).list("pods")
    assert caught.value.code == 503 and "refused" in caught.value.message


async def test_a_broken_watch_stream_resumes_without_loss_or_repeat(faulty):
    proxy, client = faulty
    proxy.cut_watch_after = 2
    async with client.watch("configmaps", namespace="default") as events:
        names = [f"w-{i}" for i in range(8)]
        seen = []
        for name in names:
            await client.create(configmap(name))
            event_type, obj = await asyncio.wait_for(events.__anext__(), 30)
            seen.append((event_type, obj["metadata"]["name"]))
        assert events.reconnects >= 3                           # cut after every second event
    assert seen == [("ADDED", n) for n in names]
