"""A `KV` that talks etcd v3 gRPC to an endpoint list: real etcd or `kplane store`, the same code.

- **Endpoints**: one gRPC channel per endpoint, used in turn. An endpoint that answers UNAVAILABLE
  is left for the next one. Reads are retried there; a write is retried only when it provably never
  left the client (no connection), like etcd's clientv3, so a write is never applied twice.
- **Watches** share one bidirectional Watch stream per client (etcd multiplexes watchers on a
  stream). When the stream breaks, every watcher is re-created on the next endpoint from the
  revision after the last one it saw, so consumers see no gap and no duplicate. If that revision was
  compacted meanwhile, the watcher ends with a `compact_revision` response, as etcd's would.
- **Lease keepalives** share one LeaseKeepAlive stream, re-opened on demand.

Errors come back as the `kv` module's StoreError subclasses with etcd's messages (see
`etcdpb.rpctypes`); an unreachable cluster raises `EndpointsUnavailableError`.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import AsyncIterator, Sequence

import grpc

from .etcdpb import convert, rpc_pb2 as pb
from .etcdpb.rpctypes import error_for
from .kv import (
    Compare, DeleteOp, DeleteResult, LeaseGrant, LeaseStatus, Op, PutOp,
    RangeResult, StoreError, TxnOp, TxnResult,
)
from .remote_connection import (
    EndpointsUnavailableError, EtcdConnection, endpoint_target, is_etcd_message,
)
from .remote_streams import KeepAliveMux, RemoteWatch, WatchMux

__all__ = ["EndpointsUnavailableError", "EndpointStatus", "EtcdConnection", "RemoteKV", "RemoteWatch",
           "endpoint_target"]


# ---------------------------------------------------------------------------------------------
# The KV


@dataclass
class EndpointStatus:
    """etcdserverpb.StatusResponse, as `endpoint status` shows it."""
    endpoint: str
    version: str
    db_size: int
    db_size_in_use: int
    leader: int
    member_id: int
    cluster_id: int
    revision: int
    raft_term: int
    raft_index: int
    raft_applied_index: int
    is_learner: bool
    errors: list[str] = field(default_factory=list)


class RemoteKV:
    """etcd v3 over gRPC, behind the `KV` protocol. `await RemoteKV.connect([...])` or construct."""

    def __init__(self, endpoints: Sequence[str], *, request_timeout: float = 10.0,
                 retry_budget: float = 10.0) -> None:
        self.conn = EtcdConnection(endpoints, request_timeout=request_timeout, retry_budget=retry_budget)
        self._watches = WatchMux(self.conn)
        self._keepalives = KeepAliveMux(self.conn)

    @classmethod
    async def connect(cls, endpoints: Sequence[str], **kwargs) -> "RemoteKV":
        """Construct and check that some endpoint answers (a Status call)."""
        kv = cls(endpoints, **kwargs)
        try:
            await kv.status()
        except BaseException:
            await kv.close()
            raise
        return kv

    async def __aenter__(self) -> "RemoteKV":
        return self

    async def __aexit__(self, *exc) -> None:
        await self.close()

    # --- KV ---
    async def range(self, key: bytes, range_end: bytes = b"", *, revision: int = 0, limit: int = 0,
                    count_only: bool = False, keys_only: bool = False,
                    serializable: bool = False) -> RangeResult:
        req = pb.RangeRequest(key=key, range_end=range_end, revision=revision, limit=limit,
                              count_only=count_only, keys_only=keys_only, serializable=serializable)
        resp = await self.conn.call(lambda e: e.kv.Range, req, retry_safe=True)
        return convert.range_result_from_pb(resp)

    async def put(self, key: bytes, value: bytes, *, lease: int = 0) -> int:
        req = pb.PutRequest(key=key, value=value, lease=lease)
        resp = await self.conn.call(lambda e: e.kv.Put, req, retry_safe=False)
        return resp.header.revision

    async def delete_range(self, key: bytes, range_end: bytes = b"", *,
                           prev_kv: bool = False) -> DeleteResult:
        req = pb.DeleteRangeRequest(key=key, range_end=range_end, prev_kv=prev_kv)
        resp = await self.conn.call(lambda e: e.kv.DeleteRange, req, retry_safe=False)
        return convert.delete_result_from_pb(resp)

    async def txn(self, compare: Sequence[Compare], success: Sequence[Op],
                  failure: Sequence[Op] = ()) -> TxnResult:
        req = convert.txn_request(compare, success, failure)
        read_only = _read_only(success) and _read_only(failure)
        resp = await self.conn.call(lambda e: e.kv.Txn, req, retry_safe=read_only)
        return convert.txn_result_from_pb(resp)

    async def compact(self, revision: int, physical: bool = False) -> None:
        req = pb.CompactionRequest(revision=revision, physical=physical)
        await self.conn.call(lambda e: e.kv.Compact, req, retry_safe=False)

    def watch(self, key: bytes, range_end: bytes = b"", *, start_revision: int = 0,
              prev_kv: bool = False, progress_notify: bool = False,
              filters: Sequence[str] = ()) -> RemoteWatch:
        req = pb.WatchCreateRequest(key=key, range_end=range_end, start_revision=start_revision,
                                    prev_kv=prev_kv, progress_notify=progress_notify,
                                    filters=convert.filters_to_pb(filters))
        return self._watches.watch(req)

    async def lease_grant(self, ttl: int, id: int = 0) -> LeaseGrant:
        resp = await self.conn.call(lambda e: e.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=ttl, ID=id),
                                    retry_safe=False)
        if resp.error:
            raise StoreError(resp.error)
        return LeaseGrant(resp.ID, resp.TTL)

    async def lease_revoke(self, id: int) -> int:
        resp = await self.conn.call(lambda e: e.lease.LeaseRevoke, pb.LeaseRevokeRequest(ID=id),
                                    retry_safe=False)
        return resp.header.revision

    async def lease_keepalive(self, id: int) -> int:
        return await self._keepalives.keepalive(id)

    async def lease_time_to_live(self, id: int, keys: bool = False) -> LeaseStatus:
        resp = await self.conn.call(lambda e: e.lease.LeaseTimeToLive,
                                    pb.LeaseTimeToLiveRequest(ID=id, keys=keys), retry_safe=True)
        return LeaseStatus(resp.ID, resp.TTL, resp.grantedTTL, list(resp.keys))

    async def leases(self) -> list[int]:
        resp = await self.conn.call(lambda e: e.lease.LeaseLeases, pb.LeaseLeasesRequest(),
                                    retry_safe=True)
        return [lease.ID for lease in resp.leases]

    # --- beyond KV: what `kplane kv` needs for maintenance ---
    async def status(self, endpoint: int | None = None) -> EndpointStatus:
        """Maintenance.Status of one endpoint (index into the list), or of whichever answers."""
        if endpoint is None:
            resp = await self.conn.call(lambda e: e.maintenance.Status, pb.StatusRequest(),
                                        retry_safe=True)
            target = self.conn.endpoints[self.conn._current]
        else:
            ep = self.conn.endpoint(endpoint)
            resp = await self._direct(ep.maintenance.Status, pb.StatusRequest())
            target = ep.target
        h = resp.header
        return EndpointStatus(target, resp.version, resp.dbSize, resp.dbSizeInUse, resp.leader,
                              h.member_id, h.cluster_id, h.revision, h.raft_term, resp.raftIndex,
                              resp.raftAppliedIndex, resp.isLearner, list(resp.errors))

    async def hash_kv(self, revision: int = 0, endpoint: int | None = None) -> pb.HashKVResponse:
        req = pb.HashKVRequest(revision=revision)
        if endpoint is None:
            return await self.conn.call(lambda e: e.maintenance.HashKV, req, retry_safe=True)
        return await self._direct(self.conn.endpoint(endpoint).maintenance.HashKV, req)

    async def member_list(self) -> pb.MemberListResponse:
        return await self.conn.call(lambda e: e.cluster.MemberList, pb.MemberListRequest(),
                                    retry_safe=True)

    async def alarms(self, action: int = pb.AlarmRequest.GET, alarm: int = pb.NONE,
                     member_id: int = 0) -> pb.AlarmResponse:
        req = pb.AlarmRequest(action=action, alarm=alarm, memberID=member_id)
        return await self.conn.call(lambda e: e.maintenance.Alarm, req,
                                    retry_safe=action == pb.AlarmRequest.GET)

    async def defragment(self, endpoint: int = 0) -> None:
        await self._direct(self.conn.endpoint(endpoint).maintenance.Defragment,
                           pb.DefragmentRequest(), timeout=300.0)

    async def snapshot(self, endpoint: int = 0) -> AsyncIterator[bytes]:
        """Maintenance.Snapshot from one endpoint: yields the database in chunks."""
        call = self.conn.endpoint(endpoint).maintenance.Snapshot(pb.SnapshotRequest())
        try:
            async for resp in call:
                if resp.blob:
                    yield resp.blob
        except grpc.aio.AioRpcError as exc:
            raise error_for(exc.code(), exc.details() or "") from None

    async def _direct(self, method, request, timeout: float | None = None):
        try:
            return await method(request, timeout=timeout or self.conn.request_timeout)
        except grpc.aio.AioRpcError as exc:
            if exc.code() in (grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.DEADLINE_EXCEEDED) \
                    and not is_etcd_message(exc.details()):
                raise EndpointsUnavailableError(
                    f"{EndpointsUnavailableError.message} ({exc.details()})") from None
            raise error_for(exc.code(), exc.details() or "") from None

    async def close(self) -> None:
        await self._watches.close()
        await self._keepalives.close()
        await self.conn.close()


def _read_only(ops: Sequence[Op]) -> bool:
    for op in ops:
        if isinstance(op, (PutOp, DeleteOp)):
            return False
        if isinstance(op, TxnOp) and not (_read_only(op.success) and _read_only(op.failure)):
            return False
    return True


__all__ = ["RemoteKV", "RemoteWatch", "EtcdConnection", "EndpointStatus", "EndpointsUnavailableError",
           "endpoint_target"]
