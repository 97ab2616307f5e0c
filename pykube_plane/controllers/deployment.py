"""deployment: roll a Deployment's pods from old ReplicaSets to the one of its current template.

One sync (k8s syncDeployment): claim the ReplicaSets; find the new one (same template, the
`pod-template-hash` label aside) or create it with the next revision; then
- RollingUpdate: grow the new RS within replicas + maxSurge, shrink old ones while available
  pods stay >= replicas - maxUnavailable (arithmetic in rollout.py);
- Recreate: scale every old RS to 0, wait until their pods are gone, then scale the new one up;
- paused: only scale; never roll.
Then status and the Progressing/Available conditions (progressDeadlineSeconds), and old
ReplicaSets past revisionHistoryLimit deleted. kubectl's rollout status/history/undo/pause/
resume/restart work on these fields and annotations.
"""
from __future__ import annotations

import copy
import datetime
import logging
from typing import Any

from pykube_plane.api.labels import SelectorError, selector_from_label_selector
from pykube_plane.api.meta import now_rfc3339, parse_rfc3339
from pykube_plane.client import NAMESPACE_INDEX, AlreadyExists, NotFound, index_by_namespace, object_key

from . import rollout as R
from .controller import Controller, ControllerContext, deleted_object
from .events import NORMAL, WARNING
from .ownership import claim, controller_ref, owner_reference
from .podutil import is_terminal

log = logging.getLogger(__name__)

KIND, API_VERSION = "Deployment", "apps/v1"


def _created(obj: dict) -> str:
    return (obj.get("metadata") or {}).get("creationTimestamp") or ""


def _effective(rs: dict) -> dict:
    """An RS whose status trails its spec counts no more available/replicas than the spec asks
    when shrinking (a stale status must not let the rollout break maxUnavailable)."""
    meta, status = rs.get("metadata") or {}, dict(rs.get("status") or {})
    if int(status.get("observedGeneration") or 0) < int(meta.get("generation") or 0):
        spec = R.spec_replicas(rs)
        for f in ("availableReplicas", "readyReplicas"):
            status[f] = min(int(status.get(f) or 0), spec)
    out = dict(rs)
    out["status"] = status
    return out


