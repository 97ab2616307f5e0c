"""job: run a Job's pods to completion (k8s JobController, with finalizer tracking).

Each pod carries the `batch.kubernetes.io/job-tracking` finalizer until its end is counted, so a
pod deleted or garbage-collected early is never missed nor counted twice: a finished pod's uid goes
into status.uncountedTerminatedPods, then its finalizer is removed, then it moves into
succeeded/failed (and completedIndexes for Indexed jobs). Meanwhile: keep min(parallelism,
remaining completions) pods active (Indexed: one per missing index), replacing failed ones after
a backoff of 10 s doubling per failure (6 min at most); fail the Job past
backoffLimit or activeDeadlineSeconds (deleting its active pods); complete it at `completions`.
"""
from __future__ import annotations

import asyncio
import copy
import datetime
import logging
from typing import Any

from pykube_plane.api.labels import SelectorError, selector_from_label_selector
from pykube_plane.api.meta import now_rfc3339, parse_rfc3339
from pykube_plane.client import NAMESPACE_INDEX, NotFound, index_by_namespace, object_key

from .controller import Controller, ControllerContext, deleted_object
from .events import NORMAL
from .expectations import Expectations
from .ownership import controller_ref, owner_reference
from .podutil import deletion_rank, is_ready, pod_from_template
from .replicaset import BatchFailed, slow_start

log = logging.getLogger(__name__)

FAILURE_BACKOFF = 10.0         # k8s DefaultJobPodFailureBackOff: 10 s, doubling per failure ...
MAX_FAILURE_BACKOFF = 360.0    # ... up to 6 minutes
TRACKING = "batch.kubernetes.io/job-tracking"
INDEX = "batch.kubernetes.io/job-completion-index"


def format_indexes(indexes: set[int]) -> str:
    """{0,1,2,4} -> "0-2,4" (k8s completedIndexes)."""
    out, run = [], []
    for i in sorted(indexes):
        if run and i == run[-1] + 1:
            run.append(i)
            continue
        if run:
            out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
        run = [i]
    if run:
        out.append(f"{run[0]}-{run[-1]}" if len(run) > 1 else str(run[0]))
    return ",".join(out)


def parse_indexes(text: str | None) -> set[int]:
    out: set[int] = set()
    for part in (text or "").split(","):
        if not part:
            continue
        lo, _, hi = part.partition("-")
        out.update(range(int(lo), int(hi or lo) + 1))
    return out


def _index_of(pod: dict) -> int | None:
    value = ((pod.get("metadata") or {}).get("annotations") or {}).get(INDEX)
    return int(value) if value is not None and value.isdigit() else None


def _phase(pod: dict) -> str:
    return (pod.get("status") or {}).get("phase", "")


def finished(job: dict) -> bool:
    return any(c.get("type") in ("Complete", "Failed") and c.get("status") == "True"
               for c in (job.get("status") or {}).get("conditions") or ())


