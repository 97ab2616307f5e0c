"""Kinds of the scheduling.k8s.io group: PriorityClass."""
from __future__ import annotations

from ..fielderrors import (
    Errors,
    forbidden,
)
from ..validators import (
    immutable,
    one_of,
)
from .metadata import object_name

HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}


def validate_priority_class(obj: dict, old: dict | None, errs: Errors) -> None:
    name = object_name(obj)
    value = errs.integer(obj.get("value"), "value")
    global_default = errs.boolean(obj.get("globalDefault"), "globalDefault")
    if name.startswith("system-"):
        known = SYSTEM_PRIORITY_CLASSES.get(name)
        if known is None:
            errs.append(forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for "
                                  f"system use only. error: {name} is not a known system priority class"))
        elif value != known or global_default:
            errs.append(forbidden("metadata.name", "priority class names with 'system-' prefix are reserved for "
                                  f"system use only. error: value of {name} PriorityClass must be {known}"))
    elif value is not None and value > HIGHEST_USER_DEFINABLE_PRIORITY:
        errs.append(forbidden("value", f"maximum allowed value of a user defined priority is "
                                       f"{HIGHEST_USER_DEFINABLE_PRIORITY}"))
    if obj.get("preemptionPolicy") is not None:
        one_of(errs.string(obj["preemptionPolicy"], "preemptionPolicy"), "preemptionPolicy",
               ("PreemptLowerPriority", "Never"), errs)
    if old is not None:
        if old.get("value") != obj.get("value"):
            errs.append(forbidden("value", "may not be changed in an update."))
        if obj.get("preemptionPolicy") != old.get("preemptionPolicy"):
            immutable(obj.get("preemptionPolicy"), old.get("preemptionPolicy"), "preemptionPolicy", errs)
