"""The peer transport on real loopback sockets: delivery in order, reconnecting after a peer
restarts, peer RPCs, a large snapshot streamed and reported, partitions, foreign clusters."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane._raft import (
    MSG_APP, MSG_HEARTBEAT, MSG_SNAP, ConfState, Entry, Message, Snapshot,
)
from pykube_plane.store.transport import PeerCallError, PeerTransport
from tests.conftest import free_port

from .cluster import until

CLUSTER = 77


class Peer:
    """A transport plus what its callbacks saw."""

    def __init__(self, member_id: int, port: int, cluster_id: int = CLUSTER,
                 snapshots: dict | None = None) -> None:
        self.received: list[Message] = []
        self.unreachable: list[int] = []
        self.snapshot_reports: list[tuple[int, bool]] = []
        self.snapshots = snapshots or {}
        self.port = port
        self.transport = PeerTransport(
            member_id, cluster_id, [f"http://127.0.0.1:{port}"],
            on_message=self.received.append, on_unreachable=self.unreachable.append,
            on_snapshot_status=lambda peer, failed: self.snapshot_reports.append((peer, failed)),
            snapshot_data=self._snapshot_data, on_call=self._on_call)

    async def _snapshot_data(self, index: int, term: int) -> bytes:
        return self.snapshots[(index, term)]

    async def _on_call(self, method: str, args: bytes) -> bytes:
        if method == "echo":
            return args[::-1]
        raise ValueError("etcdserver: no such call")


async def pair() -> tuple[Peer, Peer]:
    a, b = Peer(1, free_port()), Peer(2, free_port())
    await a.transport.start()
    await b.transport.start()
    a.transport.set_peers({2: [f"http://127.0.0.1:{b.port}"]})
    b.transport.set_peers({1: [f"http://127.0.0.1:{a.port}"]})
    return a, b


def app(i: int) -> Message:
    return Message(MSG_APP, to=2, from_=1, term=3, index=i, entries=[Entry(3, i + 1, b"x%d" % i)])


async def connected(a: Peer, b: Peer) -> None:
    """Until a's stream to b carries messages (a heartbeat arrives)."""
    def heartbeat_arrived() -> bool:
        a.transport.send([Message(MSG_HEARTBEAT, to=2, from_=1, term=3)])
        return bool(b.received)

    await until(heartbeat_arrived)
    await asyncio.sleep(0.05)
    b.received.clear()


async def test_messages_arrive_in_order_and_after_a_peer_restarts():
    a, b = await pair()
    try:
        await connected(a, b)
        a.transport.send([app(i) for i in range(500)])
        await until(lambda: len(b.received) == 500)
        assert [m.index for m in b.received] == list(range(500))
        assert b.received[7].entries == [Entry(3, 8, b"x7")]
        # b goes away and comes back on the same port: a reconnects by itself.
        await b.transport.stop()
        restarted = Peer(2, b.port)
        await restarted.transport.start()
        restarted.transport.set_peers({1: [f"http://127.0.0.1:{a.port}"]})

        def delivered() -> bool:
            a.transport.send([Message(MSG_HEARTBEAT, to=2, from_=1, term=3)])
            return bool(restarted.received)

        await until(delivered)
        assert a.unreachable  # Raft was told while b was down
        await restarted.transport.stop()
    finally:
        await a.transport.stop()
        await b.transport.stop()


async def test_peer_calls_and_their_errors():
    a, b = await pair()
    try:
        assert await a.transport.call(2, "echo", b"abc") == b"cba"
        with pytest.raises(PeerCallError, match="no such call"):
            await a.transport.call(2, "missing")
        with pytest.raises(PeerCallError, match="not a known member"):
            await a.transport.call(9, "echo")
        # Before knowing any member id (a joining member), by address.
        assert await PeerTransport.call_url(f"http://127.0.0.1:{b.port}", "echo", b"xy") == b"yx"
        with pytest.raises(PeerCallError, match="cannot reach"):
            await PeerTransport.call_url(f"http://127.0.0.1:{free_port()}", "echo", timeout=1)
    finally:
        await a.transport.stop()
        await b.transport.stop()


async def test_a_large_snapshot_is_streamed_and_reported():
    a, b = await pair()
    payload = bytes(range(256)) * (24 * 1024 * 4)  # 24 MiB
    a.snapshots[(900, 4)] = payload
    try:
        await connected(a, b)
        # Raft's storage keeps snapshots without data: the transport fills it in from the file.
        m = Message(MSG_SNAP, to=2, from_=1, term=4,
                    snapshot=Snapshot(900, 4, ConfState((1, 2)), b""))
        a.transport.send([m])
        ticks = 0
        while not b.received:
            await asyncio.sleep(0.001)  # the loop keeps running while the snapshot streams
            ticks += 1
        got = b.received[0].snapshot
        assert (got.index, got.term, got.conf_state.voters) == (900, 4, (1, 2))
        assert got.data == payload
        await until(lambda: a.snapshot_reports == [(2, False)])
        assert ticks > 1
        # A snapshot whose file is gone is reported failed, and the stream goes on.
        a.transport.send([Message(MSG_SNAP, to=2, from_=1, term=4,
                                  snapshot=Snapshot(1000, 4, ConfState((1, 2)), b"")), app(5)])
        await until(lambda: a.snapshot_reports[-1] == (2, True) and len(b.received) == 2)
    finally:
        await a.transport.stop()
        await b.transport.stop()


async def test_isolation_drops_both_ways_until_healed():
    a, b = await pair()
    try:
        await connected(a, b)
        a.transport.send([app(0)])
        await until(lambda: len(b.received) == 1)
        b.transport.isolate()
        a.transport.send([app(1)])
        b.transport.send([Message(MSG_HEARTBEAT, to=1, from_=2, term=3)])
        with pytest.raises(PeerCallError, match="isolated"):
            await b.transport.call(1, "echo", b"x")
        await asyncio.sleep(0.2)
        assert len(b.received) == 1 and not a.received
        b.transport.heal()
        a.transport.send([app(2)])
        await until(lambda: len(b.received) == 2)
        assert b.received[-1].index == 2
    finally:
        await a.transport.stop()
        await b.transport.stop()


async def test_a_member_of_another_cluster_is_refused():
    a = Peer(1, free_port())
    stranger = Peer(2, free_port(), cluster_id=CLUSTER + 1)
    await a.transport.start()
    await stranger.transport.start()
    try:
        stranger.transport.set_peers({1: [f"http://127.0.0.1:{a.port}"]})
        for _ in range(20):
            stranger.transport.send([Message(MSG_HEARTBEAT, to=1, from_=2, term=3)])
            await asyncio.sleep(0.02)
        assert a.received == []
    finally:
        await a.transport.stop()
        await stranger.transport.stop()
