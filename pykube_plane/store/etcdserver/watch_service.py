"""etcd's Watch service: many watchers multiplexed on one bidirectional gRPC stream.

Per stream, a reader handles create / cancel / progress requests in order, and each watcher has
a pump task moving its store responses onto the stream. Writes to the stream are serialised by
one lock and await gRPC flow control, so a client that stops reading stalls only its own pumps;
the store then sees that watcher's queue fill and moves it to its unsynced group (it catches up
from history later, or is cancelled as compacted) — a slow client never blocks a writer.

Watch ids are per stream, chosen here (or by the client with `watch_id`), never the store's.
The created response is written before the pump starts, so it always precedes the events.
Event responses go out as bytes assembled from once-encoded events (`EventEncoder`).
"""
from __future__ import annotations

import asyncio
import logging
from typing import AsyncIterator

import grpc

from ..etcdpb import convert, kv_pb2, rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from ..etcdpb import rpctypes
from ..kv import StoreError, Watch
from .backend import Headers, ServedStore

log = logging.getLogger("pykube_plane.store.etcdserver")

INVALID_WATCH_ID = -1  # etcd's clientv3.InvalidWatchID
MERGE_MAX_EVENTS = 1000  # events per merged response (keeps one message far below gRPC limits)


class _Stream:
    def __init__(self, store: ServedStore, headers: Headers, context: grpc.aio.ServicerContext,
                 max_response_bytes: int, encoder: "EventEncoder") -> None:
        self._store = store
        self._headers = headers
        self._encoder = encoder
        self._context = context
        self._max_response_bytes = max_response_bytes
        self._write_lock = asyncio.Lock()
        self._watches: dict[int, Watch] = {}
        self._pumps: dict[int, asyncio.Task] = {}
        self._fragment: set[int] = set()
        self._next_id = 0
        self.closed = False

    async def send(self, resp: pb.WatchResponse | bytes) -> None:
        async with self._write_lock:
            await self._context.write(resp)

    async def serve(self, requests: AsyncIterator[pb.WatchRequest]) -> None:
        try:
            async for req in requests:
                which = req.WhichOneof("request_union")
                if which == "create_request":
                    await self._create(req.create_request)
                elif which == "cancel_request":
                    await self._cancel(req.cancel_request.watch_id)
                elif which == "progress_request":
                    for w in list(self._watches.values()):
                        w.request_progress()
                # anything else: ignored, like etcd (an unknown request must not end the stream)
            # The client half-closed: like etcd, keep delivering until it cancels the call.
            await asyncio.Event().wait()
        finally:
            await self.close()

    async def _create(self, creq: pb.WatchCreateRequest) -> None:
        key = creq.key or b"\0"  # etcd: an empty key means the smallest key
        if creq.start_revision < 0:
            await self.send(self._refusal(rpctypes.COMPACTED))
            return
        wid = creq.watch_id
        if wid:
            if wid in self._watches:
                await self.send(self._refusal(rpctypes.DUPLICATE_WATCH_ID))
                return
        else:
            while self._next_id in self._watches:
                self._next_id += 1
            wid = self._next_id
            self._next_id += 1
        try:
            watch = self._store.watch(key, creq.range_end, start_revision=creq.start_revision,
                                      prev_kv=creq.prev_kv, progress_notify=creq.progress_notify,
                                      filters=convert.filters_from_pb(creq.filters))
        except StoreError as exc:
            await self.send(self._refusal(exc.message))
            return
        self._watches[wid] = watch
        if creq.fragment:
            self._fragment.add(wid)
        await self.send(pb.WatchResponse(header=self._headers.make(), watch_id=wid, created=True))
        self._pumps[wid] = asyncio.get_running_loop().create_task(self._pump(wid, watch),
                                                                  name=f"watch-pump-{wid}")

    def _refusal(self, reason: str) -> pb.WatchResponse:
        return pb.WatchResponse(header=self._headers.make(), watch_id=INVALID_WATCH_ID, created=True,
                                canceled=True, cancel_reason=reason)

    async def _cancel(self, wid: int) -> None:
        watch = self._watches.pop(wid, None)
        if watch is None:
            return
        pump = self._pumps.pop(wid, None)
        if pump is not None:
            pump.cancel()
        self._fragment.discard(wid)
        await watch.cancel()
        await self.send(pb.WatchResponse(header=self._headers.make(), watch_id=wid, canceled=True))

    async def _pump(self, wid: int, watch: Watch) -> None:
        try:
            async for resp in watch:
                if resp.canceled or not resp.events:  # compacted / canceled, or progress
                    await self.send(self._control(wid, resp))
                    if resp.canceled:
                        break
                    continue
                # While this pump waited on the stream, more responses may have queued up for
                # this watcher: send them in one message (fewer, larger writes). Only plain
                # event responses merge; the revision of the last one heads the message.
                events = list(resp.events)
                revision = resp.revision
                tail = None
                while len(events) < MERGE_MAX_EVENTS and getattr(watch, "pending_events", 0) > 0:
                    nxt = await watch.__anext__()
                    if nxt.canceled or not nxt.events:
                        tail = nxt
                        break
                    events.extend(nxt.events)
                    revision = nxt.revision
                await self._send_events(wid, revision, events)
                if tail is not None:
                    await self.send(self._control(wid, tail))
                    if tail.canceled:
                        break
        except asyncio.CancelledError:
            raise
        except Exception:  # the client went away mid-write, or a store failure: end this watcher
            if not self.closed:
                log.debug("watch %d pump ended", wid, exc_info=True)
        finally:
            if self._watches.get(wid) is watch:
                del self._watches[wid]
                self._pumps.pop(wid, None)
                try:
                    await watch.cancel()
                except Exception:
                    pass

    def _control(self, wid: int, resp) -> pb.WatchResponse:
        msg = pb.WatchResponse(watch_id=wid, canceled=resp.canceled,
                               compact_revision=resp.compact_revision, cancel_reason=resp.cancel_reason)
        self._headers.fill(msg.header, resp.revision)
        return msg

    async def _send_events(self, wid: int, revision: int, events: list) -> None:
        if wid not in self._fragment:
            await self.send(self._encoder.response(self._headers.encode(revision), wid, events))
            return
        msg = pb.WatchResponse(watch_id=wid)
        self._headers.fill(msg.header, revision)
        add = msg.events.add
        for ev in events:
            convert.fill_event(add(), ev)
        if len(msg.events) > 1 and msg.ByteSize() > self._max_response_bytes:
            for part in _fragments(msg, self._max_response_bytes):
                await self.send(part)
        else:
            await self.send(msg)

    async def close(self) -> None:
        if self.closed:
            return
        self.closed = True
        pumps = list(self._pumps.values())
        for task in pumps:
            task.cancel()
        watches = list(self._watches.values())
        self._watches.clear()
        self._pumps.clear()
        for w in watches:
            try:
                await w.cancel()
            except Exception:
                pass
        await asyncio.gather(*pumps, return_exceptions=True)


