"""etcd's Maintenance service (status, hashes, snapshot stream, alarms, defragment, move-leader)
and the Cluster service (the member table kept in the replicated state: list, add, remove,
update, promote)."""
from __future__ import annotations

import asyncio

import grpc

from ..etcdpb import rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from .backend import Headers, MemberInfo, ServedStore
from .errors import etcd_errors
from .quota import Alarms

SNAPSHOT_CHUNK_BYTES = 32 * 1024  # etcd streams its snapshot in 32 KiB pieces
SERVER_VERSION = "3.5.1"           # the etcd API version this server speaks


class MaintenanceService(pb_grpc.MaintenanceServicer):
    def __init__(self, store: ServedStore, headers: Headers, alarms: Alarms) -> None:
        self._store = store
        self._headers = headers
        self._alarms = alarms

    def _alarm_strings(self) -> list[str]:
        return [f"memberID:{m} alarm:{pb.AlarmType.Name(a)} " for m, a in self._alarms.active()]

    @etcd_errors
    async def Status(self, request: pb.StatusRequest, context) -> pb.StatusResponse:
        st = self._store.status()
        self._headers.refresh_term(st)
        return pb.StatusResponse(
            header=self._headers.make(st.revision), version=SERVER_VERSION, dbSize=st.db_size,
            leader=st.leader, raftIndex=st.raft_index, raftTerm=st.raft_term,
            raftAppliedIndex=st.raft_applied_index, errors=self._alarm_strings(),
            dbSizeInUse=st.db_size_in_use, isLearner=getattr(st, "is_learner", False))

    @etcd_errors
    async def Hash(self, request: pb.HashRequest, context) -> pb.HashResponse:
        hash_value, _ = self._store.hash_kv(0)
        return pb.HashResponse(header=self._headers.make(), hash=hash_value & 0xFFFFFFFF)

    @etcd_errors
    async def HashKV(self, request: pb.HashKVRequest, context) -> pb.HashKVResponse:
        revision = request.revision or self._store.revision
        hash_value, compact_revision = self._store.hash_kv(request.revision)
        return pb.HashKVResponse(header=self._headers.make(), hash=hash_value & 0xFFFFFFFF,
                                 compact_revision=compact_revision, hash_revision=revision)

    async def Snapshot(self, request: pb.SnapshotRequest, context: grpc.aio.ServicerContext):
        header = self._headers.make()  # the point in time of the snapshot
        data = await self._store.snapshot_file_bytes()  # etcd's format: bbolt pages + sha256
        total = len(data)
        for pos in range(0, total, SNAPSHOT_CHUNK_BYTES):
            chunk = data[pos:pos + SNAPSHOT_CHUNK_BYTES]
            yield pb.SnapshotResponse(header=header, remaining_bytes=total - pos - len(chunk),
                                      blob=chunk)
            if pos % (32 * SNAPSHOT_CHUNK_BYTES) == 0:
                await asyncio.sleep(0)

    @etcd_errors
    async def Alarm(self, request: pb.AlarmRequest, context) -> pb.AlarmResponse:
        action = request.action
        if action == pb.AlarmRequest.GET:
            affected = self._alarms.active(request.alarm)
        elif action == pb.AlarmRequest.ACTIVATE:
            if request.alarm == pb.NONE:
                affected = []
            else:
                # etcd keeps the id it is given: 0 is "every member", not this one
                affected = self._alarms.activate(request.memberID, request.alarm)
        else:
            affected = self._alarms.deactivate(request.memberID, request.alarm)
        return pb.AlarmResponse(header=self._headers.make(),
                                alarms=[pb.AlarmMember(memberID=m, alarm=a) for m, a in affected])

    @etcd_errors
    async def Defragment(self, request: pb.DefragmentRequest, context) -> pb.DefragmentResponse:
        # The store keeps no free pages to give back: its size is what it holds, so there is
        # nothing to compact physically beyond what KV.Compact already released.
        return pb.DefragmentResponse(header=self._headers.make())

    async def Downgrade(self, request, context):
        await context.abort(grpc.StatusCode.UNIMPLEMENTED,
                            "etcdserver: downgrade is not supported by this store")

    @etcd_errors
    async def MoveLeader(self, request: pb.MoveLeaderRequest, context) -> pb.MoveLeaderResponse:
        move = getattr(self._store, "move_leader", None)
        if move is not None:
            await move(request.targetID)
        elif request.targetID != self._headers.member_id:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "etcdserver: bad leader transferee")
        self._headers.refresh_term()
        return pb.MoveLeaderResponse(header=self._headers.make())


_NOT_CAPABLE = "etcdserver: not capable"


