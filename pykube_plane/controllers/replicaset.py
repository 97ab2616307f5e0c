"""replicaset and replicationcontroller: keep `replicas` pods of the template matching the selector.

One sync (k8s syncReplicaSet): claim pods (adopt orphans that match, release ours that no longer
do); if the expectations of the last sync are met, create or delete the difference — creations in
slow-start batches 1, 2, 4, ... (at most `burst` per sync), deletions by rank (unscheduled,
pending, not ready, newest first); then write the status (replicas, fullyLabeledReplicas,
readyReplicas, availableReplicas after minReadySeconds, observedGeneration, ReplicaFailure).
"""
from __future__ import annotations

import asyncio
import logging
from typing import Any

from pykube_plane.api.labels import Selector, SelectorError, selector_from_label_selector, selector_from_set
from pykube_plane.api.meta import now_rfc3339
from pykube_plane.client import NAMESPACE_INDEX, ApiError, Conflict, NotFound, index_by_namespace, object_key

from .controller import Controller, ControllerContext, deleted_object
from .events import NORMAL, WARNING
from .expectations import Expectations
from .ownership import claim, controller_ref, owner_reference
from .podutil import deletion_rank, is_active, is_available, is_ready, is_terminal, pod_from_template, utc_now

log = logging.getLogger(__name__)

BURST_REPLICAS = 500        # k8s BurstReplicas: most creates/deletes in one sync
SLOW_START_INITIAL = 1
IN_FLIGHT = 64              # requests of one batch sent at once (more only queue at the server)


async def slow_start(count: int, create: Any, in_flight: int = IN_FLIGHT) -> int:
    """Call `create()` count times in batches 1, 2, 4, ...; stop after a batch with a failure.
    Returns how many succeeded (k8s slowStartBatch)."""
    done = sent = 0
    batch = min(count, SLOW_START_INITIAL)
    gate = asyncio.Semaphore(in_flight)

    async def gated() -> Any:
        async with gate:
            return await create()
    while batch > 0:
        results = await asyncio.gather(*(gated() for _ in range(batch)), return_exceptions=True)
        sent += batch
        errors = [r for r in results if isinstance(r, BaseException)]
        done += batch - len(errors)
        if errors:
            if isinstance(errors[0], asyncio.CancelledError):
                raise errors[0]
            raise BatchFailed(done, count - sent, errors[0])
        remaining = count - done
        batch = min(2 * batch, remaining)
    return done


class BatchFailed(Exception):
    """A slow-start batch failed: `done` creates succeeded, `skipped` were never sent."""

    def __init__(self, done: int, skipped: int, error: BaseException) -> None:
        super().__init__(str(error))
        self.done = done
        self.skipped = skipped
        self.error = error


