"""The embedded store: `KV` over the compiled MVCC core, with a WAL, snapshots, leases and watch.

    store = await Store.open("data")           # creates or recovers
    rev = await store.put(b"/a", b"1")         # returns the new revision once durable
    res = await store.range(b"/a")             # res.kvs[0].value == b"1"; res.revision; res.count
    await store.close()

The write path goes through Raft, on one member or several (store/raft_driver.py keeps the order):

1. A write request is encoded (store/requests.py, with a request id) and proposed; its caller
   awaits a future.
2. The driver hands every queued request to the Raft node at once; the entries are saved to the
   WAL with one fsync (group commit: concurrent writers share the fsync) and replicated.
3. Only once committed are they applied to MVCC (`apply_entry`), in log order, on every member;
   the proposer's future resolves with the result. Applying first would let a reader see a write
   that a crash could still lose.
4. The applied revisions' events go to the watch hub, which never blocks.

A store opened without a ClusterConfig is a cluster of one (the embedded store): its node campaigns
at once, commits on its own fsync and serves linearizable reads locally. With several members,
linearizable reads wait for a ReadIndex round; serializable ones are local. The member table
(store/membership.py) is part of the replicated state, and so is in every snapshot.

Restart = newest valid snapshot + the WAL's entries after it, re-applied as Raft hands them back
committed. Lease expiry is decided by the leader's clock and logged as a revoke, so replay never
depends on time; keepalives sent to a follower are forwarded to the leader.

Data dir layout, like etcd's: DATA/member/wal (WAL segments), DATA/member/snap (snapshots),
DATA/member/identity (member and cluster ids).
"""
from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import random
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, AsyncIterator, Sequence

import orjson

from pykube_plane._mvcc import MVCC, WatchIndex
from pykube_plane._raft import (
    CONF_CHANGE_ADD_LEARNER_NODE, CONF_CHANGE_ADD_NODE, CONF_CHANGE_REMOVE_NODE,
    ENTRY_CONF_CHANGE, ConfChange, ConfState, Entry as RaftEntry, HardState as RaftHardState,
    MemoryStorage, RaftNode, Snapshot,
)

from . import etcd_snapshot, snapfile
from .kv import (
    Compare, DeleteOp, DeleteResult, InvalidRequestError, LeaseGrant, LeaseNotFoundError,
    LeaseStatus, Op, PutOp, RangeOp, RangeResult, RequestTooLargeError, StoreClosedError,
    StoreError, TxnOp, TxnResult,
)
from .lease import Lessor
from .membership import (
    ClusterConfig, MemberRecord, Membership, cluster_id_for, conf_change_context, member_id_for,
    parse_conf_change_context,
)
from .raft_driver import DriverConfig, NoLeaderError, RaftDriver
from .requests import (
    CompactRequest, LeaseGrantRequest, LeaseRevokeRequest, MemberAttributesRequest, Request,
    decode_request, encode_request,
)
from .transport import PeerCallError, PeerTransport
from .wal import WAL, SnapshotMark
from .watch import StoreWatch, WatchHub

log = logging.getLogger("pykube_plane.store")

DEFAULT_MAX_REQUEST_BYTES = 1536 * 1024      # etcd's --max-request-bytes default (1.5 MiB)
DEFAULT_SNAPSHOT_COUNT = 10_000              # applied entries between snapshots (etcd: 100,000)
LEASE_CHECK_INTERVAL = 0.5                   # seconds between expiry checks (etcd: 500 ms)
SNAPSHOT_MAGIC = b"KPSNAP2\n"             # state + member table + Raft ConfState
LEGACY_SNAPSHOT_MAGIC = b"KPSNAP1\n"      # state only (single-member stores before Raft)


class MemberNotFoundError(StoreError):
    message = "etcdserver: member not found"


class PeerURLExistsError(StoreError):
    message = "etcdserver: Peer URLs already exists"


class MemberNotLearnerError(StoreError):
    message = "etcdserver: can only promote a learner member"


class LearnerNotReadyError(StoreError):
    message = "etcdserver: can only promote a learner member which is in sync with leader"


class NotLeaderError(StoreError):
    message = "etcdserver: not leader"


class BadLeaderTransfereeError(StoreError):
    message = "etcdserver: bad leader transferee"


class NotCapableError(StoreError):
    message = "etcdserver: not capable"


@dataclass(slots=True)
class StoreStatus:
    """What etcd's Maintenance.Status reports."""
    member_id: int
    cluster_id: int
    leader: int
    revision: int
    compact_revision: int
    raft_index: int
    raft_applied_index: int
    raft_term: int
    db_size: int
    db_size_in_use: int
    keys: int
    version: str = "3.5.1"
    is_learner: bool = False


@dataclass(slots=True)
class _State:
    """A decoded snapshot payload."""
    mvcc: MVCC
    lessor: Lessor
    membership: Membership
    conf_state: ConfState


