"""Pure rollout arithmetic of the deployment controller (no I/O): template hashes, revisions,
maxSurge/maxUnavailable, how far a rolling update may scale the new and old ReplicaSets.

Example, replicas 10, maxSurge 25% (-> 3, rounded up), maxUnavailable 25% (-> 2, rounded down):
new RS 0, old RS 10 (10 available): new may grow to 3 (13 pods in all); old may shrink by
available(10) - minAvailable(8) = 2. Once new pods are available, old shrinks, new grows, and
neither bound is ever broken: pods <= 13, available >= 8.
"""
from __future__ import annotations

import copy
import math
from typing import Any

import orjson

POD_TEMPLATE_HASH = "pod-template-hash"
REVISION = "deployment.kubernetes.io/revision"
REVISION_HISTORY = "deployment.kubernetes.io/revision-history"
DESIRED_REPLICAS = "deployment.kubernetes.io/desired-replicas"
MAX_REPLICAS = "deployment.kubernetes.io/max-replicas"
CHANGE_CAUSE = "kubernetes.io/change-cause"
# annotations of a Deployment never copied to its ReplicaSets (k8s skipCopyAnnotation)
SKIP_COPY = {"kubectl.kubernetes.io/last-applied-configuration", REVISION, REVISION_HISTORY, DESIRED_REPLICAS,
              MAX_REPLICAS, "deprecated.deployment.rollback.to"}

_SAFE = "bcdfghjklmnpqrstvwxz2456789"     # k8s rand.SafeEncodeString alphabet


def _fnv32a(data: bytes) -> int:
    h = 0x811C9DC5
    for b in data:
        h ^= b
        h = (h * 0x01000193) & 0xFFFFFFFF
    return h


def template_hash(template: dict, collision_count: int = 0) -> str:
    """A short stable hash of the pod template (+ collision count), as the RS name suffix."""
    data = orjson.dumps(template, option=orjson.OPT_SORT_KEYS)
    if collision_count:
        data += str(collision_count).encode()
    n = _fnv32a(data)
    out = []
    for ch in str(n):
        out.append(_SAFE[ord(ch) % len(_SAFE)])
    return "".join(out)[:10]


def template_without_hash(template: dict) -> dict:
    t = copy.deepcopy(template or {})
    labels = (t.get("metadata") or {}).get("labels")
    if labels:
        labels.pop(POD_TEMPLATE_HASH, None)
        if not labels:
            t["metadata"].pop("labels")
    return t


def same_template(rs_template: dict, deployment_template: dict) -> bool:
    return template_without_hash(rs_template) == template_without_hash(deployment_template)


def revision(obj: dict) -> int:
    try:
        return int(((obj.get("metadata") or {}).get("annotations") or {}).get(REVISION, "0"))
    except ValueError:
        return 0


def resolve_int_or_percent(value: Any, total: int, round_up: bool) -> int:
    if value is None:
        return 0
    if isinstance(value, int):
        return value
    text = str(value)
    if text.endswith("%"):
        frac = int(text[:-1]) * total / 100
        return math.ceil(frac) if round_up else math.floor(frac)
    return int(text)


def surge_and_unavailable(deployment: dict) -> tuple[int, int]:
    """(maxSurge, maxUnavailable) in pods; never both 0 (k8s ResolveFenceposts)."""
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1) or 0)
    ru = (spec.get("strategy") or {}).get("rollingUpdate") or {}
    surge = resolve_int_or_percent(ru.get("maxSurge", "25%"), replicas, True)
    unavailable = resolve_int_or_percent(ru.get("maxUnavailable", "25%"), replicas, False)
    if surge == 0 and unavailable == 0:
        unavailable = 1
    return surge, unavailable


def max_unavailable(deployment: dict) -> int:
    spec = deployment.get("spec") or {}
    replicas = int(spec.get("replicas", 1) or 0)
    if (spec.get("strategy") or {}).get("type") == "Recreate" or replicas == 0:
        return 0
    return min(surge_and_unavailable(deployment)[1], replicas)


def spec_replicas(rs: dict | None) -> int:
    return int(((rs or {}).get("spec") or {}).get("replicas", 0) or 0)


