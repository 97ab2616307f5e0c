"""PodSpec and PodTemplateSpec, after kubernetes pkg/apis/core/validation: the spec as a whole,
restart and DNS policies, priority, and the few spec fields a Pod update may change. Containers,
volumes and the scheduling fields have their own modules.
"""
from __future__ import annotations

from typing import Any

from ..fielderrors import (
    Errors,
    forbidden,
    invalid,
    required,
)
from ..names import name_is_dns_subdomain
from ..validators import (
    child,
    json_equal,
    json_text,
    nonnegative,
    one_of,
    validate_annotations,
    validate_dns_label,
    validate_dns_subdomain,
    validate_labels,
    validate_qualified_name,
    validate_resource_list,
    validate_resource_requirements,
)
from .containers import validate_containers, validate_init_containers
from .podscheduling import validate_affinity, validate_host_aliases, validate_tolerations, validate_topology_spread
from .volumes import validate_volumes

MAX_INT32 = 2 ** 31 - 1
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
UPDATABLE_POD_SPEC_FIELDS = (
    "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")


def validate_pod_template(value: Any, path: str, errs: Errors) -> dict:
    """ValidatePodTemplateSpec: template labels and annotations (at `template.labels`, as k8s
    reports them), then the spec, where ephemeral containers are forbidden."""
    template = errs.mapping(value, path)
    meta = errs.mapping(template.get("metadata"), child(path, "metadata"))
    validate_labels(meta.get("labels"), child(path, "labels"), errs)
    validate_annotations(meta.get("annotations"), child(path, "annotations"), errs)
    spec = errs.mapping(template.get("spec"), child(path, "spec"))
    validate_pod_spec(spec, child(path, "spec"), errs)
    if spec.get("ephemeralContainers"):
        errs.append(forbidden(child(path, "spec.ephemeralContainers"),
                              "ephemeral containers not allowed in pod template"))
    return template


def template_labels(template: dict) -> dict[str, str]:
    meta = template.get("metadata") if isinstance(template, dict) else None
    labels = meta.get("labels") if isinstance(meta, dict) else None
    return {k: v for k, v in labels.items() if isinstance(v, str)} if isinstance(labels, dict) else {}


def template_restart_policy(template: dict) -> Any:
    spec = template.get("spec") if isinstance(template, dict) else None
    return spec.get("restartPolicy", "") if isinstance(spec, dict) else ""