class ClusterService(pb_grpc.ClusterServicer):
    """Served from the store's replicated member table when it has one; a store without one
    (a plain KV) is shown as this member alone and refuses changes."""

    def __init__(self, headers: Headers, member: MemberInfo, store: ServedStore | None = None) -> None:
        self._headers = headers
        self._member = member
        self._store = store if hasattr(store, "members") else None

    def _members(self) -> list[pb.Member]:
        if self._store is None:
            m = self._member
            return [pb.Member(ID=self._headers.member_id, name=m.name, peerURLs=m.peer_urls,
                              clientURLs=m.client_urls)]
        return [pb.Member(ID=r.id, name=r.name, peerURLs=r.peer_urls, clientURLs=r.client_urls,
                          isLearner=r.is_learner) for r in self._store.members()]

    def _header(self) -> pb.ResponseHeader:
        self._headers.refresh_term()
        header = self._headers.make()
        header.revision = 0  # etcd leaves the revision out of cluster responses
        return header

    async def _refuse_without_membership(self, context) -> None:
        if self._store is None:
            await context.abort(grpc.StatusCode.FAILED_PRECONDITION, _NOT_CAPABLE)

    @etcd_errors
    async def MemberList(self, request: pb.MemberListRequest, context) -> pb.MemberListResponse:
        if request.linearizable and self._store is not None:
            await self._store.range(b"\0", count_only=True)  # a ReadIndex round first
        return pb.MemberListResponse(header=self._header(), members=self._members())

    @etcd_errors
    async def MemberAdd(self, request: pb.MemberAddRequest, context) -> pb.MemberAddResponse:
        await self._refuse_without_membership(context)
        urls = await _valid_urls_or_abort(request.peerURLs, context)
        record = await self._store.member_add(urls, request.isLearner)
        member = pb.Member(ID=record.id, name=record.name, peerURLs=record.peer_urls,
                           clientURLs=record.client_urls, isLearner=record.is_learner)
        return pb.MemberAddResponse(header=self._header(), member=member, members=self._members())

    @etcd_errors
    async def MemberRemove(self, request: pb.MemberRemoveRequest, context) -> pb.MemberRemoveResponse:
        await self._refuse_without_membership(context)
        await self._store.member_remove(request.ID)
        return pb.MemberRemoveResponse(header=self._header(), members=self._members())

    @etcd_errors
    async def MemberUpdate(self, request: pb.MemberUpdateRequest, context) -> pb.MemberUpdateResponse:
        await self._refuse_without_membership(context)
        urls = await _valid_urls_or_abort(request.peerURLs, context)
        await self._store.member_update(request.ID, urls)
        return pb.MemberUpdateResponse(header=self._header(), members=self._members())

    @etcd_errors
    async def MemberPromote(self, request: pb.MemberPromoteRequest, context) -> pb.MemberPromoteResponse:
        await self._refuse_without_membership(context)
        await self._store.member_promote(request.ID)
        return pb.MemberPromoteResponse(header=self._header(), members=self._members())


async def _valid_urls_or_abort(urls, context) -> list[str]:
    """The peer URLs of a MemberAdd / MemberUpdate; the call fails as etcd's does if one is bad."""
    valid = _valid_urls(urls)
    if valid is None:
        await context.abort(grpc.StatusCode.INVALID_ARGUMENT,
                            "etcdserver: given member URLs are invalid")
    return valid


def _valid_urls(urls) -> list[str] | None:
    from urllib.parse import urlsplit

    out = []
    for url in urls:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname or parts.port is None:
            return None
        out.append(url)
    return out or None


_NO_AUTH = "etcdserver: users and roles are not supported by this store"


class AuthService(pb_grpc.AuthServicer):
    """Authentication is not enabled on a kplane store: etcd's answers for that state; managing
    users and roles is refused with a clear message rather than a server-side error."""

    def __init__(self, headers: Headers) -> None:
        self._headers = headers

    async def AuthStatus(self, request, context) -> pb.AuthStatusResponse:
        return pb.AuthStatusResponse(header=self._headers.make(), enabled=False)

    async def AuthDisable(self, request, context) -> pb.AuthDisableResponse:
        return pb.AuthDisableResponse(header=self._headers.make())

    async def Authenticate(self, request, context):
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "etcdserver: authentication is not enabled")

    async def UserList(self, request, context) -> pb.AuthUserListResponse:
        return pb.AuthUserListResponse(header=self._headers.make())

    async def RoleList(self, request, context) -> pb.AuthRoleListResponse:
        return pb.AuthRoleListResponse(header=self._headers.make())

    async def UserGet(self, request, context):
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "etcdserver: user name not found")

    async def RoleGet(self, request, context):
        await context.abort(grpc.StatusCode.FAILED_PRECONDITION, "etcdserver: role name not found")


async def _refuse_auth_change(self, request, context):
    await context.abort(grpc.StatusCode.UNIMPLEMENTED, _NO_AUTH)


for _name in ("AuthEnable", "UserAdd", "UserDelete", "UserChangePassword", "UserGrantRole",
              "UserRevokeRole", "RoleAdd", "RoleDelete", "RoleGrantPermission", "RoleRevokePermission"):
    setattr(AuthService, _name, _refuse_auth_change)