def status_of(rs: dict | None, field: str) -> int:
    return int(((rs or {}).get("status") or {}).get(field, 0) or 0)


def new_rs_replicas(deployment: dict, all_rs: list[dict], new_rs: dict) -> int:
    """How many replicas the new RS may have now in a rolling update (k8s NewRSNewReplicas)."""
    replicas = int((deployment.get("spec") or {}).get("replicas", 1) or 0)
    surge, _ = surge_and_unavailable(deployment)
    current = sum(spec_replicas(rs) for rs in all_rs)
    max_total = replicas + surge
    if current >= max_total:
        return spec_replicas(new_rs)
    scale_up = min(max_total - current, replicas - spec_replicas(new_rs))
    return spec_replicas(new_rs) + max(scale_up, 0)


def old_rs_scale_down_budget(deployment: dict, all_rs: list[dict], new_rs: dict | None) -> int:
    """How many old replicas may go now without dropping below minAvailable (k8s
    reconcileOldReplicaSets' maxScaledDown)."""
    replicas = int((deployment.get("spec") or {}).get("replicas", 1) or 0)
    all_pods = sum(spec_replicas(rs) for rs in all_rs)
    min_available = replicas - max_unavailable(deployment)
    new_unavailable = spec_replicas(new_rs) - status_of(new_rs, "availableReplicas")
    return all_pods - min_available - new_unavailable


def available_scale_down(deployment: dict, all_rs: list[dict]) -> int:
    """Available old pods that may go (k8s scaleDownOldReplicaSetsForRollingUpdate)."""
    replicas = int((deployment.get("spec") or {}).get("replicas", 1) or 0)
    min_available = replicas - max_unavailable(deployment)
    available = sum(status_of(rs, "availableReplicas") for rs in all_rs)
    return available - min_available


def is_scaling_event(deployment: dict, active: list[dict]) -> bool:
    """replicas changed since the active ReplicaSets were last sized (their desired-replicas)."""
    replicas = str(int((deployment.get("spec") or {}).get("replicas", 1) or 0))
    return any(((rs.get("metadata") or {}).get("annotations") or {}).get(DESIRED_REPLICAS, replicas) != replicas
               for rs in active)


def proportional_sizes(deployment: dict, rs_list: list[dict], rolling: bool) -> list[int]:
    """New spec.replicas for each of `rs_list` (ordered newest first) when a Deployment is scaled
    in the middle of a rollout: the change is spread in proportion to each RS's size
    (k8s DeploymentController.scale). Example: 10 -> 15 replicas, maxSurge 3, new RS 7 and
    old RS 6 (13 = 10 + 3, their max-replicas): 18 allowed, 5 to add -> new 7 -> 10, old 6 -> 8."""
    replicas = int((deployment.get("spec") or {}).get("replicas", 1) or 0)
    surge = surge_and_unavailable(deployment)[0] if rolling else 0
    allowed = replicas + surge if replicas > 0 else 0
    sizes = [spec_replicas(rs) for rs in rs_list]
    to_add = allowed - sum(sizes)
    if to_add == 0:
        return sizes
    # grow the biggest first; shrink the biggest first (ties: newest first for growth, oldest for shrink)
    order = sorted(range(len(rs_list)), key=lambda i: (-sizes[i], i if to_add > 0 else -i))
    out = list(sizes)
    added = 0
    for i in order:
        if sizes[i] == 0:
            continue
        annotated = ((rs_list[i].get("metadata") or {}).get("annotations") or {}).get(MAX_REPLICAS)
        try:
            old_max = int(annotated) if annotated else sum(sizes)
        except ValueError:
            old_max = sum(sizes)
        if replicas == 0:
            fraction = -sizes[i]
        else:
            fraction = round(sizes[i] * allowed / old_max) - sizes[i] if old_max else 0
        left = to_add - added
        step = min(fraction, left) if to_add > 0 else max(fraction, left)
        out[i] += step
        added += step
    if added != to_add and order:
        first = next((i for i in order if out[i] > 0 or to_add > 0), order[0])
        out[first] = max(out[first] + to_add - added, 0)
    return out
