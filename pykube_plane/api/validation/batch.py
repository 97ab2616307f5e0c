"""Kinds of the batch group: Job and its pod failure policy (pkg/apis/batch/validation)."""
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
from ..names import is_dns1123_label
from ..validators import (
    child,
    go_label_selector,
    immutable,
    json_equal,
    json_text,
    nonnegative,
    selector_matches,
    validate_label_selector,
    validate_qualified_name,
)
from .metadata import object_name
from .podspec import template_labels, template_restart_policy, validate_pod_template


def validate_job(obj: dict, old: dict | None, errs: Errors) -> None:
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
            name = object_name(obj)
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