def validate_pod_spec(spec: dict, path: str, errs: Errors) -> None:
    errs.integer(spec.get("terminationGracePeriodSeconds"), child(path, "terminationGracePeriodSeconds"))
    if spec.get("terminationGracePeriodSeconds") is None:
        errs.append(required(child(path, "terminationGracePeriodSeconds"), "must be set"))
    volumes = validate_volumes(spec.get("volumes"), child(path, "volumes"), errs)
    containers = errs.items(spec.get("containers"), child(path, "containers"))
    init_containers = errs.items(spec.get("initContainers"), child(path, "initContainers"))
    validate_containers(containers, volumes, child(path, "containers"), errs)
    validate_init_containers(init_containers, containers, volumes, child(path, "initContainers"), errs)
    one_of(errs.string(spec.get("restartPolicy"), child(path, "restartPolicy")), child(path, "restartPolicy"),
           RESTART_POLICIES, errs)
    one_of(errs.string(spec.get("dnsPolicy"), child(path, "dnsPolicy")), child(path, "dnsPolicy"),
           DNS_POLICIES, errs)
    validate_labels(spec.get("nodeSelector"), child(path, "nodeSelector"), errs)
    _validate_pod_security_context(spec.get("securityContext"), child(path, "securityContext"), errs)
    _validate_image_pull_secrets(spec.get("imagePullSecrets"), child(path, "imagePullSecrets"), errs)
    validate_affinity(spec.get("affinity"), child(path, "affinity"), errs)
    validate_topology_spread(spec.get("topologySpreadConstraints"), child(path, "topologySpreadConstraints"), errs)
    for name_field, rule in (("serviceAccountName", name_is_dns_subdomain), ("nodeName", name_is_dns_subdomain)):
        value = errs.string(spec.get(name_field), child(path, name_field))
        if value:
            for msg in rule(value, False):
                errs.append(invalid(child(path, name_field), value, msg))
    deadline = errs.integer(spec.get("activeDeadlineSeconds"), child(path, "activeDeadlineSeconds"))
    if deadline is not None and not 1 <= deadline <= MAX_INT32:
        errs.append(invalid(child(path, "activeDeadlineSeconds"), deadline,
                            f"must be between 1 and {MAX_INT32}, inclusive"))
    for name_field in ("hostname", "subdomain"):
        value = errs.string(spec.get(name_field), child(path, name_field))
        if value:
            validate_dns_label(value, child(path, name_field), errs)
    validate_tolerations(spec.get("tolerations"), child(path, "tolerations"), errs)
    validate_host_aliases(spec.get("hostAliases"), child(path, "hostAliases"), errs)
    priority_class = errs.string(spec.get("priorityClassName"), child(path, "priorityClassName"))
    if priority_class:
        validate_dns_subdomain(priority_class, child(path, "priorityClassName"), errs)
    if spec.get("preemptionPolicy") is not None:
        one_of(errs.string(spec["preemptionPolicy"], child(path, "preemptionPolicy")), child(path, "preemptionPolicy"),
               PREEMPTION_POLICIES, errs)
    errs.integer(spec.get("priority"), child(path, "priority"))
    if spec.get("overhead") is not None:
        validate_resource_list(spec["overhead"], child(path, "overhead"), errs, container=True)
    if spec.get("resources") is not None:
        validate_resource_requirements(spec["resources"], child(path, "resources"), errs)
    for i, gate in enumerate(errs.items(spec.get("schedulingGates"), child(path, "schedulingGates"))):
        gate = errs.mapping(gate, f"{child(path, 'schedulingGates')}[{i}]")
        validate_qualified_name(errs.string(gate.get("name"), f"{child(path, 'schedulingGates')}[{i}].name"),
                                f"{child(path, 'schedulingGates')}[{i}].name", errs)


def _validate_pod_security_context(value: Any, path: str, errs: Errors) -> None:
    context = errs.mapping(value, path)
    for key in ("runAsUser", "runAsGroup", "fsGroup"):
        nonnegative(errs.integer(context.get(key), child(path, key)), child(path, key), errs)
    for i, group in enumerate(errs.items(context.get("supplementalGroups"), child(path, "supplementalGroups"))):
        nonnegative(errs.integer(group, f"{child(path, 'supplementalGroups')}[{i}]"),
                    f"{child(path, 'supplementalGroups')}[{i}]", errs)


def _validate_image_pull_secrets(value: Any, path: str, errs: Errors) -> None:
    for i, ref in enumerate(errs.items(value, path)):
        errs.string(errs.mapping(ref, f"{path}[{i}]").get("name"), f"{path}[{i}].name")


def validate_pod_spec_update(new: dict, old: dict, errs: Errors, *, binding: bool | None) -> None:
    """Only images, activeDeadlineSeconds (down), tolerations (additions), a negative grace period
    (to 1) and scheduling gates (removals) may change; binding=True also lets spec.nodeName be set
    once, None (caller did not say) tolerates that too."""
    new_spec = new.get("spec") if isinstance(new.get("spec"), dict) else {}
    old_spec = old.get("spec") if isinstance(old.get("spec"), dict) else {}
    spec_path = "spec"
    new_deadline, old_deadline = new_spec.get("activeDeadlineSeconds"), old_spec.get("activeDeadlineSeconds")
    if isinstance(new_deadline, int) and not isinstance(new_deadline, bool):
        if not 0 <= new_deadline <= MAX_INT32:
            errs.append(invalid(child(spec_path, "activeDeadlineSeconds"), new_deadline,
                                f"must be between 0 and {MAX_INT32}, inclusive"))
            return
        if isinstance(old_deadline, int) and old_deadline < new_deadline:
            errs.append(invalid(child(spec_path, "activeDeadlineSeconds"), new_deadline,
                                "must be less than or equal to previous value"))
            return
    elif new_deadline is None and old_deadline is not None:
        errs.append(invalid(child(spec_path, "activeDeadlineSeconds"), None,
                            "must not update from a positive integer to nil value"))
    munged = _munge_updatable(new_spec, old_spec, binding)
    if not json_equal(munged, old_spec):
        errs.append(forbidden(spec_path, "pod updates may not change fields other than "
                              + ",".join(UPDATABLE_POD_SPEC_FIELDS) + "\n" + _spec_diff(old_spec, munged)))
    _validate_only_added_tolerations(new_spec.get("tolerations"), old_spec.get("tolerations"),
                                     child(spec_path, "tolerations"), errs)


