"""What a pod asks of a node, summed the way the scheduler and the kubelet sum it
(k8s.io/component-helpers/resource PodRequests / PodLimits).

Init containers run one at a time before the app containers, so a pod needs the larger of the
app containers' sum and its heaviest init step; sidecars (init containers with restartPolicy
Always) keep running, so they add to the app sum and to every later init step:

    containers: a=1 cpu, b=1 cpu; initContainers: setup=3 cpu       -> 3 cpu
    containers: a=1 cpu; initContainers: proxy=0.5 (sidecar), migrate=2 -> max(1.5, 2.5) = 2.5 cpu

Pod-level `spec.resources` (when it sets requests) replaces the per-container sum; `spec.overhead`
is added on top.
"""
from __future__ import annotations

from typing import Any

from .quantity import Quantity, QuantityError, parse_quantity_value

ResourceList = dict[str, Quantity]

DEFAULT_MILLI_CPU_REQUEST = 100                  # the scheduler's stand-in for a container asking nothing
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
_POD_LEVEL_RESOURCES = ("cpu", "memory", "hugepages-")


def resource_list(value: Any) -> ResourceList:
    """Parse a ResourceList, skipping what does not parse (validation reports that)."""
    out: ResourceList = {}
    if isinstance(value, dict):
        for name, raw in value.items():
            try:
                out[name] = parse_quantity_value(raw)
            except QuantityError:
                continue
    return out


def _add(into: ResourceList, more: ResourceList) -> None:
    for name, q in more.items():
        into[name] = into[name] + q if name in into else q


def _max(into: ResourceList, other: ResourceList) -> None:
    for name, q in other.items():
        if name not in into or q > into[name]:
            into[name] = q


def _containers(pod: dict, key: str) -> list[dict]:
    spec = pod.get("spec") if isinstance(pod, dict) else None
    items = spec.get(key) if isinstance(spec, dict) else None
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def _container_list(container: dict, which: str) -> ResourceList:
    resources = container.get("resources")
    return resource_list(resources.get(which)) if isinstance(resources, dict) else {}


def _aggregate(pod: dict, which: str, non_missing: ResourceList | None) -> ResourceList:
    total: ResourceList = {}
    for container in _containers(pod, "containers"):
        amounts = _container_list(container, which)
        if non_missing:
            amounts = {**non_missing, **amounts}
        _add(total, amounts)
    sidecars: ResourceList = {}
    init_peak: ResourceList = {}
    for container in _containers(pod, "initContainers"):
        amounts = _container_list(container, which)
        if non_missing:
            amounts = {**non_missing, **amounts}
        if container.get("restartPolicy") == "Always":
            _add(total, amounts)
            _add(sidecars, amounts)
            step = dict(sidecars)
        else:
            step = dict(amounts)
            _add(step, sidecars)
        _max(init_peak, step)
    _max(total, init_peak)
    return total


def _pod_level(pod: dict, which: str) -> ResourceList | None:
    spec = pod.get("spec") if isinstance(pod, dict) else None
    resources = spec.get("resources") if isinstance(spec, dict) else None
    amounts = resource_list(resources.get(which)) if isinstance(resources, dict) else {}
    chosen = {n: q for n, q in amounts.items() if n in ("cpu", "memory") or n.startswith("hugepages-")}
    return chosen or None


def pod_requests(pod: dict, *, non_missing: ResourceList | None = None, overhead: bool = True) -> ResourceList:
    """The pod's effective requests. `non_missing` stands in for names a container leaves out
    (the scheduler passes 100m cpu / 200Mi memory when scoring)."""
    requests = _pod_level(pod, "requests")
    if requests is None:
        requests = _aggregate(pod, "requests", non_missing)
    if overhead:
        spec = pod.get("spec") if isinstance(pod, dict) else None
        _add(requests, resource_list(spec.get("overhead")) if isinstance(spec, dict) else {})
    return requests


def pod_limits(pod: dict, *, overhead: bool = True) -> ResourceList:
    """The pod's effective limits, summed like requests."""
    limits = _pod_level(pod, "limits")
    if limits is None:
        limits = _aggregate(pod, "limits", None)
    if overhead and limits:
        spec = pod.get("spec") if isinstance(pod, dict) else None
        overhead_list = resource_list(spec.get("overhead")) if isinstance(spec, dict) else {}
        for name, q in overhead_list.items():     # overhead only raises limits that are set
            if name in limits:
                limits[name] = limits[name] + q
    return limits


def non_zero_requests(pod: dict) -> tuple[int, int]:
    """(milli-cpu, memory bytes) for balancing scores: a container that requests nothing counts as
    100m cpu and 200Mi memory, so empty pods do not all pile onto one node."""
    defaults = {"cpu": Quantity.from_milli(DEFAULT_MILLI_CPU_REQUEST),
                "memory": Quantity.from_int(DEFAULT_MEMORY_REQUEST)}
    requests = pod_requests(pod, non_missing=defaults)
    cpu = requests.get("cpu")
    memory = requests.get("memory")
    return (cpu.milli_value() if cpu is not None else 0, memory.value() if memory is not None else 0)
