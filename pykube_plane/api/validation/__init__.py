"""`validate(kind, obj, old)`: the field errors kube-apiserver would answer a create or update with.

Run it on a defaulted object (after `defaults.apply_defaults`, and on create after
`prepare_for_create`), as kube-apiserver's strategies do. Each error is a `FieldError` with k8s'
reason, field path and message; `invalid_message` and `causes` turn a list into the 422 Status:

    errors = validate("Pod", pod)
    invalid_message("Pod", "web", errors)
        -> 'Pod "web" is invalid: [spec.containers[0].image: Required value, spec.restartPolicy: ...]'

What is checked: object metadata for every kind (`metadata`), then per kind the rules of
pkg/apis/*/validation, one module per API group: `core` (Pod, PodTemplate, Service, Endpoints,
Event, ConfigMap, Secret, ServiceAccount, Namespace, Node, ReplicationController, LimitRange,
ResourceQuota), `apps` (Deployment, ReplicaSet), `batch` (Job), `coordination` (Lease), `rbac`
(Role, ClusterRole, RoleBinding, ClusterRoleBinding), `scheduling` (PriorityClass). The pod spec
they share is checked by `podspec` with `containers`, `volumes` and `podscheduling`.
Values of the wrong JSON type are reported as FieldValueTypeInvalid instead of raising.
"""
from __future__ import annotations

from typing import Any, Callable

from ..fielderrors import Errors, FieldError, GoText, causes, invalid_message, type_invalid
from .apps import validate_deployment, validate_replica_set
from .batch import validate_job
from .coordination import validate_lease
from .core import (
    validate_config_map,
    validate_endpoints,
    validate_event,
    validate_limit_range,
    validate_namespace,
    validate_node,
    validate_pod,
    validate_pod_template_object,
    validate_replication_controller,
    validate_resource_quota,
    validate_secret,
    validate_service,
    validate_service_account,
)
from .metadata import validate_metadata
from .rbac import validate_cluster_role, validate_cluster_role_binding, validate_role, validate_role_binding
from .scheduling import validate_priority_class

__all__ = ["FieldError", "validate", "invalid_message", "causes"]

Validator = Callable[[dict, "dict | None", Errors], None]


def validate(kind: str, obj: Any, old: Any = None, *, subresource: str | None = None) -> list[FieldError]:
    """Field errors for creating `obj` (old=None) or updating `old` to `obj`; [] when valid.

    `subresource` names the write ("" main resource, "status", "binding"); None means unknown,
    and then a Pod's spec.nodeName may be set once as a binding would."""
    errs = Errors()
    if not isinstance(obj, dict):
        errs.append(type_invalid("", GoText(type(obj).__name__), "object"))
        return errs
    if old is not None and not isinstance(old, dict):
        old = None
    validate_metadata(kind, obj, old, errs)
    validator = _VALIDATORS.get(kind)
    if validator is not None:
        if kind == "Pod":
            validate_pod(obj, old, errs, subresource)
        else:
            validator(obj, old, errs)
    return list(errs)


_VALIDATORS: dict[str, Validator] = {
    "Pod": lambda obj, old, errs: validate_pod(obj, old, errs),
    "PodTemplate": validate_pod_template_object,
    "Service": validate_service,
    "Endpoints": validate_endpoints,
    "Event": validate_event,
    "ConfigMap": validate_config_map,
    "Secret": validate_secret,
    "ServiceAccount": validate_service_account,
    "Namespace": validate_namespace,
    "Node": validate_node,
    "Lease": validate_lease,
    "Deployment": validate_deployment,
    "ReplicaSet": validate_replica_set,
    "ReplicationController": validate_replication_controller,
    "Job": validate_job,
    "Role": validate_role,
    "ClusterRole": validate_cluster_role,
    "RoleBinding": validate_role_binding,
    "ClusterRoleBinding": validate_cluster_role_binding,
    "LimitRange": validate_limit_range,
    "ResourceQuota": validate_resource_quota,
    "PriorityClass": validate_priority_class,
}