class JobController(Controller):
    name = "job"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.jobs = self.watch("jobs")
        self.pods = self.informer("pods", indexers={NAMESPACE_INDEX: index_by_namespace})
        self.pods.add_event_handler(on_add=self._pod_added, on_update=lambda o, n: self._pod_event(n),
                                    on_delete=self._pod_deleted)
        self.expectations = Expectations()
        # uids whose tracking finalizer we removed and whose update the cache has not shown yet:
        # a stale cached pod must not be counted a second time (k8s finalizer expectations)
        self._released: dict[str, set[str]] = {}
        # the Job as our last status write left it: a read may trail our own write
        self._written: dict[str, dict] = {}
        # key -> (loop time of the last counted failure, consecutive failures): replacement pods
        # wait 10 s * 2^(n-1) after a failure, as in k8s
        self._failures: dict[str, tuple[float, int]] = {}
        # uids of pods this controller deleted (suspend, excess, deadline): their end is no failure
        self._removed: dict[str, set[str]] = {}

    def _job_key(self, pod: dict) -> str | None:
        ref = controller_ref(pod)
        if ref is None or ref.get("kind") != "Job":
            return None
        return f"{pod['metadata'].get('namespace', '')}/{ref.get('name', '')}"

    def _pod_added(self, pod: dict) -> None:
        key = self._job_key(pod)
        if key is not None:
            self.expectations.creation_observed(key)
            self.queue.add(key)

    def _pod_event(self, pod: dict) -> None:
        key = self._job_key(pod)
        if key is not None:
            if TRACKING not in (pod["metadata"].get("finalizers") or ()):
                self._released.get(key, set()).discard(pod["metadata"].get("uid"))
            self.queue.add(key)

    def _pod_deleted(self, obj: Any) -> None:
        pod = deleted_object(obj)
        if pod is not None:
            key = self._job_key(pod)
            if key is not None:
                self.expectations.deletion_observed(key, object_key(pod))
                self._released.get(key, set()).discard(pod["metadata"].get("uid"))
                self._removed.get(key, set()).discard(pod["metadata"].get("uid"))
                self.queue.add(key)

    # -- sync ------------------------------------------------------------------------------------

    async def sync(self, key: str) -> None:
        cached = self.jobs.indexer.get(key)
        if cached is None:
            self.expectations.forget(key)
            self._released.pop(key, None)
            self._written.pop(key, None)
            self._failures.pop(key, None)
            self._removed.pop(key, None)
            return
        try:
            # the counts decide how many pods to create: read them fresh, never from a lagging cache
            job = await self.client.get("jobs", cached["metadata"]["name"], namespace=cached["metadata"].get("namespace"))
        except NotFound:
            return
        if job["metadata"].get("uid") != cached["metadata"].get("uid"):
            return
        job = _newest(job, self._written.get(key))
        try:
            selector = selector_from_label_selector((job.get("spec") or {}).get("selector"))
        except SelectorError:
            return
        namespace = job["metadata"].get("namespace", "")
        uid = job["metadata"]["uid"]
        # expectations first, then the pods: once every creation asked for was observed, the
        # list below holds them all (checked later, a pod seen meanwhile would be missing from it)
        needs_sync = self.expectations.satisfied(key)
        pods = [p for p in self.pods.indexer.by_index(NAMESPACE_INDEX, namespace)
                if (controller_ref(p) or {}).get("uid") == uid
                and selector.matches((p.get("metadata") or {}).get("labels") or {})]
        status = dict(job.get("status") or {})
        if job["metadata"].get("deletionTimestamp") or finished(job):
            # nothing more is counted: release every pod's finalizer (k8s does the same)
            await asyncio.gather(*(self._release(p) for p in pods if TRACKING in (p["metadata"].get("finalizers") or ())))
            return
        spec = job.get("spec") or {}
        now = datetime.datetime.now(datetime.timezone.utc)
        suspended = bool(spec.get("suspend"))
        _suspension(status, suspended)
        if not status.get("startTime") and not suspended:
            status["startTime"] = now_rfc3339()
        job, status = await self._count(job, status, pods)
        _suspension(status, suspended)
        active = [p for p in pods if _phase(p) not in ("Succeeded", "Failed") and not p["metadata"].get("deletionTimestamp")]
        failed = int(status.get("failed") or 0)
        succeeded = int(status.get("succeeded") or 0)
        deadline = spec.get("activeDeadlineSeconds") if not suspended else None
        started = parse_rfc3339(status["startTime"]) if status.get("startTime") else now
        failure: tuple[str, str] | None = None
        if failed > int(spec.get("backoffLimit", 6)):
            failure = ("BackoffLimitExceeded", "Job has reached the specified backoff limit")
        elif deadline is not None and now >= started + datetime.timedelta(seconds=int(deadline)):
            failure = ("DeadlineExceeded", "Job was active longer than specified deadline")
        indexed = spec.get("completionMode") == "Indexed"
        completions = spec.get("completions")
        done_indexes = parse_indexes(status.get("completedIndexes"))
        if indexed and completions is not None:
            complete = len(done_indexes) >= int(completions)
        elif completions is not None:
            complete = succeeded >= int(completions)
        else:
            complete = succeeded > 0 and not active
        if failure is not None or complete:
            await self._delete_pods(key, active)
            conditions = list(status.get("conditions") or [])
            stamp = now_rfc3339()
            if failure is not None:
                conditions += [_condition("FailureTarget", failure[0], failure[1], stamp),
                               _condition("Failed", failure[0], failure[1], stamp)]
                self.recorder.event(job, "Warning", failure[0], failure[1])
            else:
                conditions += [_condition("SuccessCriteriaMet", "CompletionsReached", "Reached expected number of succeeded pods", stamp),
                               _condition("Complete", "CompletionsReached", "Reached expected number of succeeded pods", stamp)]
                status["completionTime"] = stamp
                self.recorder.event(job, NORMAL, "Completed", "Job completed")
            status["conditions"] = conditions
            status["active"] = 0
            await self._write_status(job, status, pods)
            return
        wait = self._backoff_left(key)
        if suspended:
            await self._delete_pods(key, active)        # a suspended Job runs nothing
        elif needs_sync and wait > 0:
            self.queue.add_after(key, wait)
        elif needs_sync:
            parallelism = int(spec.get("parallelism", 1))
            if indexed and completions is not None:
                busy = {_index_of(p) for p in active}
                missing = [i for i in range(int(completions)) if i not in done_indexes and i not in busy]
                await self._create_pods(job, missing[:max(parallelism - len(active), 0)])
            else:
                want = parallelism if completions is None else min(parallelism, int(completions) - succeeded)
                if completions is None and succeeded > 0:
                    want = len(active)
                if len(active) < want:
                    log.debug("job %s: creating %d pod(s): %d active, %d succeeded, %d wanted", key,
                             want - len(active), len(active), succeeded, want)
                    await self._create_pods(job, [None] * (want - len(active)))
                elif len(active) > want:
                    await self._delete_pods(key, sorted(active, key=deletion_rank)[:len(active) - want])
        await self._write_status(job, status, pods)
        if deadline is not None:
            left = (started + datetime.timedelta(seconds=int(deadline)) - now).total_seconds()
            self.queue.add_after(key, max(left, 0.0) + 0.5)

    async def _count(self, job: dict, status: dict, pods: list[dict]) -> tuple[dict, dict]:
        """The finalizer-tracking steps: record finished pods as uncounted, release their
        finalizers, then count them."""
        uncounted = status.get("uncountedTerminatedPods") or {}
        seen_ok, seen_fail = set(uncounted.get("succeeded") or ()), set(uncounted.get("failed") or ())
        released = self._released.setdefault(object_key(job), set())
        removed = self._removed.get(object_key(job), set())
        added = False
        uncounted_release = []
        for pod in pods:
            meta = pod["metadata"]
            if TRACKING not in (meta.get("finalizers") or ()) or meta["uid"] in seen_ok | seen_fail | released:
                continue
            if meta.get("deletionTimestamp") and meta["uid"] in removed and _phase(pod) not in ("Succeeded", "Failed"):
                uncounted_release.append(pod)     # we stopped it (suspend, excess, deadline): no failure
                continue
            if _phase(pod) == "Succeeded":
                seen_ok.add(meta["uid"])
                added = True
            elif _phase(pod) == "Failed" or meta.get("deletionTimestamp"):
                seen_fail.add(meta["uid"])
                added = True
        if added:
            status["uncountedTerminatedPods"] = {"succeeded": sorted(seen_ok), "failed": sorted(seen_fail)}
            job = await self._write_status(job, status, pods)
            status = dict(job.get("status") or {})
        if uncounted_release:
            released.update(p["metadata"]["uid"] for p in uncounted_release)
            await asyncio.gather(*(self._release(p) for p in uncounted_release))
        if not seen_ok and not seen_fail:
            return job, status
        by_uid = {p["metadata"]["uid"]: p for p in pods}
        releasing = [u for u in seen_ok | seen_fail if u in by_uid]
        released.update(releasing)
        await asyncio.gather(*(self._release(by_uid[u]) for u in releasing))
        done = parse_indexes(status.get("completedIndexes"))
        for u in seen_ok:
            index = _index_of(by_uid[u]) if u in by_uid else None
            if index is not None:
                done.add(index)
        key = object_key(job)
        if seen_fail:
            _, n = self._failures.get(key, (0.0, 0))
            self._failures[key] = (asyncio.get_running_loop().time(), n + len(seen_fail))
        elif seen_ok:
            self._failures.pop(key, None)
        status["succeeded"] = int(status.get("succeeded") or 0) + len(seen_ok)
        status["failed"] = int(status.get("failed") or 0) + len(seen_fail)
        if (job.get("spec") or {}).get("completionMode") == "Indexed":
            status["completedIndexes"] = format_indexes(done)
        status["uncountedTerminatedPods"] = {}
        job = await self._write_status(job, status, pods)
        return job, dict(job.get("status") or {})

    def _backoff_left(self, key: str) -> float:
        last = self._failures.get(key)
        if last is None:
            return 0.0
        at, n = last
        delay = min(FAILURE_BACKOFF * 2 ** (n - 1), MAX_FAILURE_BACKOFF)
        return at + delay - asyncio.get_running_loop().time()

    async def _release(self, pod: dict) -> None:
        meta = pod["metadata"]
        finalizers = [f for f in meta.get("finalizers") or () if f != TRACKING]
        try:
            await self.client.patch("pods", meta["name"], {"metadata": {"finalizers": finalizers or None}},
                                    namespace=meta.get("namespace"))
        except NotFound:
            pass

    async def _create_pods(self, job: dict, indexes: list[int | None]) -> None:
        if not indexes:
            return
        key = object_key(job)
        namespace = job["metadata"].get("namespace", "")
        name = job["metadata"]["name"]
        self.expectations.expect_creations(key, len(indexes))
        template = (job.get("spec") or {}).get("template") or {}

        async def create(index: int | None) -> None:
            labels = {INDEX: str(index)} if index is not None else {}
            pod = pod_from_template(template, namespace, f"{name}-{index}-" if index is not None else f"{name}-",
                                    owner_reference(job, "batch/v1", "Job"), labels, dict(labels))
            pod["metadata"]["finalizers"] = list(pod["metadata"].get("finalizers") or []) + [TRACKING]
            if index is not None:
                pod["spec"] = copy.deepcopy(pod["spec"])
                pod["spec"].setdefault("hostname", f"{name}-{index}")
                for c in pod["spec"].get("containers") or ():
                    c["env"] = list(c.get("env") or []) + [{"name": "JOB_COMPLETION_INDEX", "valueFrom": {
                        "fieldRef": {"apiVersion": "v1", "fieldPath": f"metadata.annotations['{INDEX}']"}}}]
            try:
                await self.client.create(pod, resource="pods", namespace=namespace)
            except BaseException:
                self.expectations.creation_observed(key)
                raise
        pending = iter(indexes)
        try:
            created = await slow_start(len(indexes), lambda: create(next(pending)))
        except BatchFailed as e:
            if e.skipped > 0:       # failed ones lowered the expectations themselves
                self.expectations.creation_observed(key, e.skipped)
            if e.done:
                self.recorder.event(job, NORMAL, "SuccessfulCreate", f"Created {e.done} pod(s)")
            raise e.error from None
        self.recorder.event(job, NORMAL, "SuccessfulCreate", f"Created {created} pod(s)")

    async def _delete_pods(self, key: str, pods: list[dict]) -> None:
        removed = self._removed.setdefault(key, set())
        for pod in pods:
            removed.add(pod["metadata"]["uid"])
            try:
                await self.client.delete("pods", pod["metadata"]["name"], namespace=pod["metadata"].get("namespace"),
                                         preconditions={"uid": pod["metadata"]["uid"]})
            except NotFound:
                pass

    async def _write_status(self, job: dict, status: dict, pods: list[dict]) -> dict:
        live = [p for p in pods if _phase(p) not in ("Succeeded", "Failed")]
        status["active"] = sum(1 for p in live if not p["metadata"].get("deletionTimestamp")) if not finished(
            {"status": status}) else 0
        status["ready"] = sum(1 for p in live if is_ready(p) and not p["metadata"].get("deletionTimestamp"))
        status["terminating"] = sum(1 for p in live if p["metadata"].get("deletionTimestamp"))
        status = {k: v for k, v in status.items() if v not in (None, 0, {}) or k in ("ready", "terminating")}
        if status == (job.get("status") or {}):
            return job
        written = await self.client.update_status({**job, "status": status}, resource="jobs")
        self._written[object_key(written)] = written
        return written


