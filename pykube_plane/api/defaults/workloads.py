"""Defaults of the workloads: Deployment, ReplicaSet, ReplicationController, Job (and the Job's
create-time selector and labels).
"""
from __future__ import annotations

from .common import (
    CONTROLLER_UID_LABEL,
    JOB_NAME_LABEL,
    LEGACY_CONTROLLER_UID_LABEL,
    LEGACY_JOB_NAME_LABEL,
    dict_at,
    dicts_in,
)
from .pods import default_pod_spec


def _default_template_owner(obj: dict) -> None:
    """Kinds holding spec.template (a PodTemplateSpec)."""
    spec = dict_at(obj, "spec")
    if spec is None:
        return
    template = spec.get("template")
    if isinstance(template, dict):
        template_spec = dict_at(template, "spec")
        if template_spec is not None:
            default_pod_spec(template_spec)


def default_deployment(obj: dict) -> None:
    _default_template_owner(obj)
    spec = dict_at(obj, "spec")
    if spec is None:
        return
    if spec.get("replicas") is None:
        spec["replicas"] = 1
    strategy = dict_at(spec, "strategy")
    if strategy is not None:
        if not strategy.get("type"):
            strategy["type"] = "RollingUpdate"
        if strategy["type"] == "RollingUpdate":
            rolling = dict_at(strategy, "rollingUpdate")
            if rolling is not None:
                if rolling.get("maxUnavailable") is None:
                    rolling["maxUnavailable"] = "25%"
                if rolling.get("maxSurge") is None:
                    rolling["maxSurge"] = "25%"
    if spec.get("revisionHistoryLimit") is None:
        spec["revisionHistoryLimit"] = 10
    if spec.get("progressDeadlineSeconds") is None:
        spec["progressDeadlineSeconds"] = 600


def default_replica_set(obj: dict) -> None:
    _default_template_owner(obj)
    spec = dict_at(obj, "spec")
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
    metadata = dict_at(obj, "metadata")
    if labels and metadata is not None and not metadata.get("labels"):
        metadata["labels"] = dict(labels)


def default_replication_controller(obj: dict) -> None:
    _default_template_owner(obj)
    spec = dict_at(obj, "spec")
    if spec is None:
        return
    labels = _template_labels(obj)
    if labels:
        if not spec.get("selector"):
            spec["selector"] = dict(labels)
        _copy_template_labels_to_object(obj)
    if spec.get("replicas") is None:
        spec["replicas"] = 1


def default_job(obj: dict) -> None:
    _default_template_owner(obj)
    spec = dict_at(obj, "spec")
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
        for rule in dicts_in(failure_policy, "rules"):
            for pattern in dicts_in(rule, "onPodConditions"):
                if not pattern.get("status"):
                    pattern["status"] = "True"
    if spec.get("podReplacementPolicy") is None:
        spec["podReplacementPolicy"] = "Failed" if failure_policy is not None else "TerminatingOrFailed"


def prepare_job(obj: dict) -> None:
    """generateSelector: label the pods with the job's uid and name, and select by uid."""
    spec = dict_at(obj, "spec")
    metadata = obj.get("metadata")
    if spec is None or not isinstance(metadata, dict) or spec.get("manualSelector") is True:
        return
    uid, name = metadata.get("uid"), metadata.get("name")
    if not isinstance(uid, str) or not uid or not isinstance(name, str):
        return
    template = dict_at(spec, "template")
    template_meta = dict_at(template, "metadata") if template is not None else None
    labels = dict_at(template_meta, "labels") if template_meta is not None else None
    if labels is not None:
        for key in (LEGACY_JOB_NAME_LABEL, JOB_NAME_LABEL):
            labels.setdefault(key, name)
        for key in (LEGACY_CONTROLLER_UID_LABEL, CONTROLLER_UID_LABEL):
            labels.setdefault(key, uid)
    selector = dict_at(spec, "selector")
    if selector is not None:
        match_labels = dict_at(selector, "matchLabels")
        if match_labels is not None:
            match_labels.setdefault(CONTROLLER_UID_LABEL, uid)
    _copy_template_labels_to_object(obj)
    obj.pop("status", None)
