"""The etcd client's connection: one gRPC channel per endpoint, used in turn, failing over on
UNAVAILABLE (see store/remote.py for the rules)."""
from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import Awaitable, Callable, Sequence

import grpc

from .etcdpb import rpc_pb2_grpc as pb_grpc
from .etcdpb.rpctypes import error_for
from .kv import StoreClosedError, StoreError

# etcd's clientv3 defaults: 2 MiB outgoing requests, unlimited responses.
MAX_SEND_BYTES = 2 * 1024 * 1024
MAX_RECEIVE_BYTES = 2**31 - 1

_CHANNEL_OPTIONS = [
    ("grpc.max_send_message_length", MAX_SEND_BYTES + 4096),
    ("grpc.max_receive_message_length", MAX_RECEIVE_BYTES),
    # Reconnect quickly: a restarted member should be usable within a second, not after
    # grpc's default backoff of up to two minutes.
    ("grpc.initial_reconnect_backoff_ms", 100),
    ("grpc.min_reconnect_backoff_ms", 100),
    ("grpc.max_reconnect_backoff_ms", 1000),
    ("grpc.keepalive_time_ms", 30_000),
    ("grpc.keepalive_timeout_ms", 10_000),
    ("grpc.enable_retries", 0),  # retries are ours (endpoint rotation), not the channel's
]


class EndpointsUnavailableError(StoreError):
    """No endpoint answered within the retry budget (etcdctl prints the same text)."""
    message = "context deadline exceeded"


def endpoint_target(endpoint: str) -> str:
    """'http://127.0.0.1:2379' or '127.0.0.1:2379' -> '127.0.0.1:2379'."""
    for scheme in ("http://", "https://", "unix://"):
        if endpoint.startswith(scheme):
            endpoint = endpoint[len(scheme):]
    return endpoint.rstrip("/")


def never_sent(exc: grpc.aio.AioRpcError) -> bool:
    """True when the RPC failed before reaching any server: safe to retry even a write."""
    details = (exc.details() or "").lower()
    return exc.code() == grpc.StatusCode.UNAVAILABLE and (
        "failed to connect" in details or "connection refused" in details
        or "no address" in details or "dns resolution failed" in details)


@dataclass
class Endpoint:
    target: str
    channel: grpc.aio.Channel
    kv: pb_grpc.KVStub
    watch: pb_grpc.WatchStub
    lease: pb_grpc.LeaseStub
    maintenance: pb_grpc.MaintenanceStub
    cluster: pb_grpc.ClusterStub


class EtcdConnection:
    """Channels to an endpoint list, with the retry rule shared by every call."""

    def __init__(self, endpoints: Sequence[str], *, request_timeout: float = 10.0,
                 retry_budget: float = 10.0) -> None:
        if not endpoints:
            raise ValueError("at least one endpoint is required")
        self.endpoints = [endpoint_target(e) for e in endpoints]
        self.request_timeout = request_timeout
        self.retry_budget = retry_budget
        self._slots: list[Endpoint | None] = [None] * len(self.endpoints)
        self._current = 0
        self.closed = False

    def endpoint(self, index: int | None = None) -> Endpoint:
        if self.closed:
            raise StoreClosedError("etcdclient: client is closed")
        i = self._current if index is None else index
        slot = self._slots[i]
        if slot is None:
            ch = grpc.aio.insecure_channel(self.endpoints[i], options=_CHANNEL_OPTIONS)
            slot = Endpoint(self.endpoints[i], ch, pb_grpc.KVStub(ch), pb_grpc.WatchStub(ch),
                             pb_grpc.LeaseStub(ch), pb_grpc.MaintenanceStub(ch), pb_grpc.ClusterStub(ch))
            self._slots[i] = slot
        return slot

    def rotate(self, failed: Endpoint) -> None:
        """Move on from `failed` (if it is still current) to the next endpoint."""
        if self._slots[self._current] is failed:
            self._current = (self._current + 1) % len(self.endpoints)

    async def call(self, method: Callable[[Endpoint], Callable[..., Awaitable]], request, *,
                   retry_safe: bool, timeout: float | None = None):
        """Run one unary RPC; `method(endpoint)` picks the stub method, e.g. `lambda e: e.kv.Range`."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.retry_budget
        delay = 0.05
        tried = 0
        while True:
            ep = self.endpoint()
            try:
                return await method(ep)(request, timeout=timeout or self.request_timeout)
            except grpc.aio.AioRpcError as exc:
                code = exc.code()
                retryable = code == grpc.StatusCode.UNAVAILABLE and (retry_safe or never_sent(exc))
                if not retryable:
                    if code == grpc.StatusCode.UNAVAILABLE or code == grpc.StatusCode.DEADLINE_EXCEEDED:
                        if not is_etcd_message(exc.details()):
                            raise EndpointsUnavailableError(
                                f"{EndpointsUnavailableError.message} ({exc.details()})") from None
                    raise error_for(code, exc.details() or "") from None
                self.rotate(ep)
                tried += 1
                if loop.time() >= deadline:
                    raise EndpointsUnavailableError(
                        f"{EndpointsUnavailableError.message} ({exc.details()})") from None
                if tried % len(self.endpoints) == 0:  # every endpoint failed once: back off
                    await asyncio.sleep(delay)
                    delay = min(delay * 2, 1.0)
            except asyncio.CancelledError:
                raise

    async def close(self) -> None:
        self.closed = True
        slots, self._slots = self._slots, [None] * len(self.endpoints)
        for slot in slots:
            if slot is not None:
                await slot.channel.close()


def is_etcd_message(details: str | None) -> bool:
    return bool(details) and details.startswith("etcdserver:")
