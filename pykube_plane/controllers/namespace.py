"""namespace: empty a namespace being deleted, then let it go.

A deleted namespace is Terminating with the `kubernetes` finalizer in spec.finalizers. This
controller deletes every namespaced resource in it (kinds discovered from the server), reports
progress in the namespace's status conditions as Kubernetes does (NamespaceDeletionDiscoveryFailure,
NamespaceDeletionGroupVersionParsingFailure, NamespaceDeletionContentFailure,
NamespaceContentRemaining, NamespaceFinalizersRemaining), and once nothing is left removes its
finalizer (namespaces/finalize) and deletes the namespace again, which removes it.
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from pykube_plane.api.meta import now_rfc3339
from pykube_plane.client import ApiError, Conflict, MethodNotAllowed, NotFound

from .controller import Controller, ControllerContext
from .discovery import served_resources

log = logging.getLogger(__name__)

FINALIZER = "kubernetes"
CONTENT_REQUEUE = 2.0       # seconds between checks while content (e.g. pods with finalizers) remains


class NamespaceController(Controller):
    name = "namespace"
    default_workers = 10

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.namespaces = self.watch("namespaces", key=lambda ns: ns["metadata"]["name"]
                                     if ns["metadata"].get("deletionTimestamp") else None)

    def object_for_event(self, key: str) -> dict | None:
        return self.namespaces.indexer.get(key)

    async def sync(self, key: str) -> None:
        ns = self.namespaces.indexer.get(key)
        if ns is None or not ns["metadata"].get("deletionTimestamp"):
            return
        try:
            ns = await self.client.get("namespaces", key)      # act on the freshest view
        except NotFound:
            return
        if FINALIZER not in ((ns.get("spec") or {}).get("finalizers") or ()):
            await self._delete_finalized(key)
            return
        conditions: dict[str, tuple[str, str, str]] = {}
        try:
            resources = [r for r in await served_resources(self.client) if r.namespaced]
            conditions["NamespaceDeletionDiscoveryFailure"] = ("False", "ResourcesDiscovered",
                                                                "All resources successfully discovered")
        except ApiError as e:
            conditions["NamespaceDeletionDiscoveryFailure"] = ("True", "DiscoveryFailed", str(e))
            await self._set_conditions(ns, conditions)
            raise
        conditions["NamespaceDeletionGroupVersionParsingFailure"] = ("False", "ParsedGroupVersions",
                                                                     "All legacy kube types successfully parsed")
        errors: list[str] = []
        remaining: dict[str, int] = {}
        finalizers: dict[str, int] = {}

        async def empty(resource: Any) -> None:
            try:
                await self.client.delete_collection(resource, namespace=key)
            except (MethodNotAllowed, NotFound):
                pass
            except ApiError as e:
                errors.append(f"{resource.qualified}: {e}")
            try:
                left = (await self.client.list(resource, namespace=key)).get("items") or []
            except (MethodNotAllowed, NotFound):
                return
            except ApiError as e:
                errors.append(f"{resource.qualified}: {e}")
                return
            if left:
                remaining[resource.qualified] = len(left)
                for obj in left:
                    for f in (obj.get("metadata") or {}).get("finalizers") or ():
                        finalizers[f] = finalizers.get(f, 0) + 1

        # every kind at once, as k8s does; what stays (finalizers, graceful pods) is waited on
        await asyncio.gather(*(empty(r) for r in resources))
        if errors:
            conditions["NamespaceDeletionContentFailure"] = ("True", "ContentDeletionFailed",
                                                             "Failed to delete all resource types, "
                                                             f"{len(errors)} remaining: {'; '.join(sorted(errors))}")
        else:
            conditions["NamespaceDeletionContentFailure"] = ("False", "ContentDeleted",
                                                             "All content successfully deleted, may be waiting on "
                                                             "finalization")
        if remaining:
            text = ", ".join(f"{k} has {v} resource instances" for k, v in sorted(remaining.items()))
            conditions["NamespaceContentRemaining"] = ("True", "SomeResourcesRemain", f"Some resources are remaining: {text}")
        else:
            conditions["NamespaceContentRemaining"] = ("False", "ContentRemoved",
                                                       "All content successfully removed")
        if finalizers:
            text = ", ".join(f"{k} in {v} resource instances" for k, v in sorted(finalizers.items()))
            conditions["NamespaceFinalizersRemaining"] = ("True", "SomeFinalizersRemain",
                                                          f"Some content in the namespace has finalizers remaining: {text}")
        else:
            conditions["NamespaceFinalizersRemaining"] = ("False", "ContentHasNoFinalizers",
                                                          "All content-preserving finalizers finished")
        ns = await self._set_conditions(ns, conditions)
        if errors or remaining:
            self.queue.add_after(key, CONTENT_REQUEUE)
            return
        await self._finalize(ns)
        await self._delete_finalized(key)

    async def _set_conditions(self, ns: dict, wanted: dict[str, tuple[str, str, str]]) -> dict:
        status = dict(ns.get("status") or {})
        old = {c.get("type"): c for c in status.get("conditions") or ()}
        now = now_rfc3339()
        conditions = []
        for type_ in ("NamespaceDeletionDiscoveryFailure", "NamespaceDeletionGroupVersionParsingFailure",
                      "NamespaceDeletionContentFailure", "NamespaceContentRemaining", "NamespaceFinalizersRemaining"):
            if type_ not in wanted and type_ not in old:
                continue
            if type_ not in wanted:
                conditions.append(old[type_])
                continue
            st, reason, message = wanted[type_]
            prev = old.get(type_)
            if prev is not None and (prev.get("status"), prev.get("reason"), prev.get("message")) == (st, reason, message):
                conditions.append(prev)
            else:
                conditions.append({"type": type_, "status": st, "lastTransitionTime": now, "reason": reason,
                                   "message": message})
        if conditions == list(status.get("conditions") or []):
            return ns
        status["conditions"] = conditions
        try:
            return await self.client.update_status({**ns, "status": status}, resource="namespaces")
        except Conflict:
            return await self.client.get("namespaces", ns["metadata"]["name"])

    async def _finalize(self, ns: dict) -> None:
        spec = dict(ns.get("spec") or {})
        spec["finalizers"] = [f for f in spec.get("finalizers") or () if f != FINALIZER]
        body = {**ns, "spec": spec}
        await self.client.update(body, resource="namespaces", subresource="finalize")

    async def _delete_finalized(self, name: str) -> None:
        try:
            await self.client.delete("namespaces", name)
        except NotFound:
            pass
