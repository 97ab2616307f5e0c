"""etcd's gRPC errors (etcd api/v3rpc/rpctypes): one table, read both ways.

The server turns a `StoreError` into (status code, message) with `status_for`; the remote client
turns a status back into the matching `StoreError` subclass with `error_for`. etcd clients match
errors by message text, so the messages here are etcd's, byte for byte.
"""
from __future__ import annotations

import grpc

from ..kv import (
    CompactedError, FutureRevisionError, InvalidRequestError, LeaseExistsError, LeaseNotFoundError,
    NoSpaceError, RequestTooLargeError, StoreClosedError, StoreError,
)

Code = grpc.StatusCode

EMPTY_KEY = "etcdserver: key is not provided"
KEY_NOT_FOUND = "etcdserver: key not found"
VALUE_PROVIDED = "etcdserver: value is provided"
LEASE_PROVIDED = "etcdserver: lease is provided"
TTL_ZERO = "etcdserver: ttl is 0"
TOO_MANY_OPS = "etcdserver: too many operations in txn request"
DUPLICATE_KEY = "etcdserver: duplicate key given in txn request"
COMPACTED = CompactedError.message
FUTURE_REV = FutureRevisionError.message
NO_SPACE = NoSpaceError.message
LEASE_NOT_FOUND = LeaseNotFoundError.message
LEASE_EXIST = LeaseExistsError.message
LEASE_TTL_TOO_LARGE = "etcdserver: too large lease TTL"
MEMBER_NOT_FOUND = "etcdserver: member not found"
REQUEST_TOO_LARGE = RequestTooLargeError.message
TOO_MANY_REQUESTS = "etcdserver: too many requests"
AUTH_NOT_ENABLED = "etcdserver: authentication is not enabled"
NO_LEADER = "etcdserver: no leader"
NOT_LEADER = "etcdserver: not leader"
LEADER_CHANGED = "etcdserver: leader changed"
TIMEOUT_DUE_TO_LEADER_FAIL = "etcdserver: request timed out, possibly due to previous leader failure"
TIMEOUT_LEADER_TRANSFER = "etcdserver: request timed out, leader transfer took too long"
UNHEALTHY = "etcdserver: unhealthy cluster"
BAD_LEADER_TRANSFEREE = "etcdserver: bad leader transferee"
MEMBER_EXIST = "etcdserver: member ID already exist"
PEER_URL_EXIST = "etcdserver: Peer URLs already exists"
MEMBER_BAD_URLS = "etcdserver: given member URLs are invalid"
MEMBER_NOT_LEARNER = "etcdserver: can only promote a learner member"
LEARNER_NOT_READY = "etcdserver: can only promote a learner member which is in sync with leader"
MEMBER_REMOVED = "etcdserver: the member has been permanently removed from the cluster"
MEMBER_NOT_ENOUGH_STARTED = "etcdserver: re-configuration failed due to not enough started members"
NOT_CAPABLE = "etcdserver: not capable"
STOPPED = StoreClosedError.message
TIMEOUT = "etcdserver: request timed out"
CORRUPT = "etcdserver: corrupt cluster"
WATCH_CANCELED = "etcdserver: watch canceled"
DUPLICATE_WATCH_ID = "mvcc: duplicate watch ID provided on the WatchStream"

