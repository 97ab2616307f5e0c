"""The store's state as etcd 3.5 lays it out in its backend database (bbolt), and back.

etcd 3.5's buckets (server/mvcc/buckets) and what this module puts in them:

    key              17-byte revision keys, main (u64 BE) '_' sub (u64 BE), plus a trailing 't' on
                     a tombstone; the value is an mvccpb.KeyValue (only `key` on a tombstone)
    meta             consistent_index and term (u64 BE), confState (JSON), finishedCompactRev and
                     scheduledCompactRev (revision keys) once a compaction happened
    lease            lease id (i64 BE) -> leasepb.Lease{ID, TTL, RemainingTTL}
    members          member id in hex -> the member as JSON; members_removed: id -> "removed"
    cluster          clusterVersion; auth: authRevision; alarm, authUsers, authRoles: empty

The MVCC side is the compiled core's dump format (csrc/mvcc/mvcc.pyx: every retained record of
every key), so a conversion never depends on the core's internals. The protobuf messages are
small and fixed, so they are encoded here by hand, field by field in the order gogoproto writes
them (zero values left out): the same state gives the same bytes as etcd writes.
"""
from __future__ import annotations

import struct
import zlib
from dataclasses import dataclass, field

import orjson

from .bbolt import Bucket
from .kv import StoreError

KEY, META, LEASE, ALARM, CLUSTER = b"key", b"meta", b"lease", b"alarm", b"cluster"
MEMBERS, MEMBERS_REMOVED = b"members", b"members_removed"
AUTH, AUTH_USERS, AUTH_ROLES = b"auth", b"authUsers", b"authRoles"
ALL_BUCKETS = (KEY, META, LEASE, ALARM, CLUSTER, MEMBERS, MEMBERS_REMOVED, AUTH, AUTH_USERS,
               AUTH_ROLES)

CLUSTER_VERSION = b"3.5.0"
TOMBSTONE = b"t"
_U64 = struct.Struct(">Q")
_REVISION = struct.Struct(">QcQ")
_MASK64 = (1 << 64) - 1

# the MVCC core's dump format (see csrc/mvcc/mvcc.pyx)
MVCC_DUMP_MAGIC = b"PKMVCC01"
_DUMP_HEAD = struct.Struct("<8sqqq")
_DUMP_U32 = struct.Struct("<I")
_DUMP_RECORD = struct.Struct("<qIIqqq")  # main, sub, value length, create, version, lease


class NotEtcdDatabaseError(StoreError):
    message = "snapshot: not an etcd backend database"


@dataclass(slots=True)
class Record:
    """One revision of a key: a put (version >= 1) or a tombstone (version 0)."""
    main: int
    sub: int
    value: bytes = b""
    create_revision: int = 0
    version: int = 0
    lease: int = 0


@dataclass(slots=True)
class BackendState:
    """Everything a snapshot carries, in plain values."""
    revision: int
    compact_revision: int
    keys: dict[bytes, list[Record]]             # each key's records, oldest first
    leases: list[tuple[int, int]]               # (id, granted TTL)
    members: list[dict] = field(default_factory=list)   # etcd's member JSON objects
    removed: list[int] = field(default_factory=list)
    voters: list[int] = field(default_factory=list)
    learners: list[int] = field(default_factory=list)
    consistent_index: int = 0
    term: int = 0
    scheduled_compact_revision: int = 0         # a compaction etcd scheduled but had not finished
    not_carried: list[str] = field(default_factory=list)  # what etcd kept that the store cannot


# --- protobuf, by hand --------------------------------------------------------------------------

_ONE_BYTE_VARINTS = [bytes((i,)) for i in range(0x80)]  # tags, lengths, small numbers


def _varint(value: int) -> bytes:
    if 0 <= value < 0x80:
        return _ONE_BYTE_VARINTS[value]
    value &= _MASK64
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _int_field(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value) if value else b""


def _bytes_field(number: int, value: bytes) -> bytes:
    return _varint((number << 3) | 2) + _varint(len(value)) + value if value else b""


