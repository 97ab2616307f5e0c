"""`validate(kind, obj, old)`: the field errors kube-apiserver would answer a create or update with.

Run it on a defaulted object (after `defaults.apply_defaults`, and on create after
`prepare_for_create`), as kube-apiserver's strategies do. Each error is a `FieldError` with k8s'
reason, field path and message; `invalid_message` and `causes` turn a list into the 422 Status:

    errors = validate("Pod", pod)
    invalid_message("Pod", "web", errors)
        -> 'Pod "web" is invalid: [spec.containers[0].image: Required value, spec.restartPolicy: ...]'

What is checked: object metadata for every kind (name rule per kind, generateName, namespace
required or forbidden, labels, annotations and their 256 KiB total, owner references, finalizers;
on update name/namespace/uid/creationTimestamp immutable), then per kind the rules of
pkg/apis/*/validation for Pod, Service, Endpoints, Event, ConfigMap, Secret, ServiceAccount,
Namespace, Node, Lease, Deployment, ReplicaSet, ReplicationController, Job, PodTemplate, Role,
ClusterRole, RoleBinding, ClusterRoleBinding, LimitRange, ResourceQuota and PriorityClass.
Values of the wrong JSON type are reported as FieldValueTypeInvalid instead of raising.
"""
from __future__ import annotations

import base64
import binascii
import ipaddress
from typing import Any, Callable

import orjson

from .fielderrors import (FIELD_IMMUTABLE, Errors, FieldError, GoText, causes, duplicate, forbidden, invalid,
                          invalid_message, not_supported, required, too_long, type_invalid)
from .kinds import RBAC_GROUP, kind_info
from .meta import parse_rfc3339
from .names import is_dns1123_label, is_label_value, is_valid_port_num, name_is_dns_subdomain, name_is_path_segment
from .podvalidation import (template_labels, template_restart_policy, validate_pod_spec, validate_pod_spec_update,
                            validate_pod_template)
from .quantity import Quantity
from .validators import (child, go_label_selector, immutable, int_or_percent, is_valid_ip, json_equal, json_text,
                         nonnegative, one_of, positive, quantity, selector_matches, validate_annotations,
                         validate_config_key, validate_dns_label, validate_dns_subdomain, validate_label_selector,
                         validate_labels, validate_port_num_or_name, validate_port_number,
                         validate_protocol, validate_qualified_name, validate_resource_list,
                         validate_resource_name)

__all__ = ["FieldError", "validate", "invalid_message", "causes"]

MAX_SECRET_SIZE = 1024 * 1024
HIGHEST_USER_DEFINABLE_PRIORITY = 1_000_000_000
SYSTEM_PRIORITY_CLASSES = {"system-node-critical": 2_000_001_000, "system-cluster-critical": 2_000_000_000}
STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")

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
    _validate_metadata(kind, obj, old, errs)
    validator = _VALIDATORS.get(kind)
    if validator is not None:
        if kind == "Pod":
            _validate_pod(obj, old, errs, subresource)
        else:
            validator(obj, old, errs)
    return list(errs)


# -- metadata ---------------------------------------------------------------------------------------

