"""The etcd v3 gRPC server: every service over one `ServedStore`, on the caller's event loop.

    server = EtcdServer(store, MemberInfo("default", [peer_url], [client_url]))
    port = await server.start("127.0.0.1:2379")
    ...
    await server.stop()
"""
from __future__ import annotations

from pathlib import Path

import grpc

from ..etcdpb import rpc_pb2_grpc as pb_grpc
from ..requests import DEFAULT_MAX_REQUEST_BYTES
from .backend import Headers, MemberInfo, ServedStore
from .kv_service import DEFAULT_MAX_TXN_OPS, KVService
from .lease_service import LeaseService
from .maintenance_service import AuthService, ClusterService, MaintenanceService
from .quota import Alarms, SpaceQuota
from .watch_service import WatchService

GRPC_OVERHEAD_BYTES = 512 * 1024            # etcd lets gRPC take this much more than a request
# etcd sends responses of any size (a big range must not fail for its size)
MAX_SEND_BYTES = 2**31 - 1
MAX_PENDING_RPCS = 100_000


class EtcdServer:
    def __init__(self, store: ServedStore, member: MemberInfo, *,
                 quota_bytes: int = 0, alarms_path: Path | None = None,
                 max_request_bytes: int = DEFAULT_MAX_REQUEST_BYTES,
                 max_txn_ops: int = DEFAULT_MAX_TXN_OPS) -> None:
        self.store = store
        self.member = member
        self.headers = Headers.for_store(store)
        self.alarms = Alarms(alarms_path)
        self.quota = SpaceQuota(quota_bytes, lambda: store.status().db_size, self.alarms,
                                store.member_id)
        self.max_request_bytes = max_request_bytes
        self.kv = KVService(store, self.headers, self.quota, max_request_bytes=max_request_bytes,
                            max_txn_ops=max_txn_ops)
        self.watch = WatchService(store, self.headers, max_response_bytes=max_request_bytes)
        self.lease = LeaseService(store, self.headers, self.quota)
        self.maintenance = MaintenanceService(store, self.headers, self.alarms)
        self.cluster = ClusterService(self.headers, member, store)
        self.auth = AuthService(self.headers)
        self._server: grpc.aio.Server | None = None

    def _grpc_server(self) -> grpc.aio.Server:
        server = grpc.aio.server(options=[
            ("grpc.max_receive_message_length", self.max_request_bytes + GRPC_OVERHEAD_BYTES),
            ("grpc.max_send_message_length", MAX_SEND_BYTES),
            # A burst of new streams (thousands of watchers reconnecting at once) queues in grpc's
            # core until the loop accepts them; its defaults (1000 soft, 3000 hard) drop the rest.
            ("grpc.server.max_pending_requests", MAX_PENDING_RPCS),
            ("grpc.server.max_pending_requests_hard_limit", MAX_PENDING_RPCS),
            # Accept clients' keepalive pings (etcd's enforcement policy: at most every 5 s).
            ("grpc.http2.min_ping_interval_without_data_ms", 5000),
            ("grpc.keepalive_permit_without_calls", 1),
            ("grpc.so_reuseport", 0),
        ])
        pb_grpc.add_KVServicer_to_server(self.kv, server)
        server.add_generic_rpc_handlers((self.watch.rpc_handler(),))
        pb_grpc.add_LeaseServicer_to_server(self.lease, server)
        pb_grpc.add_MaintenanceServicer_to_server(self.maintenance, server)
        pb_grpc.add_ClusterServicer_to_server(self.cluster, server)
        pb_grpc.add_AuthServicer_to_server(self.auth, server)
        return server

    async def start(self, *addresses: str) -> list[int]:
        """Listen on each "host:port" (port 0 = any free port); returns the bound ports."""
        self._server = self._grpc_server()
        ports = []
        for address in addresses:
            port = self._server.add_insecure_port(address)
            if port == 0:
                raise OSError(f"cannot listen on {address}")
            ports.append(port)
        await self._server.start()
        return ports

    async def stop(self, grace: float = 1.0) -> None:
        if self._server is not None:
            await self._server.stop(grace)
            self._server = None
