"""etcd's Lease service: grant, revoke, the keepalive stream, time-to-live, list."""
from __future__ import annotations

import logging

import grpc

from ..etcdpb import rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from ..kv import LeaseNotFoundError, StoreError
from .backend import Headers, ServedStore
from .errors import etcd_errors
from .quota import SpaceQuota

log = logging.getLogger("pykube_plane.store.etcdserver")

LEASE_COST_BYTES = 64  # what a lease record costs the quota check (etcd: a small constant)


class LeaseService(pb_grpc.LeaseServicer):
    def __init__(self, store: ServedStore, headers: Headers, quota: SpaceQuota) -> None:
        self._store = store
        self._headers = headers
        self._quota = quota

    @etcd_errors
    async def LeaseGrant(self, request: pb.LeaseGrantRequest, context) -> pb.LeaseGrantResponse:
        self._quota.check(LEASE_COST_BYTES)
        grant = await self._store.lease_grant(request.TTL, request.ID)
        return pb.LeaseGrantResponse(header=self._headers.make(), ID=grant.id, TTL=grant.ttl)

    @etcd_errors
    async def LeaseRevoke(self, request: pb.LeaseRevokeRequest, context) -> pb.LeaseRevokeResponse:
        revision = await self._store.lease_revoke(request.ID)
        return pb.LeaseRevokeResponse(header=self._headers.make(revision))

    @etcd_errors
    async def LeaseTimeToLive(self, request: pb.LeaseTimeToLiveRequest,
                              context) -> pb.LeaseTimeToLiveResponse:
        st = await self._store.lease_time_to_live(request.ID, keys=request.keys)
        return pb.LeaseTimeToLiveResponse(header=self._headers.make(), ID=request.ID, TTL=st.ttl,
                                          grantedTTL=st.granted_ttl, keys=st.keys)

    @etcd_errors
    async def LeaseLeases(self, request: pb.LeaseLeasesRequest, context) -> pb.LeaseLeasesResponse:
        ids = await self._store.leases()
        return pb.LeaseLeasesResponse(header=self._headers.make(),
                                      leases=[pb.LeaseStatus(ID=i) for i in ids])

    async def LeaseKeepAlive(self, request_iterator, context: grpc.aio.ServicerContext):
        """One response per request; an unknown or expired lease answers TTL 0 (etcd's rule)."""
        try:
            async for req in request_iterator:
                try:
                    ttl = await self._store.lease_keepalive(req.ID)
                except LeaseNotFoundError:
                    ttl = 0
                except StoreError as exc:
                    from ..etcdpb.rpctypes import status_for
                    code, message = status_for(exc)
                    await context.abort(code, message)
                    return
                yield pb.LeaseKeepAliveResponse(header=self._headers.make(), ID=req.ID, TTL=ttl)
        except grpc.aio.AbortError:
            raise
        except Exception:  # the client went away
            log.debug("lease keepalive stream ended", exc_info=True)