def _validate_metadata(kind: str, obj: dict, old: dict | None, errs: Errors) -> None:
    meta = errs.mapping(obj.get("metadata"), "metadata")
    info = kind_info(kind)
    name = errs.string(meta.get("name"), "metadata.name")
    namespace = errs.string(meta.get("namespace"), "metadata.namespace")
    if old is None:
        generate_name = errs.string(meta.get("generateName"), "metadata.generateName")
        if generate_name:
            for msg in info.name_rule(generate_name, True):
                errs.append(invalid("metadata.generateName", generate_name, msg))
        if not name:
            errs.append(required("metadata.name", "name or generateName is required"))
        else:
            for msg in info.name_rule(name, False):
                errs.append(invalid("metadata.name", name, msg))
        if info.namespaced:
            if not namespace:
                errs.append(required("metadata.namespace"))
            else:
                for msg in is_dns1123_label(namespace):
                    errs.append(invalid("metadata.namespace", namespace, msg))
        elif namespace:
            errs.append(forbidden("metadata.namespace", "not allowed on this type"))
        nonnegative(errs.integer(meta.get("generation"), "metadata.generation"), "metadata.generation", errs)
    else:
        old_meta = old.get("metadata") if isinstance(old.get("metadata"), dict) else {}
        if old_meta.get("deletionTimestamp"):
            added = [f for f in errs.items(meta.get("finalizers"), "metadata.finalizers")
                     if f not in (old_meta.get("finalizers") or [])]
            if added:
                errs.append(forbidden("metadata.finalizers", "no new finalizers can be added if the object is being "
                                      "deleted, found new finalizers " + "[]string{" +
                                      ", ".join(f'"{f}"' for f in sorted(set(map(str, added)))) + "}"))
        generation = errs.integer(meta.get("generation"), "metadata.generation")
        old_generation = old_meta.get("generation")
        if isinstance(generation, int) and isinstance(old_generation, int) and generation < old_generation:
            errs.append(invalid("metadata.generation", generation, "must not be decremented"))
        for key in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds"):
            if not json_equal(meta.get(key), old_meta.get(key)) and not (
                    key in ("uid", "creationTimestamp") and not meta.get(key)):
                value = meta.get(key)
                errs.append(invalid(f"metadata.{key}", "" if value is None else value, FIELD_IMMUTABLE))
    validate_labels(meta.get("labels"), "metadata.labels", errs)
    validate_annotations(meta.get("annotations"), "metadata.annotations", errs)
    _validate_owner_references(meta.get("ownerReferences"), "metadata.ownerReferences", errs)
    if old is None:
        _validate_finalizers(meta.get("finalizers"), "metadata.finalizers", errs)


def _validate_owner_references(value: Any, path: str, errs: Errors) -> None:
    controller = ""
    for i, raw in enumerate(errs.items(value, path)):
        ref = errs.mapping(raw, f"{path}[{i}]")
        api_version = errs.string(ref.get("apiVersion"), child(path, "apiVersion"))
        kind = errs.string(ref.get("kind"), child(path, "kind"))
        ref_name = errs.string(ref.get("name"), child(path, "name"))
        uid = errs.string(ref.get("uid"), child(path, "uid"))
        if not api_version.rpartition("/")[2]:
            errs.append(invalid(child(path, "apiVersion"), api_version, "version must not be empty"))
        if not kind:
            errs.append(invalid(child(path, "kind"), kind, "kind must not be empty"))
        if not ref_name:
            errs.append(invalid(child(path, "name"), ref_name, "name must not be empty"))
        if not uid:
            errs.append(invalid(child(path, "uid"), uid, "uid must not be empty"))
        if errs.boolean(ref.get("controller"), child(path, "controller")):
            current = f"{kind}/{ref_name}"
            if controller:
                errs.append(invalid(path, GoText("[]v1.OwnerReference{...}"),
                                    f'Only one reference can have Controller set to true. Found "true" in '
                                    f"references for {controller} and {current}"))
            else:
                controller = current


def _validate_finalizers(value: Any, path: str, errs: Errors) -> None:
    finalizers = [errs.string(f, path) for f in errs.items(value, path)]
    for finalizer in finalizers:
        validate_qualified_name(finalizer, path, errs)
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errs.append(invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set"))


def _name(obj: dict) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""


# -- Pod and pod templates ----------------------------------------------------------------------------

def _validate_pod(obj: dict, old: dict | None, errs: Errors, subresource: str | None = None) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    validate_pod_spec(spec, "spec", errs)
    status = errs.mapping(obj.get("status"), "status")
    if status.get("phase") is not None:
        errs.string(status["phase"], "status.phase")
    if old is not None and subresource != "status":
        binding = None if subresource is None else subresource == "binding"
        validate_pod_spec_update(obj, old, errs, binding=binding)


def _validate_pod_template_kind(obj: dict, old: dict | None, errs: Errors) -> None:
    validate_pod_template(obj.get("template"), "template", errs)


def _selector_matches_template(selector: dict, template: dict, errs: Errors, labels_path: str) -> None:
    labels = template_labels(template)
    if selector and selector_matches(selector, labels) is False:
        errs.append(invalid(labels_path, labels, "`selector` does not match template `labels`"))


def _validate_workload_selector(spec: dict, errs: Errors, *, kind_word: str = "deployment") -> dict | None:
    raw = spec.get("selector")
    if raw is None:
        errs.append(required("spec.selector"))
        return None
    selector = validate_label_selector(raw, "spec.selector", errs)
    if not selector.get("matchLabels") and not selector.get("matchExpressions"):
        errs.append(invalid("spec.selector", go_label_selector(selector), f"empty selector is invalid for {kind_word}"))
    return selector


def _validate_replicated_template(spec: dict, selector: dict | None, errs: Errors, owner: str) -> None:
    template = spec.get("template")
    if template is None:
        errs.append(required("spec.template"))
        return
    template = errs.mapping(template, "spec.template")
    if selector is not None:
        _selector_matches_template(selector, template, errs, "spec.template.metadata.labels")
    validate_pod_template(template, "spec.template", errs)
    restart = template_restart_policy(template)
    if restart != "Always":
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ["Always"]))
    template_spec = template.get("spec") if isinstance(template.get("spec"), dict) else {}
    if template_spec.get("activeDeadlineSeconds") is not None:
        errs.append(forbidden("spec.template.spec.activeDeadlineSeconds",
                              f"activeDeadlineSeconds in {owner} is not Supported"))