class DeploymentController(Controller):
    name = "deployment"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.deployments = self.watch("deployments")
        self.replicasets = self.informer("replicasets", indexers={NAMESPACE_INDEX: index_by_namespace})
        self.replicasets.add_event_handler(on_add=self._rs_changed, on_update=lambda o, n: self._rs_changed(n, o),
                                           on_delete=self._rs_changed)
        self.pods = self.informer("pods", indexers={NAMESPACE_INDEX: index_by_namespace})
        self.pods.add_event_handler(on_delete=self._pod_deleted)

    def _owner_key(self, obj: dict) -> str | None:
        ref = controller_ref(obj)
        if ref is None or ref.get("kind") != KIND:
            return None
        return f"{obj['metadata'].get('namespace', '')}/{ref.get('name', '')}"

    def _rs_changed(self, obj: Any, old: Any = None) -> None:
        rs = deleted_object(obj)
        if rs is None:
            return
        key = self._owner_key(rs)
        if key is not None:
            self.queue.add(key)
            return
        # an orphan: any deployment whose selector matches may adopt it
        labels = rs["metadata"].get("labels") or {}
        for d in self.deployments.indexer.list(namespace=rs["metadata"].get("namespace")):
            try:
                if selector_from_label_selector((d.get("spec") or {}).get("selector")).matches(labels):
                    self.queue.add(object_key(d))
            except SelectorError:
                continue

    def _pod_deleted(self, obj: Any) -> None:
        # Recreate waits for old pods to be gone
        pod = deleted_object(obj)
        if pod is None:
            return
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "ReplicaSet":
            return
        rs = self.replicasets.indexer.get(f"{pod['metadata'].get('namespace', '')}/{ref.get('name', '')}")
        if rs is not None:
            key = self._owner_key(rs)
            if key is not None:
                d = self.deployments.indexer.get(key)
                if d is not None and ((d.get("spec") or {}).get("strategy") or {}).get("type") == "Recreate":
                    self.queue.add(key)

    # -- sync ------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        d = self.deployments.indexer.get(key)
        if d is None:
            return
        d = copy.deepcopy(d)
        spec = d.get("spec") or {}
        try:
            selector = selector_from_label_selector(spec.get("selector"))
        except SelectorError as e:
            self.recorder.event(d, WARNING, "SelectorParsingFailed", str(e))
            return
        if selector.empty:
            self.recorder.event(d, WARNING, "SelectingAll", "This deployment is selecting all pods. "
                                                           "A non-empty selector is required.")
            return
        namespace = d["metadata"].get("namespace", "")
        candidates = self.replicasets.indexer.by_index(NAMESPACE_INDEX, namespace)
        rs_list = await claim(self.client, "replicasets", d, owner_reference(d, API_VERSION, KIND), selector,
                              candidates)
        rs_list = [_effective(rs) for rs in rs_list]
        if d["metadata"].get("deletionTimestamp"):
            await self._sync_status(d, *self._split(d, rs_list))
            return
        if spec.get("paused"):
            await self._sync_paused(d, rs_list)
        elif (spec.get("strategy") or {}).get("type") == "Recreate":
            await self._recreate(d, rs_list)
        else:
            await self._rolling(d, rs_list)

    def _split(self, d: dict, rs_list: list[dict]) -> tuple[dict | None, list[dict]]:
        template = (d.get("spec") or {}).get("template") or {}
        same = sorted((rs for rs in rs_list if R.same_template((rs.get("spec") or {}).get("template") or {},
                                                                template)), key=_created)
        new = same[0] if same else None
        return new, [rs for rs in rs_list if rs is not new]

    async def _new_rs(self, d: dict, rs_list: list[dict], create: bool, replicas: int | None = None
                      ) -> tuple[dict | None, list[dict], str]:
        """(new RS, old RSs, progress reason) with the revision annotations brought up to date."""
        new, old = self._split(d, rs_list)
        new_revision = max((R.revision(rs) for rs in old), default=0) + 1
        namespace = d["metadata"].get("namespace", "")
        reason = ""
        if new is not None:
            annotations = self._rs_annotations(d, new, new_revision)
            if annotations != ((new.get("metadata") or {}).get("annotations") or {}):
                new = await self.client.patch("replicasets", new["metadata"]["name"],
                                              {"metadata": {"annotations": annotations}}, namespace=namespace)
                new = _effective(new)
            reason = "FoundNewReplicaSet"
        elif create:
            new = await self._create_rs(d, old, new_revision, replicas)
            reason = "NewReplicaSetCreated"
        if new is not None:
            rev = (new["metadata"].get("annotations") or {}).get(R.REVISION)
            if (d["metadata"].get("annotations") or {}).get(R.REVISION) != rev:
                updated = await self.client.patch("deployments", d["metadata"]["name"],
                                                  {"metadata": {"annotations": {R.REVISION: rev}}},
                                                  namespace=namespace)
                d["metadata"] = updated["metadata"]
        return new, old, reason

    def _rs_annotations(self, d: dict, rs: dict | None, revision: int) -> dict:
        have = dict(((rs or {}).get("metadata") or {}).get("annotations") or {})
        for k, v in ((d.get("metadata") or {}).get("annotations") or {}).items():
            if k not in R.SKIP_COPY:
                have[k] = v
        old_rev = R.revision(rs) if rs is not None else 0
        if old_rev < revision:
            if old_rev:
                history = [h for h in have.get(R.REVISION_HISTORY, "").split(",") if h]
                have[R.REVISION_HISTORY] = ",".join(history + [str(old_rev)])
            have[R.REVISION] = str(revision)
        replicas = int((d.get("spec") or {}).get("replicas", 1) or 0)
        have[R.DESIRED_REPLICAS] = str(replicas)
        have[R.MAX_REPLICAS] = str(replicas + R.surge_and_unavailable(d)[0] if self._rolling_type(d) else replicas)
        return have

    @staticmethod
    def _rolling_type(d: dict) -> bool:
        return ((d.get("spec") or {}).get("strategy") or {}).get("type", "RollingUpdate") != "Recreate"

    async def _create_rs(self, d: dict, old: list[dict], revision: int, replicas: int | None) -> dict:
        spec = d.get("spec") or {}
        namespace = d["metadata"].get("namespace", "")
        collisions = int((d.get("status") or {}).get("collisionCount") or 0)
        template = copy.deepcopy(spec.get("template") or {})
        pod_hash = R.template_hash(R.template_without_hash(template), collisions)
        template.setdefault("metadata", {}).setdefault("labels", {})[R.POD_TEMPLATE_HASH] = pod_hash
        selector = copy.deepcopy(spec.get("selector") or {})
        selector.setdefault("matchLabels", {})[R.POD_TEMPLATE_HASH] = pod_hash
        name = f"{d['metadata']['name']}-{pod_hash}"
        rs: dict[str, Any] = {
            "apiVersion": "apps/v1", "kind": "ReplicaSet",
            "metadata": {"name": name, "namespace": namespace,
                         "labels": dict(template["metadata"]["labels"]),
                         "annotations": self._rs_annotations(d, None, revision),
                         "ownerReferences": [owner_reference(d, API_VERSION, KIND)]},
            "spec": {"replicas": 0, "minReadySeconds": int(spec.get("minReadySeconds") or 0),
                     "selector": selector, "template": template},
        }
        if replicas is None:
            rs["spec"]["replicas"] = R.new_rs_replicas(d, old + [rs], rs)
        else:
            rs["spec"]["replicas"] = replicas
        try:
            created = await self.client.create(rs, resource="replicasets", namespace=namespace)
        except AlreadyExists:
            existing = await self.client.get("replicasets", name, namespace=namespace)
            ref = controller_ref(existing)
            if ref is not None and ref.get("uid") == d["metadata"]["uid"] and R.same_template(
                    (existing.get("spec") or {}).get("template") or {}, spec.get("template") or {}):
                return _effective(existing)
            # a hash collision: bump collisionCount, the next sync picks another name
            status = dict(d.get("status") or {})
            status["collisionCount"] = collisions + 1
            await self.client.update_status({**d, "status": status}, resource="deployments")
            raise
        self.recorder.event(d, NORMAL, "ScalingReplicaSet",
                            f"Scaled up replica set {name} from 0 to {rs['spec']['replicas']}")
        return _effective(created)

    async def _scale(self, d: dict, rs: dict, replicas: int) -> dict:
        current = R.spec_replicas(rs)
        if current == replicas and (rs["metadata"].get("annotations") or {}).get(R.DESIRED_REPLICAS) == str(
                (d.get("spec") or {}).get("replicas", 1)):
            return rs
        annotations = {R.DESIRED_REPLICAS: str((d.get("spec") or {}).get("replicas", 1)),
                       R.MAX_REPLICAS: str(int((d.get("spec") or {}).get("replicas", 1) or 0)
                                           + (R.surge_and_unavailable(d)[0] if self._rolling_type(d) else 0))}
        updated = await self.client.patch("replicasets", rs["metadata"]["name"],
                                          {"metadata": {"annotations": annotations}, "spec": {"replicas": replicas}},
                                          namespace=rs["metadata"].get("namespace"))
        if current != replicas:
            verb = "up" if replicas > current else "down"
            self.recorder.event(d, NORMAL, "ScalingReplicaSet",
                                f"Scaled {verb} replica set {rs['metadata']['name']} from {current} to {replicas}")
        return _effective(updated)

    # -- strategies ------------------------------------------------------------------------------

    async def _scaled(self, d: dict, new: dict | None, old: list[dict]) -> bool:
        """A scaling event mid-rollout: resize the active ReplicaSets proportionally and stop
        there this round (k8s syncDeployment's `if scalingEvent: return dc.sync`)."""
        active = [rs for rs in ([new] if new is not None else []) + old if R.spec_replicas(rs) > 0]
        if len(active) < 2 or not R.is_scaling_event(d, active):
            return False
        ordered = sorted(active, key=lambda rs: _created(rs), reverse=True)     # newest first
        sizes = R.proportional_sizes(d, ordered, self._rolling_type(d))
        for rs, size in zip(ordered, sizes):
            await self._scale(d, rs, size)
        await self._sync_status(d, new, old, "")
        return True

    async def _rolling(self, d: dict, rs_list: list[dict]) -> None:
        new, old, reason = await self._new_rs(d, rs_list, create=False)
        if new is not None and await self._scaled(d, new, old):
            return
        if new is None:
            new, old, reason = await self._new_rs(d, rs_list, create=True)
        assert new is not None
        replicas = int((d.get("spec") or {}).get("replicas", 1) or 0)
        all_rs = old + [new]
        # grow (or trim) the new RS
        if R.spec_replicas(new) > replicas:
            target = replicas
        else:
            target = R.new_rs_replicas(d, [_counted(rs) for rs in all_rs], new)
        if target != R.spec_replicas(new):
            new = await self._scale(d, new, target)
            await self._sync_status(d, new, old, reason or "ReplicaSetUpdated")
            return
        if await self._shrink_old(d, new, old):
            await self._sync_status(d, new, old, reason)
            return
        if self._complete(d, new, old):
            await self._cleanup(d, old)
        await self._sync_status(d, new, old, reason)

    async def _shrink_old(self, d: dict, new: dict, old: list[dict]) -> bool:
        if sum(R.spec_replicas(rs) for rs in old) == 0:
            return False
        budget = R.old_rs_scale_down_budget(d, old + [new], new)
        if budget <= 0:
            return False
        scaled = False
        old = sorted(old, key=_created)
        # unhealthy replicas first: they cost no availability
        for i, rs in enumerate(old):
            if budget <= 0:
                break
            unhealthy = R.spec_replicas(rs) - R.status_of(rs, "availableReplicas")
            if unhealthy <= 0 or R.spec_replicas(rs) == 0:
                continue
            n = min(unhealthy, budget)
            old[i] = await self._scale(d, rs, R.spec_replicas(rs) - n)
            budget -= n
            scaled = True
        remaining = min(budget, R.available_scale_down(d, old + [new]))
        for i, rs in enumerate(old):
            if remaining <= 0:
                break
            if R.spec_replicas(rs) == 0:
                continue
            n = min(R.spec_replicas(rs), remaining)
            old[i] = await self._scale(d, rs, R.spec_replicas(rs) - n)
            remaining -= n
            scaled = True
        return scaled

    async def _recreate(self, d: dict, rs_list: list[dict]) -> None:
        new, old, reason = await self._new_rs(d, rs_list, create=False)
        active_old = [rs for rs in old if R.spec_replicas(rs) > 0]
        if active_old:
            for rs in active_old:
                await self._scale(d, rs, 0)
            await self._sync_status(d, new, old, reason)
            return
        old_uids = {rs["metadata"]["uid"] for rs in old}
        namespace = d["metadata"].get("namespace", "")
        for pod in self.pods.indexer.by_index(NAMESPACE_INDEX, namespace):
            ref = controller_ref(pod)
            if ref is not None and ref.get("uid") in old_uids and not is_terminal(pod):
                await self._sync_status(d, new, old, reason)
                return      # old pods still running: wait (a pod deletion re-queues us)
        replicas = int((d.get("spec") or {}).get("replicas", 1) or 0)
        if new is None:
            new, old, reason = await self._new_rs(d, rs_list, create=True, replicas=replicas)
        elif R.spec_replicas(new) != replicas:
            new = await self._scale(d, new, replicas)
        if self._complete(d, new, old):
            await self._cleanup(d, old)
        await self._sync_status(d, new, old, reason)

    async def _sync_paused(self, d: dict, rs_list: list[dict]) -> None:
        new, old, _ = await self._new_rs(d, rs_list, create=False)
        replicas = int((d.get("spec") or {}).get("replicas", 1) or 0)
        active = [rs for rs in old + ([new] if new else []) if R.spec_replicas(rs) > 0]
        # a scale while paused: with one active RS it takes the whole count (no rollout happens)
        if await self._scaled(d, new, old):
            return
        if len(active) <= 1:
            target = active[0] if active else new
            if target is not None and R.spec_replicas(target) != replicas:
                scaled = await self._scale(d, target, replicas)
                if target is new:
                    new = scaled
                else:
                    old = [scaled if rs is target else rs for rs in old]
        await self._sync_status(d, new, old, "")

    def _complete(self, d: dict, new: dict | None, old: list[dict]) -> bool:
        replicas = int((d.get("spec") or {}).get("replicas", 1) or 0)
        if new is None:
            return False
        return (R.status_of(new, "replicas") == replicas and R.status_of(new, "availableReplicas") == replicas
                and sum(R.status_of(rs, "replicas") for rs in old) == 0
                and all(R.spec_replicas(rs) == 0 for rs in old))

    async def _cleanup(self, d: dict, old: list[dict]) -> None:
        limit = (d.get("spec") or {}).get("revisionHistoryLimit")
        limit = 10 if limit is None else int(limit)
        idle = [rs for rs in old if R.spec_replicas(rs) == 0 and R.status_of(rs, "replicas") == 0
                and not rs["metadata"].get("deletionTimestamp")]
        excess = len(idle) - limit
        for rs in sorted(idle, key=R.revision)[:max(excess, 0)]:
            try:
                await self.client.delete("replicasets", rs["metadata"]["name"], namespace=rs["metadata"]["namespace"],
                                         preconditions={"uid": rs["metadata"]["uid"]})
            except NotFound:
                pass

    # -- status ----------------------------------------------------------------------------------

    async def _sync_status(self, d: dict, new: dict | None, old: list[dict], reason: str) -> None:
        status = self._status(d, new, old, reason)
        if status == (d.get("status") or {}):
            return
        body = dict(d)
        body["status"] = status
        try:
            await self.client.update_status(body, resource="deployments")
        except NotFound:
            return
        deadline = (d.get("spec") or {}).get("progressDeadlineSeconds")
        if deadline is not None and not self._complete(d, new, old) and not (d.get("spec") or {}).get("paused"):
            self.queue.add_after(object_key(d), float(deadline) + 1)

    def _status(self, d: dict, new: dict | None, old: list[dict], reason: str) -> dict:
        spec = d.get("spec") or {}
        replicas = int(spec.get("replicas", 1) or 0)
        all_rs = old + ([new] if new is not None else [])
        prev = d.get("status") or {}
        status: dict[str, Any] = {
            "observedGeneration": d["metadata"].get("generation", 0),
            "replicas": sum(R.status_of(rs, "replicas") for rs in all_rs),
            "updatedReplicas": R.status_of(new, "replicas"),
            "readyReplicas": sum(R.status_of(rs, "readyReplicas") for rs in all_rs),
            "availableReplicas": sum(R.status_of(rs, "availableReplicas") for rs in all_rs),
            "terminatingReplicas": sum(R.status_of(rs, "terminatingReplicas") for rs in all_rs),
        }
        status["unavailableReplicas"] = max(replicas - status["availableReplicas"], 0)
        if prev.get("collisionCount"):
            status["collisionCount"] = prev["collisionCount"]
        for k in list(status):
            if status[k] == 0 and k not in ("observedGeneration",):
                del status[k]      # omitempty, as the Go types serialize
        conditions = {c.get("type"): c for c in prev.get("conditions") or ()}
        now = now_rfc3339()
        if status.get("availableReplicas", 0) >= replicas - R.max_unavailable(d):
            _set(conditions, "Available", "True", "MinimumReplicasAvailable", "Deployment has minimum availability.", now)
        else:
            _set(conditions, "Available", "False", "MinimumReplicasUnavailable",
                 "Deployment does not have minimum availability.", now)
        rs_name = new["metadata"]["name"] if new is not None else ""
        progressing = conditions.get("Progressing")
        if spec.get("paused"):
            _set(conditions, "Progressing", "Unknown", "DeploymentPaused", "Deployment is paused", now)
        elif progressing is not None and progressing.get("reason") == "DeploymentPaused":
            _set(conditions, "Progressing", "Unknown", "DeploymentResumed", "Deployment is resumed", now)
        elif new is not None and self._complete(d, new, old):
            _set(conditions, "Progressing", "True", "NewReplicaSetAvailable",
                 f'ReplicaSet "{rs_name}" has successfully progressed.', now, keep_update=(
                     progressing or {}).get("reason") == "NewReplicaSetAvailable")
        elif reason == "NewReplicaSetCreated":
            _set(conditions, "Progressing", "True", reason, f'Created new replica set "{rs_name}"', now)
        elif reason == "FoundNewReplicaSet" and progressing is None:
            _set(conditions, "Progressing", "True", reason, f'Found new replica set "{rs_name}"', now)
        elif _advanced(prev, status):
            _set(conditions, "Progressing", "True", "ReplicaSetUpdated", f'ReplicaSet "{rs_name}" is progressing.', now)
        elif progressing is not None and spec.get("progressDeadlineSeconds") is not None and _timed_out(
                progressing, int(spec["progressDeadlineSeconds"])):
            _set(conditions, "Progressing", "False", "ProgressDeadlineExceeded",
                 f'ReplicaSet "{rs_name}" has timed out progressing.', now)
        status["conditions"] = [conditions[t] for t in ("Available", "Progressing", "ReplicaFailure") if t in conditions]
        return status


