"""The store: etcd semantics (MVCC, watch, leases, WAL, snapshots) behind the `KV` protocol."""
from .kv import *  # noqa: F401,F403
