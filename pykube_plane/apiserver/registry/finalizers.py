"""The finalizers a delete adds for the garbage collector (orphan, foregroundDeletion), and the
deletion timestamps graceful deletion moves."""
from __future__ import annotations

import datetime

from pykube_plane.api import meta as api_meta

from .options import DeleteOptions
from .resources import Resource

ORPHAN_FINALIZER = "orphan"
FOREGROUND_FINALIZER = "foregroundDeletion"


def for_garbage_collection(resource: Resource, meta: dict, opts: DeleteOptions) -> bool:
    """Add / remove the orphan and foregroundDeletion finalizers as the options ask. True if
    the finalizers changed (k8s deletionFinalizersForGarbageCollection)."""
    finalizers = list(meta.get("finalizers") or [])
    if opts.orphan_dependents is not None:
        orphan, foreground = opts.orphan_dependents, False
    elif opts.propagation is not None:
        orphan = opts.propagation == "Orphan"
        foreground = opts.propagation == "Foreground"
    elif ORPHAN_FINALIZER in finalizers or FOREGROUND_FINALIZER in finalizers:
        orphan = ORPHAN_FINALIZER in finalizers
        foreground = FOREGROUND_FINALIZER in finalizers and not orphan
    else:
        orphan = resource.strategy.default_propagation == "Orphan"
        foreground = False
    new = [f for f in finalizers if f not in (ORPHAN_FINALIZER, FOREGROUND_FINALIZER)]
    if orphan:
        new.append(ORPHAN_FINALIZER)
    if foreground:
        new.append(FOREGROUND_FINALIZER)
    if set(new) == set(finalizers):
        return False
    if new:
        meta["finalizers"] = new
    else:
        meta.pop("finalizers", None)
    return True


def parse_time(text: str) -> float:
    return api_meta.parse_rfc3339(text).timestamp()


def format_time(t: float) -> str:
    return api_meta.now_rfc3339(datetime.datetime.fromtimestamp(t, datetime.timezone.utc))
