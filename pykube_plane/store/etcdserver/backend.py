"""What the etcd gRPC services serve: a store (the `KV` protocol plus a few maintenance extras),
the member's identity, and response headers.

The embedded `Store` satisfies `ServedStore` as it is. Every response header carries
cluster_id, member_id, the store revision and the raft term, like etcd's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Protocol

from ..etcdpb import rpc_pb2 as pb
from ..kv import KV, PutOp, PutResult


class ServedStore(KV, Protocol):
    member_id: int
    cluster_id: int

    @property
    def revision(self) -> int: ...
    def status(self) -> Any: ...                          # store.StoreStatus
    def hash_kv(self, revision: int = 0) -> tuple[int, int]: ...
    def snapshot_bytes(self) -> bytes: ...
    async def put_op(self, op: PutOp) -> PutResult: ...


@dataclass
class MemberInfo:
    """This member as Cluster.MemberList shows it."""
    name: str
    peer_urls: list[str] = field(default_factory=list)
    client_urls: list[str] = field(default_factory=list)


class Headers:
    """Builds ResponseHeaders; the raft term is read once and refreshed by `refresh_term`."""

    def __init__(self, store: ServedStore) -> None:
        self._store = store
        self.cluster_id = store.cluster_id
        self.member_id = store.member_id
        self.raft_term = 0
        self.refresh_term()

    def refresh_term(self, status: Any | None = None) -> None:
        term = getattr(self._store, "term", None)
        if term is None:
            term = (status if status is not None else self._store.status()).raft_term
        self.raft_term = int(term)

    def make(self, revision: int | None = None) -> pb.ResponseHeader:
        return pb.ResponseHeader(cluster_id=self.cluster_id, member_id=self.member_id,
                                 revision=self._store.revision if revision is None else revision,
                                 raft_term=self.raft_term)

    def fill(self, header: pb.ResponseHeader, revision: int | None = None) -> None:
        header.cluster_id = self.cluster_id
        header.member_id = self.member_id
        header.revision = self._store.revision if revision is None else revision
        header.raft_term = self.raft_term
