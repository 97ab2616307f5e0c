"""A pod's QoS class (Guaranteed, Burstable, BestEffort) from its containers' resources."""
from __future__ import annotations

from typing import Any

from ..quantity import QuantityError, parse_quantity_value
from .common import dicts_in

_QOS_RESOURCES = ("cpu", "memory")


def _positive_quantities(resources: Any) -> dict:
    out = {}
    if isinstance(resources, dict):
        for name in _QOS_RESOURCES:
            if name in resources:
                try:
                    quantity = parse_quantity_value(resources[name])
                except QuantityError:
                    continue
                if quantity.sign() > 0:
                    out[name] = quantity
    return out


def qos_class(pod: dict) -> str:
    """ComputePodQOS: Guaranteed when every container (or the pod level) limits cpu and memory and
    requests equal limits; BestEffort when nothing is requested or limited; Burstable otherwise.
    Run on a defaulted pod (where a limit alone already implies the request)."""
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
    requests: dict = {}
    limits: dict = {}
    guaranteed = True
    pod_resources = spec.get("resources")
    if isinstance(pod_resources, dict):              # pod-level resources decide alone when present
        units = [pod_resources]
    else:
        units = []
        for key in ("containers", "initContainers"):
            for container in dicts_in(spec, key):
                units.append(container.get("resources") if isinstance(container.get("resources"), dict) else {})
    for resources in units:
        for name, quantity in _positive_quantities(resources.get("requests")).items():
            requests[name] = requests[name] + quantity if name in requests else quantity
        unit_limits = _positive_quantities(resources.get("limits"))
        for name, quantity in unit_limits.items():
            limits[name] = limits[name] + quantity if name in limits else quantity
        if not all(name in unit_limits for name in _QOS_RESOURCES):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed:
        for name, request in requests.items():
            if name not in limits or limits[name] != request:
                guaranteed = False
                break
    if guaranteed and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"
