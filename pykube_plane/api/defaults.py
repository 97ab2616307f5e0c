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
"""
from __future__ import annotations

import base64
import re
from typing import Any, Callable

from .quantity import Quantity, QuantityError, canonical_text, parse_quantity_value

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


def _dict_at(obj: dict, key: str, create: bool = True) -> dict | None:
    """obj[key] if it is an object (created empty when missing and `create`), else None."""
    value = obj.get(key)
    if value is None:
        if not create:
            return None
        value = obj[key] = {}
    return value if isinstance(value, dict) else None


def _dicts_in(obj: dict, key: str) -> list[dict]:
    value = obj.get(key)
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def _canonical_resources(resources: Any) -> None:
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


# -- pods and pod templates ---------------------------------------------------------------------

_DOMAIN_PART = r"(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])"
_PATH_PART = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_IMAGE_RE = re.compile(
    rf"(?:{_DOMAIN_PART}(?:\.{_DOMAIN_PART})*(?::[0-9]+)?/)?{_PATH_PART}(?:/{_PATH_PART})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?"
    r"(?:@[A-Za-z][A-Za-z0-9]*(?:[-_+.][A-Za-z][A-Za-z0-9]*)*:[0-9a-fA-F]{32,})?")


def image_tag(image: str) -> str:
    """The tag an image reference names: "latest" when neither tag nor digest is given, "" when
    the reference does not parse (k8s then assumes IfNotPresent)."""
    if not _IMAGE_RE.fullmatch(image):
        return ""
    name, _, digest = image.partition("@")
    tag = name.rsplit("/", 1)[-1].partition(":")[2]
    if not tag and not digest:
        return "latest"
    return tag


def _default_probe(probe: Any) -> None:
    if not isinstance(probe, dict):
        return
    probe.setdefault("timeoutSeconds", 1)
    probe.setdefault("periodSeconds", 10)
    probe.setdefault("successThreshold", 1)
    probe.setdefault("failureThreshold", 3)
    _default_handler(probe)


def _default_handler(handler: Any) -> None:
    if not isinstance(handler, dict):
        return
    http_get = handler.get("httpGet")
    if isinstance(http_get, dict):
        if not http_get.get("path"):
            http_get["path"] = "/"
        if not http_get.get("scheme"):
            http_get["scheme"] = "HTTP"
    grpc = handler.get("grpc")
    if isinstance(grpc, dict):
        grpc.setdefault("service", "")


def _default_field_refs(env_source: Any) -> None:
    """fieldRef.apiVersion "v1" and resourceFieldRef.divisor "0" wherever they appear."""
    if not isinstance(env_source, dict):
        return
    field_ref = env_source.get("fieldRef")
    if isinstance(field_ref, dict) and not field_ref.get("apiVersion"):
        field_ref["apiVersion"] = "v1"
    resource_ref = env_source.get("resourceFieldRef")
    if isinstance(resource_ref, dict):
        if "divisor" not in resource_ref:
            resource_ref["divisor"] = "0"
        else:
            resource_ref["divisor"] = canonical_text(resource_ref["divisor"])


def _default_container(container: dict) -> None:
    if not container.get("imagePullPolicy"):
        image = container.get("image")
        tag = image_tag(image) if isinstance(image, str) else ""
        container["imagePullPolicy"] = "Always" if tag == "latest" else "IfNotPresent"
    if not container.get("terminationMessagePath"):
        container["terminationMessagePath"] = "/dev/termination-log"
    if not container.get("terminationMessagePolicy"):
        container["terminationMessagePolicy"] = "File"
    for port in _dicts_in(container, "ports"):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
    for env in _dicts_in(container, "env"):
        _default_field_refs(env.get("valueFrom"))
    resources = _dict_at(container, "resources")
    if resources is not None:
        for key in ("requests", "limits"):
            _canonical_resources(resources.get(key))
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        _default_probe(container.get(probe))
    lifecycle = container.get("lifecycle")
    if isinstance(lifecycle, dict):
        _default_handler(lifecycle.get("postStart"))
        _default_handler(lifecycle.get("preStop"))


def _default_volume(volume: dict) -> None:
    sources = [k for k in volume if k != "name"]
    if not sources:
        volume["emptyDir"] = {}
    for key in ("secret", "configMap", "downwardAPI", "projected"):
        source = volume.get(key)
        if isinstance(source, dict) and "defaultMode" not in source:
            source["defaultMode"] = 0o644
    empty_dir = volume.get("emptyDir")
    if isinstance(empty_dir, dict) and "sizeLimit" in empty_dir:
        empty_dir["sizeLimit"] = canonical_text(empty_dir["sizeLimit"])
    host_path = volume.get("hostPath")
    if isinstance(host_path, dict):
        host_path.setdefault("type", "")
    downward = volume.get("downwardAPI")
    if isinstance(downward, dict):
        for item in _dicts_in(downward, "items"):
            _default_field_refs(item)
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for source in _dicts_in(projected, "sources"):
            token = source.get("serviceAccountToken")
            if isinstance(token, dict):
                token.setdefault("expirationSeconds", 3600)
            projected_downward = source.get("downwardAPI")
            if isinstance(projected_downward, dict):
                for item in _dicts_in(projected_downward, "items"):
                    _default_field_refs(item)


def default_pod_spec(spec: dict) -> None:
    """SetDefaults_PodSpec and everything nested in it (shared by pods and pod templates)."""
    if not spec.get("dnsPolicy"):
        spec["dnsPolicy"] = "ClusterFirst"
    if not spec.get("restartPolicy"):
        spec["restartPolicy"] = "Always"
    if spec.get("securityContext") is None:
        spec["securityContext"] = {}
    if spec.get("terminationGracePeriodSeconds") is None:
        spec["terminationGracePeriodSeconds"] = DEFAULT_TERMINATION_GRACE_PERIOD
    if not spec.get("schedulerName"):
        spec["schedulerName"] = DEFAULT_SCHEDULER_NAME
    for key in ("initContainers", "containers", "ephemeralContainers"):
        for container in _dicts_in(spec, key):
            _default_container(container)
    for volume in _dicts_in(spec, "volumes"):
        _default_volume(volume)
    resources = spec.get("resources")
    if isinstance(resources, dict):
        for key in ("requests", "limits"):
            _canonical_resources(resources.get(key))
    _canonical_resources(spec.get("overhead"))


def _requests_from_limits(resources: Any) -> None:
    if not isinstance(resources, dict):
        return
    limits = resources.get("limits")
    if not isinstance(limits, dict) or not limits:
        return
    requests = resources.get("requests")
    if requests is None:
        requests = resources["requests"] = {}
    if isinstance(requests, dict):
        for name, value in limits.items():
            requests.setdefault(name, value)


def _default_pod(pod: dict) -> None:
    spec = _dict_at(pod, "spec")
    if spec is None:
        return
    default_pod_spec(spec)
    # Pods only (not templates): a limit without a request requests the limit.
    for key in ("containers", "initContainers"):
        for container in _dicts_in(spec, key):
            _requests_from_limits(container.get("resources"))
    _requests_from_limits(spec.get("resources"))
    if spec.get("hostNetwork") is True:
        # Pods only: a template's host ports stay as written (DefaultHostNetworkHostPortsInPodTemplates off).
        for key in ("containers", "initContainers"):
            for container in _dicts_in(spec, key):
                for port in _dicts_in(container, "ports"):
                    if not port.get("hostPort") and isinstance(port.get("containerPort"), int):
                        port["hostPort"] = port["containerPort"]
    if spec.get("enableServiceLinks") is None:
        spec["enableServiceLinks"] = True
    # What the Priority admission plugin resolves: no class means 0, the two system classes
    # have fixed values; other classes need the PriorityClass object, which the server looks up.
    if spec.get("priority") is None:
        class_name = spec.get("priorityClassName")
        if not class_name:
            spec["priority"] = 0
        elif class_name in SYSTEM_PRIORITIES:
            spec["priority"] = SYSTEM_PRIORITIES[class_name]
    if spec.get("preemptionPolicy") is None:
        spec["preemptionPolicy"] = "PreemptLowerPriority"


def _default_template_owner(obj: dict) -> None:
    """Kinds holding spec.template (a PodTemplateSpec)."""
    spec = _dict_at(obj, "spec")
    if spec is None:
        return
    template = spec.get("template")
    if isinstance(template, dict):
        template_spec = _dict_at(template, "spec")
        if template_spec is not None:
            default_pod_spec(template_spec)


def _default_deployment(obj: dict) -> None:
    _default_template_owner(obj)
    spec = _dict_at(obj, "spec")
    if spec is None:
        return
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = _dict_at(spec, "strategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = _dict_at(strategy, "rollingUpdate")
            if rolling is not None:
                if rolling.get("maxUnavailable") is None:
                    rolling["maxUnavailable"] = "25%"
                if rolling.get("maxSurge") is None:
                    rolling["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600


def _default_replica_set(obj: dict) -> None:
    _default_template_owner(obj)
    spec = _dict_at(obj, "spec")
    if spec is not None and spec.get("replicas") is None:
        spec["replicas"] = 1


def _template_labels(obj: dict) -> dict | None:
    spec = obj.get("spec")
    template = spec.get("template") if isinstance(spec, dict) else None
    metadata = template.get("metadata") if isinstance(template, dict) else None
    labels = metadata.get("labels") if isinstance(metadata, dict) else None
    return labels if isinstance(labels, dict) else None


def _copy_template_labels_to_object(obj: dict) -> None:
    labels = _template_labels(obj)
    metadata = _dict_at(obj, "metadata")
    if labels and metadata is not None and not metadata.get("labels"):
        metadata["labels"] = dict(labels)


def _default_replication_controller(obj: dict) -> None:
    _default_template_owner(obj)
    spec = _dict_at(obj, "spec")
    if spec is None:
        return
    labels = _template_labels(obj)
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        _copy_template_labels_to_object(obj)
    if spec.get("replicas") is None:
        spec["replicas"] = 1


def _default_job(obj: dict) -> None:
    _default_template_owner(obj)
    spec = _dict_at(obj, "spec")
    if spec is None:
        return
    if spec.get("completions") is None and spec.get("parallelism") is None:
        spec["completions"] = 1
        spec["parallelism"] = 1
    if spec.get("parallelism") is None:
        spec["parallelism"] = 1
    if spec.get("backoffLimit") is None:
        spec["backoffLimit"] = 2 ** 31 - 1 if spec.get("backoffLimitPerIndex") is not None else 6
    _copy_template_labels_to_object(obj)
    if spec.get("completionMode") is None:
        spec["completionMode"] = "NonIndexed"
    if spec.get("suspend") is None:
        spec["suspend"] = False
    failure_policy = spec.get("podFailurePolicy")
    if isinstance(failure_policy, dict):
        for rule in _dicts_in(failure_policy, "rules"):
            for pattern in _dicts_in(rule, "onPodConditions"):
                if not pattern.get("status"):
                    pattern["status"] = "True"
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if failure_policy is not None else "TerminatingOrFailed"


# -- other kinds ----------------------------------------------------------------------------------

def _externally_accessible(spec: dict) -> bool:
    kind = spec.get("type")
    return kind in ("LoadBalancer", "NodePort") or (kind == "ClusterIP" and bool(spec.get("externalIPs")))


def _default_service(obj: dict) -> None:
    spec = _dict_at(obj, "spec")
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
    for port in _dicts_in(spec, "ports"):
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
    status = _dict_at(obj, "status")
    if status is not None and status.get("loadBalancer") is None:
        status["loadBalancer"] = {}


def _default_secret(obj: dict) -> None:
    if not obj.get("type"):
        obj["type"] = "Opaque"
    string_data = obj.get("stringData")
    if isinstance(string_data, dict):
        data = _dict_at(obj, "data")
        if data is None:
            return
        for key, value in string_data.items():
            if isinstance(value, str):
                data[key] = base64.b64encode(value.encode()).decode()
        del obj["stringData"]


def _default_namespace(obj: dict) -> None:
    metadata = _dict_at(obj, "metadata")
    if metadata is not None and isinstance(metadata.get("name"), str) and metadata["name"]:
        labels = _dict_at(metadata, "labels")
        if labels is not None:
            labels[NAMESPACE_NAME_LABEL] = metadata["name"]
    status = _dict_at(obj, "status")
    if status is not None and not status.get("phase"):
        status["phase"] = "Active"


def _default_node(obj: dict) -> None:
    status = obj.get("status")
    if not isinstance(status, dict):
        return
    _canonical_resources(status.get("capacity"))
    _canonical_resources(status.get("allocatable"))
    if status.get("allocatable") is None and isinstance(status.get("capacity"), dict):
        status["allocatable"] = dict(status["capacity"])


def _default_limit_range(obj: dict) -> None:
    spec = obj.get("spec")
    if not isinstance(spec, dict):
        return
    for item in _dicts_in(spec, "limits"):
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            _canonical_resources(item.get(key))
        if item.get("type") != "Container":
            continue
        default = _dict_at(item, "default")
        default_request = _dict_at(item, "defaultRequest")
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


def _default_resource_quota(obj: dict) -> None:
    for part in ("spec", "status"):
        section = obj.get(part)
        if isinstance(section, dict):
            _canonical_resources(section.get("hard"))
            if part == "status":
                _canonical_resources(section.get("used"))


def _default_binding(obj: dict) -> None:
    role_ref = obj.get("roleRef")
    if isinstance(role_ref, dict) and not role_ref.get("apiGroup"):
        role_ref["apiGroup"] = RBAC_GROUP
    for subject in _dicts_in(obj, "subjects"):
        if not subject.get("apiGroup") and subject.get("kind") in ("User", "Group"):
            subject["apiGroup"] = RBAC_GROUP


def _default_endpoints(obj: dict) -> None:
    for subset in _dicts_in(obj, "subsets"):
        for port in _dicts_in(subset, "ports"):
            if not port.get("protocol"):
                port["protocol"] = "TCP"


def _default_priority_class(obj: dict) -> None:
    if obj.get("preemptionPolicy") is None:
        obj["preemptionPolicy"] = "PreemptLowerPriority"


def _default_pod_template(obj: dict) -> None:
    template = obj.get("template")
    if isinstance(template, dict):
        spec = _dict_at(template, "spec")
        if spec is not None:
            default_pod_spec(spec)


_DEFAULTERS: dict[str, Callable[[dict], None]] = {
    "Pod": _default_pod,
    "PodTemplate": _default_pod_template,
    "Deployment": _default_deployment,
    "ReplicaSet": _default_replica_set,
    "ReplicationController": _default_replication_controller,
    "Job": _default_job,
    "Service": _default_service,
    "Secret": _default_secret,
    "Namespace": _default_namespace,
    "Node": _default_node,
    "LimitRange": _default_limit_range,
    "ResourceQuota": _default_resource_quota,
    "RoleBinding": _default_binding,
    "ClusterRoleBinding": _default_binding,
    "Endpoints": _default_endpoints,
    "PriorityClass": _default_priority_class,
}


def apply_defaults(kind: str, obj: Any) -> None:
    """Fill in v1 defaults (and canonical quantities) in place; idempotent; never raises."""
    if not isinstance(obj, dict):
        return
    defaulter = _DEFAULTERS.get(kind)
    if defaulter is not None:
        defaulter(obj)


# -- create-time preparation (registry strategies) -----------------------------------------------

def _prepare_pod(pod: dict) -> None:
    status = _dict_at(pod, "status")
    if status is None:
        pod["status"] = status = {}
    if not status.get("phase"):
        status["phase"] = "Pending"
    status["qosClass"] = qos_class(pod)


def _prepare_namespace(obj: dict) -> None:
    spec = _dict_at(obj, "spec")
    if spec is not None:
        finalizers = spec.get("finalizers")
        if not isinstance(finalizers, list):
            spec["finalizers"] = [NAMESPACE_FINALIZER]
        elif NAMESPACE_FINALIZER not in finalizers:
            finalizers.append(NAMESPACE_FINALIZER)
    obj["status"] = {"phase": "Active"}


def _prepare_job(obj: dict) -> None:
    """generateSelector: label the pods with the job's uid and name, and select by uid."""
    spec = _dict_at(obj, "spec")
    metadata = obj.get("metadata")
    if spec is None or not isinstance(metadata, dict) or spec.get("manualSelector") is True:
        return
    uid, name = metadata.get("uid"), metadata.get("name")
    if not isinstance(uid, str) or not uid or not isinstance(name, str):
        return
    template = _dict_at(spec, "template")
    template_meta = _dict_at(template, "metadata") if template is not None else None
    labels = _dict_at(template_meta, "labels") if template_meta is not None else None
    if labels is not None:
        for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
            labels.setdefault(key, name)
        for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
            labels.setdefault(key, uid)
    selector = _dict_at(spec, "selector")
    if selector is not None:
        match_labels = _dict_at(selector, "matchLabels")
        if match_labels is not None:
            match_labels.setdefault(CONTROLLER_UID_LABEL, uid)
    _copy_template_labels_to_object(obj)
    obj.pop("status", None)


