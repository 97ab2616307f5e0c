"""The store: etcd semantics (MVCC, watch, leases, WAL, snapshots) behind the `KV` protocol.

`Store` is the embedded store (pykube_plane.store.store); `KV` and its data types come from
pykube_plane.store.kv.
"""
from .kv import *  # noqa: F401,F403
from .store import Store  # noqa: F401
