"""The etcd v3 gRPC API over a store: KV, Watch, Lease, Maintenance, Cluster (and Auth as
"not enabled"), wire-compatible with etcd 3.5 so that etcdctl and clientv3 work unchanged.

One module per service; `server.EtcdServer` puts them on one grpc.aio server.
"""
from .backend import MemberInfo, ServedStore
from .server import DEFAULT_MAX_REQUEST_BYTES, EtcdServer

__all__ = ["EtcdServer", "MemberInfo", "ServedStore", "DEFAULT_MAX_REQUEST_BYTES"]
