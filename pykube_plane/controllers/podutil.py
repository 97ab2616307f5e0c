"""Pure helpers about pods the workload controllers share: activity, readiness, availability,
the deletion ranking, and building a pod from a template."""
from __future__ import annotations

import datetime
from typing import Any

from pykube_plane.api.meta import parse_rfc3339

_PHASE_RANK = {"Pending": 0, "Unknown": 1, "Running": 2}


def is_terminal(pod: dict) -> bool:
    return (pod.get("status") or {}).get("phase") in ("Succeeded", "Failed")


def is_active(pod: dict) -> bool:
    """Counts toward replicas: not finished, not being deleted (k8s FilterActivePods)."""
    return not is_terminal(pod) and not (pod.get("metadata") or {}).get("deletionTimestamp")


def _ready_condition(pod: dict) -> dict | None:
    for c in (pod.get("status") or {}).get("conditions") or ():
        if c.get("type") == "Ready":
            return c
    return None


def is_ready(pod: dict) -> bool:
    c = _ready_condition(pod)
    return c is not None and c.get("status") == "True"


def ready_since(pod: dict) -> float | None:
    c = _ready_condition(pod)
    if c is None or c.get("status") != "True" or not c.get("lastTransitionTime"):
        return None
    return parse_rfc3339(c["lastTransitionTime"]).timestamp()


def is_available(pod: dict, min_ready_seconds: int, now: float) -> bool:
    """Ready for at least minReadySeconds (k8s IsPodAvailable)."""
    if not is_ready(pod):
        return False
    if min_ready_seconds <= 0:
        return True
    since = ready_since(pod)
    return since is not None and since + min_ready_seconds <= now


def _timestamp(text: str | None) -> float:
    return parse_rfc3339(text).timestamp() if text else 0.0


def _restarts(pod: dict) -> int:
    return sum(int(s.get("restartCount") or 0) for s in (pod.get("status") or {}).get("containerStatuses") or ())


def deletion_rank(pod: dict) -> tuple:
    """Sort key: pods to delete first sort first (k8s ActivePods ordering):
    unassigned < assigned; Pending < Unknown < Running; not ready < ready; ready more recently
    first; more restarts first; newer first."""
    spec = pod.get("spec") or {}
    status = pod.get("status") or {}
    ready = is_ready(pod)
    since = ready_since(pod) or 0.0
    return (1 if spec.get("nodeName") else 0, _PHASE_RANK.get(status.get("phase", "Pending"), 0),
            1 if ready else 0, -since if ready else 0.0, -_restarts(pod),
            -_timestamp((pod.get("metadata") or {}).get("creationTimestamp")))


def pod_from_template(template: dict, namespace: str, generate_name: str, owner_ref: dict,
                      extra_labels: dict[str, str] | None = None,
                      extra_annotations: dict[str, str] | None = None) -> dict:
    """A pod of `template` owned by `owner_ref` (k8s GetPodFromTemplate)."""
    meta = template.get("metadata") or {}
    labels = dict(meta.get("labels") or {})
    labels.update(extra_labels or {})
    annotations = dict(meta.get("annotations") or {})
    annotations.update(extra_annotations or {})
    pod: dict[str, Any] = {
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"generateName": generate_name, "namespace": namespace, "ownerReferences": [owner_ref]},
        "spec": dict(template.get("spec") or {}),
    }
    if labels:
        pod["metadata"]["labels"] = labels
    if annotations:
        pod["metadata"]["annotations"] = annotations
    if meta.get("finalizers"):
        pod["metadata"]["finalizers"] = list(meta["finalizers"])
    return pod


def utc_now() -> float:
    return datetime.datetime.now(datetime.timezone.utc).timestamp()