# message -> (status code, the StoreError class a client raises for it)
_TABLE: dict[str, tuple[grpc.StatusCode, type[StoreError]]] = {
    EMPTY_KEY: (Code.INVALID_ARGUMENT, InvalidRequestError),
    KEY_NOT_FOUND: (Code.INVALID_ARGUMENT, InvalidRequestError),
    VALUE_PROVIDED: (Code.INVALID_ARGUMENT, InvalidRequestError),
    LEASE_PROVIDED: (Code.INVALID_ARGUMENT, InvalidRequestError),
    TTL_ZERO: (Code.INVALID_ARGUMENT, InvalidRequestError),
    TOO_MANY_OPS: (Code.INVALID_ARGUMENT, InvalidRequestError),
    DUPLICATE_KEY: (Code.INVALID_ARGUMENT, InvalidRequestError),
    COMPACTED: (Code.OUT_OF_RANGE, CompactedError),
    FUTURE_REV: (Code.OUT_OF_RANGE, FutureRevisionError),
    NO_SPACE: (Code.RESOURCE_EXHAUSTED, NoSpaceError),
    LEASE_NOT_FOUND: (Code.NOT_FOUND, LeaseNotFoundError),
    LEASE_EXIST: (Code.FAILED_PRECONDITION, LeaseExistsError),
    LEASE_TTL_TOO_LARGE: (Code.OUT_OF_RANGE, StoreError),
    MEMBER_NOT_FOUND: (Code.NOT_FOUND, StoreError),
    REQUEST_TOO_LARGE: (Code.INVALID_ARGUMENT, RequestTooLargeError),
    TOO_MANY_REQUESTS: (Code.RESOURCE_EXHAUSTED, StoreError),
    AUTH_NOT_ENABLED: (Code.FAILED_PRECONDITION, StoreError),
    NO_LEADER: (Code.UNAVAILABLE, StoreError),
    NOT_LEADER: (Code.FAILED_PRECONDITION, StoreError),
    LEADER_CHANGED: (Code.UNAVAILABLE, StoreError),
    TIMEOUT_DUE_TO_LEADER_FAIL: (Code.UNAVAILABLE, StoreError),
    TIMEOUT_LEADER_TRANSFER: (Code.DEADLINE_EXCEEDED, StoreError),
    UNHEALTHY: (Code.UNAVAILABLE, StoreError),
    BAD_LEADER_TRANSFEREE: (Code.FAILED_PRECONDITION, StoreError),
    MEMBER_EXIST: (Code.FAILED_PRECONDITION, StoreError),
    PEER_URL_EXIST: (Code.FAILED_PRECONDITION, StoreError),
    MEMBER_BAD_URLS: (Code.INVALID_ARGUMENT, StoreError),
    MEMBER_NOT_LEARNER: (Code.FAILED_PRECONDITION, StoreError),
    LEARNER_NOT_READY: (Code.FAILED_PRECONDITION, StoreError),
    MEMBER_REMOVED: (Code.UNAVAILABLE, StoreError),
    MEMBER_NOT_ENOUGH_STARTED: (Code.FAILED_PRECONDITION, StoreError),
    NOT_CAPABLE: (Code.FAILED_PRECONDITION, StoreError),
    STOPPED: (Code.UNAVAILABLE, StoreClosedError),
    TIMEOUT: (Code.UNAVAILABLE, StoreError),
    CORRUPT: (Code.DATA_LOSS, StoreError),
    WATCH_CANCELED: (Code.CANCELLED, StoreError),
}

# By class, for errors raised with a message this table does not know.
_CODE_BY_CLASS: list[tuple[type[StoreError], grpc.StatusCode]] = [
    (CompactedError, Code.OUT_OF_RANGE),
    (FutureRevisionError, Code.OUT_OF_RANGE),
    (LeaseNotFoundError, Code.NOT_FOUND),
    (LeaseExistsError, Code.FAILED_PRECONDITION),
    (RequestTooLargeError, Code.INVALID_ARGUMENT),
    (NoSpaceError, Code.RESOURCE_EXHAUSTED),
    (InvalidRequestError, Code.INVALID_ARGUMENT),
    (StoreClosedError, Code.UNAVAILABLE),
]


def status_for(exc: StoreError) -> tuple[grpc.StatusCode, str]:
    """The gRPC status etcd would answer for this store error."""
    message = exc.message
    known = _TABLE.get(message)
    if known is not None:
        return known[0], message
    for cls, code in _CODE_BY_CLASS:
        if isinstance(exc, cls):
            return code, message
    return Code.UNKNOWN, message


def error_for(code: grpc.StatusCode, message: str) -> StoreError:
    """The StoreError a client raises for a status received from an etcd server."""
    known = _TABLE.get(message)
    if known is not None:
        cls = known[1]
        return cls(message=message) if cls is not StoreError else StoreError(message)
    if code == Code.INVALID_ARGUMENT:
        return InvalidRequestError(message)
    return StoreError(message or f"etcdserver: {code.name.lower()}")