def parse_message(data: bytes) -> dict[int, int | bytes]:
    """The varint and length-delimited fields of a message (the last one of each number)."""
    out: dict[int, int | bytes] = {}
    pos, end = 0, len(data)
    try:
        while pos < end:
            tag, pos = _read_varint(data, pos)
            number, wire = tag >> 3, tag & 7
            if wire == 0:
                value, pos = _read_varint(data, pos)
                out[number] = value - (1 << 64) if value >> 63 else value
            elif wire == 2:
                length, pos = _read_varint(data, pos)
                if pos + length > end:
                    raise NotEtcdDatabaseError("snapshot: truncated protobuf field")
                out[number] = bytes(data[pos:pos + length])
                pos += length
            elif wire == 1:
                pos += 8
            elif wire == 5:
                pos += 4
            else:
                raise NotEtcdDatabaseError(f"snapshot: unexpected protobuf wire type {wire}")
    except IndexError:
        raise NotEtcdDatabaseError("snapshot: truncated protobuf message") from None
    return out


def _read_varint(data: bytes, pos: int) -> tuple[int, int]:
    value = shift = 0
    while True:
        byte = data[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, pos
        shift += 7
        if shift > 63:
            raise NotEtcdDatabaseError("snapshot: bad varint")


def encode_key_value(key: bytes, rec: Record) -> bytes:
    """mvccpb.KeyValue as etcd stores it for this record."""
    if rec.version == 0:
        return _bytes_field(1, key)
    return (_bytes_field(1, key) + _int_field(2, rec.create_revision) + _int_field(3, rec.main)
            + _int_field(4, rec.version) + _bytes_field(5, rec.value) + _int_field(6, rec.lease))


def revision_key(main: int, sub: int, tombstone: bool = False) -> bytes:
    return _REVISION.pack(main, b"_", sub) + (TOMBSTONE if tombstone else b"")


# --- the MVCC dump ------------------------------------------------------------------------------

def parse_mvcc_dump(dump: bytes) -> tuple[int, int, dict[bytes, list[Record]]]:
    """(revision, compact revision, records by key) of an MVCC.dump()."""
    magic, revision, compact, n_keys = _DUMP_HEAD.unpack_from(dump, 0)
    if magic != MVCC_DUMP_MAGIC:
        raise StoreError("snapshot: not an MVCC dump")
    view = memoryview(dump)
    pos = _DUMP_HEAD.size
    keys: dict[bytes, list[Record]] = {}
    for _ in range(n_keys):
        (key_len,) = _DUMP_U32.unpack_from(dump, pos)
        key = bytes(view[pos + 4:pos + 4 + key_len])
        pos += 4 + key_len
        (n_records,) = _DUMP_U32.unpack_from(dump, pos)
        pos += 4
        records = keys[key] = []
        for _ in range(n_records):
            main, sub, value_len, create, version, lease = _DUMP_RECORD.unpack_from(dump, pos)
            pos += _DUMP_RECORD.size
            records.append(Record(main, sub, bytes(view[pos:pos + value_len]), create, version,
                                  lease))
            pos += value_len
    return revision, compact, keys


def build_mvcc_dump(revision: int, compact_revision: int,
                    keys: dict[bytes, list[Record]]) -> bytes:
    """The MVCC.dump() bytes holding these records (MVCC.load validates them)."""
    out = bytearray(_DUMP_HEAD.pack(MVCC_DUMP_MAGIC, revision, compact_revision, len(keys)))
    for key in sorted(keys):
        records = keys[key]
        out += _DUMP_U32.pack(len(key)) + key + _DUMP_U32.pack(len(records))
        for rec in records:
            out += _DUMP_RECORD.pack(rec.main, rec.sub, len(rec.value), rec.create_revision,
                                     rec.version, rec.lease)
            out += rec.value
    out += _DUMP_U32.pack(zlib.crc32(out))
    return bytes(out)


# --- state -> buckets ---------------------------------------------------------------------------

def to_buckets(state: BackendState) -> Bucket:
    root = Bucket()
    for name in ALL_BUCKETS:
        root.bucket(name)
    key_bucket = root.bucket(KEY)
    for key, records in state.keys.items():
        for rec in records:
            key_bucket[revision_key(rec.main, rec.sub, rec.version == 0)] = \
                encode_key_value(key, rec)
    meta = root.bucket(META)
    meta[b"consistent_index"] = _U64.pack(state.consistent_index)
    meta[b"term"] = _U64.pack(state.term)
    conf: dict = {"voters": state.voters}
    if state.learners:
        conf["learners"] = state.learners
    conf["auto_leave"] = False
    meta[b"confState"] = orjson.dumps(conf)
    if state.compact_revision > 0:
        meta[b"finishedCompactRev"] = revision_key(state.compact_revision, 0)
        meta[b"scheduledCompactRev"] = revision_key(
            max(state.compact_revision, state.scheduled_compact_revision), 0)
    lease_bucket = root.bucket(LEASE)
    for lease_id, ttl in state.leases:
        lease_bucket[struct.pack(">q", lease_id)] = _int_field(1, lease_id) + _int_field(2, ttl)
    members = root.bucket(MEMBERS)
    for member in state.members:
        members[f"{member['id']:x}".encode()] = orjson.dumps(member)
    removed = root.bucket(MEMBERS_REMOVED)
    for member_id in state.removed:
        removed[f"{member_id:x}".encode()] = b"removed"
    root.bucket(CLUSTER)[b"clusterVersion"] = CLUSTER_VERSION
    root.bucket(AUTH)[b"authRevision"] = _U64.pack(1)
    return root


# --- buckets -> state ---------------------------------------------------------------------------

def from_buckets(root: Bucket) -> BackendState:
    key_bucket = root.get_bucket(KEY)
    meta = root.get_bucket(META)
    if key_bucket is None or meta is None:
        raise NotEtcdDatabaseError()
    keys: dict[bytes, list[Record]] = {}
    last_main = 0
    for rev_key, value in key_bucket.items():
        if isinstance(value, Bucket) or len(rev_key) not in (17, 18) or rev_key[8:9] != b"_":
            raise NotEtcdDatabaseError(f"snapshot: unexpected key {rev_key!r} in bucket 'key'")
        main, _, sub = _REVISION.unpack_from(rev_key)
        kv = parse_message(value)
        key = kv.get(1)
        if not isinstance(key, bytes) or not key:
            raise NotEtcdDatabaseError("snapshot: a revision without its key")
        if len(rev_key) == 18:  # a tombstone
            rec = Record(main, sub)
        else:
            rec = Record(main, sub, kv.get(5, b""), kv.get(2, 0), kv.get(4, 0), kv.get(6, 0))
        records = keys.setdefault(key, [])
        if records and records[-1].main == main:
            records[-1] = rec  # one key twice in one txn: the later change is what stands
        else:
            records.append(rec)
        last_main = max(last_main, main)
    finished = _compact_revision(meta, b"finishedCompactRev")
    scheduled = _compact_revision(meta, b"scheduledCompactRev")
    leases = []
    for lease_key, value in (root.get_bucket(LEASE) or Bucket()).items():
        lease = parse_message(value) if isinstance(value, bytes) else {}
        if len(lease_key) != 8 or 1 not in lease:
            raise NotEtcdDatabaseError("snapshot: a lease entry that is not a leasepb.Lease")
        leases.append((int(lease[1]), int(lease.get(2, 0))))
    members = [orjson.loads(v) for _, v in (root.get_bucket(MEMBERS) or Bucket()).values_only()]
    removed = [int(k, 16) for k, _ in (root.get_bucket(MEMBERS_REMOVED) or Bucket()).values_only()]
    conf = orjson.loads(meta[b"confState"]) if b"confState" in meta else {}
    not_carried = [f"{len(b)} {name.decode()} entries" for name in (AUTH_USERS, AUTH_ROLES, ALARM)
                   if (b := root.get_bucket(name)) is not None and len(b)]
    auth = root.get_bucket(AUTH)
    if auth is not None and auth.entries.get(b"authEnabled") == b"\x01":
        not_carried.append("auth enabled")
    return BackendState(
        revision=max(last_main, finished, 1), compact_revision=finished, keys=keys, leases=leases,
        members=members, removed=removed, voters=list(conf.get("voters") or []),
        learners=list(conf.get("learners") or []),
        consistent_index=_u64(meta, b"consistent_index"), term=_u64(meta, b"term"),
        scheduled_compact_revision=scheduled if scheduled > finished else 0,
        not_carried=not_carried)


def _u64(meta: Bucket, name: bytes) -> int:
    value = meta.entries.get(name)
    return _U64.unpack(value)[0] if isinstance(value, bytes) and len(value) == 8 else 0


def _compact_revision(meta: Bucket, name: bytes) -> int:
    value = meta.entries.get(name)
    if isinstance(value, bytes) and len(value) >= 17:
        return _REVISION.unpack_from(value)[0]
    return 0
