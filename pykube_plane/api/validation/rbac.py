"""Kinds of the rbac.authorization.k8s.io group: Role, ClusterRole, RoleBinding,
ClusterRoleBinding (pkg/apis/rbac/validation).
"""
from __future__ import annotations

from ..fielderrors import (
    Errors,
    GoText,
    invalid,
    not_supported,
    required,
)
from ..kinds import RBAC_GROUP
from ..names import name_is_dns_subdomain, name_is_path_segment
from ..validators import (
    json_equal,
    validate_label_selector,
)


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


def validate_role(obj: dict, old: dict | None, errs: Errors) -> None:
    _validate_rules(obj, errs, namespaced=True)


def validate_cluster_role(obj: dict, old: dict | None, errs: Errors) -> None:
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


def validate_role_binding(obj: dict, old: dict | None, errs: Errors) -> None:
    _validate_binding(obj, old, errs, namespaced=True)


def validate_cluster_role_binding(obj: dict, old: dict | None, errs: Errors) -> None:
    _validate_binding(obj, old, errs, namespaced=False)
