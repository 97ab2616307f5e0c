"""The Scheduler: pod and node informers feed ClusterState (the compiled NodeTable) and the
scheduling queue; one loop takes the next pod, runs the kernels (in a worker thread, without the
GIL, when the cluster is big enough to matter), assumes the pod on the chosen node and binds it
through pods/{name}/binding in the background with bounded concurrency. Failures record the
PodScheduled condition and a FailedScheduling event with Kubernetes' message."""
from __future__ import annotations

import asyncio
import logging
import random
import socket
import time
from typing import Any, Mapping

from pykube_plane.client import ApiError, Forbidden, MethodNotAllowed, NotFound, SharedInformerFactory

from . import messages, podinfo
from .config import DEFAULT_SCHEDULER, SchedulerConfig
from .events import EventRecorder, now_rfc3339
from .metrics import SchedulerMetrics
from .preemption import preempt
from .queue import SchedulingQueue
from .state import ClusterState

log = logging.getLogger("pykube_plane.scheduler")
# A kernel call expected to take longer than this runs in a worker thread (it holds no GIL) so
# the event loop keeps serving; shorter ones run inline, as a thread hop costs more than they do.
THREAD_THRESHOLD_SECONDS = 0.002
FLUSH_INTERVAL = 1.0


class Scheduler:
    def __init__(self, client: Any, config: SchedulerConfig | None = None, *, identity: str | None = None,
                 plugins: Mapping[str, Any] | None = None, bind_concurrency: int = 32,
                 metrics: SchedulerMetrics | None = None, rng: random.Random | None = None) -> None:
        self.client = client
        self.config = config or SchedulerConfig()
        self.profiles = self.config.profiles
        self.plugins = dict(plugins or {})
        self.identity = identity or socket.gethostname()
        self.metrics = metrics or SchedulerMetrics()
        self.state = ClusterState()
        self.queue = SchedulingQueue()
        self.lock = asyncio.Lock()          # the table is never changed while a kernel reads it
        self.rng = rng or random.Random()
        self.next_start = 0
        self.bind_slots = asyncio.Semaphore(bind_concurrency)
        self.factory = SharedInformerFactory(client)
        self.tasks: set[asyncio.Task] = set()
        self._loop_task: asyncio.Task | None = None
        self.pdbs = None
        self.scheduled = 0
        self.nominated: dict[str, tuple] = {}      # preemptors: key -> (node, pod, its PodRecord there)
        # The last FailedScheduling event per pending pod: a repeat bumps its count, as client-go's
        # event correlator does, instead of adding an event per attempt.
        self.last_failure: dict[str, tuple[str, str, int]] = {}
        self.events = EventRecorder(client, self.identity)
        self.thread_threshold = THREAD_THRESHOLD_SECONDS
        # Kernel seconds per node, measured, for plain pods and for pods with spread/inter-pod terms.
        self.kernel_cost = {False: 0.0, True: 0.0}

    # ---- informers -----------------------------------------------------------------------------
    def _responsible(self, pod: Mapping) -> bool:
        return ((pod.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER) in self.profiles

    @staticmethod
    def _assigned(pod: Mapping) -> bool:
        return bool((pod.get("spec") or {}).get("nodeName"))

    @staticmethod
    def _terminal(pod: Mapping) -> bool:
        return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")

    def disruption_budgets(self) -> list[Mapping]:
        return self.pdbs.indexer.list() if self.pdbs is not None else []

    async def on_node(self, node: Mapping) -> None:
        async with self.lock:
            self.state.set_node(node)
        self.queue.move_all_to_active_or_backoff()

    async def on_node_delete(self, node: Mapping) -> None:
        async with self.lock:
            self.state.remove_node(node["metadata"]["name"])

    async def on_pod(self, pod: Mapping) -> None:
        key = podinfo.pod_key(pod)
        if self._assigned(pod):
            self.queue.delete(key)
            self.nominated.pop(key, None)
            self.last_failure.pop(key, None)
            async with self.lock:
                if self._terminal(pod):
                    if self.state.remove_pod(key) is not None:
                        self.queue.move_all_to_active_or_backoff()
                elif not self.state.confirm(key, pod):
                    self.state.add_pod(pod, pod["spec"]["nodeName"])
        elif (pod.get("metadata") or {}).get("deletionTimestamp") or not self._responsible(pod):
            self.queue.delete(key)      # going away, or handed to another scheduler
        else:
            record = self.state.pods.get(key)
            if record is not None and record.assumed:
                return      # being bound: the informer will show it assigned (or the binding fails)
            self.queue.update(pod)

    async def on_pod_delete(self, pod: Mapping) -> None:
        key = podinfo.pod_key(pod)
        self.queue.delete(key)
        self.nominated.pop(key, None)
        self.last_failure.pop(key, None)
        async with self.lock:
            removed = self.state.remove_pod(key)
        if removed is not None:
            self.queue.move_all_to_active_or_backoff()

    async def start(self) -> None:
        nodes = self.factory.informer("nodes")
        pods = self.factory.informer("pods")
        nodes.add_event_handler(on_add=self.on_node, on_update=lambda old, new: self.on_node(new),
                                on_delete=self.on_node_delete)
        pods.add_event_handler(on_add=self.on_pod, on_update=lambda old, new: self.on_pod(new),
                               on_delete=self.on_pod_delete)
        try:    # preemption respects PodDisruptionBudgets where the API server serves them
            await self.client.list("poddisruptionbudgets", limit=1)
            self.pdbs = self.factory.informer("poddisruptionbudgets")
        except (NotFound, MethodNotAllowed, Forbidden):
            self.pdbs = None
        self.factory.start()
        await self.factory.wait_for_sync(timeout=60)
        self.events.start()
        self._loop_task = asyncio.create_task(self._run())
        self._spawn(self._flush_loop())

    async def stop(self) -> None:
        self.queue.close()
        if self._loop_task is not None:
            self._loop_task.cancel()
        for task in list(self.tasks):
            task.cancel()
        await asyncio.gather(*([self._loop_task] if self._loop_task else []), *self.tasks, return_exceptions=True)
        await self.events.stop()
        await self.factory.shutdown()

    def _spawn(self, coro) -> asyncio.Task:
        task = asyncio.create_task(coro)
        self.tasks.add(task)
        task.add_done_callback(self.tasks.discard)
        return task

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(FLUSH_INTERVAL)
            self.queue.flush()
            self.metrics.set_pending(self.queue.sizes())

    # ---- the scheduling loop -------------------------------------------------------------------
    async def _run(self) -> None:
        while True:
            pod = await self.queue.pop()
            if pod is None:
                return
            try:
                await self.schedule_one(pod)
            except asyncio.CancelledError:
                raise
            except Exception:       # one bad pod never stops the loop
                log.exception("scheduling %s failed", podinfo.pod_key(pod))
                self.queue.requeue_backoff(podinfo.pod_key(pod))
            self.metrics.set_pending(self.queue.sizes())

    def count_nominated(self, pod: Mapping) -> list:
        """Room made by preemption is kept for its preemptors: nominated pods of at least `pod`'s
        priority are counted on their nominated nodes (until `uncount`) while `pod` is placed.
        Only in the node table, unless inter-pod or spread terms make it matter which pods are
        where."""
        key, priority = podinfo.pod_key(pod), podinfo.priority(pod)
        spec = pod.get("spec") or {}
        pod_terms = bool(spec.get("topologySpreadConstraints")) or podinfo.has_pod_affinity(pod)
        added = []
        for k, (_, _, record) in self.nominated.items():
            if k != key and k not in self.state.pods and record.priority >= priority:
                full = pod_terms or record.has_affinity
                if full:
                    self.state.add_record(record)
                else:
                    self.state.table.add_pod(record.node, record.requests, record.nonzero, record.ports)
                added.append((k, record, full))
        return added

    def uncount(self, added: list) -> None:
        for k, record, full in added:
            if full:
                self.state.remove_pod(k)
            else:
                self.state.table.remove_pod(record.node, record.requests, record.nonzero, record.ports)

    async def _run_kernel(self, table, n: int, args: tuple):
        query = args[0]
        heavy = query.spread != ((), ()) or bool(query.interpod)

        def timed():
            started = time.perf_counter()
            result = table.run(*args)
            return result, time.perf_counter() - started
        if self.kernel_cost[heavy] * n > self.thread_threshold:
            result, seconds = await asyncio.to_thread(timed)
        else:
            result, seconds = timed()
        self.kernel_cost[heavy] = 0.8 * self.kernel_cost[heavy] + 0.2 * seconds / n
        return result

    async def find_node(self, pod: Mapping, profile) -> tuple[str | None, list[str], int, Any]:
        """The chosen node, or None and each filtered node's reasons (Kubernetes' texts)."""
        async with self.lock:
            state = self.state
            table = state.table
            n = len(table)
            if n == 0:
                return None, [], 0, None
            reserved = self.count_nominated(pod)
            python_filters = [self.plugins[name] for name in profile.python_filters]
            to_find = n if python_filters else profile.num_feasible_nodes_to_find(n)
            start = self.next_start % n
            try:
                query = state.query(pod)
                args = (query, start, to_find, profile.filters, profile.weights, profile.most_allocated,
                        True, self.rng.getrandbits(63))
                result = await self._run_kernel(table, n, args)
            finally:
                self.uncount(reserved)
            self.next_start = (start + result.processed) % n
            if not python_filters and not profile.python_scores:
                if result.best >= 0:
                    return table.name_at(result.feasible[result.best]), [], n, result
                return None, self._reasons(result), n, result
            # The slower path: Python plugins see node objects.
            reasons = self._reasons(result)
            kept = []
            for i, total in zip(result.feasible, result.total):
                name = table.name_at(i)
                node = state.nodes[name]
                failure = next((r for r in (p.filter(pod, node) for p in python_filters) if r), None)
                if failure:
                    reasons.append(failure)
                else:
                    kept.append((name, total))
            kept = kept[:profile.num_feasible_nodes_to_find(n)]
            for plugin_name, weight in profile.python_scores.items():
                plugin = self.plugins[plugin_name]
                kept = [(name, total + weight * int(plugin.score(pod, state.nodes[name]))) for name, total in kept]
            if not kept:
                return None, reasons, n, result
            return self.select_host(kept), [], n, result

    def _reasons(self, result) -> list[str]:
        table = self.state.table
        reasons: list[str] = []
        for i, bits in enumerate(result.reasons):
            if bits:
                reasons.extend(messages.node_reasons(table, result, i))
        return reasons

    def select_host(self, scored: list[tuple[str, int]]) -> str:
        """The best score; ties broken at random (reservoir sampling, like selectHost)."""
        best, best_score, ties = scored[0][0], scored[0][1], 1
        for name, score in scored[1:]:
            if score > best_score:
                best, best_score, ties = name, score, 1
            elif score == best_score:
                ties += 1
                if self.rng.randrange(ties) == 0:
                    best = name
        return best

    async def schedule_one(self, pod: Mapping) -> None:
        started = time.perf_counter()
        key = podinfo.pod_key(pod)
        profile = self.profiles[(pod.get("spec") or {}).get("schedulerName") or DEFAULT_SCHEDULER]
        node, reasons, n, result = await self.find_node(pod, profile)
        if node is None:
            if n == 0:
                message = "no nodes available to schedule pods"
            else:
                outcome = await preempt(self, pod, profile, result)
                message = messages.fit_error(n, reasons, outcome)
            self.metrics.attempt("unschedulable", profile.scheduler_name, time.perf_counter() - started)
            self.queue.requeue_unschedulable(key)
            self._spawn(self.record_failure(pod, "Unschedulable", message))
            return
        assumed = {**pod, "spec": {**pod["spec"], "nodeName": node}}
        async with self.lock:
            self.state.add_pod(assumed, node).assumed = True     # counted at once, before the binding
        self.queue.done(key)
        self._spawn(self.bind(pod, node, started, profile.scheduler_name))

    async def bind(self, pod: Mapping, node: str, started: float, profile: str) -> None:
        meta = pod["metadata"]
        key = podinfo.pod_key(pod)
        async with self.bind_slots:
            try:
                await self.client.bind(meta["name"], node, namespace=meta.get("namespace"))
            except ApiError as e:
                async with self.lock:
                    record = self.state.pods.get(key)
                    if record is not None and record.assumed:
                        self.state.remove_pod(key)          # forget the assumed pod
                self.metrics.attempt("error", profile, time.perf_counter() - started)
                if not isinstance(e, NotFound) and key in self.queue.pods:
                    self.queue.requeue_backoff(key)
                    self._spawn(self.record_failure(pod, "SchedulerError", f"binding rejected: {e.message}"))
                return
        self.scheduled += 1
        self.metrics.attempt("scheduled", profile, time.perf_counter() - started)
        self.events.event(pod, "Normal", "Scheduled", f"Successfully assigned {key} to {node}")

    # ---- what users see ------------------------------------------------------------------------
    async def record_failure(self, pod: Mapping, reason: str, message: str) -> None:
        meta = pod["metadata"]
        condition = {"type": "PodScheduled", "status": "False", "reason": reason, "message": message,
                     "lastProbeTime": None, "lastTransitionTime": now_rfc3339()}
        try:
            await self.client.patch("pods", meta["name"], {"status": {"conditions": [condition]}},
                                    namespace=meta.get("namespace"), subresource="status", patch_type="strategic")
        except ApiError as e:
            log.info("could not set PodScheduled on %s: %s", podinfo.pod_key(pod), e)
        key = podinfo.pod_key(pod)
        last = self.last_failure.get(key)
        if last is not None and last[1] == message:
            name, _, count = last
            if self.events.repeat(meta.get("namespace") or "default", name, count + 1):
                self.last_failure[key] = (name, message, count + 1)
            return
        name = self.events.event(pod, "Warning", "FailedScheduling", message)
        if name and key in self.queue.pods:
            self.last_failure[key] = (name, message, 1)