def _validate_deployment(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    nonnegative(errs.integer(spec.get("replicas"), "spec.replicas"), "spec.replicas", errs)
    selector = _validate_workload_selector(spec, errs)
    _validate_replicated_template(spec, selector, errs, "ReplicaSet")
    _validate_deployment_strategy(spec.get("strategy"), "spec.strategy", errs)
    min_ready = errs.integer(spec.get("minReadySeconds"), "spec.minReadySeconds") or 0
    nonnegative(min_ready, "spec.minReadySeconds", errs)
    nonnegative(errs.integer(spec.get("revisionHistoryLimit"), "spec.revisionHistoryLimit"),
                "spec.revisionHistoryLimit", errs)
    deadline = errs.integer(spec.get("progressDeadlineSeconds"), "spec.progressDeadlineSeconds")
    if deadline is not None:
        positive(deadline, "spec.progressDeadlineSeconds", errs)
        if deadline <= min_ready:
            errs.append(invalid("spec.progressDeadlineSeconds", deadline, "must be greater than minReadySeconds"))
    errs.boolean(spec.get("paused"), "spec.paused")
    if old is not None:
        _selector_immutable(spec, old, errs)


def _selector_immutable(spec: dict, old: dict, errs: Errors) -> None:
    old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
    if not json_equal(spec.get("selector"), old_spec.get("selector")):
        errs.append(invalid("spec.selector", go_label_selector(spec.get("selector") or {}), FIELD_IMMUTABLE))


def _validate_deployment_strategy(value: Any, path: str, errs: Errors) -> None:
    strategy = errs.mapping(value, path)
    kind = errs.string(strategy.get("type"), child(path, "type"))
    rolling = strategy.get("rollingUpdate")
    if kind == "Recreate":
        if rolling is not None:
            errs.append(forbidden(child(path, "rollingUpdate"),
                                  "may not be specified when strategy `type` is 'Recreate'"))
    elif kind == "RollingUpdate":
        if rolling is None:
            errs.append(required(child(path, "rollingUpdate"), "this should be defaulted and never be nil"))
            return
        rolling = errs.mapping(rolling, child(path, "rollingUpdate"))
        values = {}
        for key in ("maxUnavailable", "maxSurge"):
            key_path = child(path, f"rollingUpdate.{key}")
            raw = rolling.get(key)
            parsed = int_or_percent(raw)
            if parsed is None:
                if isinstance(raw, str):
                    errs.append(invalid(key_path, raw, "a valid percent string must be a numeric string "
                                        "followed by an ending '%' (e.g. '1%',  or '93%', regex used for "
                                        "validation is '[0-9]+%')"))
                elif raw is not None:
                    errs.append(invalid(key_path, GoText(str(raw)), "must be an integer or percentage (e.g '5%')"))
                values[key] = (0, False)
                continue
            if parsed[0] < 0:
                errs.append(invalid(key_path, raw, "must be greater than or equal to 0"))
            values[key] = parsed
        if values.get("maxUnavailable", (0, False))[0] == 0 and values.get("maxSurge", (0, False))[0] == 0:
            errs.append(invalid(child(path, "rollingUpdate.maxUnavailable"), rolling.get("maxUnavailable"),
                                "may not be 0 when `maxSurge` is 0"))
        amount, percent = values.get("maxUnavailable", (0, False))
        if percent and amount > 100:
            errs.append(invalid(child(path, "rollingUpdate.maxUnavailable"), rolling.get("maxUnavailable"),
                                "must not be greater than 100%"))
    else:
        errs.append(not_supported(path, GoText(f'apps.DeploymentStrategy{{Type:"{kind}"}}'),
                                  ["Recreate", "RollingUpdate"]))


def _validate_replica_set(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    nonnegative(errs.integer(spec.get("replicas"), "spec.replicas"), "spec.replicas", errs)
    nonnegative(errs.integer(spec.get("minReadySeconds"), "spec.minReadySeconds"), "spec.minReadySeconds", errs)
    selector = _validate_workload_selector(spec, errs)
    _validate_replicated_template(spec, selector, errs, "ReplicaSet")
    if old is not None:
        _selector_immutable(spec, old, errs)


def _validate_replication_controller(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    nonnegative(errs.integer(spec.get("minReadySeconds"), "spec.minReadySeconds"), "spec.minReadySeconds", errs)
    selector = validate_labels(spec.get("selector"), "spec.selector", errs)
    if not selector:
        errs.append(required("spec.selector"))
    nonnegative(errs.integer(spec.get("replicas"), "spec.replicas"), "spec.replicas", errs)
    _validate_replicated_template(spec, {"matchLabels": selector} if selector else None, errs,
                                  "ReplicationController")


def _validate_job(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    for key in ("parallelism", "completions", "activeDeadlineSeconds", "backoffLimit", "ttlSecondsAfterFinished",
                "backoffLimitPerIndex", "maxFailedIndexes"):
        nonnegative(errs.integer(spec.get(key), f"spec.{key}"), f"spec.{key}", errs)
    mode = spec.get("completionMode")
    if mode is not None:
        mode = errs.string(mode, "spec.completionMode")
        if mode not in ("NonIndexed", "Indexed"):
            errs.append(not_supported("spec.completionMode", mode, ["NonIndexed", "Indexed"]))
        if mode == "Indexed":
            if spec.get("completions") is None:
                errs.append(required("spec.completions", "when completion mode is Indexed"))
            parallelism = spec.get("parallelism")
            if isinstance(parallelism, int) and parallelism > 100_000:
                errs.append(invalid("spec.parallelism", parallelism,
                                    "must be less than or equal to 100000 when completion mode is Indexed"))
            completions = spec.get("completions")
            name = _name(obj)
            if isinstance(completions, int) and completions > 0 and name:
                hostname = f"{name}-{completions - 1}"
                if is_dns1123_label(hostname):
                    errs.append(invalid("metadata.name", name,
                                        f"will not able to create pod with invalid DNS label: {hostname}"))
    if spec.get("backoffLimitPerIndex") is not None and mode != "Indexed":
        errs.append(forbidden("spec.backoffLimitPerIndex", "requires indexed completion mode"))
    replacement = spec.get("podReplacementPolicy")
    if replacement is not None:
        replacement = errs.string(replacement, "spec.podReplacementPolicy")
        if replacement not in ("TerminatingOrFailed", "Failed"):
            errs.append(not_supported("spec.podReplacementPolicy", replacement, ["TerminatingOrFailed", "Failed"]))
        elif spec.get("podFailurePolicy") is not None and replacement != "Failed":
            errs.append(not_supported("spec.podReplacementPolicy", replacement, ["Failed"]))
    _validate_pod_failure_policy(spec.get("podFailurePolicy"), "spec.podFailurePolicy", errs)
    template = errs.mapping(spec.get("template"), "spec.template")
    validate_pod_template(template, "spec.template", errs)
    restart = template_restart_policy(template)
    if restart not in ("OnFailure", "Never"):
        errs.append(not_supported("spec.template.spec.restartPolicy", restart, ["OnFailure", "Never"]))
    if spec.get("podFailurePolicy") is not None and restart != "Never":
        errs.append(invalid("spec.template.spec.restartPolicy", restart,
                            "only \"Never\" is supported when podFailurePolicy is specified"))
    if spec.get("selector") is None:
        errs.append(required("spec.selector"))
    else:
        selector = validate_label_selector(spec["selector"], "spec.selector", errs)
        if selector_matches(selector, template_labels(template)) is False:
            errs.append(invalid("spec.template.metadata.labels", template_labels(template),
                                "`selector` does not match template `labels`"))
    if old is not None:
        old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
        immutable(spec.get("selector"), old_spec.get("selector"), "spec.selector", errs,
                  shown=go_label_selector(spec.get("selector") or {}))
        for key in ("completionMode", "podFailurePolicy", "backoffLimitPerIndex"):
            immutable(spec.get(key), old_spec.get(key), f"spec.{key}", errs,
                      shown=GoText(json_text(spec.get(key))) if isinstance(spec.get(key), dict) else None)
        if not old_spec.get("suspend") and not json_equal(spec.get("template"), old_spec.get("template")):
            errs.append(invalid("spec.template", GoText("core.PodTemplateSpec{...}"), FIELD_IMMUTABLE))
        if spec.get("completions") != old_spec.get("completions") and mode != "Indexed":
            errs.append(invalid("spec.completions", spec.get("completions"), FIELD_IMMUTABLE))


def _validate_pod_failure_policy(value: Any, path: str, errs: Errors) -> None:
    if value is None:
        return
    policy = errs.mapping(value, path)
    for i, raw in enumerate(errs.items(policy.get("rules"), child(path, "rules"))):
        rule_path = f"{child(path, 'rules')}[{i}]"
        rule = errs.mapping(raw, rule_path)
        action = errs.string(rule.get("action"), child(rule_path, "action"))
        if action not in ("Ignore", "FailIndex", "FailJob", "Count"):
            errs.append(not_supported(child(rule_path, "action"), action, ["Count", "FailIndex", "FailJob",
                                                                            "Ignore"]))
        on_exit = rule.get("onExitCodes")
        on_conditions = rule.get("onPodConditions")
        if on_exit is not None and on_conditions:
            errs.append(invalid(rule_path, GoText("specifying both OnExitCodes and OnPodConditions"),
                                "specifying both OnExitCodes and OnPodConditions is not supported"))
        if on_exit is not None:
            exit_path = child(rule_path, "onExitCodes")
            codes = errs.mapping(on_exit, exit_path)
            operator = errs.string(codes.get("operator"), child(exit_path, "operator"))
            if operator not in ("In", "NotIn"):
                errs.append(not_supported(child(exit_path, "operator"), operator, ["In", "NotIn"]))
            values = errs.items(codes.get("values"), child(exit_path, "values"))
            if not values:
                errs.append(invalid(child(exit_path, "values"), values, "at least one value is required"))
            if operator == "In" and 0 in values:
                errs.append(invalid(child(exit_path, "values"), 0, "must not be 0 for the In operator"))
        for j, raw_pattern in enumerate(errs.items(on_conditions, child(rule_path, "onPodConditions"))):
            pattern_path = f"{child(rule_path, 'onPodConditions')}[{j}]"
            pattern = errs.mapping(raw_pattern, pattern_path)
            status = errs.string(pattern.get("status"), child(pattern_path, "status"))
            if status not in ("True", "False", "Unknown"):
                errs.append(not_supported(child(pattern_path, "status"), status, ["False", "True", "Unknown"]))
            condition = errs.string(pattern.get("type"), child(pattern_path, "type"))
            if not condition:
                errs.append(required(child(pattern_path, "type")))
            else:
                validate_qualified_name(condition, child(pattern_path, "type"), errs)


# -- Service, Endpoints -------------------------------------------------------------------------------

SERVICE_TYPES = ("ClusterIP", "ExternalName", "LoadBalancer", "NodePort")
SESSION_AFFINITIES = ("ClientIP", "None")
IP_FAMILY_POLICIES = ("SingleStack", "PreferDualStack", "RequireDualStack")
TRAFFIC_POLICIES = ("Cluster", "Local")


def _validate_service(obj: dict, old: dict | None, errs: Errors) -> None:
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


def _validate_endpoints(obj: dict, old: dict | None, errs: Errors) -> None:
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


# -- config, secrets, accounts, namespaces, nodes, leases, events -------------------------------------

def _immutable_data(obj: dict, old: dict | None, errs: Errors, keys: tuple[str, ...]) -> None:
    if old is None or old.get("immutable") is not True:
        return
    if obj.get("immutable") is not True:
        errs.append(forbidden("immutable", "field is immutable when `immutable` is set"))
    for key in keys:
        if not json_equal(obj.get(key) or {}, old.get(key) or {}):
            errs.append(forbidden(key, "field is immutable when `immutable` is set"))


def _validate_config_map(obj: dict, old: dict | None, errs: Errors) -> None:
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


def _validate_secret(obj: dict, old: dict | None, errs: Errors) -> None:
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


def _validate_service_account(obj: dict, old: dict | None, errs: Errors) -> None:
    for key in ("secrets", "imagePullSecrets"):
        for i, ref in enumerate(errs.items(obj.get(key), key)):
            errs.mapping(ref, f"{key}[{i}]")
    errs.boolean(obj.get("automountServiceAccountToken"), "automountServiceAccountToken")


def _validate_namespace(obj: dict, old: dict | None, errs: Errors) -> None:
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


def _validate_node(obj: dict, old: dict | None, errs: Errors) -> None:
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


def _validate_lease(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    duration = errs.integer(spec.get("leaseDurationSeconds"), "spec.leaseDurationSeconds")
    if duration is not None and duration <= 0:
        errs.append(invalid("spec.leaseDurationSeconds", duration, "must be greater than 0"))
    transitions = errs.integer(spec.get("leaseTransitions"), "spec.leaseTransitions")
    if transitions is not None and transitions < 0:
        errs.append(invalid("spec.leaseTransitions", transitions, "must be greater than or equal to 0"))
    errs.string(spec.get("holderIdentity"), "spec.holderIdentity")
    for key in ("acquireTime", "renewTime"):
        _validate_time(spec.get(key), f"spec.{key}", errs)


def _validate_time(value: Any, path: str, errs: Errors) -> None:
    text = errs.string(value, path)
    if text:
        try:
            parse_rfc3339(text)
        except ValueError:
            errs.append(invalid(path, text, "must be an RFC 3339 time"))


def _validate_event(obj: dict, old: dict | None, errs: Errors) -> None:
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
        _validate_time(obj.get("eventTime"), "eventTime", errs)
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


# -- RBAC -------------------------------------------------------------------------------------------

def _validate_rules(obj: dict, errs: Errors, *, namespaced: bool) -> None:
    for i, raw in enumerate(errs.items(obj.get("rules"), "rules")):
        path = f"rules[{i}]"
        rule = errs.mapping(raw, path)
        lists = {key: [errs.string(v, f"{path}.{key}[{j}]") for j, v in enumerate(errs.items(rule.get(key),
                                                                                                f"{path}.{key}"))]
                 for key in ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs")}
        if not lists["verbs"]:
            errs.append(required(f"{path}.verbs", "verbs must contain at least one value"))
        if lists["nonResourceURLs"]:
            if namespaced:
                errs.append(invalid(f"{path}.nonResourceURLs", lists["nonResourceURLs"],
                                    "namespaced rules cannot apply to non-resource URLs"))
            if lists["apiGroups"] or lists["resources"] or lists["resourceNames"]:
                errs.append(invalid(f"{path}.nonResourceURLs", lists["nonResourceURLs"],
                                    "rules cannot apply to both regular resources and non-resource URLs"))
            continue
        if not lists["apiGroups"]:
            errs.append(required(f"{path}.apiGroups", "resource rules must supply at least one api group"))
        if not lists["resources"]:
            errs.append(required(f"{path}.resources", "resource rules must supply at least one resource"))


def _validate_role(obj: dict, old: dict | None, errs: Errors) -> None:
    _validate_rules(obj, errs, namespaced=True)


def _validate_cluster_role(obj: dict, old: dict | None, errs: Errors) -> None:
    _validate_rules(obj, errs, namespaced=False)
    if obj.get("aggregationRule") is not None:
        rule = errs.mapping(obj["aggregationRule"], "aggregationRule")
        selectors = errs.items(rule.get("clusterRoleSelectors"), "aggregationRule.clusterRoleSelectors")
        if not selectors:
            errs.append(required("aggregationRule.clusterRoleSelectors",
                                 "at least one clusterRoleSelector required if aggregationRule is non-nil"))
        for i, selector in enumerate(selectors):
            validate_label_selector(selector, f"aggregationRule.clusterRoleSelectors[{i}]", errs)


def _go_role_ref(ref: dict) -> GoText:
    return GoText(f'rbac.RoleRef{{APIGroup:"{ref.get("apiGroup") or ""}", Kind:"{ref.get("kind") or ""}", '
                  f'Name:"{ref.get("name") or ""}"}}')


def _validate_binding(obj: dict, old: dict | None, errs: Errors, *, namespaced: bool) -> None:
    ref = errs.mapping(obj.get("roleRef"), "roleRef")
    api_group = errs.string(ref.get("apiGroup"), "roleRef.apiGroup")
    kind = errs.string(ref.get("kind"), "roleRef.kind")
    name = errs.string(ref.get("name"), "roleRef.name")
    if api_group != RBAC_GROUP:
        errs.append(not_supported("roleRef.apiGroup", api_group, [RBAC_GROUP]))
    allowed_kinds = ["Role", "ClusterRole"] if namespaced else ["ClusterRole"]
    if kind not in allowed_kinds:
        errs.append(not_supported("roleRef.kind", kind, allowed_kinds))
    if not name:
        errs.append(required("roleRef.name"))
    else:
        for msg in name_is_path_segment(name, False):
            errs.append(invalid("roleRef.name", name, msg))
    for i, raw in enumerate(errs.items(obj.get("subjects"), "subjects")):
        path = f"subjects[{i}]"
        subject = errs.mapping(raw, path)
        subject_name = errs.string(subject.get("name"), f"{path}.name")
        subject_kind = errs.string(subject.get("kind"), f"{path}.kind")
        subject_group = errs.string(subject.get("apiGroup"), f"{path}.apiGroup")
        if not subject_name:
            errs.append(required(f"{path}.name"))
        if subject_kind == "ServiceAccount":
            if subject_name:
                for msg in name_is_dns_subdomain(subject_name, False):
                    errs.append(invalid(f"{path}.name", subject_name, msg))
            if subject_group:
                errs.append(not_supported(f"{path}.apiGroup", subject_group, [""]))
            if not namespaced and not errs.string(subject.get("namespace"), f"{path}.namespace"):
                errs.append(required(f"{path}.namespace"))
        elif subject_kind in ("User", "Group"):
            if subject_group != RBAC_GROUP:
                errs.append(not_supported(f"{path}.apiGroup", subject_group, [RBAC_GROUP]))
        else:
            errs.append(not_supported(f"{path}.kind", subject_kind, ["ServiceAccount", "User", "Group"]))
    if old is not None:
        old_ref = old.get("roleRef") if isinstance(old.get("roleRef"), dict) else {}
        if not json_equal({k: ref.get(k) for k in ("apiGroup", "kind", "name")},
                          {k: old_ref.get(k) for k in ("apiGroup", "kind", "name")}):
            errs.append(invalid("roleRef", _go_role_ref(ref), "cannot change roleRef"))


def _validate_role_binding(obj: dict, old: dict | None, errs: Errors) -> None:
    _validate_binding(obj, old, errs, namespaced=True)


def _validate_cluster_role_binding(obj: dict, old: dict | None, errs: Errors) -> None:
    _validate_binding(obj, old, errs, namespaced=False)


# -- LimitRange, ResourceQuota, PriorityClass -------------------------------------------------------

LIMIT_TYPES = ("Pod", "Container", "PersistentVolumeClaim")
QUOTA_SCOPES = ("Terminating", "NotTerminating", "BestEffort", "NotBestEffort", "PriorityClass",
                "CrossNamespacePodAffinity", "VolumeAttributesClass")


def _validate_limit_range(obj: dict, old: dict | None, errs: Errors) -> None:
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


def _validate_resource_quota(obj: dict, old: dict | None, errs: Errors) -> None:
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


def _validate_priority_class(obj: dict, old: dict | None, errs: Errors) -> None:
    name = _name(obj)
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


_VALIDATORS: dict[str, Validator] = {
    "Pod": lambda obj, old, errs: _validate_pod(obj, old, errs),
    "PodTemplate": _validate_pod_template_kind,
    "Service": _validate_service,
    "Endpoints": _validate_endpoints,
    "Event": _validate_event,
    "ConfigMap": _validate_config_map,
    "Secret": _validate_secret,
    "ServiceAccount": _validate_service_account,
    "Namespace": _validate_namespace,
    "Node": _validate_node,
    "Lease": _validate_lease,
    "Deployment": _validate_deployment,
    "ReplicaSet": _validate_replica_set,
    "ReplicationController": _validate_replication_controller,
    "Job": _validate_job,
    "Role": _validate_role,
    "ClusterRole": _validate_cluster_role,
    "RoleBinding": _validate_role_binding,
    "ClusterRoleBinding": _validate_cluster_role_binding,
    "LimitRange": _validate_limit_range,
    "ResourceQuota": _validate_resource_quota,
    "PriorityClass": _validate_priority_class,
}