def _fragments(msg: pb.WatchResponse, limit: int) -> list[pb.WatchResponse]:
    """etcd's sendFragments: split a big response's events; all but the last carry fragment=true."""
    out: list[pb.WatchResponse] = []
    events = list(msg.events)
    i = 0
    while i < len(events):
        part = pb.WatchResponse(header=msg.header, watch_id=msg.watch_id, created=msg.created,
                                canceled=msg.canceled, compact_revision=msg.compact_revision,
                                cancel_reason=msg.cancel_reason, fragment=True)
        size = part.ByteSize()
        while i < len(events):
            ev_size = events[i].ByteSize() + 4
            if len(part.events) >= 1 and size + ev_size >= limit:
                break
            part.events.append(events[i])
            size += ev_size
            i += 1
        out.append(part)
    out[-1].fragment = False
    return out


def varint(n: int) -> bytes:
    """Protobuf base-128 varint of a non-negative int."""
    if n < 0x80:
        return _SMALL_VARINTS[n]
    out = bytearray()
    while n > 0x7F:
        out.append((n & 0x7F) | 0x80)
        n >>= 7
    out.append(n)
    return bytes(out)


_SMALL_VARINTS = [bytes([i]) for i in range(0x80)]
_TAG_HEADER = b"\x0a"     # field 1, length-delimited
_TAG_WATCH_ID = b"\x10"   # field 2, varint
_TAG_EVENT = b"\x5a"      # field 11, length-delimited


