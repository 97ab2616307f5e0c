"""podgc: pods nobody else will clean up (k8s PodGCController), every --pod-gc-period:
- terminated pods (Succeeded/Failed) beyond --terminated-pod-gc-threshold, oldest first;
- pods bound to a node that no longer exists (checked with the server, not just the cache);
- unscheduled pods being deleted (no kubelet will ever confirm them).
Deletions here are forced (grace period 0). Beside pods, the events of pods that no longer exist
are deleted once older than `deleted_pod_event_age` (--deleted-pod-event-age; 0: never), so
churn does not leave them for the API server's event TTL alone."""
from __future__ import annotations

import asyncio
import logging

from pykube_plane.api.meta import parse_rfc3339
from pykube_plane.client import NotFound

from .controller import Controller, ControllerContext
from .events import NORMAL
from .podutil import is_terminal, utc_now

log = logging.getLogger(__name__)

KEY = "podgc"


class PodGCController(Controller):
    name = "podgc"
    default_workers = 1

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.threshold = int(ctx.options.get("terminated_pod_gc_threshold", 12500))
        self.period = float(ctx.options.get("pod_gc_period", 20.0))
        self.pods = self.informer("pods")
        self.nodes = self.informer("nodes")
        self.deleted = 0
        self.event_age = float(ctx.options.get("deleted_pod_event_age", 300.0))
        self.events_deleted = 0

    async def started(self) -> None:
        self.queue.add(KEY)

    async def sync(self, key: str) -> None:
        try:
            await self._collect()
            await self._collect_events()
        finally:
            self.queue.add_after(KEY, self.period)

    async def _collect(self) -> None:
        pods = self.pods.indexer.items()
        victims: list[tuple[dict, str]] = []
        if self.threshold > 0:
            terminated = [p for p in pods if is_terminal(p) and not p["metadata"].get("deletionTimestamp")]
            excess = len(terminated) - self.threshold
            if excess > 0:
                terminated.sort(key=lambda p: p["metadata"].get("creationTimestamp") or "")
                victims += [(p, "PodGC: terminated pods beyond the threshold") for p in terminated[:excess]]
        node_names = {n["metadata"]["name"] for n in self.nodes.indexer.items()}
        for pod in pods:
            if _forced_already(pod):
                continue        # deleting with grace 0: only its finalizers hold it, nothing to force
            node = (pod.get("spec") or {}).get("nodeName")
            if node and node not in node_names and await self._node_gone(node):
                victims.append((pod, f"PodGC: node {node} no longer exists"))
            elif not node and pod["metadata"].get("deletionTimestamp"):
                victims.append((pod, "PodGC: unscheduled pod being deleted"))
        await asyncio.gather(*(self._delete(p, why) for p, why in victims))

    async def _collect_events(self) -> None:
        if self.event_age <= 0:
            return
        known = {p["metadata"].get("uid") for p in self.pods.indexer.items()}
        cutoff = utc_now() - self.event_age
        events = (await self.client.list_all("events", namespace=None)).get("items") or []
        stale = []
        for event in events:
            involved = event.get("involvedObject") or {}
            if involved.get("kind") != "Pod" or not involved.get("uid") or involved["uid"] in known:
                continue
            stamp = event.get("lastTimestamp") or event.get("eventTime") or event["metadata"].get("creationTimestamp")
            if stamp and parse_rfc3339(stamp).timestamp() <= cutoff:
                stale.append(event)

        async def delete(event: dict) -> None:
            meta = event["metadata"]
            try:
                await self.client.delete("events", meta["name"], namespace=meta.get("namespace"),
                                         preconditions={"uid": meta["uid"]})
                self.events_deleted += 1
            except NotFound:
                pass
        await asyncio.gather(*(delete(e) for e in stale))

    async def _node_gone(self, name: str) -> bool:
        try:
            await self.client.get("nodes", name)
            return False
        except NotFound:
            return True

    async def _delete(self, pod: dict, why: str) -> None:
        meta = pod["metadata"]
        try:
            await self.client.delete("pods", meta["name"], namespace=meta.get("namespace"), grace_period_seconds=0,
                                     preconditions={"uid": meta["uid"]})
            self.deleted += 1
            self.recorder.event(pod, NORMAL, "PodGC", why)
        except NotFound:
            pass


def _forced_already(pod: dict) -> bool:
    meta = pod.get("metadata") or {}
    return bool(meta.get("deletionTimestamp")) and meta.get("deletionGracePeriodSeconds") == 0
