"""An update's new object before defaulting and validation: the system fields kept from the stored
object, and the status/spec split of each subresource."""
from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .resources import Resource
    from .strategies import StrategyContext


def prepare(lookups: "StrategyContext", resource: "Resource", subresource: str, new: dict, old: dict) -> dict:
    """System fields kept from the stored object; status/spec split per subresource."""
    strategy = resource.strategy
    if subresource == "status":
        new = strategy.prepare_for_status_update(lookups, resource, new, old)
    elif subresource == "finalize":
        new = strategy.prepare_for_finalize(lookups, new, old)
    elif subresource == "binding":
        pass    # pods/binding sets spec.nodeName and the PodScheduled condition together
    else:
        meta = new["metadata"]
        old_meta = old["metadata"]
        if old_meta.get("generation") is not None:
            meta["generation"] = old_meta["generation"]
        else:
            meta.pop("generation", None)
        strategy.prepare_for_update(lookups, resource, new, old)
    meta = new["metadata"]
    old_meta = old["metadata"]
    if not meta.get("uid"):
        meta["uid"] = old_meta.get("uid")
    meta["creationTimestamp"] = old_meta.get("creationTimestamp")
    if old_meta.get("deletionTimestamp"):
        meta["deletionTimestamp"] = old_meta["deletionTimestamp"]
    else:
        meta.pop("deletionTimestamp", None)
    if old_meta.get("deletionGracePeriodSeconds") is not None:
        meta["deletionGracePeriodSeconds"] = old_meta["deletionGracePeriodSeconds"]
    else:
        meta.pop("deletionGracePeriodSeconds", None)
    meta.pop("selfLink", None)
    meta.pop("managedFields", None)
    if resource.namespaced:
        meta["namespace"] = old_meta.get("namespace")
    return new


def same_but_version(a: dict, b: dict) -> bool:
    """Whether two objects differ in nothing but metadata.resourceVersion (an update that changes
    nothing writes nothing)."""
    ra = a["metadata"].get("resourceVersion")
    rb = b["metadata"].get("resourceVersion")
    a["metadata"].pop("resourceVersion", None)
    b["metadata"].pop("resourceVersion", None)
    try:
        return a == b
    finally:
        if ra is not None:
            a["metadata"]["resourceVersion"] = ra
        if rb is not None:
            b["metadata"]["resourceVersion"] = rb
