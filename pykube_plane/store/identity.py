"""Cluster identity and joining: which member this data dir is, of which cluster.

The ids are chosen once, when the data dir is created, and kept in DATA/member/identity (etcd
keeps them in the WAL's metadata): a store of one picks random ids; a member of a new cluster
computes them as etcd does from --initial-cluster; a member joining an existing cluster asks the
peers named there for the member list and finds itself in it by its peer URLs (its id was
chosen by MemberAdd).
"""
from __future__ import annotations

import asyncio
import logging
import random
import struct
from pathlib import Path

import orjson

from .durable_file import write_file_atomic
from .kv import StoreError
from .membership import ClusterConfig, MemberRecord, cluster_id_for
from .transport import PeerCallError, PeerTransport

log = logging.getLogger("pykube_plane.store")

_IDENTITY = struct.Struct("<QQ")   # member id, cluster id


async def resolve_identity(member_dir: Path, cluster: ClusterConfig | None, fresh: bool,
                           ) -> tuple[int, int, list[MemberRecord]]:
    """(member id, cluster id, founding members to bootstrap the log with, if any).

    A data dir that has an identity keeps it; `fresh` says the data dir holds no state yet."""
    path = member_dir / "identity"
    has_identity = path.exists() and path.stat().st_size == _IDENTITY.size
    if cluster is None:
        member_id, cluster_id = await asyncio.to_thread(load_identity, member_dir)
        founders = [MemberRecord(member_id, "default")] if fresh else []
        return member_id, cluster_id, founders
    if has_identity:
        member_id, cluster_id = _IDENTITY.unpack(path.read_bytes())
        founders = cluster.initial_records() if fresh and cluster.state == "new" else []
        return member_id, cluster_id, founders
    if cluster.state == "new":
        founders = cluster.initial_records()
        member_id = cluster.own_id()
        cluster_id = cluster_id_for(r.id for r in founders)
    else:
        member_id, cluster_id = await _join_existing(cluster)
        founders = []
    await asyncio.to_thread(write_file_atomic, path, _IDENTITY.pack(member_id, cluster_id))
    return member_id, cluster_id, founders


def load_identity(member_dir: Path) -> tuple[int, int]:
    """The member and cluster ids of a store of one: random at creation, then kept."""
    member_dir.mkdir(parents=True, exist_ok=True)
    path = member_dir / "identity"
    if path.exists():
        data = path.read_bytes()
        if len(data) == _IDENTITY.size:
            return _IDENTITY.unpack(data)
        log.warning("%s is damaged; choosing new member and cluster ids", path)
    ids = (random.getrandbits(63) | 1, random.getrandbits(63) | 1)
    write_file_atomic(path, _IDENTITY.pack(*ids))
    return ids


async def _join_existing(cluster: ClusterConfig) -> tuple[int, int]:
    own = set(cluster.advertise_peer_urls)
    members, cluster_id = await _fetch_cluster(cluster)
    for m in members:
        if own & set(m.peer_urls):
            return m.id, cluster_id
    raise StoreError(f"etcdserver: member with peer URLs {sorted(own)} is not in the cluster; "
                     "add it first (etcdctl member add)")


async def fetch_members(cluster: ClusterConfig) -> list[MemberRecord]:
    """The member list, asked of the other members named in --initial-cluster."""
    members, _cluster_id = await _fetch_cluster(cluster)
    return members


async def _fetch_cluster(cluster: ClusterConfig) -> tuple[list[MemberRecord], int]:
    """(members, cluster id), asked of the other members named in --initial-cluster (etcd's
    GetClusterFromRemotePeers), retried for about ten seconds."""
    own = set(cluster.advertise_peer_urls)
    urls = [u for name, peer_urls in cluster.initial_cluster.items()
            for u in peer_urls if u not in own]
    if not urls:
        raise StoreError("etcdserver: --initial-cluster-state existing needs the other members "
                         "in --initial-cluster")
    errors = ["no answer"]
    for _ in range(50):
        for url in urls:
            try:
                answer = orjson.loads(await PeerTransport.call_url(url, "members"))
            except (PeerCallError, ValueError) as exc:
                errors.append(str(exc))
                continue
            return [MemberRecord.from_dict(m) for m in answer["members"]], int(answer["cluster"])
        await asyncio.sleep(0.2)
    raise StoreError(f"etcdserver: cannot fetch the cluster's members from {urls}: {errors[-1]}")


def members_answer(cluster_id: int, members: list[MemberRecord]) -> bytes:
    """What this member answers to a peer's "members" call (the other side of `_fetch_cluster`)."""
    return orjson.dumps({"cluster": cluster_id, "members": [m.to_dict() for m in members]})
