"""The etcd client's shared streams: every watcher on one Watch stream, every keepalive on one
LeaseKeepAlive stream, both re-opened on the next endpoint when they break (store/remote.py)."""
from __future__ import annotations

import asyncio
import itertools
from collections import deque
from typing import AsyncIterator

import grpc

from .etcdpb import convert, rpc_pb2 as pb
from .kv import CompactedError, LeaseNotFoundError, StoreClosedError, WatchResponse
from .remote_connection import EndpointsUnavailableError, EtcdConnection
from .watch_stream import WatchStream

# ---------------------------------------------------------------------------------------------
# Watch


class RemoteWatch(WatchStream):
    """One watcher on the shared stream; an async iterator of WatchResponse (kv.Watch)."""

    def __init__(self, mux: "WatchMux", local_id: int, request: pb.WatchCreateRequest) -> None:
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


class WatchMux:
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


class KeepAliveMux:
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
