"""The peer transport: Raft messages between store members over asyncio TCP.

Each member listens on its peer URLs and keeps one outbound stream to every peer; a message to a
peer always travels on our own stream to it (one stream per peer, so messages to a peer stay in
order), and inbound streams only deliver. Every frame is length-prefixed::

    frame   u32 length (of what follows) | u8 kind | payload
    HELLO   u64 cluster_id | u64 from | u64 to        first frame of every connection
    RAFT    one Raft message, as store/raftpb.py encodes it
    CALL    u64 call_id | u16 method length | method | arguments     a small peer RPC
    REPLY   u64 call_id | u8 ok | result (or an error message)      sent back on the same socket

What the Raft driver gets from it (callbacks given to the constructor):
- `on_message(m)` for every Raft message received;
- `on_unreachable(peer)` when a message could not be handed to a peer's socket (Raft then stops
  streaming to it optimistically and probes instead);
- `on_snapshot_status(peer, failed)` once a MsgSnap was written out, or failed;
- `snapshot_data(index, term)` is awaited to fill a MsgSnap's data just before sending: Raft's
  storage keeps snapshots without their payload, which lives in the snapshot file;
- `on_call(method, args)` answers peer RPCs (lease renewals forwarded to the leader, the member
  list a joining member asks for).

Messages are dropped, not queued, while a peer is down (Raft retransmits); a stream reconnects with
exponential backoff (50 ms up to 1 s). A large snapshot is written in 1 MiB slices with a drain
between them, so the event loop keeps serving while it streams.

Fault injection (a test aid): `isolate(peers)` drops all Raft traffic to and from those peers
(None: every peer), as a network partition would; `heal()` ends it. A member exposes it on its
metrics URL when started with --experimental-peer-fault-injection (see member.py).
"""
from __future__ import annotations

import asyncio
import logging
import struct
from typing import Awaitable, Callable, Iterable
from urllib.parse import urlsplit

from pykube_plane._raft import MSG_SNAP, Message, Snapshot

from .raftpb import RaftpbError, decode_message, encode_message

log = logging.getLogger("pykube_plane.store.transport")

FRAME_HELLO = 1
FRAME_RAFT = 2
FRAME_CALL = 3
FRAME_REPLY = 4

MAX_FRAME_BYTES = 1 << 31          # a snapshot travels as one frame
MAX_QUEUED_FRAMES = 8192           # per peer; beyond it messages are dropped (Raft retransmits)
SNAPSHOT_SLICE_BYTES = 1 << 20
BACKOFF_MIN = 0.05
BACKOFF_MAX = 1.0

_LEN = struct.Struct(">I")
_HELLO = struct.Struct(">QQQ")
_CALL_HEAD = struct.Struct(">QH")
_REPLY_HEAD = struct.Struct(">QB")


class PeerCallError(Exception):
    """A peer RPC failed: unreachable, refused or timed out; the message says which."""


def _frame(kind: int, payload: bytes) -> bytes:
    return _LEN.pack(len(payload) + 1) + bytes((kind,)) + payload


def _host_port(url: str) -> tuple[str, int]:
    parts = urlsplit(url)
    return parts.hostname or "127.0.0.1", parts.port or 2380


