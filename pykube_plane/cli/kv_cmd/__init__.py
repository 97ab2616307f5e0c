"""`kplane kv`: an etcdctl-like client for a kplane store or any etcd v3 endpoint.

Commands, flags and output follow etcdctl 3.5 (`-w simple|json|table`), so scripts carry over:
put, get, del, watch, lease grant|revoke|keep-alive|timetolive|list, compaction,
endpoint health|status|hashkv, member list|add|remove|promote|update, move-leader,
alarm list|disarm, defrag,
snapshot save|restore|status. Errors print as `Error: <etcd message>` with etcdctl's exit codes.
"""
from .root import kv
# Each module registers its commands on `kv` when imported.
from . import endpoint, keys, lease, maintenance, member, snapshot, watch  # noqa: E402,F401

__all__ = ["kv"]
