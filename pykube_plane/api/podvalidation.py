"""Validation of PodSpec and PodTemplateSpec, after kubernetes pkg/apis/core/validation.

The checks, field paths and messages are k8s' own for what a control plane of this size serves:
containers (names, images, ports, env, mounts, resources, probes, lifecycle), init containers,
volumes and their sources, restart and DNS policies, scheduling fields (node selector, affinity,
tolerations, topology spread, priority), and the few spec fields a Pod update may change.
"""
from __future__ import annotations

from typing import Any

from .fielderrors import (Errors, FieldError, GoText, duplicate, forbidden, invalid, not_found, not_supported,
                          required)
from .names import (is_config_map_key, is_dns1123_label, is_dns1123_subdomain, is_env_var_name,
                    is_http_header_name, is_label_value, is_valid_port_name, name_is_dns_subdomain)
from .validators import (child, is_valid_ip, json_equal, json_text, nonnegative, one_of, quantity, validate_annotations,
                         validate_dns_label, validate_dns_subdomain, validate_label_selector, validate_labels,
                         validate_port_num_or_name, validate_port_number, validate_protocol,
                         validate_qualified_name, validate_resource_list, validate_resource_requirements)

MAX_INT32 = 2 ** 31 - 1
RESTART_POLICIES = ("Always", "OnFailure", "Never")
DNS_POLICIES = ("ClusterFirstWithHostNet", "ClusterFirst", "Default", "None")
PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
PREEMPTION_POLICIES = ("PreemptLowerPriority", "Never")
TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")
HTTP_SCHEMES = ("HTTP", "HTTPS")
HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate",
                   "Socket")
NODE_SELECTOR_OPERATORS = ("DoesNotExist", "Exists", "Gt", "In", "Lt", "NotIn")

_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gitRepo", "awsElasticBlockStore", "gcePersistentDisk", "secret", "nfs", "iscsi",
    "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI",
    "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
    "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image")
_PROJECTION_SOURCES = ("secret", "downwardAPI", "configMap", "serviceAccountToken", "clusterTrustBundle",
                       "podCertificate")

ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                   "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")
VOLUME_FIELD_PATHS = ("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
                      "metadata.uid")
RESOURCE_FIELD_PATHS = ("limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
                        "requests.ephemeral-storage", "requests.memory")

UPDATABLE_POD_SPEC_FIELDS = (
    "`spec.containers[*].image`", "`spec.initContainers[*].image`", "`spec.activeDeadlineSeconds`",
    "`spec.tolerations` (only additions to existing tolerations)",
    "`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)")


# -- pod templates -----------------------------------------------------------------------------------

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


# -- pod spec ----------------------------------------------------------------------------------------

def validate_pod_spec(spec: dict, path: str, errs: Errors) -> None:
    errs.integer(spec.get("terminationGracePeriodSeconds"), child(path, "terminationGracePeriodSeconds"))
    if spec.get("terminationGracePeriodSeconds") is None:
        errs.append(required(child(path, "terminationGracePeriodSeconds"), "must be set"))
    volumes = _validate_volumes(spec.get("volumes"), child(path, "volumes"), errs)
    containers = errs.items(spec.get("containers"), child(path, "containers"))
    init_containers = errs.items(spec.get("initContainers"), child(path, "initContainers"))
    _validate_containers(containers, volumes, child(path, "containers"), errs)
    _validate_init_containers(init_containers, containers, volumes, child(path, "initContainers"), errs)
    one_of(errs.string(spec.get("restartPolicy"), child(path, "restartPolicy")), child(path, "restartPolicy"),
           RESTART_POLICIES, errs)
    one_of(errs.string(spec.get("dnsPolicy"), child(path, "dnsPolicy")), child(path, "dnsPolicy"),
           DNS_POLICIES, errs)
    validate_labels(spec.get("nodeSelector"), child(path, "nodeSelector"), errs)
    _validate_pod_security_context(spec.get("securityContext"), child(path, "securityContext"), errs)
    _validate_image_pull_secrets(spec.get("imagePullSecrets"), child(path, "imagePullSecrets"), errs)
    _validate_affinity(spec.get("affinity"), child(path, "affinity"), errs)
    _validate_topology_spread(spec.get("topologySpreadConstraints"), child(path, "topologySpreadConstraints"), errs)
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
    _validate_host_aliases(spec.get("hostAliases"), child(path, "hostAliases"), errs)
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


# -- volumes -------------------------------------------------------------------------------------------

def _validate_volumes(value: Any, path: str, errs: Errors) -> dict[str, dict]:
    """ValidateVolumes; answers the valid volumes by name (for mounts)."""
    names: dict[str, dict] = {}
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        volume = errs.mapping(raw, item_path)
        own = Errors()
        name = own.string(volume.get("name"), child(item_path, "name"))
        _validate_volume_source(volume, item_path, own)
        if not name:
            own.append(required(child(item_path, "name")))
        else:
            validate_dns_label(name, child(item_path, "name"), own)
        if name in names:
            own.append(duplicate(child(item_path, "name"), name))
        if own:
            errs.extend(own)
        else:
            names[name] = volume
    return names