class _Connection(asyncio.Protocol):
    """One TCP connection carrying frames both ways; flow control through drain()."""

    def __init__(self, on_frame: Callable[["_Connection", int, bytes], None],
                 on_lost: Callable[["_Connection"], None] | None = None) -> None:
        self._on_frame = on_frame
        self._on_lost = on_lost
        self._buf = bytearray()
        self._transport: asyncio.Transport | None = None
        self._paused = False
        self._drain_waiters: list[asyncio.Future] = []
        self.closed = False
        self.hello: tuple[int, int, int] | None = None  # (cluster, from, to) once received

    # --- asyncio.Protocol ---
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self._transport = transport  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self._wake_drainers(ConnectionError("peer connection lost"))
        if self._on_lost is not None:
            self._on_lost(self)

    def pause_writing(self) -> None:
        self._paused = True

    def resume_writing(self) -> None:
        self._paused = False
        self._wake_drainers(None)

    def data_received(self, data: bytes) -> None:
        buf = self._buf
        buf += data
        pos = 0
        end = len(buf)
        while end - pos >= 5:
            (length,) = _LEN.unpack_from(buf, pos)
            if length == 0 or length > MAX_FRAME_BYTES:
                log.warning("peer sent a frame of %d bytes; closing the connection", length)
                self.close()
                return
            if end - pos - 4 < length:
                break
            kind = buf[pos + 4]
            payload = bytes(buf[pos + 5:pos + 4 + length])
            pos += 4 + length
            try:
                self._on_frame(self, kind, payload)
            except Exception:  # noqa: BLE001 - one bad frame must not kill the connection's reader
                log.exception("peer frame of kind %d could not be handled", kind)
            if self.closed:
                return
        if pos:
            del buf[:pos]

    # --- writing ---
    def write(self, data: bytes) -> None:
        if not self.closed and self._transport is not None:
            self._transport.write(data)

    async def drain(self) -> None:
        if self.closed:
            raise ConnectionError("peer connection closed")
        if self._paused:
            fut = asyncio.get_running_loop().create_future()
            self._drain_waiters.append(fut)
            await fut

    def _wake_drainers(self, exc: Exception | None) -> None:
        waiters, self._drain_waiters = self._drain_waiters, []
        for fut in waiters:
            if not fut.done():
                if exc is None:
                    fut.set_result(None)
                else:
                    fut.set_exception(exc)

    def close(self) -> None:
        if self._transport is not None and not self.closed:
            self._transport.close()
        self.closed = True


