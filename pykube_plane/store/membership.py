"""Cluster membership as the replicated state keeps it: who the members are, their names and URLs.

Raft's ConfState says which ids vote and which learn; this table adds what etcd's MemberList shows.
It changes only by applying log entries, so every member holds the same table at the same index:

- a configuration-change entry (ADD_NODE / ADD_LEARNER_NODE / REMOVE_NODE) carries the added
  member's record as JSON in its context (`conf_change_context`), with the proposer's request id;
- a MemberAttributesRequest entry carries what changed later: the name and client URLs a member
  publishes once it runs (etcd's "publish"), or new peer URLs (etcd's MemberUpdate).

Ids follow etcd's recipe (server/etcdserver/api/membership/member.go): a member's id is the first
8 bytes of SHA-1 over its sorted peer URLs and the cluster token (plus the time, for a member added
at run time, so that a re-added URL gets a new id); the cluster id is SHA-1 over the sorted member
ids. One difference: ids are masked to 63 bits, because the Raft core keeps ids as int64.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Iterable

import orjson

ID_MASK = (1 << 63) - 1


def member_id_for(peer_urls: Iterable[str], token: str, added_at: int | None = None) -> int:
    """etcd's computeMemberID, masked to 63 bits (never 0)."""
    data = "".join(sorted(peer_urls)).encode() + token.encode()
    if added_at is not None:
        data += str(added_at).encode()
    return (int.from_bytes(hashlib.sha1(data).digest()[:8], "big") & ID_MASK) or 1


def cluster_id_for(member_ids: Iterable[int]) -> int:
    """etcd's genID over the initial members, masked to 63 bits (never 0)."""
    data = b"".join(i.to_bytes(8, "big") for i in sorted(member_ids))
    return (int.from_bytes(hashlib.sha1(data).digest()[:8], "big") & ID_MASK) or 1


@dataclass
class MemberRecord:
    """One member as etcd's MemberList shows it. An empty name means "not started yet"."""
    id: int
    name: str = ""
    peer_urls: list[str] = field(default_factory=list)
    client_urls: list[str] = field(default_factory=list)
    is_learner: bool = False

    def to_dict(self) -> dict:
        return {"id": self.id, "name": self.name, "peerURLs": list(self.peer_urls),
                "clientURLs": list(self.client_urls), "isLearner": self.is_learner}

    @classmethod
    def from_dict(cls, d: dict) -> "MemberRecord":
        return cls(int(d["id"]), d.get("name", ""), list(d.get("peerURLs", [])),
                   list(d.get("clientURLs", [])), bool(d.get("isLearner", False)))


def conf_change_context(record: MemberRecord, request_id: int) -> bytes:
    return orjson.dumps({"member": record.to_dict(), "request": request_id})


def parse_conf_change_context(context: bytes) -> tuple[MemberRecord | None, int]:
    """(record, request id) from a conf change's context; (None, 0) for an empty one."""
    if not context:
        return None, 0
    d = orjson.loads(context)
    member = d.get("member")
    return (MemberRecord.from_dict(member) if member else None), int(d.get("request", 0))


class Membership:
    """The member table (see the module docstring). Deterministic: apply the same entries, get
    the same table."""

    def __init__(self) -> None:
        self.members: dict[int, MemberRecord] = {}
        self.removed: set[int] = set()

    def __contains__(self, member_id: int) -> bool:
        return member_id in self.members

    def get(self, member_id: int) -> MemberRecord | None:
        return self.members.get(member_id)

    def sorted(self) -> list[MemberRecord]:
        return [self.members[i] for i in sorted(self.members)]

    def peer_urls(self) -> dict[int, list[str]]:
        return {i: list(m.peer_urls) for i, m in self.members.items()}

    def find_by_peer_urls(self, urls: Iterable[str]) -> MemberRecord | None:
        wanted = set(urls)
        for m in self.members.values():
            if wanted & set(m.peer_urls):
                return m
        return None

    # --- applying log entries -------------------------------------------------------------------

    def apply_conf_change(self, node_id: int, record: MemberRecord | None, voters: Iterable[int],
                          learners: Iterable[int]) -> None:
        """After Raft applied a conf change: the table follows the new ConfState, taking the
        record carried by the entry for an added member."""
        voters, learners = set(voters), set(learners)
        if record is not None and record.id == node_id and node_id not in self.members \
                and (node_id in voters or node_id in learners):
            self.members[node_id] = MemberRecord(node_id, record.name, list(record.peer_urls),
                                                 list(record.client_urls))
        for member_id in list(self.members):
            if member_id not in voters and member_id not in learners:
                del self.members[member_id]
                self.removed.add(member_id)
        for member_id in voters | learners:
            m = self.members.get(member_id)
            if m is None:  # a member known only by id (a bootstrap without records)
                m = self.members[member_id] = MemberRecord(member_id)
            m.is_learner = member_id in learners

    def apply_attributes(self, member_id: int, attributes: bytes) -> None:
        m = self.members.get(member_id)
        if m is None:
            return  # removed meanwhile: nothing to update, identically everywhere
        d = orjson.loads(attributes)
        if "name" in d:
            m.name = str(d["name"])
        if "clientURLs" in d:
            m.client_urls = [str(u) for u in d["clientURLs"]]
        if "peerURLs" in d:
            m.peer_urls = [str(u) for u in d["peerURLs"]]

    # --- snapshots ------------------------------------------------------------------------------

    def encode(self) -> bytes:
        return orjson.dumps({"members": [m.to_dict() for m in self.sorted()],
                             "removed": sorted(self.removed)})

    @classmethod
    def decode(cls, data: bytes) -> "Membership":
        membership = cls()
        if data:
            d = orjson.loads(data)
            for m in d.get("members", []):
                record = MemberRecord.from_dict(m)
                membership.members[record.id] = record
            membership.removed = set(int(i) for i in d.get("removed", []))
        return membership


@dataclass
class ClusterConfig:
    """How a member joins a cluster (etcd's --initial-cluster* and peer flags), and its timing.

    Only read when the data dir is new: a restarted member takes everything from its data dir.
    """
    name: str
    initial_cluster: dict[str, list[str]]
    listen_peer_urls: list[str]
    advertise_peer_urls: list[str]
    client_urls: list[str] = field(default_factory=list)
    state: str = "new"                      # "new" | "existing"
    token: str = "etcd-cluster"
    tick_interval: float = 0.1              # etcd --heartbeat-interval
    election_ticks: int = 10                # etcd --election-timeout / --heartbeat-interval

    def initial_records(self) -> list[MemberRecord]:
        """The founding members of a new cluster, ids as etcd computes them. Every founder must
        write byte-identical bootstrap entries, so only what --initial-cluster says goes in
        (client URLs are published later, through the log)."""
        records = [MemberRecord(member_id_for(urls, self.token), name, list(urls))
                   for name, urls in self.initial_cluster.items()]
        return sorted(records, key=lambda r: r.id)

    def own_id(self) -> int:
        return member_id_for(self.advertise_peer_urls, self.token)
