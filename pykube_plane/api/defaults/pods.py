"""Defaults of pods, pod templates and the pod spec (containers, probes, env, volumes), as
kube-apiserver's v1 defaulters set them.
"""
from __future__ import annotations

import re
from typing import Any

from ..quantity import canonical_text
from .common import (
    DEFAULT_SCHEDULER_NAME,
    DEFAULT_TERMINATION_GRACE_PERIOD,
    SYSTEM_PRIORITIES,
    canonical_resources,
    dict_at,
    dicts_in,
)
from .qos import qos_class

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
    for port in dicts_in(container, "ports"):
        if not port.get("protocol"):
            port["protocol"] = "TCP"
    for env in dicts_in(container, "env"):
        _default_field_refs(env.get("valueFrom"))
    resources = dict_at(container, "resources")
    if resources is not None:
        for key in ("requests", "limits"):
            canonical_resources(resources.get(key))
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
        for item in dicts_in(downward, "items"):
            _default_field_refs(item)
    projected = volume.get("projected")
    if isinstance(projected, dict):
        for source in dicts_in(projected, "sources"):
            token = source.get("serviceAccountToken")
            if isinstance(token, dict):
                token.setdefault("expirationSeconds", 3600)
            projected_downward = source.get("downwardAPI")
            if isinstance(projected_downward, dict):
                for item in dicts_in(projected_downward, "items"):
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
        for container in dicts_in(spec, key):
            _default_container(container)
    for volume in dicts_in(spec, "volumes"):
        _default_volume(volume)
    resources = spec.get("resources")
    if isinstance(resources, dict):
        for key in ("requests", "limits"):
            canonical_resources(resources.get(key))
    canonical_resources(spec.get("overhead"))


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


def default_pod(pod: dict) -> None:
    spec = dict_at(pod, "spec")
    if spec is None:
        return
    default_pod_spec(spec)
    # Pods only (not templates): a limit without a request requests the limit.
    for key in ("containers", "initContainers"):
        for container in dicts_in(spec, key):
            _requests_from_limits(container.get("resources"))
    _requests_from_limits(spec.get("resources"))
    if spec.get("hostNetwork") is True:
        # Pods only: a template's host ports stay as written (DefaultHostNetworkHostPortsInPodTemplates off).
        for key in ("containers", "initContainers"):
            for container in dicts_in(spec, key):
                for port in dicts_in(container, "ports"):
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


def default_pod_template(obj: dict) -> None:
    template = obj.get("template")
    if isinstance(template, dict):
        spec = dict_at(template, "spec")
        if spec is not None:
            default_pod_spec(spec)


def prepare_pod(pod: dict) -> None:
    status = dict_at(pod, "status")
    if status is None:
        pod["status"] = status = {}
    if not status.get("phase"):
        status["phase"] = "Pending"
    status["qosClass"] = qos_class(pod)