def _munge_updatable(new_spec: dict, old_spec: dict, binding: bool | None) -> dict:
    """The new spec with every field a pod update may change set back to the old value."""
    munged = dict(new_spec)
    for key in ("containers", "initContainers"):
        new_list, old_list = new_spec.get(key), old_spec.get(key)
        if isinstance(new_list, list) and isinstance(old_list, list) and len(new_list) == len(old_list):
            merged = []
            for new_c, old_c in zip(new_list, old_list):
                if isinstance(new_c, dict) and isinstance(old_c, dict):
                    new_c = dict(new_c)
                    if "image" in old_c:
                        new_c["image"] = old_c["image"]
                    else:
                        new_c.pop("image", None)
                merged.append(new_c)
            munged[key] = merged
    for key in ("activeDeadlineSeconds", "tolerations"):
        if key in old_spec:
            munged[key] = old_spec[key]
        else:
            munged.pop(key, None)
    old_grace, new_grace = old_spec.get("terminationGracePeriodSeconds"), new_spec.get("terminationGracePeriodSeconds")
    if isinstance(old_grace, int) and old_grace < 0 and new_grace == 1:
        munged["terminationGracePeriodSeconds"] = old_grace
    old_gates, new_gates = old_spec.get("schedulingGates") or [], new_spec.get("schedulingGates") or []
    if isinstance(old_gates, list) and isinstance(new_gates, list) and all(g in old_gates for g in new_gates):
        if "schedulingGates" in old_spec:
            munged["schedulingGates"] = old_spec["schedulingGates"]
        else:
            munged.pop("schedulingGates", None)
    if binding is not False and not old_spec.get("nodeName") and new_spec.get("nodeName"):
        munged.pop("nodeName", None)
        if "nodeName" in old_spec:
            munged["nodeName"] = old_spec["nodeName"]
    return munged


def _spec_diff(old: Any, new: Any, path: str = "spec", limit: int = 8) -> str:
    """A short '-old / +new' listing of where two specs differ (k8s prints a cmp.Diff here)."""
    lines: list[str] = []

    def walk(a: Any, b: Any, at: str) -> None:
        if len(lines) >= 2 * limit or json_equal(a, b):
            return
        if isinstance(a, dict) and isinstance(b, dict):
            for key in list(dict.fromkeys(list(a) + list(b))):
                walk(a.get(key), b.get(key), f"{at}.{key}")
        elif isinstance(a, list) and isinstance(b, list) and len(a) == len(b):
            for i, (x, y) in enumerate(zip(a, b)):
                walk(x, y, f"{at}[{i}]")
        else:
            lines.append(f"-\t{at}: {json_text(a)}")
            lines.append(f"+\t{at}: {json_text(b)}")

    walk(old, new, path)
    return "\n".join(lines)


def _validate_only_added_tolerations(new: Any, old: Any, path: str, errs: Errors) -> None:
    if not isinstance(new, list) or not isinstance(old, list):
        if old and not new:
            errs.append(forbidden(path, "existing toleration can not be modified except its tolerationSeconds"))
        return
    for old_toleration in old:
        if not isinstance(old_toleration, dict):
            continue
        found = False
        for new_toleration in new:
            if not isinstance(new_toleration, dict):
                continue
            same = all(json_equal(old_toleration.get(k), new_toleration.get(k))
                       for k in ("key", "operator", "value", "effect"))
            if same:
                old_seconds, new_seconds = old_toleration.get("tolerationSeconds"), \
                    new_toleration.get("tolerationSeconds")
                if old_seconds is None or (new_seconds is not None and new_seconds <= old_seconds) \
                        or json_equal(old_seconds, new_seconds):
                    found = True
                    break
        if not found:
            errs.append(forbidden(path, "existing toleration can not be modified except its tolerationSeconds"))
            return

