"""The store's replicated state machine: what a committed Raft entry does to the state.

The state is MVCC (the compiled core), the lessor and the member table; `raft_driver.RaftDriver`
calls `apply_entry` / `apply_conf_change` in log order on every member and on replay, so
everything here is deterministic: time comes in as an argument (the leader decided expiry when
it logged a revoke), ids come in the entries. A snapshot is the whole state at an index
(`encode_state` / `decode_state`), including the membership it was taken under.
"""
from __future__ import annotations

import struct
import time
from dataclasses import dataclass
from typing import Any, Callable

from pykube_plane._mvcc import MVCC, WatchIndex
from pykube_plane._raft import ConfChange, ConfState

from .kv import DeleteOp, InvalidRequestError, LeaseNotFoundError, PutOp, StoreError, TxnOp
from .lease import Lessor
from .membership import Membership, parse_conf_change_context
from .requests import (
    CompactRequest, LeaseGrantRequest, LeaseRevokeRequest, MemberAttributesRequest, Request,
    decode_request,
)
from .watch import WatchHub

SNAPSHOT_MAGIC = b"KPSNAP2\n"             # state + member table + Raft ConfState
LEGACY_SNAPSHOT_MAGIC = b"KPSNAP1\n"      # state only (single-member stores before Raft)


@dataclass(slots=True)
class StoreState:
    """The replicated state, as a snapshot payload holds it."""
    mvcc: MVCC
    lessor: Lessor
    membership: Membership
    conf_state: ConfState

    @classmethod
    def empty(cls) -> "StoreState":
        return cls(MVCC(), Lessor(), Membership(), ConfState())


def _no_hook() -> None:
    pass


class StoreStateMachine:
    """Implements raft_driver.StateMachine over a StoreState; the applied revisions' events go
    to the watch hub once per applied batch.

    Two hooks tell the store what it must act on outside the state: `after_apply` once the
    member table may have changed (a conf change, a batch), `after_peer_urls_changed` when a
    member's URLs changed by MemberAttributes (the transport must learn them)."""

    def __init__(self, state: StoreState, applied_index: int) -> None:
        self.mvcc = state.mvcc
        self.lessor = state.lessor
        self.membership = state.membership
        self.hub = WatchHub(state.mvcc, WatchIndex())
        self.applied_index = applied_index
        self.after_apply: Callable[[], None] = _no_hook
        self.after_peer_urls_changed: Callable[[], None] = _no_hook

    def apply_entry(self, entry, now: float) -> tuple[int, Any]:
        """Apply one committed entry: (request id, the result or the StoreError it earned)."""
        self.applied_index = entry.index
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
        self.applied_index = index
        record, request_id = parse_conf_change_context(cc.context)
        self.membership.apply_conf_change(cc.node_id, record, conf_state.voters,
                                          conf_state.learners)
        self.after_apply()
        return request_id

    def applied_batch_done(self) -> None:
        self.hub.notify(self.mvcc.take_events())
        self.after_apply()

    def snapshot_payload(self, index: int, term: int, conf_state: ConfState) -> bytes:
        return encode_state(self.mvcc, self.lessor, self.membership, conf_state, index, term)

    def restore(self, payload: bytes, index: int, term: int) -> None:
        state = decode_state(payload, time.monotonic())
        self.mvcc = state.mvcc
        self.lessor = state.lessor
        self.membership = state.membership
        self.applied_index = index
        self.hub.set_mvcc(state.mvcc)  # watchers re-read what they missed from the new history

    def on_leadership(self, is_leader: bool) -> None:
        if is_leader:
            # Every lease gets its full TTL from now: the old leader's clock is not ours.
            self.lessor.promote(time.monotonic())

    def peer_urls(self) -> dict[int, list[str]]:
        return self.membership.peer_urls()

    def _apply_request(self, request: Request, now: float):
        mvcc = self.mvcc
        kind = type(request)
        if kind is PutOp:
            if request.lease and not request.ignore_lease and request.lease not in self.lessor:
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
            self.lessor.grant(request.id, request.ttl, now)
            return request.id
        if kind is LeaseRevokeRequest:
            if request.id not in self.lessor:
                raise LeaseNotFoundError()
            keys = mvcc.lease_keys(request.id)
            self.lessor.revoke(request.id)
            if keys:  # all of the lease's keys go in one revision
                mvcc.txn([], [DeleteOp(k) for k in sorted(keys)], [])
            return mvcc.revision
        if kind is MemberAttributesRequest:
            self.membership.apply_attributes(request.member_id, request.attributes)
            self.after_peer_urls_changed()
            return None
        raise InvalidRequestError(f"etcdserver: unknown request {kind.__name__}")

    def _check_txn_leases(self, op: TxnOp) -> None:
        # etcd checks the branch that runs; we check both so a txn never half-applies. A put
        # naming a lease that does not exist fails the whole txn before any write.
        for branch in (op.success, op.failure):
            for sub in branch:
                if type(sub) is PutOp:
                    if sub.lease and not sub.ignore_lease and sub.lease not in self.lessor:
                        raise LeaseNotFoundError()
                elif type(sub) is TxnOp:
                    self._check_txn_leases(sub)


# =================================================================================================
# The snapshot payload

_LEGACY_STATE_HEAD = struct.Struct("<8sQQII")     # magic, index, term, mvcc len, lease len
_STATE_HEAD = struct.Struct("<8sQQIIIHH")         # ... + member table len, voters, learners


def encode_state(mvcc: MVCC, lessor: Lessor, membership: Membership, conf_state: ConfState,
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


def decode_state(payload: bytes, now: float) -> StoreState:
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
    return StoreState(mvcc, lessor, membership, ConfState(ids[:n_voters], ids[n_voters:]))
