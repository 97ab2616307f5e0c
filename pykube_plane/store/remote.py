"""A `KV` that talks etcd v3 gRPC to an endpoint list: real etcd or `kplane store`, the same code.

- **Endpoints**: one gRPC channel per endpoint, used in turn. An endpoint that answers UNAVAILABLE
  is left for the next one. Reads are retried there; a write is retried only when it provably never
  left the client (no connection), like etcd's clientv3, so a write is never applied twice.
- **Watches** share one bidirectional Watch stream per client (etcd multiplexes watchers on a
  stream). When the stream breaks, every watcher is re-created on the next endpoint from the
  revision after the last one it saw, so consumers see no gap and no duplicate. If that revision was
  compacted meanwhile, the watcher ends with a `compact_revision` response, as etcd's would.
- **Lease keepalives** share one LeaseKeepAlive stream, re-opened on demand.

Errors come back as the `kv` module's StoreError subclasses with etcd's messages (see
`etcdpb.rpctypes`); an unreachable cluster raises `EndpointsUnavailableError`.
"""
from __future__ import annotations

import asyncio
import itertools
from collections import deque
from dataclasses import dataclass, field
from typing import AsyncIterator, Awaitable, Callable, Sequence

import grpc

from .etcdpb import convert, rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from .etcdpb.rpctypes import error_for
from .kv import (
    Compare, CompactedError, DeleteOp, DeleteResult, LeaseGrant, LeaseNotFoundError, LeaseStatus,
    Op, PutOp, RangeResult, StoreClosedError, StoreError, TxnOp, TxnResult, WatchResponse,
)
from .watch_stream import WatchStream

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


def _never_sent(exc: grpc.aio.AioRpcError) -> bool:
    """True when the RPC failed before reaching any server: safe to retry even a write."""
    details = (exc.details() or "").lower()
    return exc.code() == grpc.StatusCode.UNAVAILABLE and (
        "failed to connect" in details or "connection refused" in details
        or "no address" in details or "dns resolution failed" in details)


