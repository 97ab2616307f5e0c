"""Defaults of the other kinds: Service, Secret, Namespace, Node, LimitRange, ResourceQuota,
Binding, Endpoints, PriorityClass.
"""
from __future__ import annotations

import base64

from .common import (
    DEFAULT_CLIENT_IP_AFFINITY_SECONDS,
    NAMESPACE_FINALIZER,
    NAMESPACE_NAME_LABEL,
    RBAC_GROUP,
    canonical_resources,
    dict_at,
    dicts_in,
)


def _externally_accessible(spec: dict) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def default_service(obj: dict) -> None:
    spec = dict_at(obj, "spec")
    if spec is None:
        return
    if not spec.get("sessionAffinity"):
        spec["sessionAffinity"] = "None"
    if spec["sessionAffinity"] == "None":
        spec.pop("sessionAffinityConfig", None)
    elif spec["sessionAffinity"] == "ClientIP":
        config = spec.get("sessionAffinityConfig")
        client_ip = config.get("clientIP") if isinstance(config, dict) else None
        if not isinstance(client_ip, dict) or client_ip.get("timeoutSeconds") is None:
            spec["sessionAffinityConfig"] = {"clientIP": {"timeoutSeconds": DEFAULT_CLIENT_IP_AFFINITY_SECONDS}}
    if not spec.get("type"):
        spec["type"] = "ClusterIP"
    for port in dicts_in(spec, "ports"):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
        if port.get("targetPort") in (None, 0, ""):
            if "port" in port:
                port["targetPort"] = port["port"]
    if _externally_accessible(spec) and not spec.get("externalTrafficPolicy"):
        spec["externalTrafficPolicy"] = "Cluster"
    service_type = spec["type"]
    if spec.get("internalTrafficPolicy") is None and service_type in ("ClusterIP", "NodePort", "LoadBalancer"):
        spec["internalTrafficPolicy"] = "Cluster"
    if service_type == "LoadBalancer" and spec.get("allocateLoadBalancerNodePorts") is None:
        spec["allocateLoadBalancerNodePorts"] = True
    # Family fields are the registry's on a single-stack IPv4 cluster; a headless service without a
    # selector asks for every family the cluster has.
    if service_type != "ExternalName":
        if spec.get("ipFamilyPolicy") is None:
            headless_without_selector = spec.get("clusterIP") == "None" and not spec.get("selector")
            spec["ipFamilyPolicy"] = "RequireDualStack" if headless_without_selector else "SingleStack"
        if spec.get("ipFamilies") is None:
            spec["ipFamilies"] = ["IPv4"]
    status = dict_at(obj, "status")
    if status is not None and status.get("loadBalancer") is None:
        status["loadBalancer"] = {}


def default_secret(obj: dict) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.get("stringData")
    if isinstance(string_data, dict):
        data = dict_at(obj, "data")
        if data is None:
            return
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode()
        del obj["stringData"]


def default_namespace(obj: dict) -> None:
    metadata = dict_at(obj, "metadata")
    if metadata is not None and isinstance(metadata.get("name"), str) and metadata["name"]:
        labels = dict_at(metadata, "labels")
        if labels is not None:
            labels[NAMESPACE_NAME_LABEL] = metadata["name"]
    status = dict_at(obj, "status")
    if status is not None and not status.get("phase"):
        status["phase"] = "Active"


def default_node(obj: dict) -> None:
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    canonical_resources(status.get("capacity"))
    canonical_resources(status.get("allocatable"))
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def default_limit_range(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for item in dicts_in(spec, "limits"):
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            canonical_resources(item.get(key))
        if item.get("type") != "Container":
            continue
        default = dict_at(item, "default")
        default_request = dict_at(item, "defaultRequest")
        if default is None or default_request is None:
            continue
        for name, value in (item.get("max") or {}).items() if isinstance(item.get("max"), dict) else ():
            default.setdefault(name, value)
        for name, value in default.items():
            default_request.setdefault(name, value)
        for name, value in (item.get("min") or {}).items() if isinstance(item.get("min"), dict) else ():
            default_request.setdefault(name, value)
        for key in ("default", "defaultRequest"):      # empty maps are omitted on the wire
            if not item[key]:
                del item[key]


def default_resource_quota(obj: dict) -> None:
    for part in ("spec", "status"):
        section = obj.get(part)
        if isinstance(section, dict):
            canonical_resources(section.get("hard"))
            if part == "status":
                canonical_resources(section.get("used"))


def default_binding(obj: dict) -> None:
    role_ref = obj.get("roleRef")
    if isinstance(role_ref, dict) and not role_ref.get("apiGroup"):
        role_ref["apiGroup"] = RBAC_GROUP
    for subject in dicts_in(obj, "subjects"):
        if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = RBAC_GROUP


def default_endpoints(obj: dict) -> None:
    for subset in dicts_in(obj, "subsets"):
        for port in dicts_in(subset, "ports"):
            if not port.get("protocol"):
                port["protocol"] = "TCP"


def default_priority_class(obj: dict) -> None:
    if obj.get("preemptionPolicy") is None:
        obj["preemptionPolicy"] = "PreemptLowerPriority"


def prepare_namespace(obj: dict) -> None:
    spec = dict_at(obj, "spec")
    if spec is not None:
        finalizers = spec.get("finalizers")
        if not isinstance(finalizers, list):
            spec["finalizers"] = [NAMESPACE_FINALIZER]
        elif NAMESPACE_FINALIZER not in finalizers:
            finalizers.append(NAMESPACE_FINALIZER)
    obj["status"] = {"phase": "Active"}
