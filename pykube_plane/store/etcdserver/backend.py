"""What the etcd gRPC services serve: a store (the `KV` protocol plus a few maintenance extras),
the member's identity, and response headers.

The embedded `Store` satisfies `ServedStore` as it is. Every response header carries
cluster_id, member_id, the store revision and the raft term, like etcd's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Protocol

from ..etcdpb import rpc_pb2 as pb
from ..kv import KV, PutOp, PutResult


class ServedStore(KV, Protocol):
    member_id: int
    cluster_id: int

    @property
    def revision(self) -> int: ...
    def status(self) -> Any: ...                          # store.StoreStatus
    def hash_kv(self, revision: int = 0) -> tuple[int, int]: ...
    async def snapshot_file_bytes(self) -> bytes: ...    # etcd's snapshot file: bbolt db + sha256
    async def put_op(self, op: PutOp) -> PutResult: ...


@dataclass
class MemberInfo:
    """This member as Cluster.MemberList shows it."""
    name: str
    peer_urls: list[str] = field(default_factory=list)
    client_urls: list[str] = field(default_factory=list)


class Headers:
    """Builds ResponseHeaders for one member. `current_revision` reads the store's revision for
    responses that are not about a particular write; the raft term is refreshed on demand."""

    def __init__(self, cluster_id: int, member_id: int, raft_term: int,
                 current_revision: Callable[[], int], store: ServedStore | None = None) -> None:
        self._store = store
        self.cluster_id = cluster_id
        self.member_id = member_id
        self.raft_term = raft_term
        self._current_revision = current_revision
        self._encoded_ids = _varint_field(0x08, cluster_id) + _varint_field(0x10, member_id)
        self._encoded_term = _varint_field(0x20, raft_term)

    @classmethod
    def for_store(cls, store: ServedStore) -> "Headers":
        headers = cls(store.cluster_id, store.member_id, 0, lambda: store.revision, store)
        headers.refresh_term()
        return headers

    def refresh_term(self, status: Any | None = None) -> None:
        store = self._store
        if store is None:
            return
        term = getattr(store, "term", None)
        if term is None:
            term = (status if status is not None else store.status()).raft_term
        self.set_term(int(term))

    def set_term(self, term: int) -> None:
        if term != self.raft_term:
            self.raft_term = term
            self._encoded_term = _varint_field(0x20, term)

    def make(self, revision: int | None = None) -> pb.ResponseHeader:
        return pb.ResponseHeader(cluster_id=self.cluster_id, member_id=self.member_id,
                                 revision=self._current_revision() if revision is None else revision,
                                 raft_term=self.raft_term)

    def encode(self, revision: int) -> bytes:
        """The serialised ResponseHeader, as protobuf writes it (fields in order, zeros omitted)."""
        return self._encoded_ids + _varint_field(0x18, revision) + self._encoded_term

    def fill(self, header: pb.ResponseHeader, revision: int | None = None) -> None:
        header.cluster_id = self.cluster_id
        header.member_id = self.member_id
        header.revision = self._current_revision() if revision is None else revision
        header.raft_term = self.raft_term


def _varint_field(tag: int, value: int) -> bytes:
    if not value:
        return b""
    out = bytearray((tag,))
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)
