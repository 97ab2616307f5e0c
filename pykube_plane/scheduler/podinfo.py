"""What the scheduler reads from Pod and Node objects: requests, host ports, tolerations, node
affinity, taints, images; plain functions over the API's dicts (no compiled types here)."""
from __future__ import annotations

from typing import Any, Mapping

from pykube_plane.api.quantity import QuantityError, parse_quantity_value

# Kubernetes' defaults for a container that requests no cpu/memory, used when scoring.
DEFAULT_MILLI_CPU_REQUEST = 100
DEFAULT_MEMORY_REQUEST = 200 * 1024 * 1024
HOSTNAME_LABEL = "kubernetes.io/hostname"
INT64_MAX = (1 << 63) - 1
UNSCHEDULABLE_TAINT = "node.kubernetes.io/unschedulable"
EFFECTS = {"NoSchedule": 1, "PreferNoSchedule": 2, "NoExecute": 3}
EFFECT_NAMES = {v: k for k, v in EFFECTS.items()}

Pod = Mapping[str, Any]


def quantity(value: object, milli: bool = False) -> int:
    """A quantity rounded up like Go's Value()/MilliValue(); unparsable counts as 0."""
    try:
        q = parse_quantity_value(value)
    except (QuantityError, TypeError, ValueError):
        return 0
    return max(-INT64_MAX, min(INT64_MAX, q.milli_value() if milli else q.value()))  # the table's int64


def _container_requests(container: Mapping, nonzero: bool) -> tuple[int, int, int]:
    requests = ((container.get("resources") or {}).get("requests") or {})
    cpu = quantity(requests["cpu"], milli=True) if "cpu" in requests else (DEFAULT_MILLI_CPU_REQUEST if nonzero else 0)
    mem = quantity(requests["memory"]) if "memory" in requests else (DEFAULT_MEMORY_REQUEST if nonzero else 0)
    eph = quantity(requests["ephemeral-storage"]) if "ephemeral-storage" in requests else 0
    return cpu, mem, eph


def pod_requests(pod: Pod, nonzero: bool = False) -> tuple[int, int, int]:
    """(milli cpu, memory, ephemeral storage): the sum over containers, at least the largest init
    container, plus the pod overhead. `nonzero` puts in the defaults for missing cpu/memory."""
    spec = pod.get("spec") or {}
    total = [0, 0, 0]
    for container in spec.get("containers") or ():
        for i, value in enumerate(_container_requests(container, nonzero)):
            total[i] += value
    for container in spec.get("initContainers") or ():
        for i, value in enumerate(_container_requests(container, nonzero)):
            total[i] = max(total[i], value)
    overhead = spec.get("overhead") or {}
    if overhead:
        total[0] += quantity(overhead.get("cpu", 0), milli=True)
        total[1] += quantity(overhead.get("memory", 0))
        total[2] += quantity(overhead.get("ephemeral-storage", 0))
    return total[0], total[1], total[2]


def host_ports(pod: Pod) -> list[tuple[str, str, int]]:
    """(host IP, protocol, host port) of every container port with a hostPort."""
    out = []
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            host_port = port.get("hostPort") or 0
            if isinstance(host_port, int) and host_port > 0:
                out.append((port.get("hostIP") or "0.0.0.0", port.get("protocol") or "TCP", host_port))
    return out


def normalized_image(name: str) -> str:
    """Kubernetes' image-locality name: a tag-less reference gets ':latest'."""
    return name + ":latest" if name.rfind(":") <= name.rfind("/") else name


def pod_images(pod: Pod) -> tuple[list[str], int]:
    spec = pod.get("spec") or {}
    containers = list(spec.get("initContainers") or ()) + list(spec.get("containers") or ())
    return [normalized_image(c.get("image") or "") for c in containers], len(containers)


def node_allocatable(node: Mapping) -> tuple[int, int, int, int]:
    alloc = (node.get("status") or {}).get("allocatable") or {}
    return (quantity(alloc.get("cpu", 0), milli=True), quantity(alloc.get("memory", 0)),
            quantity(alloc.get("pods", 0)), quantity(alloc.get("ephemeral-storage", 0)))


def node_taints(node: Mapping) -> list[tuple[str, str, int]]:
    return [(t.get("key") or "", t.get("value") or "", EFFECTS.get(t.get("effect"), 0))
            for t in (node.get("spec") or {}).get("taints") or ()]


def node_images(node: Mapping) -> list[tuple[str, int]]:
    out, seen = [], set()
    for image in (node.get("status") or {}).get("images") or ():
        for name in image.get("names") or ():
            if name not in seen:
                seen.add(name)
                out.append((name, int(image.get("sizeBytes") or 0)))
    return out


def node_affinity(pod: Pod) -> Mapping:
    return ((pod.get("spec") or {}).get("affinity") or {}).get("nodeAffinity") or {}


def pod_affinity_terms(pod: Pod, kind: str, required: bool) -> list:
    """kind: podAffinity / podAntiAffinity. Required: terms; preferred: (weight, term)."""
    section = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    if required:
        return list(section.get("requiredDuringSchedulingIgnoredDuringExecution") or ())
    return [(p.get("weight", 0), p.get("podAffinityTerm") or {})
            for p in section.get("preferredDuringSchedulingIgnoredDuringExecution") or ()]


def has_pod_affinity(pod: Pod) -> bool:
    affinity = (pod.get("spec") or {}).get("affinity") or {}
    return bool(affinity.get("podAffinity") or affinity.get("podAntiAffinity"))


def pod_key(pod: Pod) -> str:
    meta = pod.get("metadata") or {}
    return f"{meta.get('namespace', '')}/{meta.get('name', '')}"


def priority(pod: Pod) -> int:
    value = (pod.get("spec") or {}).get("priority")
    return value if isinstance(value, int) else 0

