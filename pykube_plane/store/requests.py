"""Write requests as log payloads: what the WAL stores and Raft replicates.

Only requests that change state are logged (reads never are). The encoding is a small, explicit
binary format — not pickle (peers will exchange these) and not JSON (keys and values are bytes):

    request  = u8 kind, u64 request_id, body
    bytes    = u32 length, data
    int      = i64
    flags    = u8 bit set
    PutOp    = bytes key, bytes value, int lease, flags(prev_kv, ignore_value, ignore_lease)
    DeleteOp = bytes key, bytes range_end, flags(prev_kv)
    RangeOp  = bytes key, bytes range_end, int revision, int limit, flags(count_only, keys_only)
    TxnOp    = u32 n, n * Compare, u32 n, n * op, u32 n, n * op     (op = u8 kind, body)
    Compare  = bytes key, bytes range_end, u8 target, u8 result, (bytes | int) operand
    Compact  = int revision, flags(physical)
    LeaseGrant = int id, int ttl
    LeaseRevoke = int id
    MemberAttributes = int member_id, bytes JSON of the fields that change (name, clientURLs,
                       peerURLs): a member publishing itself, or etcd's MemberUpdate

`request_id` lets the member that proposed a request find its waiter when the entry comes back
committed (with Raft the proposer may not be the leader); `request_id_of` reads it without
decoding the rest. The checks etcd makes before proposing (keys present, no key written twice in
a txn branch) are here too.
"""
from __future__ import annotations

import struct
from dataclasses import dataclass
from typing import Union

from .kv import (
    Compare, DeleteOp, InvalidRequestError, PutOp, RangeOp, TxnOp,
    RESULT_EQUAL, RESULT_GREATER, RESULT_LESS, RESULT_NOT_EQUAL,
    TARGET_CREATE, TARGET_LEASE, TARGET_MOD, TARGET_VALUE, TARGET_VERSION,
)


@dataclass(slots=True)
class CompactRequest:
    revision: int
    physical: bool = False


@dataclass(slots=True)
class LeaseGrantRequest:
    id: int
    ttl: int


@dataclass(slots=True)
class LeaseRevokeRequest:
    id: int


@dataclass(slots=True)
class MemberAttributesRequest:
    """A member's attributes changed (store/membership.py applies it); `attributes` is JSON."""
    member_id: int
    attributes: bytes


Request = Union[PutOp, DeleteOp, TxnOp, CompactRequest, LeaseGrantRequest, LeaseRevokeRequest,
                MemberAttributesRequest]

KIND_RANGE = 1
KIND_PUT = 2
KIND_DELETE = 3
KIND_TXN = 4
KIND_COMPACT = 5
KIND_LEASE_GRANT = 6
KIND_LEASE_REVOKE = 7
KIND_MEMBER_ATTRIBUTES = 8

_TARGETS = [TARGET_VERSION, TARGET_CREATE, TARGET_MOD, TARGET_VALUE, TARGET_LEASE]
_RESULTS = [RESULT_EQUAL, RESULT_NOT_EQUAL, RESULT_LESS, RESULT_GREATER]
_TARGET_CODE = {t: i for i, t in enumerate(_TARGETS)}
_RESULT_CODE = {r: i for i, r in enumerate(_RESULTS)}

DEFAULT_MAX_REQUEST_BYTES = 1536 * 1024      # etcd's --max-request-bytes default (1.5 MiB)

_HEAD = struct.Struct("<BQ")                 # every encoded request starts: kind, request id
_U32 = struct.Struct("<I")
_I64 = struct.Struct("<q")
_U8 = struct.Struct("<B")
_PUT_TAIL = struct.Struct("<qB")
_RANGE_TAIL = struct.Struct("<qqB")
_INT_PAIR = struct.Struct("<qq")


def encode_request(request_id: int, request: Request) -> bytes:
    out = bytearray()
    kind = _kind_of(request)
    out += _HEAD.pack(kind, request_id)
    _encode_body(out, kind, request)
    return bytes(out)


