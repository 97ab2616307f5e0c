"""Kinds of the core API group (v1): Pod and PodTemplate (their spec in `podspec`), Service,
Endpoints, Event, ConfigMap, Secret, ServiceAccount, Namespace, Node, ReplicationController,
LimitRange, ResourceQuota (kubernetes pkg/apis/core/validation).
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any

import orjson

from ..fielderrors import (
    Errors,
    GoText,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
    too_long,
)
from ..meta import parse_rfc3339
from ..names import is_label_value, is_valid_port_num
from ..quantity import Quantity
from ..validators import (
    child,
    immutable,
    is_valid_ip,
    json_equal,
    nonnegative,
    one_of,
    quantity,
    validate_config_key,
    validate_dns_label,
    validate_dns_subdomain,
    validate_labels,
    validate_port_num_or_name,
    validate_port_number,
    validate_protocol,
    validate_qualified_name,
    validate_resource_list,
    validate_resource_name,
)
from .apps import validate_replicated_template
from .metadata import STANDARD_FINALIZERS
from .podspec import validate_pod_spec, validate_pod_spec_update, validate_pod_template

MAX_SECRET_SIZE = 1024 * 1024


def validate_pod(obj: dict, old: dict | None, errs: Errors, subresource: str | None = None) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    validate_pod_spec(spec, "spec", errs)
    status = errs.mapping(obj.get("status"), "status")
    if status.get("phase") is not None:
        errs.string(status["phase"], "status.phase")
    if old is not None and subresource != "status":
        binding = None if subresource is None else subresource == "binding"
        validate_pod_spec_update(obj, old, errs, binding=binding)


def validate_pod_template_object(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_pod_template(obj.get("template"), "template", errs)


def validate_replication_controller(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    nonnegative(errs.integer(spec.get("minReadySeconds"), "spec.minReadySeconds"), "spec.minReadySeconds", errs)
    selector = validate_labels(spec.get("selector"), "spec.selector", errs)
    if not selector:
        errs.append(required("spec.selector"))
    nonnegative(errs.integer(spec.get("replicas"), "spec.replicas"), "spec.replicas", errs)
    validate_replicated_template(spec, {"matchLabels": selector} if selector else None, errs,
                                  "ReplicationController")


SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
IP_FAMILY_POLICIES = ("SingleStack", "PreferDualStack", "RequireDualStack")
TRAFFIC_POLICIES = ("Cluster", "Local")


def validate_service(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    service_type = errs.string(spec.get("type"), "spec.type")
    cluster_ip = errs.string(spec.get("clusterIP"), "spec.clusterIP")
    headless = cluster_ip == "None"
    ports = errs.items(spec.get("ports"), "spec.ports")
    if service_type == "ExternalName":
        external_name = errs.string(spec.get("externalName"), "spec.externalName")
        if cluster_ip:
            errs.append(forbidden("spec.clusterIP", "may not be set for ExternalName services"))
        if not external_name:
            errs.append(required("spec.externalName"))
        else:
            validate_dns_subdomain(external_name.rstrip("."), "spec.externalName", errs)
    elif cluster_ip and not headless and not is_valid_ip(cluster_ip):
        errs.append(invalid("spec.clusterIP", cluster_ip,
                            "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
    if not ports and not headless and service_type != "ExternalName":
        errs.append(required("spec.ports"))
    names: set[str] = set()
    seen: set[tuple[Any, Any]] = set()
    for i, raw in enumerate(ports):
        port_path = f"spec.ports[{i}]"
        port = errs.mapping(raw, port_path)
        name = errs.string(port.get("name"), child(port_path, "name"))
        if len(ports) > 1 and not name:
            errs.append(required(child(port_path, "name")))
        elif name:
            validate_dns_label(name, child(port_path, "name"), errs)
            if name in names:
                errs.append(duplicate(child(port_path, "name"), name))
            names.add(name)
        number = errs.integer(port.get("port"), child(port_path, "port"))
        for msg in is_valid_port_num(number or 0):
            errs.append(invalid(child(port_path, "port"), number or 0, msg))
        validate_protocol(port.get("protocol"), child(port_path, "protocol"), errs)
        validate_port_num_or_name(port.get("targetPort"), child(port_path, "targetPort"), errs)
        app_protocol = port.get("appProtocol")
        if app_protocol is not None:
            validate_qualified_name(errs.string(app_protocol, child(port_path, "appProtocol")),
                                    child(port_path, "appProtocol"), errs)
        node_port = errs.integer(port.get("nodePort"), child(port_path, "nodePort"))
        if node_port:
            if service_type == "ClusterIP":
                errs.append(forbidden(child(port_path, "nodePort"), "may not be used when `type` is 'ClusterIP'"))
            else:
                validate_port_number(node_port, child(port_path, "nodePort"), errs)
        key = (str(port.get("protocol")), number)
        if key in seen:
            errs.append(duplicate(port_path, GoText(f'core.ServicePort{{Name:"", Protocol:"{key[0]}", '
                                                    f'AppProtocol:(*string)(nil), Port:{number}, '
                                                    f'TargetPort:intstr.IntOrString{{Type:0, IntVal:0, StrVal:""}}, '
                                                    f'NodePort:0}}')))
        seen.add(key)
    if spec.get("selector") is not None:
        validate_labels(spec["selector"], "spec.selector", errs)
    one_of(errs.string(spec.get("sessionAffinity"), "spec.sessionAffinity"), "spec.sessionAffinity",
           SESSION_AFFINITIES, errs)
    if spec.get("sessionAffinity") == "ClientIP":
        config = errs.mapping(spec.get("sessionAffinityConfig"), "spec.sessionAffinityConfig")
        client_ip = errs.mapping(config.get("clientIP"), "spec.sessionAffinityConfig.clientIP")
        timeout = errs.integer(client_ip.get("timeoutSeconds"), "spec.sessionAffinityConfig.clientIP.timeoutSeconds")
        if timeout is None or not 0 < timeout <= 86400:
            errs.append(invalid("spec.sessionAffinityConfig.clientIP.timeoutSeconds", timeout if timeout else 0,
                                "must be greater than 0 and less than 86400"))
    elif spec.get("sessionAffinityConfig") is not None:
        errs.append(invalid("spec.sessionAffinityConfig", GoText("core.SessionAffinityConfig{...}"),
                            f"must not be set when session affinity is {spec.get('sessionAffinity')}"))
    one_of(service_type, "spec.type", SERVICE_TYPES, errs)
    if spec.get("ipFamilyPolicy") is not None:
        policy = errs.string(spec["ipFamilyPolicy"], "spec.ipFamilyPolicy")
        if policy not in IP_FAMILY_POLICIES:
            errs.append(not_supported("spec.ipFamilyPolicy", policy, IP_FAMILY_POLICIES))
    for i, family in enumerate(errs.items(spec.get("ipFamilies"), "spec.ipFamilies")):
        if family not in ("IPv4", "IPv6"):
            errs.append(not_supported(f"spec.ipFamilies[{i}]", family, ["IPv4", "IPv6"]))
    for key in ("externalTrafficPolicy", "internalTrafficPolicy"):
        if spec.get(key) is not None:
            one_of(errs.string(spec[key], f"spec.{key}"), f"spec.{key}", TRAFFIC_POLICIES, errs)
    for i, ip in enumerate(errs.items(spec.get("externalIPs"), "spec.externalIPs")):
        ip = errs.string(ip, f"spec.externalIPs[{i}]")
        if not is_valid_ip(ip):
            errs.append(invalid(f"spec.externalIPs[{i}]", ip,
                                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
    if old is not None:
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        old_ip = old_spec.get("clusterIP")
        if (service_type != "ExternalName" and old_spec.get("type") != "ExternalName" and old_ip
                and cluster_ip and cluster_ip != old_ip):
            errs.append(invalid("spec.clusterIPs[0]", spec.get("clusterIPs") or [cluster_ip],
                                "may not change once set"))


def validate_endpoints(obj: dict, old: dict | None, errs: Errors) -> None:
    for i, raw in enumerate(errs.items(obj.get("subsets"), "subsets")):
        subset_path = f"subsets[{i}]"
        subset = errs.mapping(raw, subset_path)
        addresses = errs.items(subset.get("addresses"), child(subset_path, "addresses"))
        not_ready = errs.items(subset.get("notReadyAddresses"), child(subset_path, "notReadyAddresses"))
        if not addresses and not not_ready:
            errs.append(required(subset_path, "must specify `addresses` or `notReadyAddresses`"))
        for key, items in (("addresses", addresses), ("notReadyAddresses", not_ready)):
            for j, raw_address in enumerate(items):
                address_path = f"{child(subset_path, key)}[{j}]"
                address = errs.mapping(raw_address, address_path)
                ip = errs.string(address.get("ip"), child(address_path, "ip"))
                if not is_valid_ip(ip):
                    errs.append(invalid(child(address_path, "ip"), ip,
                                        "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
                hostname = errs.string(address.get("hostname"), child(address_path, "hostname"))
                if hostname:
                    validate_dns_label(hostname, child(address_path, "hostname"), errs)
                node_name = address.get("nodeName")
                if node_name is not None:
                    validate_dns_subdomain(errs.string(node_name, child(address_path, "nodeName")),
                                           child(address_path, "nodeName"), errs)
        ports = errs.items(subset.get("ports"), child(subset_path, "ports"))
        for j, raw_port in enumerate(ports):
            port_path = f"{child(subset_path, 'ports')}[{j}]"
            port = errs.mapping(raw_port, port_path)
            name = errs.string(port.get("name"), child(port_path, "name"))
            if len(ports) > 1 and not name:
                errs.append(required(child(port_path, "name")))
            elif name:
                validate_dns_label(name, child(port_path, "name"), errs)
            number = errs.integer(port.get("port"), child(port_path, "port")) or 0
            for msg in is_valid_port_num(number):
                errs.append(invalid(child(port_path, "port"), number, msg))
            validate_protocol(port.get("protocol"), child(port_path, "protocol"), errs)


def _immutable_data(obj: dict, old: dict | None, errs: Errors, keys: tuple[str, ...]) -> None:
    if old is None or old.get("immutable") is not True:
        return
    if obj.get("immutable") is not True:
        errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in keys:
        if not json_equal(obj.get(key) or {}, old.get(key) or {}):
            errs.append(forbidden(key, "field is immutable when `immutable` is set"))


def validate_config_map(obj: dict, old: dict | None, errs: Errors) -> None:
    total = 0
    data = errs.string_map(obj.get("data"), "data")
    binary = errs.string_map(obj.get("binaryData"), "binaryData")
    for key, value in data.items():
        validate_config_key(key, f"data[{key}]", errs)
        if key in binary:
            errs.append(invalid(f"data[{key}]", key, "duplicate of key present in binaryData"))
        total += len(value.encode())
    for key, value in binary.items():
        validate_config_key(key, f"binaryData[{key}]", errs)
        total += _decoded_size(value, f"binaryData[{key}]", errs)
    if total > MAX_SECRET_SIZE:
        errs.append(too_long("", MAX_SECRET_SIZE))
    errs.boolean(obj.get("immutable"), "immutable")
    _immutable_data(obj, old, errs, ("data", "binaryData"))


def _decoded_size(value: str, path: str, errs: Errors) -> int:
    try:
        return len(base64.b64decode(value, validate=True))
    except (binascii.Error, ValueError) as err:
        errs.append(invalid(path, GoText("<secret contents redacted>"), f"illegal base64 data: {err}"))
        return 0


_SECRET_REQUIRED_KEYS = {
    "kubernetes.io/dockercfg": (".dockercfg",),
    "kubernetes.io/dockerconfigjson": (".dockerconfigjson",),
    "kubernetes.io/ssh-auth": ("ssh-privatekey",),
    "kubernetes.io/tls": ("tls.crt", "tls.key"),
}


def validate_secret(obj: dict, old: dict | None, errs: Errors) -> None:
    data = errs.string_map(obj.get("data"), "data")
    decoded: dict[str, bytes] = {}
    total = 0
    for key, value in data.items():
        validate_config_key(key, f"data[{key}]", errs)
        try:
            decoded[key] = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError) as err:
            errs.append(invalid(f"data[{key}]", GoText("<secret contents redacted>"), f"illegal base64 data: {err}"))
            continue
        total += len(decoded[key])
    if total > MAX_SECRET_SIZE:
        errs.append(too_long("data", MAX_SECRET_SIZE))
    secret_type = errs.string(obj.get("type"), "type")
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    annotations = meta.get("annotations") if isinstance(meta.get("annotations"), dict) else {}
    if secret_type == "kubernetes.io/service-account-token":
        if not annotations.get("kubernetes.io/service-account.name"):
            errs.append(required("metadata.annotations[kubernetes.io/service-account.name]"))
    elif secret_type == "kubernetes.io/basic-auth":
        if "username" not in decoded and "password" not in decoded:
            errs.append(required("data[username]"))
            errs.append(required("data[password]"))
    elif secret_type in _SECRET_REQUIRED_KEYS:
        for key in _SECRET_REQUIRED_KEYS[secret_type]:
            if key not in decoded or (secret_type == "kubernetes.io/ssh-auth" and not decoded[key]):
                errs.append(required(f"data[{key}]"))
                break
            if key in (".dockercfg", ".dockerconfigjson"):
                try:
                    parsed = orjson.loads(decoded[key])
                except orjson.JSONDecodeError as err:
                    errs.append(invalid(f"data[{key}]", GoText("<secret contents redacted>"), str(err)))
                    continue
                if not isinstance(parsed, dict):
                    errs.append(invalid(f"data[{key}]", GoText("<secret contents redacted>"),
                                        "json: cannot unmarshal into Go value of type map[string]interface {}"))
    errs.boolean(obj.get("immutable"), "immutable")
    if old is not None:
        immutable(secret_type, old.get("type") or "", "type", errs)
    _immutable_data(obj, old, errs, ("data",))


def validate_service_account(obj: dict, old: dict | None, errs: Errors) -> None:
    for key in ("secrets", "imagePullSecrets"):
        for i, ref in enumerate(errs.items(obj.get(key), key)):
            errs.mapping(ref, f"{key}[{i}]")
    errs.boolean(obj.get("automountServiceAccountToken"), "automountServiceAccountToken")


def validate_namespace(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    for raw in errs.items(spec.get("finalizers"), "spec.finalizers"):
        finalizer = errs.string(raw, "spec.finalizers")
        validate_qualified_name(finalizer, "spec.finalizers", errs)
        if "/" not in finalizer and finalizer not in STANDARD_FINALIZERS:
            errs.append(invalid("spec.finalizers", finalizer,
                                "name is neither a standard finalizer name nor is it fully qualified"))
    status = errs.mapping(obj.get("status"), "status")
    phase = status.get("phase")
    if phase is not None and phase not in ("Active", "Terminating"):
        errs.append(not_supported("status.phase", phase, ["Active", "Terminating"]))


def validate_node(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    # k8s reports taint errors under metadata.taints (its field path starts from metadata).
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(errs.items(spec.get("taints"), "spec.taints")):
        taint_path = f"metadata.taints[{i}]"
        taint = errs.mapping(raw, taint_path)
        key = errs.string(taint.get("key"), child(taint_path, "key"))
        validate_qualified_name(key, child(taint_path, "key"), errs)
        value = errs.string(taint.get("value"), child(taint_path, "value"))
        messages = is_label_value(value)
        if messages:
            errs.append(invalid(child(taint_path, "value"), value, ";".join(messages)))
        effect = errs.string(taint.get("effect"), child(taint_path, "effect"))
        if not effect:
            errs.append(required(child(taint_path, "effect")))
        elif effect not in ("NoSchedule", "PreferNoSchedule", "NoExecute"):
            errs.append(not_supported(child(taint_path, "effect"), effect,
                                      ["NoSchedule", "PreferNoSchedule", "NoExecute"]))
        if (key, effect) in seen:
            error = duplicate(taint_path, GoText(f'core.Taint{{Key:"{key}", Value:"{value}", Effect:"{effect}", '
                                                 f'TimeAdded:<nil>}}'))
            error.detail = "taints must be unique by key and effect pair"
            errs.append(error)
        seen.add((key, effect))
    errs.boolean(spec.get("unschedulable"), "spec.unschedulable")
    for i, cidr in enumerate(errs.items(spec.get("podCIDRs"), "spec.podCIDRs")):
        cidr = errs.string(cidr, f"spec.podCIDRs[{i}]")
        try:
            ipaddress.ip_network(cidr, strict=False)
        except ValueError:
            errs.append(invalid(f"spec.podCIDRs[{i}]", cidr,
                                "must be a valid CIDR value, (e.g. 10.9.8.0/24 or 2001:db8::/64)"))
    status = errs.mapping(obj.get("status"), "status")
    for section in ("capacity", "allocatable"):
        for name, raw in errs.mapping(status.get(section), f"status.{section}").items():
            q = quantity(raw, f"status.{section}.{name}", errs)
            if q is not None and q.sign() < 0:
                errs.append(invalid(f"status.{section}.{name}", str(q), "must be greater than or equal to 0"))
    if old is not None:
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        for key in ("podCIDR", "providerID"):
            if old_spec.get(key) and spec.get(key) != old_spec.get(key):
                errs.append(forbidden(f"spec.{key}", f"{key} cannot be changed once set" if key == "providerID"
                                      else "node updates may not change podCIDR except from \"\" to valid"))


def validate_micro_time(value: Any, path: str, errs: Errors) -> None:
    text = errs.string(value, path)
    if text:
        try:
            parse_rfc3339(text)
        except ValueError:
            errs.append(invalid(path, text, "must be an RFC 3339 time"))


def validate_event(obj: dict, old: dict | None, errs: Errors) -> None:
    meta = obj.get("metadata") if isinstance(obj.get("metadata"), dict) else {}
    namespace = meta.get("namespace") or ""
    involved = errs.mapping(obj.get("involvedObject"), "involvedObject")
    involved_namespace = errs.string(involved.get("namespace"), "involvedObject.namespace")
    if not obj.get("eventTime"):
        if not involved_namespace:
            if namespace not in ("", "default"):
                errs.append(invalid("involvedObject.namespace", involved_namespace, "does not match event.namespace"))
        elif namespace != involved_namespace:
            errs.append(invalid("involvedObject.namespace", involved_namespace, "does not match event.namespace"))
    else:
        validate_micro_time(obj.get("eventTime"), "eventTime", errs)
        if not involved_namespace and namespace not in ("default", "kube-system"):
            errs.append(invalid("involvedObject.namespace", involved_namespace, "does not match event.namespace"))
        controller = errs.string(obj.get("reportingComponent"), "reportingComponent")
        if not controller:
            errs.append(required("reportingComponent"))
        validate_qualified_name(controller, "reportingComponent", errs)
        instance = errs.string(obj.get("reportingInstance"), "reportingInstance")
        if not instance:
            errs.append(required("reportingInstance"))
        if len(instance) > 128:
            errs.append(invalid("reportingInstance", "", "can have at most 128 characters"))
        action = errs.string(obj.get("action"), "action")
        if not action:
            errs.append(required("action"))
        if len(action) > 128:
            errs.append(invalid("action", "", "can have at most 128 characters"))
    event_type = obj.get("type")
    if event_type is not None:
        errs.string(event_type, "type")
    errs.integer(obj.get("count"), "count")


LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")
QUOTA_SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
                "CrossNamespacePodAffinity", "VolumeAttributesClass")


def validate_limit_range(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    seen_types: set[str] = set()
    for i, raw in enumerate(errs.items(spec.get("limits"), "spec.limits")):
        path = f"spec.limits[{i}]"
        item = errs.mapping(raw, path)
        limit_type = errs.string(item.get("type"), f"{path}.type")
        if limit_type in seen_types:
            errs.append(duplicate(f"{path}.type", limit_type))
        seen_types.add(limit_type)
        if limit_type not in LIMIT_TYPES and "/" not in limit_type:
            errs.append(not_supported(f"{path}.type", limit_type, LIMIT_TYPES))
        parsed = {}
        for key in ("max", "min", "default", "defaultRequest", "maxLimitRequestRatio"):
            section = errs.mapping(item.get(key), f"{path}.{key}")
            parsed[key] = {}
            for name, value in section.items():
                validate_resource_name(name, f"{path}.{key}[{name}]", errs)
                q = quantity(value, f"{path}.{key}[{name}]", errs)
                if q is not None:
                    parsed[key][name] = q
        if limit_type == "Pod":
            for key in ("default", "defaultRequest"):
                if item.get(key):
                    errs.append(forbidden(f"{path}.{key}", "may not be specified when `type` is 'Pod'"))
        keys = set().union(*(set(v) for v in parsed.values()))
        for name in sorted(keys):
            lo, hi = parsed["min"].get(name), parsed["max"].get(name)
            default, request = parsed["default"].get(name), parsed["defaultRequest"].get(name)
            ratio = parsed["maxLimitRequestRatio"].get(name)
            if lo is not None and hi is not None and lo > hi:
                errs.append(invalid(f"{path}.min[{name}]", str(lo), f"min value {lo} is greater than max value {hi}"))
            if request is not None and lo is not None and lo > request:
                errs.append(invalid(f"{path}.defaultRequest[{name}]", str(request),
                                    f"min value {lo} is greater than default request value {request}"))
            if request is not None and hi is not None and request > hi:
                errs.append(invalid(f"{path}.defaultRequest[{name}]", str(request),
                                    f"default request value {request} is greater than max value {hi}"))
            if request is not None and default is not None and request > default:
                errs.append(invalid(f"{path}.defaultRequest[{name}]", str(request),
                                    f"default request value {request} is greater than default limit value "
                                    f"{default}"))
            if default is not None and lo is not None and lo > default:
                errs.append(invalid(f"{path}.default[{name}]", str(lo),
                                    f"min value {lo} is greater than default value {default}"))
            if default is not None and hi is not None and default > hi:
                errs.append(invalid(f"{path}.default[{name}]", str(hi),
                                    f"default value {default} is greater than max value {hi}"))
            if ratio is not None:
                if ratio < Quantity.from_int(1):
                    errs.append(invalid(f"{path}.maxLimitRequestRatio[{name}]", str(ratio),
                                        f"ratio {ratio} is less than 1"))


def validate_resource_quota(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    validate_resource_list(spec.get("hard"), "spec.hard", errs)
    scopes = [errs.string(s, "spec.scopes") for s in errs.items(spec.get("scopes"), "spec.scopes")]
    for scope in scopes:
        if scope not in QUOTA_SCOPES:
            errs.append(invalid("spec.scopes", scopes, "unsupported scope"))
            break
    if ("Terminating" in scopes and "NotTerminating" in scopes) or ("BestEffort" in scopes
                                                                   and "NotBestEffort" in scopes):
        errs.append(invalid("spec.scopes", scopes, "conflicting scopes"))
    selector = errs.mapping(spec.get("scopeSelector"), "spec.scopeSelector")
    for i, raw in enumerate(errs.items(selector.get("matchExpressions"), "spec.scopeSelector.matchExpressions")):
        path = f"spec.scopeSelector.matchExpressions[{i}]"
        expr = errs.mapping(raw, path)
        scope_name = errs.string(expr.get("scopeName"), f"{path}.scopeName")
        if scope_name not in QUOTA_SCOPES:
            errs.append(invalid(f"{path}.scopeName", scope_name, "unsupported scope"))
        operator = errs.string(expr.get("operator"), f"{path}.operator")
        values = errs.items(expr.get("values"), f"{path}.values")
        if operator in ("In", "NotIn"):
            if not values:
                errs.append(invalid(f"{path}.values", GoText("[]string(nil)"), "must be at least one value when "
                                    "`operator` is 'In' or 'NotIn' for scope selector"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(invalid(f"{path}.values", values, "must be no value when `operator` is 'Exist' or "
                                    "'DoesNotExist' for scope selector"))
        else:
            errs.append(invalid(f"{path}.operator", operator, "not a valid selector operator"))
    status = errs.mapping(obj.get("status"), "status")
    validate_resource_list(status.get("hard"), "status.hard", errs)
    validate_resource_list(status.get("used"), "status.used", errs)
