"""The owner graph (pure: no I/O, no clock). Nodes are objects by uid; edges run owner -> dependent.

Observed changes return what to look at next, for the collector's workers:
- `attempt_to_delete`: uids whose owners may all be gone (a dependent), or which wait in
  foreground deletion for their dependents, or virtual owners to verify;
- `attempt_to_orphan`: uids being deleted with the `orphan` finalizer.

    g = Graph()
    g.observe(Identity("apps/v1", "ReplicaSet", "ns", "web", "u1"), owners=[], deleting=False, finalizers=[])
    g.observe(Identity("v1", "Pod", "ns", "web-x", "u2"), owners=[{"uid": "u1", ...}], ...)
    g.forget("u1")      # -> Actions(attempt_to_delete=["u2"]): the pod's owner is gone

An owner referenced before it is seen is a *virtual* node: it may never exist (a dangling
reference), so it is queued for the collector to check with the API server.
"""
from __future__ import annotations

from dataclasses import dataclass, field

FOREGROUND = "foregroundDeletion"
ORPHAN = "orphan"


@dataclass(frozen=True)
class Identity:
    api_version: str
    kind: str
    namespace: str
    name: str
    uid: str


@dataclass
class Node:
    identity: Identity
    owners: list[dict] = field(default_factory=list)          # the ownerReferences
    dependents: set[str] = field(default_factory=set)         # uids
    virtual: bool = False
    being_deleted: bool = False
    deleting_dependents: bool = False                         # deleting, with foregroundDeletion
    orphaning: bool = False                                   # deleting, with orphan
    absent: bool = False                                      # virtual, and known not to exist

    def owner_ref(self, owner_uid: str) -> dict | None:
        for ref in self.owners:
            if ref.get("uid") == owner_uid:
                return ref
        return None


@dataclass
class Actions:
    attempt_to_delete: list[str] = field(default_factory=list)
    attempt_to_orphan: list[str] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.attempt_to_delete or self.attempt_to_orphan)


class Graph:
    def __init__(self) -> None:
        self.nodes: dict[str, Node] = {}

    def __len__(self) -> int:
        return len(self.nodes)

    def get(self, uid: str) -> Node | None:
        return self.nodes.get(uid)

    def observe(self, identity: Identity, owners: list[dict], deleting: bool, finalizers: list[str]) -> Actions:
        """An object was added or changed."""
        out = Actions()
        node = self.nodes.get(identity.uid)
        if node is None:
            node = Node(identity)
            self.nodes[identity.uid] = node
        elif node.virtual:
            node.virtual = False
            node.identity = identity
        old_owner_uids = {r.get("uid") for r in node.owners}
        new_owner_uids = {r.get("uid") for r in owners}
        node.owners = [dict(r) for r in owners]
        for uid in old_owner_uids - new_owner_uids:
            owner = self.nodes.get(uid)
            if owner is not None:
                owner.dependents.discard(identity.uid)
                if owner.deleting_dependents:
                    out.attempt_to_delete.append(uid)
                if owner.virtual and not owner.dependents:
                    del self.nodes[uid]
        for ref in owners:
            uid = ref.get("uid")
            if not uid:
                continue
            owner = self.nodes.get(uid)
            if owner is None:
                owner = Node(Identity(ref.get("apiVersion", ""), ref.get("kind", ""), identity.namespace,
                                      ref.get("name", ""), uid), virtual=True)
                self.nodes[uid] = owner
                out.attempt_to_delete.append(uid)       # verify the owner exists
            owner.dependents.add(identity.uid)
            if uid not in old_owner_uids and (owner.deleting_dependents or owner.being_deleted):
                out.attempt_to_delete.append(identity.uid)
        was_deleting_dependents, was_orphaning = node.deleting_dependents, node.orphaning
        node.being_deleted = deleting
        node.deleting_dependents = deleting and FOREGROUND in finalizers
        node.orphaning = deleting and ORPHAN in finalizers
        if node.deleting_dependents and not was_deleting_dependents:
            out.attempt_to_delete.append(identity.uid)
            # its dependents must go first: each is looked at
            out.attempt_to_delete.extend(sorted(node.dependents))
        if node.orphaning and not was_orphaning:
            out.attempt_to_orphan.append(identity.uid)
        return out

    def forget(self, uid: str) -> Actions:
        """An object was deleted (or a virtual owner proved absent)."""
        out = Actions()
        node = self.nodes.pop(uid, None)
        if node is None:
            return out
        for ref in node.owners:
            owner = self.nodes.get(ref.get("uid", ""))
            if owner is None:
                continue
            owner.dependents.discard(uid)
            if owner.deleting_dependents:
                out.attempt_to_delete.append(owner.identity.uid)
            if owner.virtual and not owner.dependents:
                del self.nodes[owner.identity.uid]
        out.attempt_to_delete.extend(sorted(node.dependents))
        if node.dependents:
            # dependents still point at this uid: keep a virtual node so their edges remain
            self.nodes[uid] = Node(node.identity, dependents=set(node.dependents), virtual=True)
        return out

    def blocking_dependents(self, uid: str) -> list[str]:
        """Dependents whose reference to `uid` blocks its foreground deletion."""
        node = self.nodes.get(uid)
        if node is None:
            return []
        out = []
        for dep_uid in sorted(node.dependents):
            dep = self.nodes.get(dep_uid)
            if dep is None:
                continue
            ref = dep.owner_ref(uid)
            if ref is not None and ref.get("blockOwnerDeletion"):
                out.append(dep_uid)
        return out