class Store:
    """The embedded etcd-style store. Implements `KV`; see the module docstring for the write path."""

    def __init__(self, data_dir: Path, wal: WAL, state: _State, *, member_id: int,
                 cluster_id: int, snapshot_index: int, max_request_bytes: int,
                 progress_interval: float, name: str = "default") -> None:
        self.data_dir = data_dir
        self.member_id = member_id
        self.cluster_id = cluster_id
        self.name = name
        self._wal = wal
        self._mvcc = state.mvcc
        self._lessor = state.lessor
        self.membership = state.membership
        self._watch_index = WatchIndex()
        self._hub = WatchHub(state.mvcc, self._watch_index)
        self._applied_index = snapshot_index
        self._max_request_bytes = max_request_bytes
        self._progress_interval = progress_interval
        self._closed = False
        self._tasks: list[asyncio.Task] = []
        self._driver: RaftDriver = None  # type: ignore[assignment]  # set by open()
        self.transport: PeerTransport | None = None
        self._removed_event = asyncio.Event()

    # =============================================================================================
    # Opening and closing

    @classmethod
    async def open(cls, data_dir: str | os.PathLike, *, fsync: bool = True,
                   snapshot_count: int = DEFAULT_SNAPSHOT_COUNT,
                   max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                   progress_interval: float = 600.0,
                   cluster: ClusterConfig | None = None,
                   request_timeout: float = 7.0,
                   catch_up_entries: int = 5000) -> "Store":
        """Create the store in `data_dir`, or recover it: newest snapshot + WAL replay.

        Without `cluster` the store is a cluster of one, reachable only in this process. With it,
        the store is a member of a Raft cluster: it listens on the peer URLs and, when the data
        dir is new, founds the cluster (`state="new"`) or joins one (`"existing"`, after
        etcd's MemberAdd).
        """
        data_dir = Path(data_dir)
        member_dir = data_dir / "member"
        snap_dir = member_dir / "snap"
        snap_dir.mkdir(parents=True, exist_ok=True)
        now = time.monotonic()

        state = _State(MVCC(), Lessor(), Membership(), ConfState())
        snapshot_index = snapshot_term = 0
        found = await asyncio.to_thread(snapfile.read_latest_snapshot, snap_dir)
        if found is not None:
            snapshot_index, snapshot_term, payload = found
            state = _decode_state(payload, now)
        wal = await WAL.open(member_dir / "wal", fsync=fsync)
        try:
            hard_state, entries, mark = wal.read_all(after_index=snapshot_index)
            fresh = found is None and not entries and hard_state.is_empty() and mark is None
            member_id, cluster_id, founders = await _resolve_identity(member_dir, cluster, fresh)
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

        store = cls(data_dir, wal, state, member_id=member_id, cluster_id=cluster_id,
                    snapshot_index=snapshot_index, max_request_bytes=max_request_bytes,
                    progress_interval=progress_interval,
                    name=cluster.name if cluster is not None else "default")
        tick = cluster.tick_interval if cluster is not None else 0.1
        election = cluster.election_ticks if cluster is not None else 10
        node = RaftNode(member_id, storage=storage, applied=snapshot_index,
                        election_tick=election, heartbeat_tick=1, pre_vote=True,
                        check_quorum=True, seed=random.getrandbits(63))
        driver = RaftDriver(node, storage, wal, store, snap_dir,
                            DriverConfig(tick_interval=tick, election_ticks=election,
                                         snapshot_count=snapshot_count,
                                         catch_up_entries=catch_up_entries,
                                         request_timeout=request_timeout),
                            snapshot_index=snapshot_index)
        store._driver = driver
        try:
            await driver.recover()
            if not node.voters and not node.learners and not state.membership.members \
                    and (entries or found is not None) and cluster is None:
                # A data dir from before the log held membership: a cluster of this member alone.
                conf_state = node.apply_conf_change(ConfChange(CONF_CHANGE_ADD_NODE, member_id))
                store.membership.apply_conf_change(member_id, MemberRecord(member_id, "default"),
                                                   conf_state.voters, conf_state.learners)
            store._mvcc.take_events()  # replayed history is not news to anyone
            store._lessor.promote(now)
            if cluster is not None:
                store.transport = PeerTransport(
                    member_id, cluster_id, cluster.listen_peer_urls,
                    on_message=driver.receive, on_unreachable=driver.report_unreachable,
                    on_snapshot_status=driver.report_snapshot, snapshot_data=driver.snapshot_data,
                    on_call=store._on_peer_call)
                await store.transport.start()
                peers = store.membership.peer_urls()
                if not peers and cluster.state == "existing":
                    # Joining: until the leader's log or snapshot tells us, the peers are those
                    # the cluster listed when we asked for our id.
                    peers = {m.id: m.peer_urls for m in await _fetch_members(cluster)}
                store.transport.set_peers(peers)
                driver.transport = store.transport
            await driver.start()
        except BaseException:
            await driver.stop()
            await wal.close()
            raise
        if found is not None or entries:
            log.info("recovered %s: snapshot at index %d, %d WAL entries, revision %d",
                     data_dir, snapshot_index, len(entries), store._mvcc.revision)
        store._start()
        return store

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._lease_loop(), name="store-lease-expiry"),
            loop.create_task(self._progress_loop(), name="store-watch-progress"),
        ]

    async def close(self) -> None:
        """Stop accepting writes, finish the ones a lone member can finish, end every watch,
        close the WAL."""
        if self._closed:
            return
        self._closed = True
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self._driver.stop()
        self._hub.close()
        await self._wal.close()

    async def __aenter__(self) -> "Store":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # =============================================================================================
    # KV: reads (served from applied state)

    async def range(self, key: bytes, range_end: bytes = b"", *, revision: int = 0, limit: int = 0,
                    count_only: bool = False, keys_only: bool = False,
                    serializable: bool = False) -> RangeResult:
        """etcd KV.Range. Linearizable unless `serializable` (then: this member's applied state)."""
        self._check_open()
        _check_key(key)
        if not serializable and not self._driver.local_reads:
            await self._driver.read_barrier()
        return self._mvcc.range(key, range_end, revision, limit, count_only, keys_only)

    def range_now(self, key: bytes, range_end: bytes = b"", *, revision: int = 0, limit: int = 0,
                  count_only: bool = False, keys_only: bool = False) -> RangeResult:
        """Synchronous read for in-process callers on the loop thread (no await): this member's
        applied state, linearizable on a store of one member."""
        self._check_open()
        _check_key(key)
        return self._mvcc.range(key, range_end, revision, limit, count_only, keys_only)

    @property
    def revision(self) -> int:
        return self._mvcc.revision

    @property
    def compact_revision(self) -> int:
        return self._mvcc.compact_revision

    @property
    def term(self) -> int:
        """The Raft term, as etcd response headers carry it."""
        return self._driver.node.term

    @property
    def is_leader(self) -> bool:
        return self._driver.is_leader

    @property
    def leader_id(self) -> int:
        return self._driver.leader

    @property
    def removed(self) -> bool:
        return self._driver.removed

    async def wait_removed(self) -> None:
        await self._removed_event.wait()

    # =============================================================================================
    # KV: writes (logged, durable, then applied)

    async def put(self, key: bytes, value: bytes, *, lease: int = 0) -> int:
        """etcd KV.Put. Returns the new revision once durable."""
        _check_key(key)
        result = await self._propose(PutOp(key, value, lease))
        return result.revision

    async def put_op(self, op: PutOp):
        """etcd KV.Put with every option (prev_kv, ignore_value, ignore_lease): a PutResult."""
        _check_key(op.key)
        if op.ignore_value and op.value:
            raise InvalidRequestError("etcdserver: value is provided")
        if op.ignore_lease and op.lease:
            raise InvalidRequestError("etcdserver: lease is provided")
        return await self._propose(op)

    async def delete_range(self, key: bytes, range_end: bytes = b"", *,
                           prev_kv: bool = False) -> DeleteResult:
        """etcd KV.DeleteRange."""
        _check_key(key)
        return await self._propose(DeleteOp(key, range_end, prev_kv))

    async def txn(self, compare: Sequence[Compare], success: Sequence[Op],
                  failure: Sequence[Op] = ()) -> TxnResult:
        """etcd KV.Txn: compares then one branch, as one revision (none if it only reads)."""
        op = TxnOp(list(compare), list(success), list(failure))
        _check_txn(op)
        if _txn_is_read_only(op):
            # No write in either branch: no need to log it (etcd serves these without consensus too).
            self._check_open()
            if not self._driver.local_reads:
                await self._driver.read_barrier()
            return self._mvcc.txn(op.compare, op.success, op.failure)
        return await self._propose(op)

    async def compact(self, revision: int, physical: bool = False) -> None:
        """etcd KV.Compact. Afterwards ranges and watches below `revision` fail as compacted."""
        await self._propose(CompactRequest(revision, physical))

    # =============================================================================================
    # Watch

    def watch(self, key: bytes, range_end: bytes = b"", *, start_revision: int = 0,
              prev_kv: bool = False, progress_notify: bool = False,
              filters: Sequence[str] = ()) -> StoreWatch:
        """etcd Watch (one WatchCreateRequest): an async iterator of WatchResponse.

        start_revision 0 watches from the next revision; an older one replays history first
        (CompactedError arrives as a final response with canceled=True and compact_revision).
        """
        self._check_open()
        _check_key(key)
        return self._hub.create(key, range_end, start_revision, prev_kv, progress_notify, filters)

    def request_progress(self) -> None:
        """etcd WatchProgressRequest for every watcher of this store (used by the gRPC layer)."""
        self._hub.progress_all()

    # =============================================================================================
    # Leases

    async def lease_grant(self, ttl: int, id: int = 0) -> LeaseGrant:
        """etcd Lease.LeaseGrant."""
        if id < 0:
            raise InvalidRequestError("etcdserver: lease ID must be positive")
        lease_id = id or self._new_lease_id()
        ttl = Lessor.effective_ttl(ttl)
        await self._propose(LeaseGrantRequest(lease_id, ttl))
        return LeaseGrant(lease_id, ttl)

    async def lease_revoke(self, id: int) -> int:
        """etcd Lease.LeaseRevoke: the lease's keys go in one revision, returned."""
        if id not in self._lessor:
            raise LeaseNotFoundError()
        return await self._propose(LeaseRevokeRequest(id))

    async def lease_keepalive(self, id: int) -> int:
        """etcd Lease.LeaseKeepAlive (one round): the renewed TTL. Not logged, like etcd; on a
        follower it is forwarded to the leader, whose clock decides expiry."""
        self._check_open()
        if self._driver.is_leader:
            return self._lessor.renew(id, time.monotonic())
        result = await self._call_leader("lease_renew", _LEASE_ID.pack(id))
        return _LEASE_ID.unpack(result)[0]

    async def lease_time_to_live(self, id: int, keys: bool = False) -> LeaseStatus:
        """etcd Lease.LeaseTimeToLive; an unknown lease reports ttl -1."""
        self._check_open()
        try:
            if self._driver.is_leader:
                remaining, granted = self._lessor.remaining(id, time.monotonic())
            else:
                result = await self._call_leader("lease_ttl", _LEASE_ID.pack(id))
                remaining, granted = _LEASE_TTL.unpack(result)
        except LeaseNotFoundError:
            return LeaseStatus(id, -1, 0, [])
        attached = sorted(self._mvcc.lease_keys(id)) if keys else []
        return LeaseStatus(id, remaining, granted, attached)

    async def leases(self) -> list[int]:
        """etcd Lease.LeaseLeases."""
        self._check_open()
        return self._lessor.ids()

    def _new_lease_id(self) -> int:
        while True:
            lease_id = random.getrandbits(62) | 1
            if lease_id not in self._lessor:
                return lease_id

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(LEASE_CHECK_INTERVAL)
            if not self._driver.is_leader:
                continue  # only the leader's lessor expires leases (etcd demotes the others)
            expired = self._lessor.expired(time.monotonic())
            for lease_id in expired:
                try:
                    await self._propose(LeaseRevokeRequest(lease_id))
                except LeaseNotFoundError:
                    pass  # revoked meanwhile
                except StoreClosedError:
                    return
                except StoreError as exc:
                    log.warning("lease %x expiry failed, retrying: %s", lease_id, exc)
                    self._lessor.requeue(lease_id)

    async def _progress_loop(self) -> None:
        while True:
            await asyncio.sleep(self._progress_interval)
            self._hub.progress_all()

    # =============================================================================================
    # Peers

    async def _call_leader(self, method: str, args: bytes) -> bytes:
        leader = self._driver.leader
        if not leader or self.transport is None:
            raise NoLeaderError()
        try:
            return await self.transport.call(leader, method, args)
        except PeerCallError as exc:
            message = str(exc)
            if message == LeaseNotFoundError.message:
                raise LeaseNotFoundError() from None
            if message.startswith("etcdserver: "):
                raise StoreError(message) from None
            raise NoLeaderError() from None

    async def _on_peer_call(self, method: str, args: bytes) -> bytes:
        """Peer RPCs this member answers (see transport.py)."""
        if method == "members":
            return orjson.dumps({"cluster": self.cluster_id,
                                 "members": [m.to_dict() for m in self.membership.sorted()]})
        if method in ("lease_renew", "lease_ttl"):
            if not self._driver.is_leader:
                raise NotLeaderError()
            (lease_id,) = _LEASE_ID.unpack(args)
            now = time.monotonic()
            if method == "lease_renew":
                return _LEASE_ID.pack(self._lessor.renew(lease_id, now))
            return _LEASE_TTL.pack(*self._lessor.remaining(lease_id, now))
        raise StoreError(f"etcdserver: unknown peer call {method!r}")

    # =============================================================================================
    # Membership (etcd's Cluster service)

    def members(self) -> list[MemberRecord]:
        return self.membership.sorted()

    async def publish(self, name: str, client_urls: list[str]) -> None:
        """Record this member's name and client URLs in the replicated member table (etcd's
        publish), retrying until it commits or the store closes."""
        self.name = name
        while not self._closed and not self.removed:
            me = self.membership.get(self.member_id)
            if me is not None and me.name == name and me.client_urls == list(client_urls):
                return
            try:
                await self._propose(MemberAttributesRequest(
                    self.member_id, orjson.dumps({"name": name, "clientURLs": list(client_urls)})))
            except StoreClosedError:
                return
            except StoreError as exc:
                log.debug("publish retry: %s", exc.message)
                await asyncio.sleep(0.2)

    async def member_add(self, peer_urls: list[str], is_learner: bool = False) -> MemberRecord:
        self._check_capable()
        if self.membership.find_by_peer_urls(peer_urls) is not None:
            raise PeerURLExistsError()
        member_id = member_id_for(peer_urls, str(self.cluster_id), time.time_ns())
        record = MemberRecord(member_id, "", list(peer_urls), [], is_learner)
        kind = CONF_CHANGE_ADD_LEARNER_NODE if is_learner else CONF_CHANGE_ADD_NODE
        await self._conf_change(kind, member_id, record)
        return self.membership.get(member_id) or record

    async def member_remove(self, member_id: int) -> None:
        self._check_capable()
        if member_id not in self.membership:
            raise MemberNotFoundError()
        await self._conf_change(CONF_CHANGE_REMOVE_NODE, member_id, None)

    async def member_promote(self, member_id: int) -> None:
        self._check_capable()
        m = self.membership.get(member_id)
        if m is None:
            raise MemberNotFoundError()
        if not m.is_learner:
            raise MemberNotLearnerError()
        if self._driver.is_leader:
            # etcd's rule: the learner's log must be within 10% of the leader's.
            progress = self._driver.node.progress_of(member_id)
            if progress is None or progress["match"] < self._driver.node.last_index() * 0.9:
                raise LearnerNotReadyError()
        await self._conf_change(CONF_CHANGE_ADD_NODE, member_id, m)

    async def member_update(self, member_id: int, peer_urls: list[str]) -> None:
        self._check_capable()
        if member_id not in self.membership:
            raise MemberNotFoundError()
        await self._propose(MemberAttributesRequest(
            member_id, orjson.dumps({"peerURLs": list(peer_urls)})))

    async def move_leader(self, target: int) -> None:
        """etcd's MoveLeader: only the leader can hand over, and only to a voter."""
        self._check_open()
        if not self._driver.is_leader:
            raise NotLeaderError()
        if target not in self._driver.node.voters:
            raise BadLeaderTransfereeError()
        if target == self.member_id:
            return
        await self._driver.transfer_leadership(target)

    def _check_capable(self) -> None:
        self._check_open()
        if self.transport is None:
            raise NotCapableError()

    async def _conf_change(self, kind: int, member_id: int, record: MemberRecord | None) -> None:
        request_id = self._driver.next_request_id()
        context = conf_change_context(record, request_id) if record is not None else \
            orjson.dumps({"request": request_id})
        await self._driver.propose_conf_change(ConfChange(kind, member_id, context), request_id)

    # =============================================================================================
    # Maintenance

    def status(self) -> StoreStatus:
        stats = self._mvcc.stats()
        size = int(stats.get("bytes", 0))
        node = self._driver.node
        return StoreStatus(
            member_id=self.member_id, cluster_id=self.cluster_id, leader=node.lead,
            revision=self._mvcc.revision, compact_revision=self._mvcc.compact_revision,
            raft_index=node.commit, raft_applied_index=self._applied_index,
            raft_term=node.term, db_size=size, db_size_in_use=size,
            keys=int(stats.get("keys", 0)), is_learner=self.member_id in node.learners)

    def hash_kv(self, revision: int = 0) -> tuple[int, int]:
        """etcd Maintenance.HashKV: (hash, compact_revision)."""
        return self._mvcc.hash_kv(revision)

    def snapshot_bytes(self) -> bytes:
        """A consistent snapshot of the applied state in etcd's format (store/etcd_snapshot.py):
        a bbolt database and its SHA-256, as etcd streams it and `etcdutl` restores it."""
        return etcd_snapshot.render(self._snapshot_capture())

    async def snapshot_file_bytes(self) -> bytes:
        """`snapshot_bytes`, the state captured now and rendered off the event loop."""
        return await asyncio.to_thread(etcd_snapshot.render, self._snapshot_capture())

    def _snapshot_capture(self) -> etcd_snapshot.Capture:
        return etcd_snapshot.capture(self._mvcc, self._lessor, self.membership,
                                     self._driver.node.conf_state, self._applied_index, self.term)

    async def snapshot_chunks(self, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        """Maintenance.Snapshot as a stream of chunks (state captured at the call)."""
        data = await self.snapshot_file_bytes()
        for pos in range(0, len(data), chunk_size):
            yield data[pos:pos + chunk_size]
            await asyncio.sleep(0)

    async def snapshot_save(self, path: str | os.PathLike) -> int:
        """etcdctl snapshot save: write a snapshot file atomically; returns its revision."""
        revision = self._mvcc.revision
        data = await self.snapshot_file_bytes()
        await asyncio.to_thread(_write_file_atomic, Path(path), data)
        return revision

    @staticmethod
    def snapshot_status(path: str | os.PathLike) -> dict:
        """etcdutl snapshot status: hash, revision, total keys, size."""
        data = Path(path).read_bytes()
        if etcd_snapshot.is_etcd_snapshot(data):
            return etcd_snapshot.etcd_status(data)
        payload = _read_snapshot_file(Path(path))
        state = _decode_state(payload, time.monotonic())
        hash_value, _ = state.mvcc.hash_kv(0)
        return {"hash": hash_value, "revision": state.mvcc.revision,
                "totalKey": int(state.mvcc.stats().get("keys", 0)), "totalSize": len(payload)}

    @staticmethod
    def snapshot_restore(path: str | os.PathLike, data_dir: str | os.PathLike, *,
                         name: str = "default", peer_urls: Sequence[str] = (),
                         skip_hash_check: bool = False) -> None:
        """etcdutl snapshot restore: a new data dir holding the state, as a new cluster of one
        member (new member and cluster ids) named `name` at `peer_urls`."""
        payload = _read_snapshot_file(Path(path), require_digest=not skip_hash_check)
        data_dir = Path(data_dir)
        member_dir = data_dir / "member"
        if (member_dir / "wal").exists() and any((member_dir / "wal").iterdir()):
            raise StoreError(f"data-dir {data_dir} exists and is not empty")
        (member_dir / "snap").mkdir(parents=True, exist_ok=True)
        state = _decode_state(payload, 0.0)  # validate before writing anything
        member_id, _cluster_id = _load_identity(member_dir)
        state.membership = Membership()
        state.membership.apply_conf_change(member_id,
                                           MemberRecord(member_id, name, list(peer_urls)),
                                           (member_id,), ())
        state.conf_state = ConfState((member_id,))
        snapfile.write_snapshot(member_dir / "snap", 1, 1,
                                _encode_state(state.mvcc, state.lessor, state.membership,
                                              state.conf_state, 1, 1))

    # =============================================================================================
    # The commit path

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError()
        broken = self._driver.broken if self._driver is not None else None
        if broken is not None:
            raise StoreError(f"etcdserver: store failed: {broken}")

    async def _propose(self, request: Request):
        self._check_open()
        driver = self._driver
        request_id = driver.next_request_id()
        data = encode_request(request_id, request)
        if len(data) > self._max_request_bytes:
            raise RequestTooLargeError()
        return await driver.propose(request_id, data)

    # =============================================================================================
    # The replicated state machine (raft_driver.StateMachine): deterministic, the same on replay
    # and on every member

    def apply_entry(self, entry, now: float) -> tuple[int, Any]:
        """Apply one committed entry: (request id, the result or the StoreError it earned)."""
        self._applied_index = entry.index
        data = entry.data
        if not data:
            return 0, None  # an empty entry (a new Raft leader's first) changes nothing
        try:
            request_id, request = decode_request(data)
        except StoreError as exc:
            return 0, exc
        try:
            return request_id, self._apply_request(request, now)
        except StoreError as exc:
            return request_id, exc

    def apply_conf_change(self, index: int, cc: ConfChange, conf_state: ConfState) -> int:
        self._applied_index = index
        record, request_id = parse_conf_change_context(cc.context)
        self.membership.apply_conf_change(cc.node_id, record, conf_state.voters,
                                          conf_state.learners)
        if self._driver is not None and self._driver.removed:
            self._removed_event.set()
        return request_id

    def applied_batch_done(self) -> None:
        self._hub.notify(self._mvcc.take_events())
        if self._driver is not None and self._driver.removed:
            self._removed_event.set()

    def snapshot_payload(self, index: int, term: int, conf_state: ConfState) -> bytes:
        return _encode_state(self._mvcc, self._lessor, self.membership, conf_state, index, term)

    def restore(self, payload: bytes, index: int, term: int) -> None:
        state = _decode_state(payload, time.monotonic())
        self._mvcc = state.mvcc
        self._lessor = state.lessor
        self.membership = state.membership
        self._applied_index = index
        self._hub.set_mvcc(state.mvcc)  # watchers re-read what they missed from the new history

    def on_leadership(self, is_leader: bool) -> None:
        if is_leader:
            # Every lease gets its full TTL from now: the old leader's clock is not ours.
            self._lessor.promote(time.monotonic())

    def peer_urls(self) -> dict[int, list[str]]:
        return self.membership.peer_urls()

    def _apply_request(self, request: Request, now: float):
        mvcc = self._mvcc
        kind = type(request)
        if kind is PutOp:
            if request.lease and not request.ignore_lease and request.lease not in self._lessor:
                raise LeaseNotFoundError()
            return mvcc.put(request.key, request.value, request.lease, request.prev_kv,
                            request.ignore_value, request.ignore_lease)
        if kind is DeleteOp:
            return mvcc.delete_range(request.key, request.range_end, request.prev_kv)
        if kind is TxnOp:
            self._check_txn_leases(request)
            return mvcc.txn(request.compare, request.success, request.failure)
        if kind is CompactRequest:
            mvcc.compact(request.revision)
            return mvcc.revision
        if kind is LeaseGrantRequest:
            self._lessor.grant(request.id, request.ttl, now)
            return request.id
        if kind is LeaseRevokeRequest:
            if request.id not in self._lessor:
                raise LeaseNotFoundError()
            keys = mvcc.lease_keys(request.id)
            self._lessor.revoke(request.id)
            if keys:  # all of the lease's keys go in one revision
                mvcc.txn([], [DeleteOp(k) for k in sorted(keys)], [])
            return mvcc.revision
        if kind is MemberAttributesRequest:
            self.membership.apply_attributes(request.member_id, request.attributes)
            if self._driver is not None and self._driver.transport is not None:
                self._driver.transport.set_peers(self.membership.peer_urls())
            return None
        raise InvalidRequestError(f"etcdserver: unknown request {kind.__name__}")

    def _check_txn_leases(self, op: TxnOp) -> None:
        # etcd checks the branch that runs; we check both so a txn never half-applies. A put
        # naming a lease that does not exist fails the whole txn before any write.
        for branch in (op.success, op.failure):
            for sub in branch:
                if type(sub) is PutOp:
                    if sub.lease and not sub.ignore_lease and sub.lease not in self._lessor:
                        raise LeaseNotFoundError()
                elif type(sub) is TxnOp:
                    self._check_txn_leases(sub)


# =================================================================================================
# Helpers


def _check_key(key: bytes) -> None:
    if not isinstance(key, (bytes, bytearray)):
        raise InvalidRequestError("etcdserver: key must be bytes")
    if not key:
        raise InvalidRequestError("etcdserver: key is not provided")


def _check_txn(op: TxnOp) -> None:
    """etcd's API-level checks: keys present; no key written twice in one branch."""
    for c in op.compare:
        _check_key(c.key)
    for branch in (op.success, op.failure):
        written: set[bytes] = set()
        for sub in branch:
            t = type(sub)
            if t is TxnOp:
                _check_txn(sub)
            elif t in (PutOp, DeleteOp, RangeOp):
                _check_key(sub.key)
                if t is PutOp:
                    if sub.key in written:
                        raise InvalidRequestError("etcdserver: duplicate key given in txn request")
                    written.add(sub.key)
            else:
                raise InvalidRequestError("etcdserver: invalid operation in txn")


def _txn_is_read_only(op: TxnOp) -> bool:
    for branch in (op.success, op.failure):
        for sub in branch:
            t = type(sub)
            if t is TxnOp:
                if not _txn_is_read_only(sub):
                    return False
            elif t is not RangeOp:
                return False
    return True


_LEGACY_STATE_HEAD = struct.Struct("<8sQQII")     # magic, index, term, mvcc len, lease len
_STATE_HEAD = struct.Struct("<8sQQIIIHH")         # ... + member table len, voters, learners
_LEASE_ID = struct.Struct("<q")
_LEASE_TTL = struct.Struct("<qq")


def _encode_state(mvcc: MVCC, lessor: Lessor, membership: Membership, conf_state: ConfState,
                  index: int, term: int) -> bytes:
    """The whole replicated state at `index`: MVCC, leases, the member table and Raft's
    ConfState (a snapshot must carry the membership it was taken under)."""
    mvcc_bytes = mvcc.dump()
    lease_bytes = lessor.dump()
    member_bytes = membership.encode()
    voters, learners = conf_state.voters, conf_state.learners
    return (_STATE_HEAD.pack(SNAPSHOT_MAGIC, index, term, len(mvcc_bytes), len(lease_bytes),
                             len(member_bytes), len(voters), len(learners))
            + mvcc_bytes + lease_bytes + member_bytes
            + struct.pack("<%dq%dq" % (len(voters), len(learners)), *voters, *learners))


def _decode_state(payload: bytes, now: float) -> _State:
    magic = payload[:8]
    if magic == LEGACY_SNAPSHOT_MAGIC:
        head, members_len, n_voters, n_learners = _LEGACY_STATE_HEAD, 0, 0, 0
        try:
            _, _index, _term, mvcc_len, lease_len = head.unpack_from(payload, 0)
        except struct.error:
            raise StoreError("snapshot: truncated header") from None
    elif magic == SNAPSHOT_MAGIC:
        head = _STATE_HEAD
        try:
            (_, _index, _term, mvcc_len, lease_len, members_len, n_voters,
             n_learners) = head.unpack_from(payload, 0)
        except struct.error:
            raise StoreError("snapshot: truncated header") from None
    else:
        raise StoreError("snapshot: not a kplane snapshot, or truncated")
    ids_len = 8 * (n_voters + n_learners)
    if len(payload) != head.size + mvcc_len + lease_len + members_len + ids_len:
        raise StoreError("snapshot: not a kplane snapshot, or truncated")
    pos = head.size
    mvcc = MVCC.load(payload[pos:pos + mvcc_len])
    pos += mvcc_len
    lessor = Lessor()
    lessor.load(payload[pos:pos + lease_len], now)
    pos += lease_len
    membership = Membership.decode(payload[pos:pos + members_len])
    pos += members_len
    ids = struct.unpack_from("<%dq" % (n_voters + n_learners), payload, pos)
    return _State(mvcc, lessor, membership, ConfState(ids[:n_voters], ids[n_voters:]))


def _read_snapshot_file(path: Path, require_digest: bool = True) -> bytes:
    """The state payload of a snapshot file: etcd's format (a bbolt database), or the
    KPSNAP payload + SHA-256 that older versions wrote."""
    data = path.read_bytes()
    if etcd_snapshot.is_etcd_snapshot(data):
        state = etcd_snapshot.decode_snapshot(data, 0.0, require_digest)
        # The member table stays behind, as etcdutl trims it: a restore founds a new cluster,
        # and etcd's 64-bit member ids do not fit the Raft core's int64 ones anyway.
        return _encode_state(state.mvcc, state.lessor, Membership(), ConfState(()),
                             state.index, state.term)
    payload, digest = data[:-32], data[-32:]
    if len(data) < 32 or hashlib.sha256(payload).digest() != digest:
        raise StoreError(f"snapshot file {path}: checksum mismatch (truncated or corrupt)")
    return payload


def _write_file_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)
    finally:
        os.close(dir_fd)


