"""garbagecollector: informers on every served kind feed the owner graph (graph.py); workers
act on what it hands out:

- delete:<uid>  a dependent whose owners may be gone: if every owner is absent (dangling), delete
                it; if some owner lives, drop the references to absent ones; if its owners
                wait on it in foreground deletion, delete it in foreground too.
                An owner in foreground deletion: once no dependent blocks it, remove its
                `foregroundDeletion` finalizer (the API server then deletes it).
                A virtual owner: ask the API server whether it exists.
- orphan:<uid>  an owner deleted with propagationPolicy=Orphan: remove its references from every
                dependent, then its `orphan` finalizer.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from pykube_plane.client import APIResource, Conflict, NotFound, SharedIndexInformer

from ..controller import Controller, ControllerContext, deleted_object
from ..discovery import served_resources
from .graph import FOREGROUND, ORPHAN, Graph, Identity

log = logging.getLogger(__name__)

# Kinds the collector leaves alone, as k8s does (events: many, short-lived, never owners).
IGNORED = {("", "events"), ("events.k8s.io", "events")}


class GarbageCollector(Controller):
    name = "garbagecollector"
    default_workers = 20

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.graph = Graph()
        self.monitors: dict[tuple[str, str], tuple[APIResource, SharedIndexInformer]] = {}

    async def run(self) -> None:
        for resource in await served_resources(self.client):
            if (resource.group, resource.plural) in IGNORED:
                continue
            informer = self.informer(resource.plural if not resource.group else f"{resource.plural}.{resource.group}")
            self.monitors[(resource.api_version, resource.kind)] = (resource, informer)
            informer.add_event_handler(on_add=self._observer(resource),
                                       on_update=lambda old, new, r=resource: self._observer(r)(new),
                                       on_delete=self._forgetter)
        self.ctx.factory.start()
        await super().run()

    # -- graph changes ---------------------------------------------------------------------------

    def _observer(self, resource: APIResource) -> Any:
        def observe(obj: dict) -> None:
            meta = obj.get("metadata") or {}
            if not meta.get("uid"):
                return
            identity = Identity(resource.api_version, resource.kind, meta.get("namespace", ""), meta.get("name", ""),
                                meta["uid"])
            self._act(self.graph.observe(identity, list(meta.get("ownerReferences") or ()),
                                         bool(meta.get("deletionTimestamp")), list(meta.get("finalizers") or ())))
        return observe

    def _forgetter(self, obj: Any) -> None:
        obj = deleted_object(obj)
        if obj is not None and (obj.get("metadata") or {}).get("uid"):
            uid = obj["metadata"]["uid"]
            self._act(self.graph.forget(uid))
            self._mark_absent(uid)

    def _mark_absent(self, uid: str) -> None:
        # kept on the (virtual) node while dependents still name it; gone with the node
        node = self.graph.get(uid)
        if node is not None and node.virtual:
            node.absent = True

    def _act(self, actions: Any) -> None:
        for uid in actions.attempt_to_delete:
            self.queue.add("delete:" + uid)
        for uid in actions.attempt_to_orphan:
            self.queue.add("orphan:" + uid)

    def object_for_event(self, key: str) -> dict | None:
        node = self.graph.get(key.partition(":")[2])
        return None if node is None or node.virtual else self._cached(node.identity)

    # -- lookups ---------------------------------------------------------------------------------

    def _resource(self, api_version: str, kind: str) -> APIResource | None:
        found = self.monitors.get((api_version, kind))
        if found is not None:
            return found[0]
        return self.client.resources.lookup((api_version, kind))

    def _cached(self, identity: Identity) -> dict | None:
        found = self.monitors.get((identity.api_version, identity.kind))
        if found is None:
            return None
        resource, informer = found
        key = f"{identity.namespace}/{identity.name}" if resource.namespaced else identity.name
        obj = informer.indexer.get(key)
        if obj is None or obj["metadata"].get("uid") != identity.uid:
            return None
        return obj

    async def _owner_state(self, ref: dict, namespace: str) -> str:
        """'absent', 'waiting' (deleting, foreground) or 'solid' — checked with the server when the
        graph does not know the owner (k8s isDangling)."""
        uid = ref.get("uid", "")
        node = self.graph.get(uid)
        if node is not None and not node.virtual:
            return "waiting" if node.deleting_dependents else "solid"
        if node is not None and node.absent:
            return "absent"
        resource = self._resource(ref.get("apiVersion", ""), ref.get("kind", ""))
        if resource is None:
            return "solid"      # a kind this server does not know: never guess it away
        try:
            live = await self.client.get(resource, ref.get("name", ""),
                                         namespace=namespace if resource.namespaced else None)
        except NotFound:
            self._mark_absent(uid)
            return "absent"
        if live["metadata"].get("uid") != uid:
            self._mark_absent(uid)
            return "absent"
        meta = live["metadata"]
        return "waiting" if meta.get("deletionTimestamp") and FOREGROUND in (meta.get("finalizers") or ()) else "solid"

    # -- work ------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        action, _, uid = key.partition(":")
        if action == "orphan":
            await self._orphan(uid)
        else:
            await self._attempt_to_delete(uid)

    async def _attempt_to_delete(self, uid: str) -> None:
        node = self.graph.get(uid)
        if node is None:
            return
        if node.virtual:
            state = await self._owner_state({"uid": uid, "apiVersion": node.identity.api_version,
                                             "kind": node.identity.kind, "name": node.identity.name},
                                            node.identity.namespace)
            if state == "absent":
                dependents = sorted(node.dependents)
                for dep in dependents:
                    self.queue.add("delete:" + dep)
            return
        obj = self._cached(node.identity)
        if obj is None:
            return
        if node.deleting_dependents:
            await self._process_deleting_dependents(node, obj)
            return
        if not node.owners or node.being_deleted:
            return
        states = {ref.get("uid"): await self._owner_state(ref, node.identity.namespace) for ref in node.owners}
        solid = [u for u, s in states.items() if s == "solid"]
        dangling = [u for u, s in states.items() if s == "absent"]
        waiting = [u for u, s in states.items() if s == "waiting"]
        if solid:
            if dangling or waiting:
                await self._remove_owner_refs(node.identity, set(dangling) | set(waiting))
            return
        finalizers = (obj.get("metadata") or {}).get("finalizers") or ()
        if waiting and node.dependents:
            policy = "Foreground"     # its own dependents go first, so the waiting owner's order holds
        elif ORPHAN in finalizers:
            policy = "Orphan"
        elif FOREGROUND in finalizers:
            policy = "Foreground"
        else:
            policy = "Background"
        await self._delete(node.identity, policy)

    async def _process_deleting_dependents(self, node: Any, obj: dict) -> None:
        blocking = self.graph.blocking_dependents(node.identity.uid)
        if not blocking:
            await self._remove_finalizer(node.identity, FOREGROUND)
            return
        for dep_uid in blocking:
            dep = self.graph.get(dep_uid)
            if dep is not None and not dep.being_deleted:
                self.queue.add("delete:" + dep_uid)

    async def _orphan(self, uid: str) -> None:
        node = self.graph.get(uid)
        if node is None or node.virtual:
            return
        for dep_uid in sorted(node.dependents):
            dep = self.graph.get(dep_uid)
            if dep is not None and not dep.virtual:
                await self._remove_owner_refs(dep.identity, {uid})
        await self._remove_finalizer(node.identity, ORPHAN)

    # -- writes ----------------------------------------------------------------------------------

    async def _delete(self, identity: Identity, policy: str) -> None:
        resource = self._resource(identity.api_version, identity.kind)
        if resource is None:
            return
        log.debug("deleting %s %s/%s: its owners are gone (propagation %s)", identity.kind, identity.namespace,
                 identity.name, policy)
        try:
            await self.client.delete(resource, identity.name, namespace=identity.namespace or None,
                                     propagation_policy=policy, preconditions={"uid": identity.uid})
        except (NotFound, Conflict):
            pass    # gone already, or a new object of the same name

    async def _fresh(self, identity: Identity) -> tuple[APIResource, dict] | None:
        resource = self._resource(identity.api_version, identity.kind)
        if resource is None:
            return None
        try:
            obj = await self.client.get(resource, identity.name, namespace=identity.namespace or None)
        except NotFound:
            return None
        if obj["metadata"].get("uid") != identity.uid:
            return None
        return resource, obj

    async def _remove_owner_refs(self, identity: Identity, owner_uids: set[str]) -> None:
        for _ in range(5):
            found = await self._fresh(identity)
            if found is None:
                return
            resource, obj = found
            refs = obj["metadata"].get("ownerReferences") or []
            keep = [r for r in refs if r.get("uid") not in owner_uids]
            if len(keep) == len(refs):
                return
            if keep:
                obj["metadata"]["ownerReferences"] = keep
            else:
                obj["metadata"].pop("ownerReferences", None)
            try:
                await self.client.update(obj, resource=resource, namespace=identity.namespace or None)
                return
            except Conflict:
                await asyncio.sleep(0)
        raise Conflict({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409, "reason": "Conflict",
                        "message": f"ownerReferences of {identity.kind} {identity.name} kept changing"}, 409)

    async def _remove_finalizer(self, identity: Identity, finalizer: str) -> None:
        for _ in range(5):
            found = await self._fresh(identity)
            if found is None:
                return
            resource, obj = found
            finalizers = obj["metadata"].get("finalizers") or []
            if finalizer not in finalizers:
                return
            obj["metadata"]["finalizers"] = [f for f in finalizers if f != finalizer]
            try:
                await self.client.update(obj, resource=resource, namespace=identity.namespace or None)
                return
            except NotFound:
                return
            except Conflict:
                await asyncio.sleep(0)
        raise Conflict({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409, "reason": "Conflict",
                        "message": f"finalizers of {identity.kind} {identity.name} kept changing"}, 409)