class EventEncoder:
    """Encode once, fan out bytes: each event is serialised once however many watchers get it,
    and a watcher's WatchResponse is assembled from those bytes (wire-identical to protobuf's).

    The store hands the same Event object to every watcher of a key, so events are cached by
    identity; an entry keeps its event alive, so an id is never reused while it is cached."""

    def __init__(self, max_bytes: int = 32 * 1024 * 1024) -> None:
        # Bounded by encoded size: an entry only has to outlive one fan-out burst, and big
        # objects (a pod is several KiB) must not let the cache grow to gigabytes.
        self._max_bytes = max_bytes
        self._bytes = 0
        self._cache: dict[int, tuple[object, bytes]] = {}

    def event(self, ev) -> bytes:
        hit = self._cache.get(id(ev))
        if hit is not None and hit[0] is ev:
            return hit[1]
        msg = kv_pb2.Event()
        convert.fill_event(msg, ev)
        data = msg.SerializeToString()
        cache = self._cache
        if hit is not None:  # same id, different (dead) event: replace the stale entry
            self._bytes -= len(cache.pop(id(ev))[1])
        while cache and self._bytes + len(data) > self._max_bytes:
            oldest = next(iter(cache))  # dicts keep insertion order
            self._bytes -= len(cache.pop(oldest)[1])
        cache[id(ev)] = (ev, data)
        self._bytes += len(data)
        return data

    def response(self, header: bytes, watch_id: int, events: list) -> bytes:
        parts = [_TAG_HEADER, varint(len(header)), header]
        if watch_id:
            parts += (_TAG_WATCH_ID, varint(watch_id))
        encode = self.event
        for ev in events:
            data = encode(ev)
            parts += (_TAG_EVENT, varint(len(data)), data)
        return b"".join(parts)


def serialize_watch_response(resp: pb.WatchResponse | bytes) -> bytes:
    return resp if type(resp) is bytes else resp.SerializeToString()


class WatchService(pb_grpc.WatchServicer):
    def __init__(self, store: ServedStore, headers: Headers, *, max_response_bytes: int) -> None:
        self._store = store
        self._headers = headers
        self._max_response_bytes = max_response_bytes
        self._encoder = EventEncoder()
        self.streams = 0

    def rpc_handler(self) -> grpc.GenericRpcHandler:
        """The Watch method with a serializer that passes pre-encoded responses through."""
        return grpc.method_handlers_generic_handler("etcdserverpb.Watch", {
            "Watch": grpc.stream_stream_rpc_method_handler(
                self.Watch, request_deserializer=pb.WatchRequest.FromString,
                response_serializer=serialize_watch_response),
        })

    async def Watch(self, request_iterator, context: grpc.aio.ServicerContext) -> None:
        stream = _Stream(self._store, self._headers, context, self._max_response_bytes, self._encoder)
        self.streams += 1
        try:
            await stream.serve(request_iterator)
        except (asyncio.CancelledError, grpc.aio.AbortError):
            raise
        except Exception:  # the client vanished: nothing to answer
            log.debug("watch stream ended", exc_info=True)
        finally:
            self.streams -= 1
            await stream.close()
