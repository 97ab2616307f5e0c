"""Constants and small helpers the defaulters share."""
from __future__ import annotations

from typing import Any

from ..quantity import Quantity, QuantityError, parse_quantity_value

DEFAULT_TERMINATION_GRACE_PERIOD = 30
DEFAULT_SCHEDULER_NAME = "default-scheduler"
DEFAULT_CLIENT_IP_AFFINITY_SECONDS = 10800
RBAC_GROUP = "rbac.authorization.k8s.io"
JOB_NAME_LABEL = "batch.kubernetes.io/job-name"
LEGACY_JOB_NAME_LABEL = "job-name"
CONTROLLER_UID_LABEL = "batch.kubernetes.io/controller-uid"
LEGACY_CONTROLLER_UID_LABEL = "controller-uid"
NAMESPACE_NAME_LABEL = "kubernetes.io/metadata.name"
NAMESPACE_FINALIZER = "kubernetes"
SYSTEM_PRIORITIES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}


def dict_at(obj: dict, key: str, create: bool = True) -> dict | None:
    """obj[key] if it is an object (created empty when missing and `create`), else None."""
    value = obj.get(key)
    if value is None:
        if not create:
            return None
        value = obj[key] = {}
    return value if isinstance(value, dict) else None


def dicts_in(obj: dict, key: str) -> list[dict]:
    value = obj.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def canonical_resources(resources: Any) -> None:
    """SetDefaults_ResourceList, in place: every quantity rounded up to a whole milli-unit (k8s
    keeps that precision for resources) and written in canonical form; unparsable text is left
    for validation to report."""
    if not isinstance(resources, dict):
        return
    for name, value in resources.items():
        try:
            q = parse_quantity_value(value)
        except QuantityError:
            continue
        nanos = q.nano_value()
        if nanos % 10 ** 6:
            milli = q.milli_value()          # rounds away from zero, as RoundUp(Milli) does
            resources[name] = str(Quantity(milli * 10 ** 6, q.format))
        else:
            resources[name] = str(q)
