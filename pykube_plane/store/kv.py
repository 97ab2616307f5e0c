"""The `KV` protocol: what every store backend offers, in etcd v3 terms.

Two implementations meet this protocol: the embedded `Store` (pykube_plane.store.store) and a
remote client of any etcd v3 endpoint. The API server is written against `KV` only, so it runs
unchanged on either.

Vocabulary follows etcd's `mvccpb` / `etcdserverpb`:

- a *revision* is the store-wide counter bumped once per write request (a txn is one request);
- `KeyValue.create_revision` / `mod_revision` are the revisions that created / last changed the
  key, `version` counts puts since creation (reset by delete);
- a *range* is `[key, range_end)`; `range_end == b""` means the single key `key`;
  `range_end == b"\\0"` means every key >= `key`; `prefix_end(p)` gives the range of a prefix.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Protocol, Sequence, Union, runtime_checkable

# ---------------------------------------------------------------------------------------------
# Data


class KeyValue:
    """mvccpb.KeyValue."""

    __slots__ = ("key", "value", "create_revision", "mod_revision", "version", "lease")

    def __init__(self, key: bytes, value: bytes, create_revision: int, mod_revision: int,
                 version: int, lease: int = 0) -> None:
        self.key = key
        self.value = value
        self.create_revision = create_revision
        self.mod_revision = mod_revision
        self.version = version
        self.lease = lease

    def _tuple(self) -> tuple:
        return (self.key, self.value, self.create_revision, self.mod_revision, self.version, self.lease)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, KeyValue) and self._tuple() == other._tuple()

    def __hash__(self) -> int:
        return hash(self._tuple())

    def __repr__(self) -> str:
        return ("KeyValue(key=%r, value=%r, create_revision=%d, mod_revision=%d, version=%d, lease=%d)"
                % self._tuple())


EVENT_PUT = 0
EVENT_DELETE = 1


class Event:
    """mvccpb.Event. For a DELETE, `kv` holds the key and the delete's mod_revision, empty value."""

    __slots__ = ("type", "kv", "prev_kv")

    def __init__(self, type: int, kv: KeyValue, prev_kv: KeyValue | None = None) -> None:
        self.type = type
        self.kv = kv
        self.prev_kv = prev_kv

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Event) and self.type == other.type and self.kv == other.kv
                and self.prev_kv == other.prev_kv)

    def __repr__(self) -> str:
        kind = "PUT" if self.type == EVENT_PUT else "DELETE"
        return f"Event({kind}, {self.kv!r}, prev_kv={self.prev_kv!r})"


@dataclass(slots=True)
class RangeResult:
    """etcdserverpb.RangeResponse: kvs (empty when count_only), total count, more, header revision."""
    kvs: list[KeyValue]
    count: int
    more: bool
    revision: int


@dataclass(slots=True)
class PutResult:
    """etcdserverpb.PutResponse."""
    revision: int
    prev_kv: KeyValue | None = None


@dataclass(slots=True)
class DeleteResult:
    """etcdserverpb.DeleteRangeResponse."""
    revision: int
    deleted: int
    prev_kvs: list[KeyValue] = field(default_factory=list)


@dataclass(slots=True)
class TxnResult:
    """etcdserverpb.TxnResponse: responses are RangeResult / PutResult / DeleteResult / TxnResult."""
    succeeded: bool
    responses: list
    revision: int


# ---------------------------------------------------------------------------------------------
# Requests (the ops inside a txn; the same shapes are what gets logged and replicated)


@dataclass(slots=True)
class RangeOp:
    key: bytes
    range_end: bytes = b""
    revision: int = 0
    limit: int = 0
    count_only: bool = False
    keys_only: bool = False


@dataclass(slots=True)
class PutOp:
    key: bytes
    value: bytes = b""
    lease: int = 0
    prev_kv: bool = False
    ignore_value: bool = False
    ignore_lease: bool = False


@dataclass(slots=True)
class DeleteOp:
    key: bytes
    range_end: bytes = b""
    prev_kv: bool = False


@dataclass(slots=True)
class TxnOp:
    compare: list["Compare"]
    success: list["Op"]
    failure: list["Op"]


Op = Union[RangeOp, PutOp, DeleteOp, TxnOp]

# Compare targets and results, named as in etcdserverpb.Compare.
TARGET_VERSION = "version"
TARGET_CREATE = "create"
TARGET_MOD = "mod"
TARGET_VALUE = "value"
TARGET_LEASE = "lease"
RESULT_EQUAL = "="
RESULT_NOT_EQUAL = "!="
RESULT_LESS = "<"
RESULT_GREATER = ">"


@dataclass(slots=True)
class Compare:
    """etcdserverpb.Compare. `operand` is bytes for TARGET_VALUE, an int otherwise.

    With a range_end the compare must hold for every key in the range. A missing key compares
    as version/create/mod/lease 0 and never equals any value (etcd's rules).
    """
    key: bytes
    target: str
    result: str
    operand: Union[bytes, int]
    range_end: bytes = b""


# ---------------------------------------------------------------------------------------------
# Watch and leases


