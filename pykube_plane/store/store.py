"""The embedded store: `KV` over the compiled MVCC core, with a WAL, snapshots, leases and watch.

    store = await Store.open("data")           # creates or recovers
    rev = await store.put(b"/a", b"1")         # returns the new revision once durable
    res = await store.range(b"/a")             # res.kvs[0].value == b"1"; res.revision; res.count
    await store.close()

This module is the store's face: etcd's KV, Watch, Lease, Cluster and Maintenance calls. The write
path goes through Raft, on one member or several (store/raft_driver.py keeps the order):

1. A write request is encoded (store/requests.py, with a request id) and proposed; its caller
   awaits a future.
2. The driver hands every queued request to the Raft node at once; the entries are saved to the
   WAL with one fsync (group commit: concurrent writers share the fsync) and replicated.
3. Only once committed are they applied (store/state_machine.py), in log order, on every member;
   the proposer's future resolves with the result. Applying first would let a reader see a write
   that a crash could still lose.
4. The applied revisions' events go to the watch hub, which never blocks.

A store opened without a ClusterConfig is a cluster of one (the embedded store): its node campaigns
at once, commits on its own fsync and serves linearizable reads locally. With several members,
linearizable reads wait for a ReadIndex round; serializable ones are local. The member table
(store/membership.py) is part of the replicated state, and so is in every snapshot.

Opening (recovery from the data dir, joining the peers) is store/boot.py; which member and cluster
a data dir belongs to, store/identity.py. Lease expiry is decided by the leader's clock and logged
as a revoke, so replay never depends on time; keepalives sent to a follower are forwarded to the
leader.
"""
from __future__ import annotations

import asyncio
import logging
import os
import random
import struct
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import orjson

from pykube_plane._raft import (
    CONF_CHANGE_ADD_LEARNER_NODE, CONF_CHANGE_ADD_NODE, CONF_CHANGE_REMOVE_NODE, ConfChange,
)

from . import boot, etcd_snapshot, saved_snapshot
from .durable_file import write_file_atomic
from .identity import members_answer
from .kv import (
    Compare, DeleteOp, DeleteResult, InvalidRequestError, LeaseGrant, LeaseNotFoundError,
    LeaseStatus, Op, PutOp, RangeResult, RequestTooLargeError, StoreClosedError,
    StoreError, TxnOp, TxnResult,
)
from .lease import Lessor
from .membership import ClusterConfig, MemberRecord, Membership, conf_change_context, member_id_for
from .raft_driver import NoLeaderError, RaftDriver
from .requests import (
    DEFAULT_MAX_REQUEST_BYTES, CompactRequest, LeaseGrantRequest, LeaseRevokeRequest,
    MemberAttributesRequest, Request, check_key, check_txn, encode_request, txn_is_read_only,
)
from .state_machine import StoreStateMachine
from .transport import PeerCallError, PeerTransport
from .wal import WAL
from .watch import StoreWatch

log = logging.getLogger("pykube_plane.store")

DEFAULT_SNAPSHOT_COUNT = 10_000              # applied entries between snapshots (etcd: 100,000)
LEASE_CHECK_INTERVAL = 0.5                   # seconds between expiry checks (etcd: 500 ms)
_LEASE_ID = struct.Struct("<q")
_LEASE_TTL = struct.Struct("<qq")


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


