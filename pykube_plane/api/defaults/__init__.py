"""Defaulting as kube-apiserver does it for v1 objects, in place on decoded dicts.

Two entry points, because Kubernetes has two moments:

- `apply_defaults(kind, obj)` — what the v1 defaulters do each time an object is decoded (on
  create, update, patch, and when read back from storage). Idempotent: running it twice changes
  nothing. It also normalises what a decode/encode round trip normalises: quantities are written in
  canonical form ("0.5" -> "500m") and a Secret's `stringData` is folded into `data`.
- `prepare_for_create(kind, obj)` — what a registry strategy does only on create, once uid and
  name are set: a Pod starts Pending with its QoS class, a Namespace gets the `kubernetes`
  finalizer and phase Active, a Job gets its generated selector and pod labels. These must not
  run on update (the namespace controller removes that finalizer on purpose).

Order for a create: set uid/name/namespace -> apply_defaults -> prepare_for_create -> validate.

Input may be any JSON: a field of the wrong type is left alone for validation to report.

Modules: `pods` (pod spec, containers, volumes, pod templates), `workloads` (Deployment,
ReplicaSet, ReplicationController, Job), `kinds` (Service, Secret, Namespace, Node, LimitRange,
ResourceQuota, Binding, Endpoints, PriorityClass), `qos`, `common`.
"""
from __future__ import annotations

from typing import Any, Callable

from .kinds import (
    default_binding,
    default_endpoints,
    default_limit_range,
    default_namespace,
    default_node,
    default_priority_class,
    default_resource_quota,
    default_secret,
    default_service,
    prepare_namespace,
)
from .pods import default_pod, default_pod_template, image_tag, prepare_pod
from .qos import qos_class
from .workloads import (
    default_deployment,
    default_job,
    default_replica_set,
    default_replication_controller,
    prepare_job,
)

__all__ = ["apply_defaults", "image_tag", "prepare_for_create", "qos_class"]

_DEFAULTERS: dict[str, Callable[[dict], None]] = {
    "Pod": default_pod,
    "PodTemplate": default_pod_template,
    "Deployment": default_deployment,
    "ReplicaSet": default_replica_set,
    "ReplicationController": default_replication_controller,
    "Job": default_job,
    "Service": default_service,
    "Secret": default_secret,
    "Namespace": default_namespace,
    "Node": default_node,
    "LimitRange": default_limit_range,
    "ResourceQuota": default_resource_quota,
    "RoleBinding": default_binding,
    "ClusterRoleBinding": default_binding,
    "Endpoints": default_endpoints,
    "PriorityClass": default_priority_class,
}


def apply_defaults(kind: str, obj: Any) -> None:
    """Fill in v1 defaults (and canonical quantities) in place; idempotent; never raises."""
    if not isinstance(obj, dict):
        return
    defaulter = _DEFAULTERS.get(kind)
    if defaulter is not None:
        defaulter(obj)


_PREPARERS: dict[str, Callable[[dict], None]] = {
    "Pod": prepare_pod,
    "Namespace": prepare_namespace,
    "Job": prepare_job,
}


def prepare_for_create(kind: str, obj: Any) -> None:
    """The create-only part of the registry strategy; run after `apply_defaults`."""
    if not isinstance(obj, dict):
        return
    preparer = _PREPARERS.get(kind)
    if preparer is not None:
        preparer(obj)