def _validate_volume_source(volume: dict, path: str, errs: Errors) -> None:
    count = 0
    for key in _VOLUME_SOURCES:
        if volume.get(key) is None:
            continue
        source_path = child(path, key)
        if count:
            errs.append(forbidden(source_path, "may not specify more than 1 volume type"))
            continue
        count += 1
        source = errs.mapping(volume[key], source_path)
        if key == "emptyDir" and source.get("sizeLimit") is not None:
            limit = quantity(source["sizeLimit"], child(source_path, "sizeLimit"), errs)
            if limit is not None and limit.sign() < 0:
                errs.append(forbidden(child(source_path, "sizeLimit"),
                                      "SizeLimit field must be a valid resource quantity"))
        elif key == "hostPath":
            if not errs.string(source.get("path"), child(source_path, "path")):
                errs.append(required(child(source_path, "path")))
            kind = errs.string(source.get("type"), child(source_path, "type"))
            if kind not in HOST_PATH_TYPES:
                errs.append(not_supported(child(source_path, "type"), kind, HOST_PATH_TYPES))
        elif key == "secret":
            if not errs.string(source.get("secretName"), child(source_path, "secretName")):
                errs.append(required(child(source_path, "secretName")))
            _validate_key_to_paths(source, source_path, errs)
        elif key == "configMap":
            name = errs.string(source.get("name"), child(source_path, "name"))
            if not name:
                errs.append(required(child(source_path, "name")))
            _validate_key_to_paths(source, source_path, errs)
        elif key == "persistentVolumeClaim":
            if not errs.string(source.get("claimName"), child(source_path, "claimName")):
                errs.append(required(child(source_path, "claimName")))
        elif key == "downwardAPI":
            _validate_mode(source.get("defaultMode"), child(source_path, "defaultMode"), errs)
            _validate_downward_items(source.get("items"), child(source_path, "items"), errs)
        elif key == "projected":
            _validate_projected(source, source_path, errs)
        elif key == "nfs":
            if not errs.string(source.get("server"), child(source_path, "server")):
                errs.append(required(child(source_path, "server")))
            nfs_path = errs.string(source.get("path"), child(source_path, "path"))
            if not nfs_path:
                errs.append(required(child(source_path, "path")))
            elif not nfs_path.startswith("/"):
                errs.append(invalid(child(source_path, "path"), nfs_path, "must be an absolute path"))
        elif key == "csi":
            if not errs.string(source.get("driver"), child(source_path, "driver")):
                errs.append(required(child(source_path, "driver")))
    if count == 0:
        errs.append(required(path, "must specify a volume type"))