class ReplicaSetController(Controller):
    name = "replicaset"
    resource = "replicasets"
    kind = "ReplicaSet"
    api_version = "apps/v1"
    default_workers = 5

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.expectations = Expectations()
        self.burst = int(ctx.options.get("burst_replicas", BURST_REPLICAS))
        self.owners = self.watch(self.resource)
        self.owners.add_event_handler(on_delete=self._owner_deleted)
        self.pods = self.informer("pods", indexers={NAMESPACE_INDEX: index_by_namespace})
        self.pods.add_event_handler(on_add=self._pod_added, on_update=self._pod_updated,
                                    on_delete=self._pod_deleted)

    def _owner_deleted(self, obj: Any) -> None:
        owner = deleted_object(obj)
        if owner is not None:
            self.expectations.forget(object_key(owner))

    # -- pod events -> owner keys ----------------------------------------------------------------

    def _owner_key(self, pod: dict) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != self.kind:
            return None
        key = f"{pod['metadata'].get('namespace', '')}/{ref.get('name', '')}"
        owner = self.owners.indexer.get(key)
        if owner is None or owner["metadata"].get("uid") != ref.get("uid"):
            return None
        return key

    def _selector(self, owner: dict) -> Selector:
        sel = (owner.get("spec") or {}).get("selector")
        if self.kind == "ReplicationController":
            return selector_from_set(sel or {}) if sel else Selector.nothing()
        return selector_from_label_selector(sel) if sel else Selector.nothing()

    def _matching_owners(self, pod: dict) -> list[str]:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        out = []
        for owner in self.owners.indexer.list(namespace=meta.get("namespace")):
            try:
                if self._selector(owner).matches(labels):
                    out.append(object_key(owner))
            except SelectorError:
                continue
        return out

    def _pod_added(self, pod: dict) -> None:
        if pod["metadata"].get("deletionTimestamp"):
            self._pod_deleted(pod)
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)
        elif controller_ref(pod) is None:
            for key in self._matching_owners(pod):
                self.queue.add(key)

    def _pod_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        if new["metadata"].get("deletionTimestamp") and not old["metadata"].get("deletionTimestamp"):
            key = self._owner_key(new)
            if key is not None:
                self.expectations.deletion_observed(key, object_key(new))
        old_ref, new_ref = controller_ref(old), controller_ref(new)
        if old_ref is not None and (new_ref is None or old_ref.get("uid") != new_ref.get("uid")):
            old_key = self._owner_key(old)
            if old_key is not None:
                self.queue.add(old_key)
        key = self._owner_key(new)
        if key is not None:
            self.queue.add(key)
            ready_changed = is_ready(old) != is_ready(new)
            min_ready = int((self.owners.indexer.get(key) or {}).get("spec", {}).get("minReadySeconds") or 0)
            if ready_changed and min_ready > 0:
                self.queue.add_after(key, min_ready + 1)     # availability follows readiness later
        elif new_ref is None and (old.get("metadata", {}).get("labels") != new["metadata"].get("labels")
                                  or old_ref is not None):
            for key in self._matching_owners(new):
                self.queue.add(key)

    def _pod_deleted(self, obj: Any) -> None:
        pod = deleted_object(obj)
        if pod is None:
            return
        key = self._owner_key(pod)
        if key is not None:
            self.expectations.deletion_observed(key, object_key(pod))
            self.queue.add(key)

    # -- sync ------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        owner = self.owners.indexer.get(key)
        if owner is None:
            self.expectations.forget(key)
            return
        namespace = owner["metadata"].get("namespace", "")
        try:
            selector = self._selector(owner)
        except SelectorError as e:
            self.recorder.event(owner, WARNING, "InvalidSelector", str(e))
            return
        needs_sync = self.expectations.satisfied(key)
        candidates = [p for p in self.pods.indexer.by_index(NAMESPACE_INDEX, namespace) if is_active(p)]
        pods = await claim(self.client, "pods", owner, self._ref(owner), selector, candidates,
                           can_adopt=self._recheck(owner))
        failure: Exception | None = None
        if needs_sync and not owner["metadata"].get("deletionTimestamp"):
            try:
                await self._manage_replicas(key, owner, pods)
            except ApiError as e:
                failure = e
        uid = owner["metadata"]["uid"]
        terminating = sum(1 for p in self.pods.indexer.by_index(NAMESPACE_INDEX, namespace)
                          if p["metadata"].get("deletionTimestamp") and not is_terminal(p)
                          and (controller_ref(p) or {}).get("uid") == uid)
        await self._update_status(owner, pods, failure, terminating)
        min_ready = int((owner.get("spec") or {}).get("minReadySeconds") or 0)
        if min_ready > 0 and any(is_ready(p) and not is_available(p, min_ready, utc_now()) for p in pods):
            self.queue.add_after(key, float(min_ready))
        if failure is not None:
            raise failure

    def _ref(self, owner: dict) -> dict:
        return owner_reference(owner, self.api_version, self.kind)

    def _recheck(self, owner: dict) -> Any:
        async def check() -> None:
            # adopt only for a live owner of the same uid (a quorum read, k8s RecheckDeletionTimestamp)
            fresh = await self.client.get(self.resource, owner["metadata"]["name"],
                                          namespace=owner["metadata"].get("namespace"))
            if fresh["metadata"].get("uid") != owner["metadata"]["uid"] or fresh["metadata"].get("deletionTimestamp"):
                raise Conflict({"kind": "Status", "apiVersion": "v1", "status": "Failure", "code": 409,
                                "reason": "Conflict", "message": "owner changed: not adopting"}, 409)
        cache: dict[str, bool] = {}

        async def once() -> None:
            if "ok" not in cache:
                await check()
                cache["ok"] = True
        return once

    async def _manage_replicas(self, key: str, owner: dict, pods: list[dict]) -> None:
        want = int((owner.get("spec") or {}).get("replicas", 1) or 0)
        diff = len(pods) - want
        namespace = owner["metadata"].get("namespace", "")
        if diff < 0:
            count = min(-diff, self.burst)
            self.expectations.expect_creations(key, count)
            template = (owner.get("spec") or {}).get("template") or {}
            pod = pod_from_template(template, namespace, f"{owner['metadata']['name']}-", self._ref(owner))

            async def create() -> None:
                try:
                    await self.client.create(pod, resource="pods", namespace=namespace)
                except BaseException:
                    self.expectations.creation_observed(key)    # never coming
                    raise
            try:
                await slow_start(count, create)
            except BatchFailed as e:
                if e.skipped > 0:       # failed ones lowered the expectations themselves
                    self.expectations.creation_observed(key, e.skipped)
                self.recorder.event(owner, WARNING, "FailedCreate", f"Error creating: {e.error}")
                raise e.error from None
            self.recorder.event(owner, NORMAL, "SuccessfulCreate", f"Created {count} pod(s)")
        elif diff > 0:
            victims = sorted(pods, key=deletion_rank)[:min(diff, self.burst)]
            self.expectations.expect_deletions(key, [object_key(p) for p in victims])

            async def delete(pod: dict) -> None:
                try:
                    await self.client.delete("pods", pod["metadata"]["name"], namespace=namespace,
                                             preconditions={"uid": pod["metadata"]["uid"]})
                except NotFound:
                    self.expectations.deletion_observed(key, object_key(pod))
                except BaseException:
                    self.expectations.deletion_observed(key, object_key(pod))
                    raise
            results = await asyncio.gather(*(delete(p) for p in victims), return_exceptions=True)
            errors = [r for r in results if isinstance(r, BaseException)]
            if errors:
                self.recorder.event(owner, WARNING, "FailedDelete", f"Error deleting: {errors[0]}")
                raise errors[0]
            names = ", ".join(p["metadata"]["name"] for p in victims[:10])
            self.recorder.event(owner, NORMAL, "SuccessfulDelete", f"Deleted pod(s): {names}")

    def _status(self, owner: dict, pods: list[dict], failure: Exception | None, terminating: int = 0) -> dict:
        spec = owner.get("spec") or {}
        template_labels = ((spec.get("template") or {}).get("metadata") or {}).get("labels") or {}
        min_ready = int(spec.get("minReadySeconds") or 0)
        now = utc_now()
        old = owner.get("status") or {}
        status: dict[str, Any] = {
            "replicas": len(pods),
            "fullyLabeledReplicas": sum(1 for p in pods if _has_labels(p, template_labels)),
            "readyReplicas": sum(1 for p in pods if is_ready(p)),
            "availableReplicas": sum(1 for p in pods if is_available(p, min_ready, now)),
            "observedGeneration": owner["metadata"].get("generation", 0),
            "terminatingReplicas": terminating,     # k8s 1.33+ (DeploymentReplicaSetTerminatingReplicas)
        }
        conditions = [c for c in old.get("conditions") or () if c.get("type") != "ReplicaFailure"]
        if failure is not None:
            reason = "FailedCreate" if len(pods) < int(spec.get("replicas", 1) or 0) else "FailedDelete"
            previous = next((c for c in old.get("conditions") or () if c.get("type") == "ReplicaFailure"), None)
            conditions.append({"type": "ReplicaFailure", "status": "True", "reason": reason,
                               "message": str(failure)[:512],
                               "lastTransitionTime": (previous or {}).get("lastTransitionTime") or now_rfc3339()})
        if conditions:
            status["conditions"] = conditions
        for k, v in old.items():     # fields this controller does not own (terminatingReplicas, ...)
            if k != "conditions":
                status.setdefault(k, v)
        return status

    async def _update_status(self, owner: dict, pods: list[dict], failure: Exception | None,
                             terminating: int) -> None:
        status = self._status(owner, pods, failure, terminating)
        if _same_status(owner.get("status") or {}, status):
            return
        body = dict(owner)
        body["status"] = status
        try:
            await self.client.update_status(body, resource=self.resource)
        except NotFound:
            return


def _has_labels(pod: dict, labels: dict) -> bool:
    have = (pod.get("metadata") or {}).get("labels") or {}
    return all(have.get(k) == v for k, v in labels.items())


def _same_status(old: dict, new: dict) -> bool:
    keys = set(old) | set(new)
    return all((old.get(k) or 0) == (new.get(k) or 0) for k in keys)


class ReplicationControllerController(ReplicaSetController):
    name = "replicationcontroller"
    resource = "replicationcontrollers"
    kind = "ReplicationController"
    api_version = "v1"