def request_id_of(data: bytes) -> int:
    """The request id an encoded request carries (0 when `data` is too short to hold one)."""
    if len(data) < _HEAD.size:
        return 0
    return _HEAD.unpack_from(data, 0)[1]


def decode_request(data: bytes) -> tuple[int, Request]:
    """Inverse of encode_request. A malformed payload raises InvalidRequestError."""
    try:
        kind, request_id = _HEAD.unpack_from(data, 0)
        request, pos = _decode_body(data, _HEAD.size, kind)
    except (struct.error, IndexError, ValueError) as exc:
        raise InvalidRequestError(f"etcdserver: malformed log entry ({exc})") from None
    if pos != len(data):
        raise InvalidRequestError("etcdserver: malformed log entry (trailing bytes)")
    return request_id, request


# --- checks (etcd's API level, before anything is proposed) -------------------------------


def check_key(key: bytes) -> None:
    if not isinstance(key, (bytes, bytearray)):
        raise InvalidRequestError("etcdserver: key must be bytes")
    if not key:
        raise InvalidRequestError("etcdserver: key is not provided")


def check_txn(op: TxnOp) -> None:
    """etcd's API-level checks: keys present; no key written twice in one branch."""
    for c in op.compare:
        check_key(c.key)
    for branch in (op.success, op.failure):
        written: set[bytes] = set()
        for sub in branch:
            t = type(sub)
            if t is TxnOp:
                check_txn(sub)
            elif t in (PutOp, DeleteOp, RangeOp):
                check_key(sub.key)
                if t is PutOp:
                    if sub.key in written:
                        raise InvalidRequestError("etcdserver: duplicate key given in txn request")
                    written.add(sub.key)
            else:
                raise InvalidRequestError("etcdserver: invalid operation in txn")


def txn_is_read_only(op: TxnOp) -> bool:
    for branch in (op.success, op.failure):
        for sub in branch:
            t = type(sub)
            if t is TxnOp:
                if not txn_is_read_only(sub):
                    return False
            elif t is not RangeOp:
                return False
    return True


# --- encoding -----------------------------------------------------------------------------------


def _kind_of(op) -> int:
    t = type(op)
    if t is PutOp:
        return KIND_PUT
    if t is DeleteOp:
        return KIND_DELETE
    if t is RangeOp:
        return KIND_RANGE
    if t is TxnOp:
        return KIND_TXN
    if t is CompactRequest:
        return KIND_COMPACT
    if t is LeaseGrantRequest:
        return KIND_LEASE_GRANT
    if t is LeaseRevokeRequest:
        return KIND_LEASE_REVOKE
    if t is MemberAttributesRequest:
        return KIND_MEMBER_ATTRIBUTES
    raise InvalidRequestError(f"etcdserver: unknown request type {t.__name__}")


def _bytes(out: bytearray, b: bytes) -> None:
    out += _U32.pack(len(b))
    out += b


def _encode_body(out: bytearray, kind: int, op) -> None:
    if kind == KIND_PUT:
        _bytes(out, op.key)
        _bytes(out, op.value)
        out += _PUT_TAIL.pack(op.lease, op.prev_kv | op.ignore_value << 1 | op.ignore_lease << 2)
    elif kind == KIND_DELETE:
        _bytes(out, op.key)
        _bytes(out, op.range_end)
        out += _U8.pack(op.prev_kv)
    elif kind == KIND_RANGE:
        _bytes(out, op.key)
        _bytes(out, op.range_end)
        out += _RANGE_TAIL.pack(op.revision, op.limit, op.count_only | op.keys_only << 1)
    elif kind == KIND_TXN:
        out += _U32.pack(len(op.compare))
        for c in op.compare:
            _bytes(out, c.key)
            _bytes(out, c.range_end)
            out += _U8.pack(_TARGET_CODE[c.target])
            out += _U8.pack(_RESULT_CODE[c.result])
            if c.target == TARGET_VALUE:
                _bytes(out, c.operand)
            else:
                out += _I64.pack(c.operand)
        for branch in (op.success, op.failure):
            out += _U32.pack(len(branch))
            for sub in branch:
                sub_kind = _kind_of(sub)
                if sub_kind > KIND_TXN:
                    raise InvalidRequestError("etcdserver: invalid operation in txn")
                out += _U8.pack(sub_kind)
                _encode_body(out, sub_kind, sub)
    elif kind == KIND_COMPACT:
        out += _INT_PAIR.pack(op.revision, int(op.physical))
    elif kind == KIND_LEASE_GRANT:
        out += _INT_PAIR.pack(op.id, op.ttl)
    elif kind == KIND_LEASE_REVOKE:
        out += _I64.pack(op.id)
    elif kind == KIND_MEMBER_ATTRIBUTES:
        out += _I64.pack(op.member_id)
        _bytes(out, op.attributes)