def _validate_mode(value: Any, path: str, errs: Errors) -> None:
    mode = errs.integer(value, path)
    if mode is not None and not 0 <= mode <= 0o777:
        errs.append(invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive"))


def _validate_local_path(value: str, path: str, errs: Errors) -> None:
    if value.startswith("/"):
        errs.append(invalid(path, value, "must be a relative path"))
    if ".." in value.split("/"):
        errs.append(invalid(path, value, "must not contain '..'"))
    elif value.startswith(".."):
        errs.append(invalid(path, value, "must not start with '..'"))


def _validate_key_to_paths(source: dict, path: str, errs: Errors) -> None:
    _validate_mode(source.get("defaultMode"), child(path, "defaultMode"), errs)
    for i, raw in enumerate(errs.items(source.get("items"), child(path, "items"))):
        item_path = f"{child(path, 'items')}[{i}]"
        item = errs.mapping(raw, item_path)
        key = errs.string(item.get("key"), child(item_path, "key"))
        if not key:
            errs.append(required(child(item_path, "key")))
        item_file = errs.string(item.get("path"), child(item_path, "path"))
        if not item_file:
            errs.append(required(child(item_path, "path")))
        else:
            _validate_local_path(item_file, child(item_path, "path"), errs)
        _validate_mode(item.get("mode"), child(item_path, "mode"), errs)


def _validate_downward_items(value: Any, path: str, errs: Errors) -> None:
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        item = errs.mapping(raw, item_path)
        item_file = errs.string(item.get("path"), child(item_path, "path"))
        if not item_file:
            errs.append(required(child(item_path, "path")))
        else:
            _validate_local_path(item_file, child(item_path, "path"), errs)
        _validate_mode(item.get("mode"), child(item_path, "mode"), errs)
        has_field = item.get("fieldRef") is not None
        has_resource = item.get("resourceFieldRef") is not None
        if has_field:
            validate_field_ref(item["fieldRef"], VOLUME_FIELD_PATHS, child(item_path, "fieldRef"), errs)
        if has_resource:
            validate_resource_field_ref(item["resourceFieldRef"], child(item_path, "resourceFieldRef"), errs,
                                        volume=True)
        if has_field and has_resource:
            errs.append(invalid(item_path, "resource",
                                "fieldRef and resourceFieldRef can not be specified simultaneously"))
        elif not has_field and not has_resource:
            errs.append(required(item_path, "one of fieldRef and resourceFieldRef is required"))


def _validate_projected(source: dict, path: str, errs: Errors) -> None:
    _validate_mode(source.get("defaultMode"), child(path, "defaultMode"), errs)
    for i, raw in enumerate(errs.items(source.get("sources"), child(path, "sources"))):
        item_path = f"{child(path, 'sources')}[{i}]"
        projection = errs.mapping(raw, item_path)
        present = [key for key in _PROJECTION_SOURCES if projection.get(key) is not None]
        if len(present) > 1:
            errs.append(forbidden(item_path, "may not specify more than 1 volume type per source"))
        for key in present:
            part_path = child(item_path, key)
            part = errs.mapping(projection[key], part_path)
            if key in ("secret", "configMap"):
                if not errs.string(part.get("name"), child(part_path, "name")):
                    errs.append(required(child(part_path, "name")))
                _validate_key_to_paths(part, part_path, errs)
            elif key == "downwardAPI":
                _validate_downward_items(part.get("items"), child(part_path, "items"), errs)
            elif key == "serviceAccountToken":
                seconds = errs.integer(part.get("expirationSeconds"), child(part_path, "expirationSeconds"))
                if seconds is not None and seconds < 600:
                    errs.append(invalid(child(part_path, "expirationSeconds"), seconds,
                                        "may not specify a duration less than 10 minutes"))
                elif seconds is not None and seconds > 2 ** 32:
                    errs.append(invalid(child(part_path, "expirationSeconds"), seconds,
                                        "may not specify a duration larger than 2^32 seconds"))
                token_path = errs.string(part.get("path"), child(part_path, "path"))
                if not token_path:
                    errs.append(required(child(part_path, "path")))
                else:
                    _validate_local_path(token_path, child(part_path, "path"), errs)


# -- downward API references ----------------------------------------------------------------------

def validate_field_ref(value: Any, allowed: tuple[str, ...], path: str, errs: Errors) -> None:
    ref = errs.mapping(value, path)
    if not errs.string(ref.get("apiVersion"), child(path, "apiVersion")):
        errs.append(required(child(path, "apiVersion")))
        return
    field_path = errs.string(ref.get("fieldPath"), child(path, "fieldPath"))
    if not field_path:
        errs.append(required(child(path, "fieldPath")))
        return
    base, bracket, rest = field_path.partition("[")
    if bracket and rest.endswith("]"):
        subscript = rest[:-1]
        if len(subscript) >= 2 and subscript[0] == subscript[-1] == "'":
            subscript = subscript[1:-1]
        if base == "metadata.annotations":
            validate_qualified_name(subscript.lower(), path, errs)
        elif base == "metadata.labels":
            validate_qualified_name(subscript, path, errs)
        else:
            errs.append(invalid(path, base, "does not support subscript"))
    elif field_path not in allowed:
        errs.append(not_supported(child(path, "fieldPath"), field_path, sorted(allowed)))


def validate_resource_field_ref(value: Any, path: str, errs: Errors, *, volume: bool) -> None:
    ref = errs.mapping(value, path)
    container = errs.string(ref.get("containerName"), child(path, "containerName"))
    if volume and not container:
        errs.append(required(child(path, "containerName")))
    resource = errs.string(ref.get("resource"), child(path, "resource"))
    if not resource:
        errs.append(required(child(path, "resource")))
        return
    if resource not in RESOURCE_FIELD_PATHS and not resource.startswith(("limits.hugepages-",
                                                                           "requests.hugepages-")):
        errs.append(not_supported(child(path, "resource"), resource, RESOURCE_FIELD_PATHS))
        return
    divisor_raw = ref.get("divisor")
    if divisor_raw is None:
        return
    divisor = quantity(divisor_raw, child(path, "divisor"), errs)
    if divisor is None or divisor.is_zero():
        return
    if resource.endswith(".cpu"):
        allowed = ("1m", "1")
        message = "only divisor's values 1m and 1 are supported with the cpu resource"
    else:
        allowed = ("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei")
        message = ("only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported "
                   "with the memory resource" if resource.endswith(".memory") else
                   "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported "
                   "with the local ephemeral storage resource")
    from .quantity import parse_quantity
    if all(divisor != parse_quantity(text) for text in allowed):
        errs.append(invalid(child(path, "divisor"), str(divisor), message))


# -- containers ------------------------------------------------------------------------------------

def _validate_containers(containers: list, volumes: dict, path: str, errs: Errors) -> None:
    if not containers:
        errs.append(required(path))
        return
    names: set[str] = set()
    for i, raw in enumerate(containers):
        item_path = f"{path}[{i}]"
        container = errs.mapping(raw, item_path)
        name = _validate_container_common(container, volumes, item_path, errs)
        if name in names:
            errs.append(duplicate(child(item_path, "name"), name))
        else:
            names.add(name)
        if container.get("lifecycle") is not None:
            _validate_lifecycle(container["lifecycle"], child(item_path, "lifecycle"), errs)
        _validate_probe(container.get("livenessProbe"), child(item_path, "livenessProbe"), errs, single_success=True)
        _validate_probe(container.get("readinessProbe"), child(item_path, "readinessProbe"), errs)
        _validate_probe(container.get("startupProbe"), child(item_path, "startupProbe"), errs, single_success=True)
        if container.get("restartPolicy") is not None:
            errs.append(forbidden(child(item_path, "restartPolicy"), "may not be set for non-init containers"))
    _check_host_port_conflicts(containers, path, errs)


def _validate_init_containers(init_containers: list, containers: list, volumes: dict, path: str,
                              errs: Errors) -> None:
    taken = {c["name"] for c in containers if isinstance(c, dict) and isinstance(c.get("name"), str)}
    for i, raw in enumerate(init_containers):
        item_path = f"{path}[{i}]"
        container = errs.mapping(raw, item_path)
        name = _validate_container_common(container, volumes, item_path, errs)
        if name in taken:
            errs.append(duplicate(child(item_path, "name"), name))
        else:
            taken.add(name)
        restart = container.get("restartPolicy")
        sidecar = restart == "Always"
        if restart is not None and not sidecar:
            errs.append(not_supported(child(item_path, "restartPolicy"), restart, ["Always"]))
        if sidecar:
            if container.get("lifecycle") is not None:
                _validate_lifecycle(container["lifecycle"], child(item_path, "lifecycle"), errs)
            _validate_probe(container.get("livenessProbe"), child(item_path, "livenessProbe"), errs,
                            single_success=True)
            _validate_probe(container.get("readinessProbe"), child(item_path, "readinessProbe"), errs)
            _validate_probe(container.get("startupProbe"), child(item_path, "startupProbe"), errs,
                            single_success=True)
        else:
            for key in ("lifecycle", "livenessProbe", "readinessProbe", "startupProbe"):
                if container.get(key) is not None:
                    errs.append(forbidden(child(item_path, key),
                                          "may not be set for init containers without restartPolicy=Always"))
    _check_host_port_conflicts(init_containers, path, errs)


def _validate_container_common(container: dict, volumes: dict, path: str, errs: Errors) -> str:
    name = errs.string(container.get("name"), child(path, "name"))
    if not name:
        errs.append(required(child(path, "name")))
    else:
        validate_dns_label(name, child(path, "name"), errs)
    if not errs.string(container.get("image"), child(path, "image")):
        errs.append(required(child(path, "image")))
    one_of(errs.string(container.get("terminationMessagePolicy"), child(path, "terminationMessagePolicy")),
           child(path, "terminationMessagePolicy"), TERMINATION_MESSAGE_POLICIES, errs)
    for key in ("command", "args"):
        for j, item in enumerate(errs.items(container.get(key), child(path, key))):
            errs.string(item, f"{child(path, key)}[{j}]")
    _validate_container_ports(container.get("ports"), child(path, "ports"), errs)
    validate_env(container.get("env"), child(path, "env"), errs)
    _validate_env_from(container.get("envFrom"), child(path, "envFrom"), errs)
    _validate_volume_mounts(container.get("volumeMounts"), volumes, child(path, "volumeMounts"), errs)
    one_of(errs.string(container.get("imagePullPolicy"), child(path, "imagePullPolicy")),
           child(path, "imagePullPolicy"), PULL_POLICIES, errs)
    validate_resource_requirements(container.get("resources"), child(path, "resources"), errs)
    _validate_security_context(container.get("securityContext"), child(path, "securityContext"), errs)
    return name


def _validate_security_context(value: Any, path: str, errs: Errors) -> None:
    context = errs.mapping(value, path)
    for key in ("runAsUser", "runAsGroup"):
        nonnegative(errs.integer(context.get(key), child(path, key)), child(path, key), errs)
    privileged = errs.boolean(context.get("privileged"), child(path, "privileged"))
    escalation = errs.boolean(context.get("allowPrivilegeEscalation"), child(path, "allowPrivilegeEscalation"))
    if privileged and escalation is False:
        errs.append(invalid(path, GoText("securityContext"),
                            "cannot set `allowPrivilegeEscalation` to false and `privileged` to true"))


def _validate_container_ports(value: Any, path: str, errs: Errors) -> None:
    names: set[str] = set()
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        port = errs.mapping(raw, item_path)
        name = errs.string(port.get("name"), child(item_path, "name"))
        if name:
            messages = is_valid_port_name(name)
            for msg in messages:
                errs.append(invalid(child(item_path, "name"), name, msg))
            if not messages:
                if name in names:
                    errs.append(duplicate(child(item_path, "name"), name))
                names.add(name)
        validate_port_number(port.get("containerPort"), child(item_path, "containerPort"), errs,
                             required_if_zero=True)
        validate_port_number(port.get("hostPort"), child(item_path, "hostPort"), errs)
        validate_protocol(port.get("protocol"), child(item_path, "protocol"), errs)
        if port.get("hostIP"):
            host_ip = errs.string(port["hostIP"], child(item_path, "hostIP"))
            if host_ip and not is_valid_ip(host_ip):
                errs.append(invalid(child(item_path, "hostIP"), host_ip,
                                    "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))


def _check_host_port_conflicts(containers: list, path: str, errs: Errors) -> None:
    seen: set[str] = set()
    for i, container in enumerate(containers):
        if not isinstance(container, dict) or not isinstance(container.get("ports"), list):
            continue
        for j, port in enumerate(container["ports"]):
            if not isinstance(port, dict) or not port.get("hostPort"):
                continue
            key = f"{port.get('hostIP') or ''}/{port.get('protocol') or 'TCP'}/{port['hostPort']}"
            if key in seen:
                errs.append(duplicate(f"{path}[{i}].ports[{j}].hostPort", key))
            seen.add(key)


def validate_env(value: Any, path: str, errs: Errors) -> None:
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        env = errs.mapping(raw, item_path)
        name = errs.string(env.get("name"), child(item_path, "name"))
        if not name:
            errs.append(required(child(item_path, "name")))
        for msg in is_env_var_name(name):
            errs.append(invalid(child(item_path, "name"), name, msg))
        env_value = errs.string(env.get("value"), child(item_path, "value"))
        if env.get("valueFrom") is not None:
            _validate_env_value_from(env["valueFrom"], env_value, child(item_path, "valueFrom"), errs)


def _validate_env_value_from(value: Any, env_value: str, path: str, errs: Errors) -> None:
    source = errs.mapping(value, path)
    count = 0
    if source.get("fieldRef") is not None:
        count += 1
        validate_field_ref(source["fieldRef"], ENV_FIELD_PATHS, child(path, "fieldRef"), errs)
    if source.get("resourceFieldRef") is not None:
        count += 1
        validate_resource_field_ref(source["resourceFieldRef"], child(path, "resourceFieldRef"), errs, volume=False)
    for key in ("configMapKeyRef", "secretKeyRef"):
        if source.get(key) is None:
            continue
        count += 1
        ref_path = child(path, key)
        ref = errs.mapping(source[key], ref_path)
        name = errs.string(ref.get("name"), child(ref_path, "name"))
        if not name:
            errs.append(required(child(ref_path, "name")))
        elif key == "secretKeyRef":
            for msg in is_dns1123_subdomain(name):
                errs.append(invalid(child(ref_path, "name"), name, msg))
        ref_key = errs.string(ref.get("key"), child(ref_path, "key"))
        if not ref_key:
            errs.append(required(child(ref_path, "key")))
        else:
            for msg in is_config_map_key(ref_key):
                errs.append(invalid(child(ref_path, "key"), ref_key, msg))
    if count == 0:
        errs.append(invalid(path, "", "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` "
                                      "or `secretKeyRef`"))
    elif env_value:
        errs.append(invalid(path, "", "may not be specified when `value` is not empty"))
    elif count > 1:
        errs.append(invalid(path, "", "may not have more than one field specified at a time"))


def _validate_env_from(value: Any, path: str, errs: Errors) -> None:
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        source = errs.mapping(raw, item_path)
        prefix = errs.string(source.get("prefix"), child(item_path, "prefix"))
        if prefix:
            for msg in is_env_var_name(prefix):
                errs.append(invalid(child(item_path, "prefix"), prefix, msg))
        present = [key for key in ("configMapRef", "secretRef") if source.get(key) is not None]
        for key in present:
            ref = errs.mapping(source[key], child(item_path, key))
            name = errs.string(ref.get("name"), child(item_path, f"{key}.name"))
            if not name:
                errs.append(required(child(item_path, f"{key}.name")))
            else:
                validate_dns_subdomain(name, child(item_path, f"{key}.name"), errs)
        if not present:
            errs.append(invalid(item_path, "", "must specify one of: `configMapRef` or `secretRef`"))
        elif len(present) > 1:
            errs.append(invalid(item_path, "", "may not have more than one field specified at a time"))


def _validate_volume_mounts(value: Any, volumes: dict, path: str, errs: Errors) -> None:
    mount_points: set[str] = set()
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        mount = errs.mapping(raw, item_path)
        name = errs.string(mount.get("name"), child(item_path, "name"))
        if not name:
            errs.append(required(child(item_path, "name")))
        if name not in volumes:
            errs.append(not_found(child(item_path, "name"), name))
        mount_path = errs.string(mount.get("mountPath"), child(item_path, "mountPath"))
        if not mount_path:
            errs.append(required(child(item_path, "mountPath")))
        if mount_path in mount_points:
            errs.append(invalid(child(item_path, "mountPath"), mount_path, "must be unique"))
        mount_points.add(mount_path)
        sub_path = errs.string(mount.get("subPath"), child(item_path, "subPath"))
        if sub_path:
            _validate_local_path(sub_path, child(path, "subPath"), errs)
        errs.boolean(mount.get("readOnly"), child(item_path, "readOnly"))


# -- probes and handlers ---------------------------------------------------------------------------

def _validate_handler(handler: dict, path: str, errs: Errors, *, allow_grpc: bool) -> None:
    kinds = ("exec", "httpGet", "tcpSocket") + (("grpc",) if allow_grpc else ("sleep",))
    count = 0
    for key in kinds:
        if handler.get(key) is None:
            continue
        action_path = child(path, key)
        if count:
            errs.append(forbidden(action_path, "may not specify more than 1 handler type"))
            continue
        count += 1
        action = errs.mapping(handler[key], action_path)
        if key == "exec":
            if not errs.items(action.get("command"), child(action_path, "command")):
                errs.append(required(child(action_path, "command")))
        elif key == "httpGet":
            if not errs.string(action.get("path"), child(action_path, "path")):
                errs.append(required(child(action_path, "path")))
            validate_port_num_or_name(action.get("port"), child(action_path, "port"), errs)
            scheme = errs.string(action.get("scheme"), child(action_path, "scheme"))
            if scheme not in HTTP_SCHEMES:
                errs.append(not_supported(child(action_path, "scheme"), scheme, HTTP_SCHEMES))
            for j, header in enumerate(errs.items(action.get("httpHeaders"), child(action_path, "httpHeaders"))):
                header_name = errs.string(errs.mapping(header, f"{child(action_path, 'httpHeaders')}[{j}]").get(
                    "name"), f"{child(action_path, 'httpHeaders')}[{j}].name")
                for msg in is_http_header_name(header_name):
                    errs.append(invalid(child(action_path, "httpHeaders"), header_name, msg))
        elif key == "tcpSocket":
            validate_port_num_or_name(action.get("port"), child(action_path, "port"), errs)
        elif key == "grpc":
            validate_port_num_or_name(errs.integer(action.get("port"), child(action_path, "port")),
                                      child(action_path, "port"), errs)
        elif key == "sleep":
            seconds = errs.integer(action.get("seconds"), child(action_path, "seconds"))
            if seconds is not None and seconds < 0:
                errs.append(invalid(child(action_path, "seconds"), seconds, "must be non-negative"))
    if count == 0:
        errs.append(required(path, "must specify a handler type"))


def _validate_probe(value: Any, path: str, errs: Errors, *, single_success: bool = False) -> None:
    if value is None:
        return
    probe = errs.mapping(value, path)
    _validate_handler(probe, path, errs, allow_grpc=True)
    for key in ("initialDelaySeconds", "timeoutSeconds", "periodSeconds", "successThreshold", "failureThreshold"):
        nonnegative(errs.integer(probe.get(key), child(path, key)), child(path, key), errs)
    success = probe.get("successThreshold")
    if single_success and isinstance(success, int) and success != 1:
        errs.append(invalid(child(path, "successThreshold"), success, "must be 1"))
    grace = errs.integer(probe.get("terminationGracePeriodSeconds"), child(path, "terminationGracePeriodSeconds"))
    if grace is not None and grace <= 0:
        errs.append(invalid(child(path, "terminationGracePeriodSeconds"), grace, "must be greater than 0"))


def _validate_lifecycle(value: Any, path: str, errs: Errors) -> None:
    lifecycle = errs.mapping(value, path)
    for key in ("postStart", "preStop"):
        if lifecycle.get(key) is not None:
            _validate_handler(errs.mapping(lifecycle[key], child(path, key)), child(path, key), errs,
                              allow_grpc=False)


# -- scheduling fields -----------------------------------------------------------------------------

def validate_tolerations(value: Any, path: str, errs: Errors) -> None:
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        toleration = errs.mapping(raw, item_path)
        key = errs.string(toleration.get("key"), child(item_path, "key"))
        operator = errs.string(toleration.get("operator"), child(item_path, "operator"))
        tol_value = errs.string(toleration.get("value"), child(item_path, "value"))
        effect = errs.string(toleration.get("effect"), child(item_path, "effect"))
        seconds = errs.integer(toleration.get("tolerationSeconds"), child(item_path, "tolerationSeconds"))
        if key:
            validate_qualified_name(key, child(item_path, "key"), errs)
        if not key and operator != "Exists":
            errs.append(invalid(child(item_path, "operator"), operator, "operator must be Exists when `key` is "
                                "empty, which means \"match all values and all keys\""))
        if seconds is not None and effect != "NoExecute":
            errs.append(invalid(child(item_path, "effect"), effect,
                                "effect must be 'NoExecute' when `tolerationSeconds` is set"))
        if operator in ("Equal", ""):
            messages = is_label_value(tol_value)
            if messages:
                errs.append(invalid(child(item_path, "operator"), tol_value, ";".join(messages)))
        elif operator == "Exists":
            if tol_value:
                errs.append(invalid(child(item_path, "operator"), GoText(_go_toleration(toleration)),
                                    "value must be empty when `operator` is 'Exists'"))
        else:
            errs.append(not_supported(child(item_path, "operator"), operator, ["Equal", "Exists"]))
        if effect and effect not in TAINT_EFFECTS:
            errs.append(not_supported(child(item_path, "effect"), effect, TAINT_EFFECTS))


def _go_toleration(toleration: dict) -> str:
    seconds = toleration.get("tolerationSeconds")
    return (f'core.Toleration{{Key:"{toleration.get("key") or ""}", Operator:"{toleration.get("operator") or ""}", '
            f'Value:"{toleration.get("value") or ""}", Effect:"{toleration.get("effect") or ""}", '
            f'TolerationSeconds:{"(*int64)(nil)" if seconds is None else f"&{seconds}"}}}')


def _validate_host_aliases(value: Any, path: str, errs: Errors) -> None:
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        alias = errs.mapping(raw, item_path)
        ip = errs.string(alias.get("ip"), child(item_path, "ip"))
        if not is_valid_ip(ip):
            errs.append(invalid(child(item_path, "ip"), ip,
                                "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)"))
        for j, hostname in enumerate(errs.items(alias.get("hostnames"), child(item_path, "hostnames"))):
            hostname = errs.string(hostname, f"{child(item_path, 'hostnames')}[{j}]")
            validate_dns_subdomain(hostname, f"{child(item_path, 'hostnames')}[{j}]", errs)


def _validate_node_selector_requirement(value: Any, path: str, errs: Errors, *, for_fields: bool) -> None:
    requirement = errs.mapping(value, path)
    key = errs.string(requirement.get("key"), child(path, "key"))
    operator = errs.string(requirement.get("operator"), child(path, "operator"))
    values = [errs.string(v, f"{child(path, 'values')}[{j}]")
              for j, v in enumerate(errs.items(requirement.get("values"), child(path, "values")))]
    if operator in ("In", "NotIn"):
        if not values:
            errs.append(required(child(path, "values"), "must be specified when `operator` is 'In' or 'NotIn'"))
    elif operator in ("Exists", "DoesNotExist"):
        if values:
            errs.append(forbidden(child(path, "values"),
                                  "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
    elif operator in ("Gt", "Lt"):
        if len(values) != 1:
            errs.append(required(child(path, "values"), "must be specified single value when `operator` is 'Lt' "
                                                       "or 'Gt'"))
    else:
        errs.append(invalid(child(path, "operator"), operator, "not a valid selector operator"))
    if not for_fields:
        validate_qualified_name(key, child(path, "key"), errs)


def _validate_node_selector_term(value: Any, path: str, errs: Errors) -> None:
    term = errs.mapping(value, path)
    for i, expr in enumerate(errs.items(term.get("matchExpressions"), child(path, "matchExpressions"))):
        _validate_node_selector_requirement(expr, f"{child(path, 'matchExpressions')}[{i}]", errs, for_fields=False)
    for i, expr in enumerate(errs.items(term.get("matchFields"), child(path, "matchFields"))):
        _validate_node_selector_requirement(expr, f"{child(path, 'matchFields')}[{i}]", errs, for_fields=True)


def _validate_weight(term: dict, path: str, errs: Errors) -> None:
    weight = errs.integer(term.get("weight"), child(path, "weight"))
    if weight is None or not 1 <= weight <= 100:
        errs.append(invalid(child(path, "weight"), weight if weight is not None else 0,
                            "must be in the range 1-100"))


def _validate_pod_affinity_term(value: Any, path: str, errs: Errors) -> None:
    term = errs.mapping(value, path)
    if term.get("labelSelector") is not None:
        validate_label_selector(term["labelSelector"], child(path, "labelSelector"), errs)
    if term.get("namespaceSelector") is not None:
        validate_label_selector(term["namespaceSelector"], child(path, "namespaceSelector"), errs)
    for j, namespace in enumerate(errs.items(term.get("namespaces"), child(path, "namespaces"))):
        namespace = errs.string(namespace, f"{child(path, 'namespaces')}[{j}]")
        for msg in is_dns1123_label(namespace):
            errs.append(invalid(child(path, "namespace"), namespace, msg))
    topology_key = errs.string(term.get("topologyKey"), child(path, "topologyKey"))
    if not topology_key:
        errs.append(required(child(path, "topologyKey"), "can not be empty"))
    else:
        validate_qualified_name(topology_key, child(path, "topologyKey"), errs)


def _validate_affinity(value: Any, path: str, errs: Errors) -> None:
    affinity = errs.mapping(value, path)
    node = errs.mapping(affinity.get("nodeAffinity"), child(path, "nodeAffinity"))
    node_path = child(path, "nodeAffinity")
    required_terms = node.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required_terms is not None:
        selector_path = child(node_path, "requiredDuringSchedulingIgnoredDuringExecution")
        selector = errs.mapping(required_terms, selector_path)
        terms = errs.items(selector.get("nodeSelectorTerms"), child(selector_path, "nodeSelectorTerms"))
        if not terms:
            errs.append(required(child(selector_path, "nodeSelectorTerms"),
                                 "must have at least one node selector term"))
        for i, term in enumerate(terms):
            _validate_node_selector_term(term, f"{child(selector_path, 'nodeSelectorTerms')}[{i}]", errs)
    preferred_path = child(node_path, "preferredDuringSchedulingIgnoredDuringExecution")
    for i, raw in enumerate(errs.items(node.get("preferredDuringSchedulingIgnoredDuringExecution"), preferred_path)):
        item_path = f"{preferred_path}[{i}]"
        term = errs.mapping(raw, item_path)
        _validate_weight(term, item_path, errs)
        _validate_node_selector_term(term.get("preference"), child(item_path, "preference"), errs)
    for kind in ("podAffinity", "podAntiAffinity"):
        kind_path = child(path, kind)
        pod = errs.mapping(affinity.get(kind), kind_path)
        required_path = child(kind_path, "requiredDuringSchedulingIgnoredDuringExecution")
        for i, term in enumerate(errs.items(pod.get("requiredDuringSchedulingIgnoredDuringExecution"),
                                            required_path)):
            _validate_pod_affinity_term(term, f"{required_path}[{i}]", errs)
        preferred_path = child(kind_path, "preferredDuringSchedulingIgnoredDuringExecution")
        for i, raw in enumerate(errs.items(pod.get("preferredDuringSchedulingIgnoredDuringExecution"),
                                           preferred_path)):
            item_path = f"{preferred_path}[{i}]"
            term = errs.mapping(raw, item_path)
            _validate_weight(term, item_path, errs)
            _validate_pod_affinity_term(term.get("podAffinityTerm"), child(item_path, "podAffinityTerm"), errs)


def _validate_topology_spread(value: Any, path: str, errs: Errors) -> None:
    seen: set[tuple[str, str]] = set()
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        constraint = errs.mapping(raw, item_path)
        skew = errs.integer(constraint.get("maxSkew"), child(item_path, "maxSkew"))
        if skew is None or skew <= 0:
            errs.append(invalid(child(item_path, "maxSkew"), skew if skew is not None else 0,
                                "must be greater than zero"))
        key = errs.string(constraint.get("topologyKey"), child(item_path, "topologyKey"))
        if not key:
            errs.append(required(child(item_path, "topologyKey"), "can not be empty"))
        else:
            validate_qualified_name(key, child(item_path, "topologyKey"), errs)
        action = errs.string(constraint.get("whenUnsatisfiable"), child(item_path, "whenUnsatisfiable"))
        if action not in ("DoNotSchedule", "ScheduleAnyway"):
            errs.append(not_supported(child(item_path, "whenUnsatisfiable"), action,
                                      ["DoNotSchedule", "ScheduleAnyway"]))
        if (key, action) in seen:
            errs.append(duplicate(item_path, GoText(f"{{{key}, {action}}}")))
        seen.add((key, action))
        min_domains = errs.integer(constraint.get("minDomains"), child(item_path, "minDomains"))
        if min_domains is not None:
            if min_domains <= 0:
                errs.append(invalid(child(item_path, "minDomains"), min_domains, "must be greater than 0"))
            elif action != "DoNotSchedule":
                errs.append(invalid(child(item_path, "minDomains"), min_domains,
                                    "can only use minDomains if whenUnsatisfiable=DoNotSchedule, "
                                    f"not {action}"))
        if constraint.get("labelSelector") is not None:
            validate_label_selector(constraint["labelSelector"], child(item_path, "labelSelector"), errs)


# -- pod updates --------------------------------------------------------------------------------------

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


def qos_class_of(obj: dict) -> Any:
    status = obj.get("status")
    return status.get("qosClass") if isinstance(status, dict) else None


__all__ = ["validate_pod_spec", "validate_pod_template", "validate_pod_spec_update", "validate_tolerations",
           "validate_env", "template_labels", "template_restart_policy", "FieldError"]
