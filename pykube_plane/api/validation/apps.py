"""Kinds of the apps group: Deployment, ReplicaSet, and the selector/template rules every
replicated workload shares (pkg/apis/apps/validation).
"""
from __future__ import annotations

from typing import Any

from ..fielderrors import (
    FIELD_IMMUTABLE,
    Errors,
    GoText,
    forbidden,
    invalid,
    not_supported,
    required,
)
from ..validators import (
    child,
    go_label_selector,
    int_or_percent,
    json_equal,
    nonnegative,
    positive,
    selector_matches,
    validate_label_selector,
)
from .podspec import template_labels, template_restart_policy, validate_pod_template


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


def validate_replicated_template(spec: dict, selector: dict | None, errs: Errors, owner: str) -> None:
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


def validate_deployment(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    nonnegative(errs.integer(spec.get("replicas"), "spec.replicas"), "spec.replicas", errs)
    selector = _validate_workload_selector(spec, errs)
    validate_replicated_template(spec, selector, errs, "ReplicaSet")
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


def validate_replica_set(obj: dict, old: dict | None, errs: Errors) -> None:
    spec = errs.mapping(obj.get("spec"), "spec")
    nonnegative(errs.integer(spec.get("replicas"), "spec.replicas"), "spec.replicas", errs)
    nonnegative(errs.integer(spec.get("minReadySeconds"), "spec.minReadySeconds"), "spec.minReadySeconds", errs)
    selector = _validate_workload_selector(spec, errs)
    validate_replicated_template(spec, selector, errs, "ReplicaSet")
    if old is not None:
        _selector_immutable(spec, old, errs)
