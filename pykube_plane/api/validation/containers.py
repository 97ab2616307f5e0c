"""Containers and init containers of a pod spec: names, images, ports, env, mounts, resources,
probes, lifecycle handlers, security context.
"""
from __future__ import annotations

from typing import Any

from ..fielderrors import (
    Errors,
    GoText,
    duplicate,
    forbidden,
    invalid,
    not_found,
    not_supported,
    required,
)
from ..names import (
    is_config_map_key,
    is_dns1123_subdomain,
    is_env_var_name,
    is_http_header_name,
    is_valid_port_name,
)
from ..validators import (
    child,
    is_valid_ip,
    nonnegative,
    one_of,
    validate_dns_label,
    validate_dns_subdomain,
    validate_port_num_or_name,
    validate_port_number,
    validate_protocol,
    validate_resource_requirements,
)
from .volumes import validate_field_ref, validate_local_path, validate_resource_field_ref

PULL_POLICIES = ("Always", "IfNotPresent", "Never")
TERMINATION_MESSAGE_POLICIES = ("File", "FallbackToLogsOnError")
HTTP_SCHEMES = ("HTTP", "HTTPS")
ENV_FIELD_PATHS = ("metadata.name", "metadata.namespace", "metadata.uid", "spec.nodeName",
                   "spec.serviceAccountName", "status.hostIP", "status.hostIPs", "status.podIP", "status.podIPs")


def validate_containers(containers: list, volumes: dict, path: str, errs: Errors) -> None:
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


def validate_init_containers(init_containers: list, containers: list, volumes: dict, path: str,
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
            validate_local_path(sub_path, child(path, "subPath"), errs)
        errs.boolean(mount.get("readOnly"), child(item_path, "readOnly"))


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
