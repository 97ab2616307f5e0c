"""Opening a store member: recovery from its data dir, then joining its peers.

Restart = newest valid snapshot + the WAL's entries after it, re-applied as Raft hands them back
committed (`RaftDriver.recover`). A new data dir first gets its identity (store/identity.py) and,
when it founds a cluster, a log that starts with one committed conf change per founding member.

Data dir layout, like etcd's: DATA/member/wal (WAL segments), DATA/member/snap (snapshots),
DATA/member/identity (member and cluster ids).
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Awaitable, Callable

from pykube_plane._raft import (
    CONF_CHANGE_ADD_NODE, ENTRY_CONF_CHANGE, ConfChange, Entry as RaftEntry,
    HardState as RaftHardState, MemoryStorage, RaftNode, Snapshot,
)

from . import snapfile
from .identity import fetch_members, resolve_identity
from .membership import ClusterConfig, MemberRecord, conf_change_context
from .raft_driver import DriverConfig, RaftDriver
from .state_machine import StoreState, StoreStateMachine, decode_state
from .transport import PeerTransport
from .wal import WAL, SnapshotMark

log = logging.getLogger("pykube_plane.store")


@dataclass(slots=True)
class RecoveredMember:
    """A member's state rebuilt from its data dir, its Raft node not yet running."""
    wal: WAL
    machine: StoreStateMachine
    driver: RaftDriver
    member_id: int
    cluster_id: int


async def recover(data_dir: Path, *, fsync: bool, snapshot_count: int,
                  cluster: ClusterConfig | None, request_timeout: float,
                  catch_up_entries: int) -> RecoveredMember:
    """Read the newest snapshot and the WAL after it, settle the identity, and replay the log
    into a new state machine. On failure nothing is left open."""
    member_dir = data_dir / "member"
    snap_dir = member_dir / "snap"
    snap_dir.mkdir(parents=True, exist_ok=True)
    now = time.monotonic()

    state = StoreState.empty()
    snapshot_index = snapshot_term = 0
    found = await asyncio.to_thread(snapfile.read_latest_snapshot, snap_dir)
    if found is not None:
        snapshot_index, snapshot_term, payload = found
        state = decode_state(payload, now)
    wal = await WAL.open(member_dir / "wal", fsync=fsync)
    try:
        hard_state, entries, mark = wal.read_all(after_index=snapshot_index)
        fresh = found is None and not entries and hard_state.is_empty() and mark is None
        member_id, cluster_id, founders = await resolve_identity(member_dir, cluster, fresh)
    except BaseException:
        await wal.close()
        raise
    wal_last = entries[-1].index if entries else (mark.index if mark else 0)
    if wal_last < snapshot_index:
        # A snapshot newer than the whole log (a restored data dir): the log goes on after it.
        await wal.save_snapshot_mark(SnapshotMark(snapshot_index, snapshot_term or 1))

    storage = MemoryStorage()
    if snapshot_index:
        storage.apply_snapshot(Snapshot(snapshot_index, snapshot_term, state.conf_state, b""))
    if entries:
        storage.append([RaftEntry(e.term, e.index, e.data, e.type) for e in entries])
    if founders:
        # A new cluster's log starts with one conf change per founding member, committed, each
        # carrying the member's record (etcd bootstraps the same way).
        boot = [RaftEntry(1, i + 1, ConfChange(CONF_CHANGE_ADD_NODE, r.id,
                                               conf_change_context(r, 0)).encode(),
                          ENTRY_CONF_CHANGE) for i, r in enumerate(founders)]
        hard = RaftHardState(1, 0, len(boot))
        await wal.save(boot, hard)
        storage.append(boot)
        storage.set_hard_state(hard)
    else:
        storage.set_hard_state(RaftHardState(max(hard_state.term, snapshot_term),
                                             hard_state.vote,
                                             max(hard_state.commit, snapshot_index)))

    machine = StoreStateMachine(state, snapshot_index)
    tick = cluster.tick_interval if cluster is not None else 0.1
    election = cluster.election_ticks if cluster is not None else 10
    node = RaftNode(member_id, storage=storage, applied=snapshot_index,
                    election_tick=election, heartbeat_tick=1, pre_vote=True,
                    check_quorum=True, seed=random.getrandbits(63))
    driver = RaftDriver(node, storage, wal, machine, snap_dir,
                        DriverConfig(tick_interval=tick, election_ticks=election,
                                     snapshot_count=snapshot_count,
                                     catch_up_entries=catch_up_entries,
                                     request_timeout=request_timeout),
                        snapshot_index=snapshot_index)
    try:
        await driver.recover()
        if not node.voters and not node.learners and not machine.membership.members \
                and (entries or found is not None) and cluster is None:
            # A data dir from before the log held membership: a cluster of this member alone.
            conf_state = node.apply_conf_change(ConfChange(CONF_CHANGE_ADD_NODE, member_id))
            machine.membership.apply_conf_change(member_id, MemberRecord(member_id, "default"),
                                                 conf_state.voters, conf_state.learners)
        machine.mvcc.take_events()  # replayed history is not news to anyone
        machine.lessor.promote(now)
    except BaseException:
        await driver.stop()
        await wal.close()
        raise
    if found is not None or entries:
        log.info("recovered %s: snapshot at index %d, %d WAL entries, revision %d",
                 data_dir, snapshot_index, len(entries), machine.mvcc.revision)
    return RecoveredMember(wal, machine, driver, member_id, cluster_id)


async def start(member: RecoveredMember, cluster: ClusterConfig | None,
                on_peer_call: Callable[[str, bytes], Awaitable[bytes]]) -> PeerTransport | None:
    """Start the Raft node; a cluster member first listens on its peer URLs and learns its
    peers. Returns the transport (None for a store of one). On failure nothing is left open."""
    driver = member.driver
    transport = None
    try:
        if cluster is not None:
            transport = PeerTransport(
                member.member_id, member.cluster_id, cluster.listen_peer_urls,
                on_message=driver.receive, on_unreachable=driver.report_unreachable,
                on_snapshot_status=driver.report_snapshot, snapshot_data=driver.snapshots.data,
                on_call=on_peer_call)
            await transport.start()
            peers = member.machine.membership.peer_urls()
            if not peers and cluster.state == "existing":
                # Joining: until the leader's log or snapshot tells us, the peers are those
                # the cluster listed when we asked for our id.
                peers = {m.id: m.peer_urls for m in await fetch_members(cluster)}
            transport.set_peers(peers)
            driver.transport = transport
        await driver.start()
    except BaseException:
        await driver.stop()
        await member.wal.close()
        raise
    return transport