class Store:
    """The embedded etcd-style store. Implements `KV`; see the module docstring for the write path."""

    def __init__(self, data_dir: Path, member: boot.RecoveredMember, *, max_request_bytes: int,
                 progress_interval: float, name: str = "default") -> None:
        self.data_dir = data_dir
        self.member_id = member.member_id
        self.cluster_id = member.cluster_id
        self.name = name
        self._wal: WAL = member.wal
        self._sm: StoreStateMachine = member.machine
        self._driver: RaftDriver = member.driver
        self._max_request_bytes = max_request_bytes
        self._progress_interval = progress_interval
        self._closed = False
        self._tasks: list[asyncio.Task] = []
        self.transport: PeerTransport | None = None
        self._removed_event = asyncio.Event()
        self._sm.after_apply = self._note_removal
        self._sm.after_peer_urls_changed = self._update_peers
        self._note_removal()  # the replayed log may already have removed this member

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
        member = await boot.recover(data_dir, fsync=fsync, snapshot_count=snapshot_count,
                                    cluster=cluster, request_timeout=request_timeout,
                                    catch_up_entries=catch_up_entries)
        store = cls(data_dir, member, max_request_bytes=max_request_bytes,
                    progress_interval=progress_interval,
                    name=cluster.name if cluster is not None else "default")
        store.transport = await boot.start(member, cluster, store._on_peer_call)
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
        self._sm.hub.close()
        await self._wal.close()

    async def __aenter__(self) -> "Store":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    @property
    def membership(self) -> Membership:
        """The replicated member table as this member has applied it."""
        return self._sm.membership

    @property
    def wal_stats(self) -> dict:
        """The WAL's counters (fsyncs, bytes written, ...), for reports and benchmarks."""
        return dict(self._wal.stats)

    # =============================================================================================
    # KV: reads (served from applied state)

    async def range(self, key: bytes, range_end: bytes = b"", *, revision: int = 0, limit: int = 0,
                    count_only: bool = False, keys_only: bool = False,
                    serializable: bool = False) -> RangeResult:
        """etcd KV.Range. Linearizable unless `serializable` (then: this member's applied state)."""
        self._check_open()
        check_key(key)
        if not serializable and not self._driver.local_reads:
            await self._driver.read_barrier()
        return self._sm.mvcc.range(key, range_end, revision, limit, count_only, keys_only)

    @property
    def revision(self) -> int:
        return self._sm.mvcc.revision

    @property
    def compact_revision(self) -> int:
        return self._sm.mvcc.compact_revision

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
        check_key(key)
        result = await self._propose(PutOp(key, value, lease))
        return result.revision

    async def put_op(self, op: PutOp):
        """etcd KV.Put with every option (prev_kv, ignore_value, ignore_lease): a PutResult."""
        check_key(op.key)
        if op.ignore_value and op.value:
            raise InvalidRequestError("etcdserver: value is provided")
        if op.ignore_lease and op.lease:
            raise InvalidRequestError("etcdserver: lease is provided")
        return await self._propose(op)

    async def delete_range(self, key: bytes, range_end: bytes = b"", *,
                           prev_kv: bool = False) -> DeleteResult:
        """etcd KV.DeleteRange."""
        check_key(key)
        return await self._propose(DeleteOp(key, range_end, prev_kv))

    async def txn(self, compare: Sequence[Compare], success: Sequence[Op],
                  failure: Sequence[Op] = ()) -> TxnResult:
        """etcd KV.Txn: compares then one branch, as one revision (none if it only reads)."""
        op = TxnOp(list(compare), list(success), list(failure))
        check_txn(op)
        if txn_is_read_only(op):
            # No write in either branch: no need to log it (etcd serves these without consensus too).
            self._check_open()
            if not self._driver.local_reads:
                await self._driver.read_barrier()
            return self._sm.mvcc.txn(op.compare, op.success, op.failure)
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
        check_key(key)
        return self._sm.hub.create(key, range_end, start_revision, prev_kv, progress_notify, filters)

    def request_progress(self) -> None:
        """etcd WatchProgressRequest for every watcher of this store (used by the gRPC layer)."""
        self._sm.hub.progress_all()

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
        if id not in self._sm.lessor:
            raise LeaseNotFoundError()
        return await self._propose(LeaseRevokeRequest(id))

    async def lease_keepalive(self, id: int) -> int:
        """etcd Lease.LeaseKeepAlive (one round): the renewed TTL. Not logged, like etcd; on a
        follower it is forwarded to the leader, whose clock decides expiry."""
        self._check_open()
        if self._driver.is_leader:
            return self._sm.lessor.renew(id, time.monotonic())
        result = await self._call_leader("lease_renew", _LEASE_ID.pack(id))
        return _LEASE_ID.unpack(result)[0]

    async def lease_time_to_live(self, id: int, keys: bool = False) -> LeaseStatus:
        """etcd Lease.LeaseTimeToLive; an unknown lease reports ttl -1."""
        self._check_open()
        try:
            if self._driver.is_leader:
                remaining, granted = self._sm.lessor.remaining(id, time.monotonic())
            else:
                result = await self._call_leader("lease_ttl", _LEASE_ID.pack(id))
                remaining, granted = _LEASE_TTL.unpack(result)
        except LeaseNotFoundError:
            return LeaseStatus(id, -1, 0, [])
        attached = sorted(self._sm.mvcc.lease_keys(id)) if keys else []
        return LeaseStatus(id, remaining, granted, attached)

    async def leases(self) -> list[int]:
        """etcd Lease.LeaseLeases."""
        self._check_open()
        return self._sm.lessor.ids()

    def _new_lease_id(self) -> int:
        while True:
            lease_id = random.getrandbits(62) | 1
            if lease_id not in self._sm.lessor:
                return lease_id

    async def _lease_loop(self) -> None:
        while True:
            await asyncio.sleep(LEASE_CHECK_INTERVAL)
            if not self._driver.is_leader:
                continue  # only the leader's lessor expires leases (etcd demotes the others)
            expired = self._sm.lessor.expired(time.monotonic())
            for lease_id in expired:
                try:
                    await self._propose(LeaseRevokeRequest(lease_id))
                except LeaseNotFoundError:
                    pass  # revoked meanwhile
                except StoreClosedError:
                    return
                except StoreError as exc:
                    log.warning("lease %x expiry failed, retrying: %s", lease_id, exc)
                    self._sm.lessor.requeue(lease_id)

    async def _progress_loop(self) -> None:
        while True:
            await asyncio.sleep(self._progress_interval)
            self._sm.hub.progress_all()

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
            return members_answer(self.cluster_id, self._sm.membership.sorted())
        if method in ("lease_renew", "lease_ttl"):
            if not self._driver.is_leader:
                raise NotLeaderError()
            (lease_id,) = _LEASE_ID.unpack(args)
            now = time.monotonic()
            if method == "lease_renew":
                return _LEASE_ID.pack(self._sm.lessor.renew(lease_id, now))
            return _LEASE_TTL.pack(*self._sm.lessor.remaining(lease_id, now))
        raise StoreError(f"etcdserver: unknown peer call {method!r}")

    # =============================================================================================
    # Membership (etcd's Cluster service)

    def members(self) -> list[MemberRecord]:
        return self._sm.membership.sorted()

    async def publish(self, name: str, client_urls: list[str]) -> None:
        """Record this member's name and client URLs in the replicated member table (etcd's
        publish), retrying until it commits or the store closes."""
        self.name = name
        while not self._closed and not self.removed:
            me = self._sm.membership.get(self.member_id)
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
        if self._sm.membership.find_by_peer_urls(peer_urls) is not None:
            raise PeerURLExistsError()
        member_id = member_id_for(peer_urls, str(self.cluster_id), time.time_ns())
        record = MemberRecord(member_id, "", list(peer_urls), [], is_learner)
        kind = CONF_CHANGE_ADD_LEARNER_NODE if is_learner else CONF_CHANGE_ADD_NODE
        await self._conf_change(kind, member_id, record)
        return self._sm.membership.get(member_id) or record

    async def member_remove(self, member_id: int) -> None:
        self._check_capable()
        if member_id not in self._sm.membership:
            raise MemberNotFoundError()
        await self._conf_change(CONF_CHANGE_REMOVE_NODE, member_id, None)

    async def member_promote(self, member_id: int) -> None:
        self._check_capable()
        m = self._sm.membership.get(member_id)
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
        if member_id not in self._sm.membership:
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
        stats = self._sm.mvcc.stats()
        size = int(stats.get("bytes", 0))
        node = self._driver.node
        return StoreStatus(
            member_id=self.member_id, cluster_id=self.cluster_id, leader=node.lead,
            revision=self._sm.mvcc.revision, compact_revision=self._sm.mvcc.compact_revision,
            raft_index=node.commit, raft_applied_index=self._sm.applied_index,
            raft_term=node.term, db_size=size, db_size_in_use=size,
            keys=int(stats.get("keys", 0)), is_learner=self.member_id in node.learners)

    def hash_kv(self, revision: int = 0) -> tuple[int, int]:
        """etcd Maintenance.HashKV: (hash, compact_revision)."""
        return self._sm.mvcc.hash_kv(revision)

    def snapshot_bytes(self) -> bytes:
        """A consistent snapshot of the applied state in etcd's format (store/etcd_snapshot.py):
        a bbolt database and its SHA-256, as etcd streams it and `etcdutl` restores it."""
        return etcd_snapshot.render(self._snapshot_capture())

    async def snapshot_file_bytes(self) -> bytes:
        """`snapshot_bytes`, the state captured now and rendered off the event loop."""
        return await asyncio.to_thread(etcd_snapshot.render, self._snapshot_capture())

    def _snapshot_capture(self) -> etcd_snapshot.Capture:
        sm = self._sm
        return etcd_snapshot.capture(sm.mvcc, sm.lessor, sm.membership, self._driver.node.conf_state,
                                     sm.applied_index, self.term)

    async def snapshot_save(self, path: str | os.PathLike) -> int:
        """etcdctl snapshot save: write a snapshot file atomically; returns its revision."""
        revision = self._sm.mvcc.revision
        data = await self.snapshot_file_bytes()
        await asyncio.to_thread(write_file_atomic, Path(path), data)
        return revision

    snapshot_status = staticmethod(saved_snapshot.status)
    snapshot_restore = staticmethod(saved_snapshot.restore)

    # =============================================================================================
    # The commit path

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError()
        broken = self._driver.broken
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

    # Hooks of the state machine (see StoreStateMachine)

    def _note_removal(self) -> None:
        if self._driver.removed:
            self._removed_event.set()

    def _update_peers(self) -> None:
        if self._driver.transport is not None:
            self._driver.transport.set_peers(self._sm.membership.peer_urls())
