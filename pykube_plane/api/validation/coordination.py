"""Kinds of the coordination.k8s.io group: Lease."""
from __future__ import annotations

from ..fielderrors import (
    Errors,
    invalid,
)
from .core import validate_micro_time


def validate_lease(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    duration = errs.integer(spec.get("leaseDurationSeconds"), "spec.leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = errs.integer(spec.get("leaseTransitions"), "spec.leaseTransitions")
    if transitions is not None and transitions < 0:
        errs.append(invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    errs.string(spec.get("holderIdentity"), "spec.holderIdentity")
    for key in ("acquireTime", "renewTime"):
        validate_micro_time(spec.get(key), f"spec.{key}", errs)