class _PeerStream:
    """Our outbound stream to one peer: a queue, a pump task, reconnects with backoff."""

    def __init__(self, transport: "PeerTransport", peer_id: int, urls: list[str]) -> None:
        self.transport = transport
        self.peer_id = peer_id
        self.urls = list(urls)
        self.conn: _Connection | None = None
        self.state = "connecting"       # connecting | up | down
        self.queue: list = []           # bytes frames, or Message (a MsgSnap to fill and send)
        self.wakeup = asyncio.Event()
        self.calls: dict[int, asyncio.Future] = {}
        self.closing = False
        self._url_index = 0
        self.task = asyncio.get_running_loop().create_task(self._run(), name=f"peer-{peer_id:x}")

    def enqueue(self, item) -> bool:
        if self.state == "down" or len(self.queue) >= MAX_QUEUED_FRAMES:
            return False
        self.queue.append(item)
        self.wakeup.set()
        return True

    async def _connect(self) -> _Connection:
        url = self.urls[self._url_index % len(self.urls)]
        self._url_index += 1
        host, port = _host_port(url)
        loop = asyncio.get_running_loop()
        # asyncio.timeout, not wait_for: 3.11's wait_for can swallow a cancellation that races
        # with the connection completing, and close() would then wait for this task forever.
        async with asyncio.timeout(2.0):
            _, conn = await loop.create_connection(
                lambda: _Connection(self._on_frame, self._on_lost), host, port)
        if self.closing:
            conn.close()
            raise ConnectionError("stream closed")
        conn.write(_frame(FRAME_HELLO, _HELLO.pack(self.transport.cluster_id,
                                                   self.transport.member_id, self.peer_id)))
        return conn

    def _on_frame(self, conn: _Connection, kind: int, payload: bytes) -> None:
        if kind == FRAME_REPLY:
            call_id, ok = _REPLY_HEAD.unpack_from(payload, 0)
            fut = self.calls.pop(call_id, None)
            if fut is not None and not fut.done():
                result = payload[_REPLY_HEAD.size:]
                if ok:
                    fut.set_result(result)
                else:
                    fut.set_exception(PeerCallError(result.decode(errors="replace")))

    def _on_lost(self, conn: _Connection) -> None:
        if conn is self.conn:
            self.conn = None
            self.wakeup.set()
        for fut in self.calls.values():
            if not fut.done():
                fut.set_exception(PeerCallError("peer connection lost"))
        self.calls.clear()

    def _drop_queue(self) -> None:
        dropped, self.queue = self.queue, []
        for item in dropped:
            if isinstance(item, Message):
                self.transport.on_snapshot_status(self.peer_id, True)
        if dropped:
            self.transport.on_unreachable(self.peer_id)

    async def _run(self) -> None:
        backoff = BACKOFF_MIN
        while not self.closing:
            if self.conn is None or self.conn.closed:
                self.conn = None
                self.state = "connecting"
                try:
                    self.conn = await self._connect()
                except (OSError, asyncio.TimeoutError, ConnectionError) as exc:
                    if self.state != "down":
                        log.debug("peer %x unreachable: %s", self.peer_id, exc)
                    self.state = "down"
                    self._drop_queue()
                    await asyncio.sleep(backoff)
                    backoff = min(backoff * 2, BACKOFF_MAX)
                    continue
                backoff = BACKOFF_MIN
                self.state = "up"
            if not self.queue:
                self.wakeup.clear()
                await self.wakeup.wait()
                continue
            items, self.queue = self.queue, []
            conn = self.conn
            if conn is None:
                self.queue = items + self.queue
                continue
            try:
                frames: list[bytes] = []
                for item in items:
                    if isinstance(item, Message):
                        if frames:
                            conn.write(b"".join(frames))
                            frames = []
                        await self._send_snapshot(conn, item)
                    else:
                        frames.append(item)
                if frames:
                    conn.write(b"".join(frames))
                await conn.drain()
            except ConnectionError:
                self.transport.on_unreachable(self.peer_id)
                for item in items:
                    if isinstance(item, Message):
                        self.transport.on_snapshot_status(self.peer_id, True)

    async def _send_snapshot(self, conn: _Connection, m: Message) -> None:
        """Fill in the snapshot's data, then write it in slices, draining between them."""
        snap = m.snapshot
        try:
            data = await self.transport.snapshot_data(snap.index, snap.term)
            full = m.copy()
            full.snapshot = Snapshot(snap.index, snap.term, snap.conf_state, data)
            payload = await asyncio.to_thread(encode_message, full)
            conn.write(_LEN.pack(len(payload) + 1) + bytes((FRAME_RAFT,)))
            for pos in range(0, len(payload), SNAPSHOT_SLICE_BYTES):
                conn.write(payload[pos:pos + SNAPSHOT_SLICE_BYTES])
                await conn.drain()
        except ConnectionError:
            self.transport.on_snapshot_status(self.peer_id, True)
            raise
        except Exception as exc:  # noqa: BLE001 - a snapshot that cannot be read fails, Raft retries
            log.warning("snapshot %d for peer %x not sent: %s", snap.index, self.peer_id, exc)
            self.transport.on_snapshot_status(self.peer_id, True)
            return
        log.info("sent snapshot at index %d (%d bytes) to peer %x", snap.index, len(payload),
                 self.peer_id)
        self.transport.on_snapshot_status(self.peer_id, False)

    async def call(self, call_id: int, method: str, args: bytes, timeout: float) -> bytes:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout
        while self.conn is None or self.state != "up":
            if loop.time() >= deadline:
                raise PeerCallError(f"peer {self.peer_id:x} is unreachable")
            await asyncio.sleep(0.02)
        fut = loop.create_future()
        self.calls[call_id] = fut
        name = method.encode()
        self.conn.write(_frame(FRAME_CALL, _CALL_HEAD.pack(call_id, len(name)) + name + args))
        try:
            async with asyncio.timeout(max(deadline - loop.time(), 0.001)):
                return await fut
        except asyncio.TimeoutError:
            raise PeerCallError(f"peer {self.peer_id:x} did not answer {method}") from None
        finally:
            self.calls.pop(call_id, None)

    async def close(self) -> None:
        self.closing = True
        self.wakeup.set()
        self.task.cancel()
        await asyncio.gather(self.task, return_exceptions=True)
        if self.conn is not None:
            self.conn.close()
        for fut in self.calls.values():
            if not fut.done():
                fut.set_exception(PeerCallError("transport stopped"))