_PREPARERS: dict[str, Callable[[dict], None]] = {
    "Pod": _prepare_pod,
    "Namespace": _prepare_namespace,
    "Job": _prepare_job,
}


def prepare_for_create(kind: str, obj: Any) -> None:
    """The create-only part of the registry strategy; run after `apply_defaults`."""
    if not isinstance(obj, dict):
        return
    preparer = _PREPARERS.get(kind)
    if preparer is not None:
        preparer(obj)


# -- QoS --------------------------------------------------------------------------------------------

_QOS_RESOURCES = ("cpu", "memory")


def _positive_quantities(resources: Any) -> dict:
    out = {}
    if isinstance(resources, dict):
        for name in _QOS_RESOURCES:
            if name in resources:
                try:
                    quantity = parse_quantity_value(resources[name])
                except QuantityError:
                    continue
                if quantity.sign() > 0:
                    out[name] = quantity
    return out


def qos_class(pod: dict) -> str:
    """ComputePodQOS: Guaranteed when every container (or the pod level) limits cpu and memory and
    requests equal limits; BestEffort when nothing is requested or limited; Burstable otherwise.
    Run on a defaulted pod (where a limit alone already implies the request)."""
    spec = pod.get("spec") if isinstance(pod.get("spec"), dict) else {}
    requests: dict = {}
    limits: dict = {}
    guaranteed = True
    pod_resources = spec.get("resources")
    if isinstance(pod_resources, dict):              # pod-level resources decide alone when present
        units = [pod_resources]
    else:
        units = []
        for key in ("containers", "initContainers"):
            for container in _dicts_in(spec, key):
                units.append(container.get("resources") if isinstance(container.get("resources"), dict) else {})
    for resources in units:
        for name, quantity in _positive_quantities(resources.get("requests")).items():
            requests[name] = requests[name] + quantity if name in requests else quantity
        unit_limits = _positive_quantities(resources.get("limits"))
        for name, quantity in unit_limits.items():
            limits[name] = limits[name] + quantity if name in limits else quantity
        if not all(name in unit_limits for name in _QOS_RESOURCES):
            guaranteed = False
    if not requests and not limits:
        return "BestEffort"
    if guaranteed:
        for name, request in requests.items():
            if name not in limits or limits[name] != request:
                guaranteed = False
                break
    if guaranteed and len(requests) == len(limits):
        return "Guaranteed"
    return "Burstable"