@dataclass(slots=True)
class WatchResponse:
    """etcdserverpb.WatchResponse (header revision included).

    - `events`: all events of one revision are always delivered in the same response;
    - `compact_revision` != 0 with `canceled`: the watch asked for history that was compacted;
    - an empty `events` list with neither flag is a progress notification at `revision`.
    """
    watch_id: int
    revision: int
    events: list[Event] = field(default_factory=list)
    created: bool = False
    canceled: bool = False
    compact_revision: int = 0
    cancel_reason: str = ""


FILTER_NOPUT = "noput"
FILTER_NODELETE = "nodelete"


class Watch(Protocol):
    """A live watch: `async for resp in watch` yields WatchResponses until cancelled."""
    id: int

    def __aiter__(self) -> AsyncIterator[WatchResponse]: ...
    async def __anext__(self) -> WatchResponse: ...
    async def cancel(self) -> None: ...
    def request_progress(self) -> None: ...


@dataclass(slots=True)
class LeaseGrant:
    id: int
    ttl: int


@dataclass(slots=True)
class LeaseStatus:
    """etcdserverpb.LeaseTimeToLiveResponse: ttl == -1 for an expired / unknown lease."""
    id: int
    ttl: int
    granted_ttl: int
    keys: list[bytes] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Errors, with etcd's messages (the gRPC layer maps each to etcd's status code)


class StoreError(Exception):
    """Base of every store error. `message` is etcd's text, as etcdctl prints it."""
    message = "etcdserver: store error"

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.message)
        if message:
            self.message = message


class CompactedError(StoreError):
    message = "etcdserver: mvcc: required revision has been compacted"

    def __init__(self, compact_revision: int = 0, message: str | None = None) -> None:
        super().__init__(message)
        self.compact_revision = compact_revision


class FutureRevisionError(StoreError):
    message = "etcdserver: mvcc: required revision is a future revision"


class LeaseNotFoundError(StoreError):
    message = "etcdserver: requested lease not found"


class LeaseExistsError(StoreError):
    message = "etcdserver: lease already exists"


class RequestTooLargeError(StoreError):
    message = "etcdserver: request is too large"


class NoSpaceError(StoreError):
    message = "etcdserver: mvcc: database space exceeded"


class InvalidRequestError(StoreError):
    """A request that etcd rejects with InvalidArgument (empty key, bad range, duplicate keys...)."""
    message = "etcdserver: invalid request"


class KeyNotFoundError(StoreError):
    """A put with ignore_value / ignore_lease on a key that does not exist."""
    message = "etcdserver: key not found"


class StoreClosedError(StoreError):
    message = "etcdserver: server stopped"


# ---------------------------------------------------------------------------------------------
# Range helpers


def prefix_end(prefix: bytes) -> bytes:
    """The range_end that selects every key starting with `prefix` (etcd's GetPrefixRangeEnd)."""
    end = bytearray(prefix)
    for i in range(len(end) - 1, -1, -1):
        if end[i] < 0xFF:
            end[i] += 1
            return bytes(end[: i + 1])
    return b"\0"  # all 0xff (or empty): every key from prefix on


# ---------------------------------------------------------------------------------------------
# The protocol


@runtime_checkable
class KV(Protocol):
    """An etcd v3 key-value store, asynchronous. Each method names its etcd equivalent."""

    async def range(self, key: bytes, range_end: bytes = b"", *, revision: int = 0, limit: int = 0,
                    count_only: bool = False, keys_only: bool = False,
                    serializable: bool = False) -> RangeResult:
        """KV.Range. revision 0 = latest. Raises CompactedError / FutureRevisionError."""
        ...

    async def put(self, key: bytes, value: bytes, *, lease: int = 0) -> int:
        """KV.Put. Returns the new revision once the write is durable (committed).
        For prev_kv / ignore_value / ignore_lease use `txn` with a PutOp."""
        ...

    async def delete_range(self, key: bytes, range_end: bytes = b"", *,
                           prev_kv: bool = False) -> DeleteResult:
        """KV.DeleteRange."""
        ...

    async def txn(self, compare: Sequence[Compare], success: Sequence[Op],
                  failure: Sequence[Op] = ()) -> TxnResult:
        """KV.Txn: one revision for the whole txn (none if it only reads)."""
        ...

    async def compact(self, revision: int, physical: bool = False) -> None:
        """KV.Compact. Ranges and watches below `revision` then raise CompactedError."""
        ...

    def watch(self, key: bytes, range_end: bytes = b"", *, start_revision: int = 0,
              prev_kv: bool = False, progress_notify: bool = False,
              filters: Sequence[str] = ()) -> Watch:
        """Watch.Watch (one WatchCreateRequest). start_revision 0 = from the next revision."""
        ...

    async def lease_grant(self, ttl: int, id: int = 0) -> LeaseGrant:
        """Lease.LeaseGrant; id 0 lets the store choose."""
        ...

    async def lease_revoke(self, id: int) -> int:
        """Lease.LeaseRevoke: deletes the lease's keys in one revision; returns that revision."""
        ...

    async def lease_keepalive(self, id: int) -> int:
        """Lease.LeaseKeepAlive (one round): returns the renewed TTL. Raises LeaseNotFoundError."""
        ...

    async def lease_time_to_live(self, id: int, keys: bool = False) -> LeaseStatus:
        """Lease.LeaseTimeToLive."""
        ...

    async def leases(self) -> list[int]:
        """Lease.LeaseLeases."""
        ...

    async def close(self) -> None:
        ...