class PeerTransport:
    def __init__(self, member_id: int, cluster_id: int, listen_urls: list[str], *,
                 on_message: Callable[[Message], None],
                 on_unreachable: Callable[[int], None],
                 on_snapshot_status: Callable[[int, bool], None],
                 snapshot_data: Callable[[int, int], Awaitable[bytes]],
                 on_call: Callable[[str, bytes], Awaitable[bytes]] | None = None) -> None:
        self.member_id = member_id
        self.cluster_id = cluster_id
        self.listen_urls = listen_urls
        self.on_message = on_message
        self.on_unreachable = on_unreachable
        self.on_snapshot_status = on_snapshot_status
        self.snapshot_data = snapshot_data
        self.on_call = on_call
        self._streams: dict[int, _PeerStream] = {}
        self._servers: list[asyncio.AbstractServer] = []
        self._inbound: set[_Connection] = set()
        self._next_call = 1
        self._isolated: set[int] = set()
        self._isolate_all = False
        self.ports: list[int] = []
        self.stats = {"sent": 0, "received": 0, "dropped": 0}

    # --- lifecycle ---
    async def start(self) -> list[int]:
        loop = asyncio.get_running_loop()
        for url in self.listen_urls:
            host, port = _host_port(url)
            server = await loop.create_server(lambda: _Connection(self._on_inbound_frame,
                                                                  self._inbound.discard),
                                              host, port, reuse_address=True)
            self._servers.append(server)
            self.ports.append(server.sockets[0].getsockname()[1])
        return self.ports

    async def stop(self) -> None:
        for server in self._servers:
            server.close()
        for conn in list(self._inbound):
            conn.close()
        await asyncio.gather(*(s.close() for s in self._streams.values()), return_exceptions=True)
        self._streams.clear()
        for server in self._servers:
            await server.wait_closed()
        self._servers = []

    def set_peers(self, peers: dict[int, list[str]]) -> None:
        """The peers to talk to (id -> peer URLs), as the membership says; ourselves excluded."""
        for peer_id in list(self._streams):
            if peer_id not in peers or peer_id == self.member_id:
                stream = self._streams.pop(peer_id)
                asyncio.get_running_loop().create_task(stream.close())
        for peer_id, urls in peers.items():
            if peer_id == self.member_id or not urls:
                continue
            stream = self._streams.get(peer_id)
            if stream is None:
                self._streams[peer_id] = _PeerStream(self, peer_id, urls)
            elif stream.urls != list(urls):
                stream.urls = list(urls)
                if stream.conn is not None:
                    stream.conn.close()  # reconnect to the new address

    # --- sending ---
    def send(self, messages: Iterable[Message]) -> list[Message]:
        """Queue messages to their peers; returns those dropped at once (peer down or unknown),
        which certainly never left this process."""
        dropped = []
        for m in messages:
            to = m.to
            if self._isolate_all or to in self._isolated:
                self.stats["dropped"] += 1
                self._report_failed(m)
                continue  # a partition: the message is lost in the network, not known dropped
            stream = self._streams.get(to)
            item = m if m.type == MSG_SNAP else _frame(FRAME_RAFT, encode_message(m))
            if stream is None or not stream.enqueue(item):
                self.stats["dropped"] += 1
                self._report_failed(m)
                dropped.append(m)
                continue
            self.stats["sent"] += 1
        return dropped

    def _report_failed(self, m: Message) -> None:
        if m.type == MSG_SNAP:
            self.on_snapshot_status(m.to, True)
        self.on_unreachable(m.to)

    async def call(self, peer_id: int, method: str, args: bytes = b"", timeout: float = 2.0) -> bytes:
        """A peer RPC (see on_call); PeerCallError when it cannot be answered."""
        if self._isolate_all or peer_id in self._isolated:
            raise PeerCallError(f"peer {peer_id:x} is unreachable (isolated)")
        stream = self._streams.get(peer_id)
        if stream is None:
            raise PeerCallError(f"peer {peer_id:x} is not a known member")
        self._next_call += 1
        return await stream.call(self._next_call, method, args, timeout)

    @staticmethod
    async def call_url(url: str, method: str, args: bytes = b"", timeout: float = 2.0) -> bytes:
        """A peer RPC to an address, before we know any member id (a joining member)."""
        host, port = _host_port(url)
        loop = asyncio.get_running_loop()
        reply: asyncio.Future = loop.create_future()

        def on_frame(conn: _Connection, kind: int, payload: bytes) -> None:
            if kind == FRAME_REPLY and not reply.done():
                _, ok = _REPLY_HEAD.unpack_from(payload, 0)
                result = payload[_REPLY_HEAD.size:]
                if ok:
                    reply.set_result(result)
                else:
                    reply.set_exception(PeerCallError(result.decode(errors="replace")))

        try:
            async with asyncio.timeout(timeout):
                _, conn = await loop.create_connection(lambda: _Connection(on_frame), host, port)
        except (OSError, asyncio.TimeoutError) as exc:
            raise PeerCallError(f"cannot reach {url}: {exc}") from None
        try:
            name = method.encode()
            conn.write(_frame(FRAME_HELLO, _HELLO.pack(0, 0, 0))
                       + _frame(FRAME_CALL, _CALL_HEAD.pack(1, len(name)) + name + args))
            async with asyncio.timeout(timeout):
                return await reply
        except asyncio.TimeoutError:
            raise PeerCallError(f"{url} did not answer {method}") from None
        finally:
            conn.close()

    # --- receiving ---
    def _on_inbound_frame(self, conn: _Connection, kind: int, payload: bytes) -> None:
        self._inbound.add(conn)
        if conn.hello is None:
            if kind != FRAME_HELLO or len(payload) != _HELLO.size:
                log.warning("peer connection without a hello; closing it")
                conn.close()
                return
            cluster_id, from_id, to_id = _HELLO.unpack(payload)
            if cluster_id and cluster_id != self.cluster_id:
                log.warning("peer %x belongs to cluster %x, not ours (%x); refusing it",
                            from_id, cluster_id, self.cluster_id)
                conn.close()
                return
            conn.hello = (cluster_id, from_id, to_id)
            return
        cluster_id, from_id, _ = conn.hello
        if kind == FRAME_RAFT:
            if not cluster_id or self._isolate_all or from_id in self._isolated:
                self.stats["dropped"] += 1
                return
            try:
                m = decode_message(payload)
            except RaftpbError as exc:
                log.warning("bad Raft message from peer %x: %s", from_id, exc)
                return
            if m.to != self.member_id:
                return
            self.stats["received"] += 1
            self.on_message(m)
        elif kind == FRAME_CALL:
            if cluster_id and (self._isolate_all or from_id in self._isolated):
                return
            call_id, name_len = _CALL_HEAD.unpack_from(payload, 0)
            start = _CALL_HEAD.size
            method = payload[start:start + name_len].decode()
            args = payload[start + name_len:]
            asyncio.get_running_loop().create_task(self._answer(conn, call_id, method, args))

    async def _answer(self, conn: _Connection, call_id: int, method: str, args: bytes) -> None:
        try:
            if self.on_call is None:
                raise PeerCallError("no peer calls are served here")
            result, ok = await self.on_call(method, args), 1
        except Exception as exc:  # noqa: BLE001 - the caller gets the message, we keep serving
            result, ok = str(getattr(exc, "message", None) or exc).encode(), 0
        conn.write(_frame(FRAME_REPLY, _REPLY_HEAD.pack(call_id, ok) + result))

    # --- fault injection (test aid) ---
    def isolate(self, peers: Iterable[int] | None = None) -> None:
        """Drop all Raft traffic to and from `peers` (None: every peer) until heal()."""
        if peers is None:
            self._isolate_all = True
        else:
            self._isolated.update(peers)
        log.warning("fault injection: peer traffic cut (%s)",
                    "all peers" if self._isolate_all else ", ".join(f"{p:x}" for p in self._isolated))

    def heal(self) -> None:
        self._isolate_all = False
        self._isolated.clear()
        log.warning("fault injection: peer traffic restored")

    @property
    def isolated(self) -> bool:
        return self._isolate_all or bool(self._isolated)