def _suspension(status: dict, suspended: bool) -> None:
    """The Suspended condition (k8s): True while suspended; on resume False, and the clock of
    activeDeadlineSeconds starts again."""
    conditions = list(status.get("conditions") or [])
    current = next((c for c in conditions if c.get("type") == "Suspended"), None)
    stamp = now_rfc3339()
    if suspended and (current is None or current.get("status") != "True"):
        conditions = [c for c in conditions if c.get("type") != "Suspended"]
        conditions.append({"type": "Suspended", "status": "True", "lastProbeTime": stamp, "lastTransitionTime": stamp,
                           "reason": "JobSuspended", "message": "Job suspended"})
        status.pop("startTime", None)
    elif not suspended and current is not None and current.get("status") == "True":
        conditions = [c for c in conditions if c.get("type") != "Suspended"]
        conditions.append({"type": "Suspended", "status": "False", "lastProbeTime": stamp,
                           "lastTransitionTime": stamp, "reason": "JobResumed", "message": "Job resumed"})
        status["startTime"] = stamp
    else:
        return
    status["conditions"] = conditions


def _newest(read: dict, written: dict | None) -> dict:
    """The later of two versions of one Job (same uid), by resourceVersion."""
    if written is None or written["metadata"].get("uid") != read["metadata"].get("uid"):
        return read
    try:
        later = int(written["metadata"]["resourceVersion"]) > int(read["metadata"]["resourceVersion"])
    except (KeyError, ValueError):
        return read
    return written if later else read


def _condition(type_: str, reason: str, message: str, stamp: str) -> dict:
    return {"type": type_, "status": "True", "lastProbeTime": stamp, "lastTransitionTime": stamp,
            "reason": reason, "message": message}
