"""Snapshot files in etcd's own format: the backend database (bbolt) followed by its SHA-256,
exactly what etcd's Maintenance.Snapshot streams and `etcdctl snapshot save` keeps, so that
`etcdutl snapshot status|restore` read ours and the store restores theirs.

    data = encode_snapshot(mvcc, lessor, membership, conf_state, index, term)
    data = await asyncio.to_thread(render, capture(...))     # the same, off the event loop
    mvcc, lessor, membership, conf_state, index, term = decode_snapshot(data, now)
"""
from __future__ import annotations

import hashlib
import logging
import struct
from typing import NamedTuple

import orjson
from crc32c import crc32c

from pykube_plane._mvcc import MVCC
from pykube_plane._raft import ConfState

from . import bbolt
from .etcd_backend import (
    BackendState, NotEtcdDatabaseError, build_mvcc_dump, from_buckets, parse_mvcc_dump,
    to_buckets,
)
from .kv import StoreError
from .lease import Lessor
from .membership import Membership, MemberRecord

log = logging.getLogger("pykube_plane.store.etcd_snapshot")

DIGEST_BYTES = 32
_BBOLT_MAGIC = struct.pack("<I", bbolt.format.MAGIC)
_META_MAGIC_AT = bbolt.format.PAGE_HEADER.size
_LEASE_COUNT = struct.Struct("<I")
_LEASE_RECORD = struct.Struct("<qq")


class SnapshotState(NamedTuple):
    mvcc: MVCC
    lessor: Lessor
    membership: Membership
    conf_state: ConfState
    index: int
    term: int


def is_etcd_snapshot(data: bytes) -> bool:
    """Does `data` start as a bbolt database does (meta page 0's magic)?"""
    return data[_META_MAGIC_AT:_META_MAGIC_AT + 4] == _BBOLT_MAGIC


def database_bytes(data: bytes, require_digest: bool = False) -> bytes:
    """The database inside a snapshot file, its SHA-256 checked when it has one (as etcdutl
    does: a file of 512 * n + 32 bytes ends with the digest). Restoring requires the digest,
    as `etcdutl snapshot restore` does without --skip-hash-check."""
    if len(data) % 512 != DIGEST_BYTES:
        if require_digest:
            raise StoreError("snapshot missing hash but --skip-hash-check=false (the file does "
                             "not end with its sha256 checksum: truncated?)")
        return data
    db, digest = data[:-DIGEST_BYTES], data[-DIGEST_BYTES:]
    if hashlib.sha256(db).digest() != digest:
        raise StoreError("snapshot: sha256 mismatch (the file is truncated or corrupt)")
    return db


def _member_json(record: MemberRecord) -> dict:
    """A member as etcd's membership store keeps it (json tags with omitempty)."""
    out: dict = {"id": record.id, "peerURLs": list(record.peer_urls)}
    if record.is_learner:
        out["isLearner"] = True
    if record.name:
        out["name"] = record.name
    if record.client_urls:
        out["clientURLs"] = list(record.client_urls)
    return out


class Capture(NamedTuple):
    """The state at one instant, in cheap copies (the compiled dumps); rendering it into a
    database is the slow part and may run in a thread while the store goes on."""
    mvcc_dump: bytes
    lease_dump: bytes
    members: list[dict]
    removed: list[int]
    voters: list[int]
    learners: list[int]
    index: int
    term: int


def capture(mvcc: MVCC, lessor: Lessor, membership: Membership, conf_state: ConfState,
            index: int, term: int) -> Capture:
    return Capture(mvcc.dump(), lessor.dump(), [_member_json(m) for m in membership.sorted()],
                   sorted(membership.removed), sorted(conf_state.voters),
                   sorted(conf_state.learners), index, term)


def render(snap: Capture) -> bytes:
    """The snapshot file: database + SHA-256."""
    revision, compact_revision, keys = parse_mvcc_dump(snap.mvcc_dump)
    (n_leases,) = _LEASE_COUNT.unpack_from(snap.lease_dump)
    leases = sorted(_LEASE_RECORD.unpack_from(snap.lease_dump,
                                              _LEASE_COUNT.size + i * _LEASE_RECORD.size)
                    for i in range(n_leases))
    state = BackendState(
        revision=revision, compact_revision=compact_revision, keys=keys, leases=leases,
        members=snap.members, removed=snap.removed, voters=snap.voters, learners=snap.learners,
        consistent_index=snap.index, term=snap.term)
    db = bbolt.write_db(to_buckets(state))
    return db + hashlib.sha256(db).digest()


def encode_snapshot(mvcc: MVCC, lessor: Lessor, membership: Membership, conf_state: ConfState,
                    index: int, term: int) -> bytes:
    return render(capture(mvcc, lessor, membership, conf_state, index, term))


def decode_state(data: bytes, require_digest: bool = False) -> BackendState:
    try:
        return from_buckets(bbolt.read_db(database_bytes(data, require_digest)))
    except bbolt.BboltError as exc:
        if len(data) % 512 != DIGEST_BYTES:
            raise NotEtcdDatabaseError(f"snapshot: {exc}; the file ends without its sha256 "
                                       "checksum (truncated?)") from None
        raise NotEtcdDatabaseError(f"snapshot: {exc}") from None


def decode_snapshot(data: bytes, now: float, require_digest: bool = True) -> SnapshotState:
    try:
        return _decode_snapshot(data, now, require_digest)
    except StoreError:
        raise
    except (ValueError, KeyError, TypeError, struct.error) as exc:  # e.g. a member's JSON
        raise NotEtcdDatabaseError(f"snapshot: damaged etcd database: {exc}") from None


def _decode_snapshot(data: bytes, now: float, require_digest: bool) -> SnapshotState:
    state = decode_state(data, require_digest)
    if state.not_carried:
        log.warning("snapshot: not restored (this store has no auth or persisted alarms yet): %s",
                    ", ".join(state.not_carried))
    mvcc = MVCC.load(build_mvcc_dump(state.revision, state.compact_revision, state.keys))
    if state.scheduled_compact_revision:
        mvcc.compact(state.scheduled_compact_revision)  # etcd finishes it on start, so do we
    lessor = Lessor()
    lessor.load(_LEASE_COUNT.pack(len(state.leases))
                + b"".join(_LEASE_RECORD.pack(i, t) for i, t in state.leases), now)
    membership = Membership.decode(orjson.dumps({"members": state.members,
                                                 "removed": state.removed}))
    return SnapshotState(mvcc, lessor, membership, ConfState(state.voters, state.learners),
                         state.consistent_index, state.term)


# --- etcdutl snapshot status ----------------------------------------------------------------------

def etcd_status(data: bytes) -> dict:
    """What `etcdutl snapshot status` prints: a CRC-32C over every top-level bucket's name and
    entries, the last revision in `key`, the number of entries, and the database's size."""
    db = database_bytes(data)
    try:
        root = bbolt.read_db(db)
        meta = bbolt.read_meta(db)
    except bbolt.BboltError as exc:
        raise NotEtcdDatabaseError(f"snapshot: {exc}") from None
    crc, revision, total = 0, 0, 0
    for name, bucket in root.items():
        if not isinstance(bucket, bbolt.Bucket):
            continue
        crc = crc32c(name, crc)
        for key, value in bucket.items():
            crc = crc32c(key, crc)
            if not isinstance(value, bbolt.Bucket):
                crc = crc32c(value, crc)
            if name == b"key" and len(key) >= 8:
                revision = struct.unpack_from(">Q", key)[0]
            total += 1
    return {"hash": crc, "revision": revision, "totalKey": total,
            "totalSize": meta.high_water * meta.page_size}