# --- decoding -----------------------------------------------------------------------------------


def _read_bytes(data: bytes, pos: int) -> tuple[bytes, int]:
    (n,) = _U32.unpack_from(data, pos)
    pos += 4
    end = pos + n
    if end > len(data):
        raise ValueError("length past end")
    return data[pos:end], end


def _decode_body(data: bytes, pos: int, kind: int):
    if kind == KIND_PUT:
        key, pos = _read_bytes(data, pos)
        value, pos = _read_bytes(data, pos)
        lease, flags = _PUT_TAIL.unpack_from(data, pos)
        return PutOp(key, value, lease, bool(flags & 1), bool(flags & 2), bool(flags & 4)), pos + _PUT_TAIL.size
    if kind == KIND_DELETE:
        key, pos = _read_bytes(data, pos)
        end, pos = _read_bytes(data, pos)
        (flags,) = _U8.unpack_from(data, pos)
        return DeleteOp(key, end, bool(flags & 1)), pos + 1
    if kind == KIND_RANGE:
        key, pos = _read_bytes(data, pos)
        end, pos = _read_bytes(data, pos)
        revision, limit, flags = _RANGE_TAIL.unpack_from(data, pos)
        return RangeOp(key, end, revision, limit, bool(flags & 1), bool(flags & 2)), pos + _RANGE_TAIL.size
    if kind == KIND_TXN:
        (n,) = _U32.unpack_from(data, pos)
        pos += 4
        compares = []
        for _ in range(n):
            key, pos = _read_bytes(data, pos)
            end, pos = _read_bytes(data, pos)
            target = _TARGETS[data[pos]]
            result = _RESULTS[data[pos + 1]]
            pos += 2
            if target == TARGET_VALUE:
                operand, pos = _read_bytes(data, pos)
            else:
                (operand,) = _I64.unpack_from(data, pos)
                pos += 8
            compares.append(Compare(key, target, result, operand, end))
        branches = []
        for _ in range(2):
            (n,) = _U32.unpack_from(data, pos)
            pos += 4
            ops = []
            for _ in range(n):
                sub_kind = data[pos]
                if sub_kind > KIND_TXN or sub_kind == 0:
                    raise ValueError(f"bad op kind {sub_kind}")
                op, pos = _decode_body(data, pos + 1, sub_kind)
                ops.append(op)
            branches.append(ops)
        return TxnOp(compares, branches[0], branches[1]), pos
    if kind == KIND_COMPACT:
        revision, physical = _INT_PAIR.unpack_from(data, pos)
        return CompactRequest(revision, bool(physical)), pos + _INT_PAIR.size
    if kind == KIND_LEASE_GRANT:
        lease_id, ttl = _INT_PAIR.unpack_from(data, pos)
        return LeaseGrantRequest(lease_id, ttl), pos + _INT_PAIR.size
    if kind == KIND_LEASE_REVOKE:
        (lease_id,) = _I64.unpack_from(data, pos)
        return LeaseRevokeRequest(lease_id), pos + 8
    if kind == KIND_MEMBER_ATTRIBUTES:
        (member_id,) = _I64.unpack_from(data, pos)
        attributes, pos = _read_bytes(data, pos + 8)
        return MemberAttributesRequest(member_id, attributes), pos
    raise ValueError(f"unknown request kind {kind}")
