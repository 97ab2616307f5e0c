"""The embedded store: `KV` over the compiled MVCC core, with a WAL, snapshots, leases and watch.

    store = await Store.open("data")           # creates or recovers
    rev = await store.put(b"/a", b"1")         # returns the new revision once durable
    res = await store.range(b"/a")             # res.kvs[0].value == b"1"; res.revision; res.count
    await store.close()

The write path, and why it is ordered so (the same contract the Raft driver keeps):

1. A write request is encoded (store/requests.py) and queued; its caller awaits a future.
2. The committer takes every queued request at once, gives them consecutive log indexes and saves
   them to the WAL with one fsync (group commit: concurrent writers share the fsync).
3. Only once durable are they applied to MVCC, in log order; results resolve the futures.
   Applying first would let a reader see a write that a crash could still lose.
4. The applied revisions' events go to the watch hub, which never blocks.

Reads are served from the applied MVCC state (single member: every applied write is committed).
Restart = newest valid snapshot + replay of the WAL entries after it. Lease expiry is decided by
this process's clock and logged as a revoke, so replay never depends on time.

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

from pykube_plane._mvcc import MVCC, WatchIndex

from . import snapfile
from .kv import (
    Compare, DeleteOp, DeleteResult, InvalidRequestError, LeaseGrant, LeaseNotFoundError,
    LeaseStatus, Op, PutOp, RangeOp, RangeResult, RequestTooLargeError, StoreClosedError,
    StoreError, TxnOp, TxnResult,
)
from .lease import Lessor
from .requests import (
    CompactRequest, LeaseGrantRequest, LeaseRevokeRequest, Request, decode_request,
    encode_request,
)
from .wal import WAL, Entry, HardState, SnapshotMark
from .watch import StoreWatch, WatchHub

log = logging.getLogger("pykube_plane.store")

DEFAULT_MAX_REQUEST_BYTES = 1536 * 1024      # etcd's --max-request-bytes default (1.5 MiB)
DEFAULT_SNAPSHOT_COUNT = 10_000              # applied entries between snapshots (etcd: 100,000)
LEASE_CHECK_INTERVAL = 0.5                   # seconds between expiry checks (etcd: 500 ms)
SNAPSHOT_MAGIC = b"KPSNAP1\n"


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


@dataclass(slots=True)
class _Proposal:
    request_id: int
    data: bytes
    future: asyncio.Future


class Store:
    """The embedded etcd-style store. Implements `KV`; see the module docstring for the write path."""

    def __init__(self, data_dir: Path, wal: WAL, mvcc: MVCC, lessor: Lessor, *,
                 member_id: int, cluster_id: int, applied_index: int, term: int,
                 snapshot_index: int, snapshot_count: int, max_request_bytes: int,
                 progress_interval: float) -> None:
        self.data_dir = data_dir
        self.member_id = member_id
        self.cluster_id = cluster_id
        self._wal = wal
        self._mvcc = mvcc
        self._lessor = lessor
        self._watch_index = WatchIndex()
        self._hub = WatchHub(mvcc, self._watch_index)
        self._term = term
        self._applied_index = applied_index
        self._last_index = applied_index
        self._snapshot_index = snapshot_index
        self._snapshot_count = snapshot_count
        self._max_request_bytes = max_request_bytes
        self._progress_interval = progress_interval
        self._pending: list[_Proposal] = []
        self._have_pending = asyncio.Event()
        self._next_request_id = random.getrandbits(48) << 8
        self._waiters: dict[int, asyncio.Future] = {}
        self._closed = False
        self._broken: BaseException | None = None
        self._tasks: list[asyncio.Task] = []
        self._snapshotting = False

    # =============================================================================================
    # Opening and closing

    @classmethod
    async def open(cls, data_dir: str | os.PathLike, *, fsync: bool = True,
                   snapshot_count: int = DEFAULT_SNAPSHOT_COUNT,
                   max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                   progress_interval: float = 600.0) -> "Store":
        """Create the store in `data_dir`, or recover it: newest snapshot + WAL replay."""
        data_dir = Path(data_dir)
        member_dir = data_dir / "member"
        snap_dir = member_dir / "snap"
        snap_dir.mkdir(parents=True, exist_ok=True)
        member_id, cluster_id = await asyncio.to_thread(_load_identity, member_dir)
        now = time.monotonic()

        mvcc, lessor = MVCC(), Lessor()
        applied_index = term = snapshot_index = 0
        found = await asyncio.to_thread(snapfile.read_latest_snapshot, snap_dir)
        if found is not None:
            snapshot_index, term, payload = found
            mvcc, lessor = _decode_state(payload, now)
            applied_index = snapshot_index

        wal = await WAL.open(member_dir / "wal", fsync=fsync)
        hard_state, entries, mark = wal.read_all(after_index=snapshot_index)
        wal_last = entries[-1].index if entries else (mark.index if mark else 0)
        if wal_last < snapshot_index:
            # A snapshot newer than the whole log (a restored data dir): the log goes on after it.
            await wal.save_snapshot_mark(SnapshotMark(snapshot_index, term or 1))
        term = max(term, hard_state.term, 1)
        store = cls(data_dir, wal, mvcc, lessor, member_id=member_id, cluster_id=cluster_id,
                    applied_index=applied_index, term=term, snapshot_index=snapshot_index,
                    snapshot_count=snapshot_count, max_request_bytes=max_request_bytes,
                    progress_interval=progress_interval)
        replayed = 0
        for entry in entries:
            if entry.index <= store._applied_index:
                continue
            store._apply_entry(entry, now)
            replayed += 1
        store._last_index = store._applied_index
        mvcc.take_events()  # replayed history is not news to anyone
        lessor.promote(now)
        if found is not None or replayed:
            log.info("recovered %s: snapshot at index %d, %d WAL entries replayed, revision %d",
                     data_dir, snapshot_index, replayed, mvcc.revision)
        store._start()
        return store

    def _start(self) -> None:
        loop = asyncio.get_running_loop()
        self._tasks = [
            loop.create_task(self._commit_loop(), name="store-commit"),
            loop.create_task(self._lease_loop(), name="store-lease-expiry"),
            loop.create_task(self._progress_loop(), name="store-watch-progress"),
        ]

    async def close(self) -> None:
        """Stop accepting writes, finish the ones queued, end every watch, close the WAL."""
        if self._closed:
            return
        self._closed = True
        self._have_pending.set()
        commit_task, *others = self._tasks
        for task in others:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
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
        """etcd KV.Range. Linearizable on a single member: every applied write is committed."""
        self._check_open()
        _check_key(key)
        return self._mvcc.range(key, range_end, revision, limit, count_only, keys_only)

    def range_now(self, key: bytes, range_end: bytes = b"", *, revision: int = 0, limit: int = 0,
                  count_only: bool = False, keys_only: bool = False) -> RangeResult:
        """Synchronous read for in-process callers on the loop thread (no await, same result)."""
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
        return self._term

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
        """etcd Lease.LeaseKeepAlive (one round): the renewed TTL. Not logged, like etcd."""
        self._check_open()
        return self._lessor.renew(id, time.monotonic())

    async def lease_time_to_live(self, id: int, keys: bool = False) -> LeaseStatus:
        """etcd Lease.LeaseTimeToLive; an unknown lease reports ttl -1."""
        self._check_open()
        try:
            remaining, granted = self._lessor.remaining(id, time.monotonic())
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
    # Maintenance

    def status(self) -> StoreStatus:
        stats = self._mvcc.stats()
        size = int(stats.get("bytes", 0))
        return StoreStatus(
            member_id=self.member_id, cluster_id=self.cluster_id, leader=self.member_id,
            revision=self._mvcc.revision, compact_revision=self._mvcc.compact_revision,
            raft_index=self._last_index, raft_applied_index=self._applied_index,
            raft_term=self._term, db_size=size, db_size_in_use=size,
            keys=int(stats.get("keys", 0)))

    def hash_kv(self, revision: int = 0) -> tuple[int, int]:
        """etcd Maintenance.HashKV: (hash, compact_revision)."""
        return self._mvcc.hash_kv(revision)

    def snapshot_bytes(self) -> bytes:
        """A consistent snapshot of the applied state, as `snapshot_save` writes it:
        the state payload followed by its SHA-256 (so a truncated copy is detected on restore)."""
        payload = _encode_state(self._mvcc, self._lessor, self._applied_index, self._term)
        return payload + hashlib.sha256(payload).digest()

    async def snapshot_chunks(self, chunk_size: int = 1 << 20) -> AsyncIterator[bytes]:
        """Maintenance.Snapshot as a stream of chunks (state captured at the call)."""
        data = self.snapshot_bytes()
        for pos in range(0, len(data), chunk_size):
            yield data[pos:pos + chunk_size]
            await asyncio.sleep(0)

    async def snapshot_save(self, path: str | os.PathLike) -> int:
        """etcdctl snapshot save: write a snapshot file atomically; returns its revision."""
        data = self.snapshot_bytes()
        revision = self._mvcc.revision
        await asyncio.to_thread(_write_file_atomic, Path(path), data)
        return revision

    @staticmethod
    def snapshot_status(path: str | os.PathLike) -> dict:
        """etcdutl snapshot status: hash, revision, total keys, size."""
        payload = _read_snapshot_file(Path(path))
        mvcc, _lessor = _decode_state(payload, time.monotonic())
        hash_value, _ = mvcc.hash_kv(0)
        return {"hash": hash_value, "revision": mvcc.revision,
                "totalKey": int(mvcc.stats().get("keys", 0)), "totalSize": len(payload)}

    @staticmethod
    def snapshot_restore(path: str | os.PathLike, data_dir: str | os.PathLike) -> None:
        """etcdutl snapshot restore: a new data dir (new member and cluster ids) holding the state."""
        payload = _read_snapshot_file(Path(path))
        data_dir = Path(data_dir)
        member_dir = data_dir / "member"
        if (member_dir / "wal").exists() and any((member_dir / "wal").iterdir()):
            raise StoreError(f"data-dir {data_dir} exists and is not empty")
        (member_dir / "snap").mkdir(parents=True, exist_ok=True)
        _decode_state(payload, 0.0)  # validate before writing anything
        snapfile.write_snapshot(member_dir / "snap", 1, 1, payload)
        _load_identity(member_dir)

    # =============================================================================================
    # The commit path

    def _check_open(self) -> None:
        if self._closed:
            raise StoreClosedError()
        if self._broken is not None:
            raise StoreError(f"etcdserver: store failed: {self._broken}")

    async def _propose(self, request: Request):
        self._check_open()
        request_id = self._next_request_id
        self._next_request_id += 1
        data = encode_request(request_id, request)
        if len(data) > self._max_request_bytes:
            raise RequestTooLargeError()
        future = asyncio.get_running_loop().create_future()
        self._pending.append(_Proposal(request_id, data, future))
        self._have_pending.set()
        return await future

    async def _commit_loop(self) -> None:
        while True:
            if not self._pending:
                if self._closed:
                    return
                await self._have_pending.wait()
                self._have_pending.clear()
                continue
            batch, self._pending = self._pending, []
            first = self._last_index + 1
            entries = [Entry(self._term, first + i, p.data) for i, p in enumerate(batch)]
            try:
                await self._wal.save(entries, HardState(self._term, self.member_id,
                                                        entries[-1].index))
            except BaseException as exc:  # the WAL is unusable: nothing more can be acknowledged
                self._broken = exc
                log.error("WAL write failed; store refuses writes from now on: %s", exc)
                for p in batch + self._pending:
                    if not p.future.done():
                        p.future.set_exception(StoreError(f"etcdserver: WAL write failed: {exc}"))
                self._pending = []
                if isinstance(exc, asyncio.CancelledError):
                    raise
                return
            self._last_index = entries[-1].index
            now = time.monotonic()
            for proposal, entry in zip(batch, entries):
                outcome = self._apply_entry(entry, now)
                if not proposal.future.done():
                    if isinstance(outcome, BaseException):
                        proposal.future.set_exception(outcome)
                    else:
                        proposal.future.set_result(outcome)
            self._hub.notify(self._mvcc.take_events())
            if self._applied_index - self._snapshot_index >= self._snapshot_count:
                await self._snapshot()

    # =============================================================================================
    # Apply: deterministic, the same on replay and (later) on every Raft member

    def _apply_entry(self, entry: Entry, now: float):
        """Apply one committed entry; returns the result, or the StoreError the request earned."""
        self._applied_index = entry.index
        if not entry.data:
            return None  # an empty entry (a new Raft leader's first) changes nothing
        try:
            _request_id, request = decode_request(entry.data)
            return self._apply_request(request, now)
        except StoreError as exc:
            return exc

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

    # =============================================================================================
    # Snapshots

    async def _snapshot(self) -> None:
        """Persist the applied state, mark it in the WAL, and release WAL segments it covers.

        Segments are released only up to the *previous* snapshot, so that if the newest snapshot
        file turns out unreadable, the older one plus the WAL still rebuild the state."""
        if self._snapshotting:
            return
        self._snapshotting = True
        try:
            index, term = self._applied_index, self._term
            payload = _encode_state(self._mvcc, self._lessor, index, term)
            snap_dir = self.data_dir / "member" / "snap"
            await asyncio.to_thread(snapfile.write_snapshot, snap_dir, index, term, payload)
            await self._wal.save_snapshot_mark(SnapshotMark(index, term))
            previous = self._snapshot_index
            self._snapshot_index = index
            if previous:
                await self._wal.release_before(previous)
            await asyncio.to_thread(snapfile.prune_snapshots, snap_dir, 2)
            log.info("snapshot at index %d (revision %d)", index, self._mvcc.revision)
        finally:
            self._snapshotting = False


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


_STATE_HEAD = struct.Struct("<8sQQII")


def _encode_state(mvcc: MVCC, lessor: Lessor, index: int, term: int) -> bytes:
    mvcc_bytes = mvcc.dump()
    lease_bytes = lessor.dump()
    return (_STATE_HEAD.pack(SNAPSHOT_MAGIC, index, term, len(mvcc_bytes), len(lease_bytes))
            + mvcc_bytes + lease_bytes)


def _decode_state(payload: bytes, now: float) -> tuple[MVCC, Lessor]:
    try:
        magic, _index, _term, mvcc_len, lease_len = _STATE_HEAD.unpack_from(payload, 0)
    except struct.error:
        raise StoreError("snapshot: truncated header") from None
    if magic != SNAPSHOT_MAGIC or len(payload) != _STATE_HEAD.size + mvcc_len + lease_len:
        raise StoreError("snapshot: not a kplane snapshot, or truncated")
    start = _STATE_HEAD.size
    mvcc = MVCC.load(payload[start:start + mvcc_len])
    lessor = Lessor()
    lessor.load(payload[start + mvcc_len:], now)
    return mvcc, lessor


def _read_snapshot_file(path: Path) -> bytes:
    data = path.read_bytes()
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
