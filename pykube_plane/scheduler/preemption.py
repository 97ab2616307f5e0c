"""Preemption (DefaultPreemption's PostFilter): when a pod fits nowhere, find the node where
evicting the fewest, lowest-priority pods makes it fit, delete them and nominate the node."""
from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any, Mapping

from pykube_plane.client import ApiError

from . import messages, podinfo
from .state import label_selector

if TYPE_CHECKING:
    from .scheduler import Scheduler

log = logging.getLogger("pykube_plane.scheduler")
NOT_HELPFUL = "Preemption is not helpful for scheduling"
NO_VICTIMS = "No preemption victims found for incoming pod"
# DefaultPreemption's defaults: dry-run nodes until max(100, 10% of nodes) candidates are found.
MIN_CANDIDATE_NODES_PERCENTAGE = 10
MIN_CANDIDATE_NODES_ABSOLUTE = 100


class _FitCheck:
    """Does the pod fit one node as the cache is now? The pod's query is built once, unless it
    carries topology spread or inter-pod terms, whose counts change with every victim."""

    def __init__(self, scheduler: "Scheduler", pod: Mapping, profile) -> None:
        self.state, self.pod, self.profile = scheduler.state, pod, profile
        self.query = self.state.query(pod)
        self.rebuild = self.query.spread != ((), ()) or bool(self.query.interpod)

    def take(self, record) -> None:
        """Take a victim off its node for the dry run (only the node table when nothing else
        in the query depends on which pods are where)."""
        if self.rebuild:
            self.state.remove_pod(podinfo.pod_key(record.pod))
        else:
            self.state.table.remove_pod(record.node, record.requests, record.nonzero, record.ports)

    def give(self, record) -> None:
        if self.rebuild:
            self.state.add_record(record)
        else:
            self.state.table.add_pod(record.node, record.requests, record.nonzero, record.ports)

    def __call__(self, node: str) -> bool:
        table = self.state.table
        query = self.state.query(self.pod) if self.rebuild else self.query
        result = table.run(query, table.index_of(node), 1, self.profile.filters, self.profile.weights,
                           score=False, max_visit=1)
        return len(result.feasible) == 1


def _split_by_pdb(records: list, pdbs: list) -> tuple[list, list]:
    """Victims whose eviction a PodDisruptionBudget forbids (no disruptions left, counting the
    ones already taken on this node), and the others; each list most important first."""
    allowed = {id(pdb): ((pdb.get("status") or {}).get("disruptionsAllowed") or 0) for pdb, _ in pdbs}
    violating, fine = [], []
    for record in sorted(records, key=lambda r: r.priority, reverse=True):
        matched = [pdb for pdb, selector in pdbs
                   if (pdb.get("metadata") or {}).get("namespace") == record.namespace
                   and selector.matches(record.labels)]
        if any(allowed[id(pdb)] <= 0 for pdb in matched):
            violating.append(record)
        else:
            for pdb in matched:
                allowed[id(pdb)] -= 1
            fine.append(record)
    return violating, fine


def _choose(scheduler: "Scheduler", pod: Mapping, profile, result: Any, priority: int, pdbs: list,
            failures: list[str]) -> tuple | None:
    """Dry-run nodes from a random offset: the best (rank, node, victims), or None."""
    state, table = scheduler.state, scheduler.state.table
    n = len(table)
    wanted = max(MIN_CANDIDATE_NODES_ABSOLUTE, n * MIN_CANDIDATE_NODES_PERCENTAGE // 100)
    found = 0
    best: tuple | None = None
    offset = scheduler.rng.randrange(n) if n else 0
    fits = _FitCheck(scheduler, pod, profile)
    for k in range(n):
        if found >= wanted:
            break
        i = (offset + k) % n
        bits = result.reasons[i]
        name = table.name_at(i)
        if bits == 0 or bits & messages.UNRESOLVABLE:
            failures.append(NOT_HELPFUL)
            continue
        candidates = sorted((r for r in state.pods_by_node.get(name, {}).values()
                             if r.priority < priority and not r.terminating), key=lambda r: r.priority)
        if not candidates:
            failures.append(NO_VICTIMS)
            continue
        for record in candidates:
            fits.take(record)
        removed, taken = candidates, set(map(id, candidates))
        try:
            if not fits(name):
                failures.append(NO_VICTIMS)
                continue
            victims, violations = [], 0
            # Reprieve: put back the pods a PodDisruptionBudget protects first, then the others,
            # the most important first, while the preemptor still fits.
            violating, fine = _split_by_pdb(removed, pdbs)
            for protected, group in ((True, violating), (False, fine)):
                for record in group:
                    fits.give(record)
                    taken.discard(id(record))
                    if not fits(name):
                        fits.take(record)
                        taken.add(id(record))
                        victims.append(record)
                        violations += protected
            found += 1
            # pickOneNodeForPreemption: fewest PDB violations, lowest highest-priority victim,
            # lowest sum of priorities, fewest victims.
            priorities = [v.priority for v in victims]
            rank = (violations, max(priorities, default=-(1 << 62)), sum(priorities), len(victims))
            if victims and (best is None or rank < best[0]):
                best = (rank, name, [v.pod for v in victims])
        finally:
            for record in removed:
                if id(record) in taken:
                    fits.give(record)
    return best


async def preempt(scheduler: "Scheduler", pod: Mapping, profile, result: Any) -> str | None:
    """The "preemption: ..." part of the FailedScheduling message; None when victims were evicted."""
    spec = pod.get("spec") or {}
    if spec.get("preemptionPolicy") == "Never":
        return "not eligible due to preemptionPolicy=Never."
    state, table = scheduler.state, scheduler.state.table
    n = len(table)
    priority = podinfo.priority(pod)
    failures: list[str] = []
    pdbs = [(pdb, label_selector((pdb.get("spec") or {}).get("selector"))) for pdb in scheduler.disruption_budgets()]
    async with scheduler.lock:
        reserved = scheduler.count_nominated(pod)     # two preemptors never count on the same room
        try:
            best = _choose(scheduler, pod, profile, result, priority, pdbs, failures)
        finally:
            scheduler.uncount(reserved)
    if best is None:
        counts: dict[str, int] = {}
        for f in failures:
            counts[f] = counts.get(f, 0) + 1
        parts = sorted(f"{c} {r}" for r, c in counts.items())
        return f"0/{n} nodes are available: {', '.join(parts)}."
    _, node, victims = best
    meta = pod["metadata"]
    scheduler.nominated[podinfo.pod_key(pod)] = (node, pod, state.record(pod, node))
    try:
        await scheduler.client.patch("pods", meta["name"], {"status": {"nominatedNodeName": node}},
                                     namespace=meta.get("namespace"), subresource="status")
    except ApiError as e:
        log.info("could not nominate %s for %s: %s", node, podinfo.pod_key(pod), e)
    for victim in victims:
        vmeta = victim["metadata"]
        try:
            await scheduler.client.delete("pods", vmeta["name"], namespace=vmeta.get("namespace"))
            scheduler.events.event(victim, "Normal", "Preempted", f"Preempted by pod {meta.get('uid')} on node {node}")
        except ApiError as e:
            log.info("could not preempt %s: %s", podinfo.pod_key(victim), e)
    return None