def _counted(rs: dict) -> dict:
    """For the surge bound: an RS holds max(spec, observed pods) until its pods are really gone."""
    out = dict(rs)
    out["spec"] = dict(rs.get("spec") or {})
    out["spec"]["replicas"] = max(R.spec_replicas(rs), R.status_of(rs, "replicas"))
    return out


def _set(conditions: dict, type_: str, status: str, reason: str, message: str, now: str,
         keep_update: bool = False) -> None:
    old = conditions.get(type_)
    if old is not None and old.get("status") == status and old.get("reason") == reason and old.get("message") == message:
        if keep_update:
            return
        if type_ == "Available":
            return
    transition = old.get("lastTransitionTime") if old is not None and old.get("status") == status else now
    conditions[type_] = {"type": type_, "status": status, "lastUpdateTime": now,
                         "lastTransitionTime": transition or now, "reason": reason, "message": message}


def _advanced(prev: dict, status: dict) -> bool:
    """k8s util.DeploymentProgressing: more updated, fewer old, or more ready/available."""
    old_old = (prev.get("replicas") or 0) - (prev.get("updatedReplicas") or 0)
    new_old = (status.get("replicas") or 0) - (status.get("updatedReplicas") or 0)
    return ((status.get("updatedReplicas") or 0) > (prev.get("updatedReplicas") or 0) or new_old < old_old
            or (status.get("readyReplicas") or 0) > (prev.get("readyReplicas") or 0)
            or (status.get("availableReplicas") or 0) > (prev.get("availableReplicas") or 0))


def _timed_out(progressing: dict, deadline: int) -> bool:
    if progressing.get("reason") in ("ProgressDeadlineExceeded", "NewReplicaSetAvailable"):
        return False
    updated = progressing.get("lastUpdateTime")
    if not updated:
        return False
    since = parse_rfc3339(updated)
    return datetime.datetime.now(datetime.timezone.utc) > since + datetime.timedelta(seconds=deadline)
