"""The scheduling fields of a pod spec: tolerations, host aliases, node and pod affinity, topology
spread constraints.
"""
from __future__ import annotations

from typing import Any

from ..fielderrors import (
    Errors,
    GoText,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from ..names import is_dns1123_label, is_label_value
from ..validators import (
    child,
    is_valid_ip,
    validate_dns_subdomain,
    validate_label_selector,
    validate_qualified_name,
)

TAINT_EFFECTS = ("NoSchedule", "PreferNoSchedule", "NoExecute")


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


def validate_host_aliases(value: Any, path: str, errs: Errors) -> None:
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


def validate_affinity(value: Any, path: str, errs: Errors) -> None:
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


def validate_topology_spread(value: Any, path: str, errs: Errors) -> None:
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