_IDENTITY = struct.Struct("<QQ")


async def _resolve_identity(member_dir: Path, cluster: ClusterConfig | None, fresh: bool,
                            ) -> tuple[int, int, list[MemberRecord]]:
    """(member id, cluster id, founding members to bootstrap the log with, if any).

    A data dir that has an identity keeps it. A new one: a store of one picks random ids; a
    member of a new cluster computes them as etcd does from --initial-cluster; a member joining
    an existing cluster asks the peers named there for the member list and finds itself in it
    by its peer URLs (its id was chosen by MemberAdd)."""
    path = member_dir / "identity"
    has_identity = path.exists() and path.stat().st_size == _IDENTITY.size
    if cluster is None:
        member_id, cluster_id = await asyncio.to_thread(_load_identity, member_dir)
        founders = [MemberRecord(member_id, "default")] if fresh else []
        return member_id, cluster_id, founders
    if has_identity:
        member_id, cluster_id = _IDENTITY.unpack(path.read_bytes())
        founders = cluster.initial_records() if fresh and cluster.state == "new" else []
        return member_id, cluster_id, founders
    if cluster.state == "new":
        founders = cluster.initial_records()
        member_id = cluster.own_id()
        cluster_id = cluster_id_for(r.id for r in founders)
    else:
        member_id, cluster_id = await _join_existing(cluster)
        founders = []
    await asyncio.to_thread(_write_file_atomic, path, _IDENTITY.pack(member_id, cluster_id))
    return member_id, cluster_id, founders