@dataclass
class _Endpoint:
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
        self._slots: list[_Endpoint | None] = [None] * len(self.endpoints)
        self._current = 0
        self.closed = False

    def endpoint(self, index: int | None = None) -> _Endpoint:
        if self.closed:
            raise StoreClosedError("etcdclient: client is closed")
        i = self._current if index is None else index
        slot = self._slots[i]
        if slot is None:
            ch = grpc.aio.insecure_channel(self.endpoints[i], options=_CHANNEL_OPTIONS)
            slot = _Endpoint(self.endpoints[i], ch, pb_grpc.KVStub(ch), pb_grpc.WatchStub(ch),
                             pb_grpc.LeaseStub(ch), pb_grpc.MaintenanceStub(ch), pb_grpc.ClusterStub(ch))
            self._slots[i] = slot
        return slot

    def rotate(self, failed: _Endpoint) -> None:
        """Move on from `failed` (if it is still current) to the next endpoint."""
        if self._slots[self._current] is failed:
            self._current = (self._current + 1) % len(self.endpoints)

    async def call(self, method: Callable[[_Endpoint], Callable[..., Awaitable]], request, *,
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
                retryable = code == grpc.StatusCode.UNAVAILABLE and (retry_safe or _never_sent(exc))
                if not retryable:
                    if code == grpc.StatusCode.UNAVAILABLE or code == grpc.StatusCode.DEADLINE_EXCEEDED:
                        if not _is_etcd_message(exc.details()):
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


def _is_etcd_message(details: str | None) -> bool:
    return bool(details) and details.startswith("etcdserver:")


# ---------------------------------------------------------------------------------------------
# Watch


class RemoteWatch(WatchStream):
    """One watcher on the shared stream; an async iterator of WatchResponse (kv.Watch)."""

    def __init__(self, mux: "_WatchMux", local_id: int, request: pb.WatchCreateRequest) -> None:
        super().__init__()
        self._mux = mux
        self.id = local_id
        self.request = request
        # The first revision this watcher still needs: where a re-created watcher starts.
        self.next_revision = request.start_revision
        self.server_id: int | None = None

    async def cancel(self) -> None:
        self._mux.cancel(self)

    def request_progress(self) -> None:
        self._mux.request_progress()

    # --- fed by the mux ---
    def deliver(self, resp: WatchResponse) -> None:
        self.push(resp)

    def finish(self, final: WatchResponse | None = None) -> None:
        self.close(final)


class _WatchMux:
    """The shared Watch stream: creates, cancels, routing by watch id, and resumption."""

    def __init__(self, conn: EtcdConnection) -> None:
        self._conn = conn
        self._ids = itertools.count(1)
        self._watchers: dict[int, RemoteWatch] = {}         # local id -> watcher
        self._by_server_id: dict[int, RemoteWatch] = {}
        self._awaiting_created: deque[RemoteWatch] = deque()  # creates sent, in order
        self._outbox: asyncio.Queue[pb.WatchRequest | None] | None = None
        self._task: asyncio.Task | None = None
        self._closed = False

    def watch(self, request: pb.WatchCreateRequest) -> RemoteWatch:
        if self._closed:
            raise StoreClosedError("etcdclient: client is closed")
        w = RemoteWatch(self, next(self._ids), request)
        self._watchers[w.id] = w
        if self._task is None or self._task.done():
            self._task = asyncio.get_running_loop().create_task(self._run(), name="etcd-watch-stream")
        elif self._outbox is not None:
            self._send_create(w)
        return w

    def cancel(self, w: RemoteWatch) -> None:
        if self._watchers.pop(w.id, None) is None:
            return
        if w.server_id is not None:
            self._by_server_id.pop(w.server_id, None)
            if self._outbox is not None:
                self._outbox.put_nowait(pb.WatchRequest(
                    cancel_request=pb.WatchCancelRequest(watch_id=w.server_id)))
        w.finish()

    def request_progress(self) -> None:
        if self._outbox is not None:
            self._outbox.put_nowait(pb.WatchRequest(progress_request=pb.WatchProgressRequest()))

    def _send_create(self, w: RemoteWatch) -> None:
        req = pb.WatchCreateRequest()
        req.CopyFrom(w.request)
        req.start_revision = w.next_revision
        self._awaiting_created.append(w)
        assert self._outbox is not None
        self._outbox.put_nowait(pb.WatchRequest(create_request=req))

    async def _requests(self, outbox: asyncio.Queue) -> AsyncIterator[pb.WatchRequest]:
        while True:
            req = await outbox.get()
            if req is None:
                return
            yield req

    async def _run(self) -> None:
        """Keep one stream open while watchers exist; re-create them after each break."""
        delay = 0.05
        while self._watchers and not self._closed:
            try:
                ep = self._conn.endpoint()
            except StoreClosedError:
                break
            outbox: asyncio.Queue = asyncio.Queue()
            self._outbox = outbox
            self._awaiting_created.clear()
            self._by_server_id.clear()
            for w in list(self._watchers.values()):
                w.server_id = None
                self._send_create(w)
            call = ep.watch.Watch(self._requests(outbox))
            try:
                async for resp in call:
                    delay = 0.05
                    self._route(resp)
                    if not self._watchers:
                        break
            except grpc.aio.AioRpcError:
                self._conn.rotate(ep)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 1.0)
            finally:
                self._outbox = None
                outbox.put_nowait(None)
                call.cancel()

    def _route(self, resp: pb.WatchResponse) -> None:
        revision = resp.header.revision
        if resp.created:
            w = self._awaiting_created.popleft() if self._awaiting_created else None
            if w is None or w.closed:
                if w is not None and not resp.canceled:
                    self._outbox and self._outbox.put_nowait(pb.WatchRequest(
                        cancel_request=pb.WatchCancelRequest(watch_id=resp.watch_id)))
                return
            if resp.canceled:  # refused at creation (e.g. negative start revision)
                self._watchers.pop(w.id, None)
                w.finish(WatchResponse(w.id, revision, [], canceled=True,
                                       compact_revision=resp.compact_revision,
                                       cancel_reason=resp.cancel_reason))
                return
            w.server_id = resp.watch_id
            self._by_server_id[resp.watch_id] = w
            if w.next_revision <= 0:
                w.next_revision = revision + 1
            return
        if resp.watch_id == -1:
            # A progress notification for every watcher of the stream (etcd 3.5). It is passed on
            # but does not move resume points: etcd 3.5.1 sends it even for a watcher still
            # catching up, so resuming after it could skip that watcher's events.
            for w in self._by_server_id.values():
                w.deliver(WatchResponse(w.id, revision, []))
            return
        w = self._by_server_id.get(resp.watch_id)
        if w is None:
            return
        if resp.canceled:
            self._by_server_id.pop(resp.watch_id, None)
            self._watchers.pop(w.id, None)
            reason = resp.cancel_reason
            if resp.compact_revision and not reason:
                reason = CompactedError.message
            w.finish(WatchResponse(w.id, revision, [convert.event_from_pb(e) for e in resp.events],
                                   canceled=True, compact_revision=resp.compact_revision,
                                   cancel_reason=reason))
            return
        events = [convert.event_from_pb(e) for e in resp.events]
        if events:
            last = events[-1].kv.mod_revision
            if last + 1 > w.next_revision:
                w.next_revision = last + 1
        elif revision + 1 > w.next_revision:  # progress: nothing at or below `revision` is pending
            w.next_revision = revision + 1
        w.deliver(WatchResponse(w.id, revision, events))

    async def close(self) -> None:
        self._closed = True
        for w in list(self._watchers.values()):
            w.finish()
        self._watchers.clear()
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass


# ---------------------------------------------------------------------------------------------
# Lease keepalive


class _KeepAliveMux:
    """One LeaseKeepAlive stream shared by all keepalive rounds; opened on demand."""

    def __init__(self, conn: EtcdConnection) -> None:
        self._conn = conn
        self._call = None
        self._reader: asyncio.Task | None = None
        self._waiting: dict[int, list[asyncio.Future]] = {}
        self._lock = asyncio.Lock()

    async def keepalive(self, lease_id: int) -> int:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self._conn.retry_budget
        while True:
            fut = loop.create_future()
            self._waiting.setdefault(lease_id, []).append(fut)
            try:
                call = await self._stream()
                await call.write(pb.LeaseKeepAliveRequest(ID=lease_id))
                ttl = await asyncio.wait_for(fut, self._conn.request_timeout)
            except (grpc.aio.AioRpcError, grpc.aio.UsageError, asyncio.InvalidStateError,
                    ConnectionError, asyncio.TimeoutError) as exc:
                # the stream broke (or never answered): open a new one, on the next endpoint
                self._drop(lease_id, fut)
                await self._reset()
                if loop.time() >= deadline:
                    raise EndpointsUnavailableError() from exc
                await asyncio.sleep(0.05)
                continue
            if ttl <= 0:
                raise LeaseNotFoundError()
            return ttl

    def _drop(self, lease_id: int, fut: asyncio.Future) -> None:
        waiters = self._waiting.get(lease_id)
        if waiters and fut in waiters:
            waiters.remove(fut)

    async def _stream(self):
        async with self._lock:
            if self._call is None:
                ep = self._conn.endpoint()
                self._ep = ep
                self._call = ep.lease.LeaseKeepAlive()
                self._reader = asyncio.get_running_loop().create_task(self._read(self._call))
            return self._call

    async def _read(self, call) -> None:
        ended: BaseException = ConnectionError("lease keepalive stream ended")
        try:
            while True:
                resp = await call.read()
                if resp is grpc.aio.EOF:
                    break
                for fut in self._waiting.pop(resp.ID, []):
                    if not fut.done():
                        fut.set_result(resp.TTL)
        except grpc.aio.AioRpcError as exc:
            ended = exc
        finally:
            if self._call is call:
                self._call = None
                self._conn.rotate(self._ep)
                # whoever still waits on this stream retries on a new one
                for waiters in self._waiting.values():
                    for fut in waiters:
                        if not fut.done():
                            fut.set_exception(ended)
                self._waiting.clear()

    async def _reset(self) -> None:
        async with self._lock:
            if self._call is not None:
                self._call.cancel()
                self._call = None

    async def close(self) -> None:
        await self._reset()
        if self._reader is not None:
            self._reader.cancel()