async def _join_existing(cluster: ClusterConfig) -> tuple[int, int]:
    own = set(cluster.advertise_peer_urls)
    members, cluster_id = await _fetch_members(cluster, with_cluster_id=True)
    for m in members:
        if own & set(m.peer_urls):
            return m.id, cluster_id
    raise StoreError(f"etcdserver: member with peer URLs {sorted(own)} is not in the cluster; "
                     "add it first (etcdctl member add)")


async def _fetch_members(cluster: ClusterConfig, with_cluster_id: bool = False):
    """The member list, asked of the other members named in --initial-cluster (etcd's
    GetClusterFromRemotePeers), retried for about ten seconds."""
    own = set(cluster.advertise_peer_urls)
    urls = [u for name, peer_urls in cluster.initial_cluster.items()
            for u in peer_urls if u not in own]
    if not urls:
        raise StoreError("etcdserver: --initial-cluster-state existing needs the other members "
                         "in --initial-cluster")
    errors = ["no answer"]
    for _ in range(50):
        for url in urls:
            try:
                answer = orjson.loads(await PeerTransport.call_url(url, "members"))
            except (PeerCallError, ValueError) as exc:
                errors.append(str(exc))
                continue
            members = [MemberRecord.from_dict(m) for m in answer["members"]]
            return (members, int(answer["cluster"])) if with_cluster_id else members
        await asyncio.sleep(0.2)
    raise StoreError(f"etcdserver: cannot fetch the cluster's members from {urls}: {errors[-1]}")


def _load_identity(member_dir: Path) -> tuple[int, int]:
    """The member and cluster ids, chosen once at creation and kept (etcd keeps them in WAL metadata)."""
    member_dir.mkdir(parents=True, exist_ok=True)
    path = member_dir / "identity"
    if path.exists():
        data = path.read_bytes()
        if len(data) == _IDENTITY.size:
            return _IDENTITY.unpack(data)
        log.warning("%s is damaged; choosing new member and cluster ids", path)
    ids = (random.getrandbits(63) | 1, random.getrandbits(63) | 1)
    _write_file_atomic(path, _IDENTITY.pack(*ids))
    return ids