# ---------------------------------------------------------------------------------------------
# The KV


@dataclass
class EndpointStatus:
    """etcdserverpb.StatusResponse, as `endpoint status` shows it."""
    endpoint: str
    version: str
    db_size: int
    db_size_in_use: int
    leader: int
    member_id: int
    cluster_id: int
    revision: int
    raft_term: int
    raft_index: int
    raft_applied_index: int
    is_learner: bool
    errors: list[str] = field(default_factory=list)


class RemoteKV:
    """etcd v3 over gRPC, behind the `KV` protocol. `await RemoteKV.connect([...])` or construct."""

    def __init__(self, endpoints: Sequence[str], *, request_timeout: float = 10.0,
                 retry_budget: float = 10.0) -> None:
        self.conn = EtcdConnection(endpoints, request_timeout=request_timeout, retry_budget=retry_budget)
        self._watches = _WatchMux(self.conn)
        self._keepalives = _KeepAliveMux(self.conn)

    @classmethod
    async def connect(cls, endpoints: Sequence[str], **kwargs) -> "RemoteKV":
        """Construct and check that some endpoint answers (a Status call)."""
        kv = cls(endpoints, **kwargs)
        try:
            await kv.status()
        except BaseException:
            await kv.close()
            raise
        return kv

    async def __aenter__(self) -> "RemoteKV":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- KV ---
    async def range(self, key: bytes, range_end: bytes = b"", *, revision: int = 0, limit: int = 0,
                    count_only: bool = False, keys_only: bool = False,
                    serializable: bool = False) -> RangeResult:
        req = pb.RangeRequest(key=key, range_end=range_end, revision=revision, limit=limit,
                              count_only=count_only, keys_only=keys_only, serializable=serializable)
        resp = await self.conn.call(lambda e: e.kv.Range, req, retry_safe=True)
        return convert.range_result_from_pb(resp)

    async def put(self, key: bytes, value: bytes, *, lease: int = 0) -> int:
        req = pb.PutRequest(key=key, value=value, lease=lease)
        resp = await self.conn.call(lambda e: e.kv.Put, req, retry_safe=False)
        return resp.header.revision

    async def delete_range(self, key: bytes, range_end: bytes = b"", *,
                           prev_kv: bool = False) -> DeleteResult:
        req = pb.DeleteRangeRequest(key=key, range_end=range_end, prev_kv=prev_kv)
        resp = await self.conn.call(lambda e: e.kv.DeleteRange, req, retry_safe=False)
        return convert.delete_result_from_pb(resp)

    async def txn(self, compare: Sequence[Compare], success: Sequence[Op],
                  failure: Sequence[Op] = ()) -> TxnResult:
        req = convert.txn_request(compare, success, failure)
        read_only = _read_only(success) and _read_only(failure)
        resp = await self.conn.call(lambda e: e.kv.Txn, req, retry_safe=read_only)
        return convert.txn_result_from_pb(resp)

    async def compact(self, revision: int, physical: bool = False) -> None:
        req = pb.CompactionRequest(revision=revision, physical=physical)
        await self.conn.call(lambda e: e.kv.Compact, req, retry_safe=False)

    def watch(self, key: bytes, range_end: bytes = b"", *, start_revision: int = 0,
              prev_kv: bool = False, progress_notify: bool = False,
              filters: Sequence[str] = ()) -> RemoteWatch:
        req = pb.WatchCreateRequest(key=key, range_end=range_end, start_revision=start_revision,
                                    prev_kv=prev_kv, progress_notify=progress_notify,
                                    filters=convert.filters_to_pb(filters))
        return self._watches.watch(req)

    async def lease_grant(self, ttl: int, id: int = 0) -> LeaseGrant:
        resp = await self.conn.call(lambda e: e.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=ttl, ID=id),
                                    retry_safe=False)
        if resp.error:
            raise StoreError(resp.error)
        return LeaseGrant(resp.ID, resp.TTL)

    async def lease_revoke(self, id: int) -> int:
        resp = await self.conn.call(lambda e: e.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=id),
                                    retry_safe=False)
        return resp.header.revision

    async def lease_keepalive(self, id: int) -> int:
        return await self._keepalives.keepalive(id)

    async def lease_time_to_live(self, id: int, keys: bool = False) -> LeaseStatus:
        resp = await self.conn.call(lambda e: e.lease.LeaseTimeToLive,
                                    pb.LeaseTimeToLiveRequest(ID=id, keys=keys), retry_safe=True)
        return LeaseStatus(resp.ID, resp.TTL, resp.grantedTTL, list(resp.keys))

    async def leases(self) -> list[int]:
        resp = await self.conn.call(lambda e: e.lease.LeaseLeases, pb.LeaseLeasesRequest(),
                                    retry_safe=True)
        return [lease.ID for lease in resp.leases]

    # --- beyond KV: what `kplane kv` needs for maintenance ---
    async def status(self, endpoint: int | None = None) -> EndpointStatus:
        """Maintenance.Status of one endpoint (index into the list), or of whichever answers."""
        if endpoint is None:
            resp = await self.conn.call(lambda e: e.maintenance.Status, pb.StatusRequest(),
                                        retry_safe=True)
            target = self.conn.endpoints[self.conn._current]
        else:
            ep = self.conn.endpoint(endpoint)
            resp = await self._direct(ep.maintenance.Status, pb.StatusRequest())
            target = ep.target
        h = resp.header
        return EndpointStatus(target, resp.version, resp.dbSize, resp.dbSizeInUse, resp.leader,
                              h.member_id, h.cluster_id, h.revision, h.raft_term, resp.raftIndex,
                              resp.raftAppliedIndex, resp.isLearner, list(resp.errors))

    async def hash_kv(self, revision: int = 0, endpoint: int | None = None) -> pb.HashKVResponse:
        req = pb.HashKVRequest(revision=revision)
        if endpoint is None:
            return await self.conn.call(lambda e: e.maintenance.HashKV, req, retry_safe=True)
        return await self._direct(self.conn.endpoint(endpoint).maintenance.HashKV, req)

    async def member_list(self) -> pb.MemberListResponse:
        return await self.conn.call(lambda e: e.cluster.MemberList, pb.MemberListRequest(),
                                    retry_safe=True)

    async def alarms(self, action: int = pb.AlarmRequest.GET, alarm: int = pb.NONE,
                     member_id: int = 0) -> pb.AlarmResponse:
        req = pb.AlarmRequest(action=action, alarm=alarm, memberID=member_id)
        return await self.conn.call(lambda e: e.maintenance.Alarm, req,
                                    retry_safe=action == pb.AlarmRequest.GET)

    async def defragment(self, endpoint: int = 0) -> None:
        await self._direct(self.conn.endpoint(endpoint).maintenance.Defragment,
                           pb.DefragmentRequest(), timeout=300.0)

    async def snapshot(self, endpoint: int = 0) -> AsyncIterator[bytes]:
        """Maintenance.Snapshot from one endpoint: yields the database in chunks."""
        call = self.conn.endpoint(endpoint).maintenance.Snapshot(pb.SnapshotRequest())
        try:
            async for resp in call:
                if resp.blob:
                    yield resp.blob
        except grpc.aio.AioRpcError as exc:
            raise error_for(exc.code(), exc.details() or "") from None

    async def _direct(self, method, request, timeout: float | None = None):
        try:
            return await method(request, timeout=timeout or self.conn.request_timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) \
                    and not _is_etcd_message(exc.details()):
                raise EndpointsUnavailableError(
                    f"{EndpointsUnavailableError.message} ({exc.details()})") from None
            raise error_for(exc.code(), exc.details() or "") from None

    async def close(self) -> None:
        await self._watches.close()
        await self._keepalives.close()
        await self.conn.close()


def _read_only(ops: Sequence[Op]) -> bool:
    for op in ops:
        if isinstance(op, (PutOp, DeleteOp)):
            return False
        if isinstance(op, TxnOp) and not (_read_only(op.success) and _read_only(op.failure)):
            return False
    return True


__all__ = ["RemoteKV", "RemoteWatch", "EtcdConnection", "EndpointStatus", "EndpointsUnavailableError",
           "endpoint_target"]
