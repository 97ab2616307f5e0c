"""Field rules shared by every kind's validation: labels, annotations, selectors, names, numbers,
quantities and resource names, each reporting k8s' field errors into an `Errors` list."""
from __future__ import annotations

import ipaddress
from typing import Any, Iterable

import orjson

from .fielderrors import (FIELD_IMMUTABLE, IS_NEGATIVE, IS_NOT_INTEGER, IS_NOT_POSITIVE, Errors, GoText,
                          forbidden, invalid, not_supported, required, too_long)
from .labels import SelectorError, selector_from_label_selector
from .names import (is_config_map_key, is_dns1123_label, is_dns1123_subdomain, is_label_value,
                    is_qualified_name, is_valid_port_name, is_valid_port_num)
from .quantity import Quantity, QuantityError, parse_quantity_value

TOTAL_ANNOTATION_SIZE_LIMIT = 256 * 1024
SUPPORTED_PORT_PROTOCOLS = ("SCTP", "TCP", "UDP")


def child(path: str, name: str) -> str:
    return f"{path}.{name}" if path else name


def json_equal(a: Any, b: Any) -> bool:
    """reflect.DeepEqual over decoded JSON (1 == 1.0, true != 1)."""
    if a is b:
        return True
    if isinstance(a, (dict, list)):
        # Python's == is looser (True == 1) but never stricter, so a miss is final; a hit is
        # confirmed by identical sorted encodings, and only a mismatch there walks the trees.
        if a != b:
            return False
        try:
            if orjson.dumps(a, option=orjson.OPT_SORT_KEYS) == orjson.dumps(b, option=orjson.OPT_SORT_KEYS):
                return True
        except (TypeError, orjson.JSONEncodeError):
            pass
        return _json_equal_walk(a, b)
    return _json_equal_walk(a, b)


def _json_equal_walk(a: Any, b: Any) -> bool:
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_json_equal_walk(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_json_equal_walk(x, y) for x, y in zip(a, b))
    return a == b and (type(a) is type(b) or isinstance(a, (int, float)) and isinstance(b, (int, float)))


def json_text(value: Any) -> str:
    """Compact JSON of a decoded value for messages; never raises (ints past 64 bits included)."""
    try:
        return orjson.dumps(value).decode()
    except (TypeError, orjson.JSONEncodeError):
        return repr(value)


# -- labels, annotations, selectors --------------------------------------------------------------

def validate_labels(value: Any, path: str, errs: Errors) -> dict[str, str]:
    """ValidateLabels: every key a qualified name, every value a label value; path is the map's."""
    labels = errs.string_map(value, path)
    for key, item in labels.items():
        for msg in is_qualified_name(key):
            errs.append(invalid(path, key, msg))
        for msg in is_label_value(item):
            errs.append(invalid(path, item, msg))
    return labels


def validate_annotations(value: Any, path: str, errs: Errors) -> dict[str, str]:
    annotations = errs.string_map(value, path)
    total = 0
    for key, item in annotations.items():
        for msg in is_qualified_name(key.lower()):
            errs.append(invalid(path, key, msg))
        total += len(key.encode()) + len(item.encode())
    if total > TOTAL_ANNOTATION_SIZE_LIMIT:
        errs.append(too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT))
    return annotations


def go_label_selector(selector: dict) -> GoText:
    """%#v of a *metav1.LabelSelector, as k8s prints it in 'field is immutable' errors."""
    labels = selector.get("matchLabels") if isinstance(selector, dict) else None
    exprs = selector.get("matchExpressions") if isinstance(selector, dict) else None
    if isinstance(labels, dict) and labels:
        shown_labels = "map[string]string{" + ", ".join(f'"{k}":"{labels[k]}"' for k in sorted(labels)) + "}"
    else:
        shown_labels = "map[string]string(nil)"
    if isinstance(exprs, list) and exprs:
        parts = []
        for e in exprs:
            e = e if isinstance(e, dict) else {}
            values = e.get("values") or []
            shown_values = ("[]string{" + ", ".join(f'"{v}"' for v in values) + "}") if values else "[]string(nil)"
            parts.append(f'v1.LabelSelectorRequirement{{Key:"{e.get("key", "")}", Operator:"{e.get("operator", "")}", '
                         f'Values:{shown_values}}}')
        shown_exprs = "[]v1.LabelSelectorRequirement{" + ", ".join(parts) + "}"
    else:
        shown_exprs = "[]v1.LabelSelectorRequirement(nil)"
    return GoText(f"&v1.LabelSelector{{MatchLabels:{shown_labels}, MatchExpressions:{shown_exprs}}}")


def validate_label_selector(value: Any, path: str, errs: Errors) -> dict:
    """metav1 ValidateLabelSelector (invalid label values not allowed)."""
    selector = errs.mapping(value, path)
    validate_labels(selector.get("matchLabels"), child(path, "matchLabels"), errs)
    for i, raw in enumerate(errs.items(selector.get("matchExpressions"), child(path, "matchExpressions"))):
        expr_path = f"{child(path, 'matchExpressions')}[{i}]"
        expr = errs.mapping(raw, expr_path)
        operator = errs.string(expr.get("operator"), child(expr_path, "operator"))
        values = [errs.string(v, f"{child(expr_path, 'values')}[{j}]")
                  for j, v in enumerate(errs.items(expr.get("values"), child(expr_path, "values")))]
        if operator in ("In", "NotIn"):
            if not values:
                errs.append(required(child(expr_path, "values"),
                                     "must be specified when `operator` is 'In' or 'NotIn'"))
        elif operator in ("Exists", "DoesNotExist"):
            if values:
                errs.append(forbidden(child(expr_path, "values"),
                                      "may not be specified when `operator` is 'Exists' or 'DoesNotExist'"))
        else:
            errs.append(invalid(child(expr_path, "operator"), operator, "not a valid selector operator"))
        key = errs.string(expr.get("key"), child(expr_path, "key"))
        for msg in is_qualified_name(key):
            errs.append(invalid(child(expr_path, "key"), key, msg))
        for j, item in enumerate(values):
            for msg in is_label_value(item):
                errs.append(invalid(f"{child(expr_path, 'values')}[{j}]", item, msg))
    return selector


def selector_matches(selector: dict, labels: dict[str, str]) -> bool | None:
    """Whether a LabelSelector object selects these labels; None when it is not a valid selector."""
    try:
        return selector_from_label_selector(selector).matches(labels)
    except SelectorError:
        return None


# -- names and simple values ------------------------------------------------------------------------

def validate_dns_label(value: str, path: str, errs: Errors) -> None:
    for msg in is_dns1123_label(value):
        errs.append(invalid(path, value, msg))


def validate_dns_subdomain(value: str, path: str, errs: Errors) -> None:
    for msg in is_dns1123_subdomain(value):
        errs.append(invalid(path, value, msg))


def validate_qualified_name(value: str, path: str, errs: Errors) -> None:
    for msg in is_qualified_name(value):
        errs.append(invalid(path, value, msg))


def validate_config_key(value: str, path: str, errs: Errors) -> None:
    for msg in is_config_map_key(value):
        errs.append(invalid(path, value, msg))


def nonnegative(value: int | None, path: str, errs: Errors) -> None:
    if value is not None and value < 0:
        errs.append(invalid(path, value, IS_NEGATIVE))


def positive(value: int | None, path: str, errs: Errors) -> None:
    if value is not None and value <= 0:
        errs.append(invalid(path, value, IS_NOT_POSITIVE))


def one_of(value: str, path: str, supported: Iterable[str], errs: Errors, *, required_if_empty: bool = True) -> None:
    """Required when empty, NotSupported when not listed."""
    supported = tuple(supported)
    if not value:
        if required_if_empty:
            errs.append(required(path))
    elif value not in supported:
        errs.append(not_supported(path, value, supported))


def immutable(new: Any, old: Any, path: str, errs: Errors, shown: Any = None) -> None:
    """ValidateImmutableField: 'field is immutable' with the new value."""
    if not json_equal(new, old):
        errs.append(invalid(path, new if shown is None else shown, FIELD_IMMUTABLE))


def validate_port_number(value: Any, path: str, errs: Errors, *, required_if_zero: bool = False) -> int | None:
    port = errs.integer(value, path)
    if port is None or port == 0:
        if required_if_zero:
            errs.append(required(path))
        return port
    for msg in is_valid_port_num(port):
        errs.append(invalid(path, port, msg))
    return port


def validate_port_num_or_name(value: Any, path: str, errs: Errors) -> None:
    """IntOrString target ports: a number 1-65535 or an IANA service name."""
    if isinstance(value, str):
        for msg in is_valid_port_name(value):
            errs.append(invalid(path, value, msg))
    elif isinstance(value, int) and not isinstance(value, bool):
        for msg in is_valid_port_num(value):
            errs.append(invalid(path, value, msg))
    elif value is not None:
        errs.append(invalid(path, GoText(str(value)), "must be an integer or a string"))


def validate_protocol(value: Any, path: str, errs: Errors) -> None:
    one_of(errs.string(value, path), path, SUPPORTED_PORT_PROTOCOLS, errs)


def is_valid_ip(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        return False
    return "%" not in value


def int_or_percent(value: Any) -> tuple[int, bool] | None:
    """(amount, is_percent) of an IntOrString like "25%" or 2; None when malformed."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value, False
    if isinstance(value, str) and value.endswith("%") and value[:-1].isdigit() and value[:-1].isascii():
        return int(value[:-1]), True
    return None


# -- quantities and resource names ------------------------------------------------------------------

def quantity(value: Any, path: str, errs: Errors) -> Quantity | None:
    """A quantity field: parse errors are reported with apimachinery's message."""
    try:
        return parse_quantity_value(value)
    except QuantityError as err:
        errs.append(invalid(path, value if isinstance(value, (str, int, float)) else GoText(str(value)), str(err)))
        return None


def validate_nonnegative_quantity(q: Quantity, path: str, errs: Errors) -> None:
    if q.sign() < 0:
        errs.append(invalid(path, str(q), IS_NEGATIVE))


_STANDARD_CONTAINER_RESOURCES = frozenset({"cpu", "memory", "ephemeral-storage"})
_STANDARD_RESOURCES = frozenset({
    "cpu", "memory", "ephemeral-storage", "storage", "pods", "services", "replicationcontrollers",
    "resourcequotas", "secrets", "configmaps", "persistentvolumeclaims", "services.nodeports",
    "services.loadbalancers", "requests.cpu", "requests.memory", "requests.storage",
    "requests.ephemeral-storage", "limits.cpu", "limits.memory", "limits.ephemeral-storage"})
_INTEGER_RESOURCES = frozenset({"pods", "services", "replicationcontrollers", "resourcequotas", "secrets",
                                "configmaps", "persistentvolumeclaims", "services.nodeports",
                                "services.loadbalancers"})


def is_hugepages(name: str) -> bool:
    return name.startswith("hugepages-") or name.startswith("requests.hugepages-")


def is_native_resource(name: str) -> bool:
    prefix, sep, _ = name.partition("/")
    return not sep or prefix == "kubernetes.io" or prefix.endswith(".kubernetes.io")


def is_overcommit_allowed(name: str) -> bool:
    return is_native_resource(name) and not is_hugepages(name)


def is_integer_resource(name: str) -> bool:
    return name in _INTEGER_RESOURCES or not is_native_resource(name) or name.startswith("count/")


def validate_resource_name(name: str, path: str, errs: Errors, *, container: bool = False) -> bool:
    """The key of a ResourceList: a qualified name, standard unless prefixed. True if valid."""
    before = len(errs)
    for msg in is_qualified_name(name):
        errs.append(invalid(path, name, msg))
    if len(errs) > before:
        return False
    if "/" not in name:
        standard = (name in _STANDARD_CONTAINER_RESOURCES or name.startswith("hugepages-")) if container \
            else (name in _STANDARD_RESOURCES or is_hugepages(name) or name.startswith("count/"))
        if not standard:
            errs.append(invalid(path, name, "must be a standard resource for containers" if container
                                else "must be a standard resource type or fully qualified"))
            return False
    return True


def validate_resource_list(value: Any, path: str, errs: Errors, *, container: bool = False) -> dict[str, Quantity]:
    """Names and quantities of a ResourceList (nonnegative; whole numbers for counted resources)."""
    out: dict[str, Quantity] = {}
    for name, raw in errs.mapping(value, path).items():
        item_path = f"{path}[{name}]"
        validate_resource_name(name, item_path, errs, container=container)
        q = quantity(raw, item_path, errs)
        if q is None:
            continue
        validate_nonnegative_quantity(q, item_path, errs)
        if is_integer_resource(name) and q.milli_value() % 1000:
            errs.append(invalid(item_path, str(q), IS_NOT_INTEGER))
        out[name] = q
    return out


def validate_resource_requirements(value: Any, path: str, errs: Errors) -> None:
    """ValidateResourceRequirements for a container (or a pod's spec.resources)."""
    resources = errs.mapping(value, path)
    limits_path, requests_path = child(path, "limits"), child(path, "requests")
    limits = validate_resource_list(resources.get("limits"), limits_path, errs, container=True)
    requests = validate_resource_list(resources.get("requests"), requests_path, errs, container=True)
    for name, request in requests.items():
        limit = limits.get(name)
        if limit is not None:
            if request != limit and not is_overcommit_allowed(name):
                errs.append(invalid(requests_path, str(request), f"must be equal to {name} limit of {limit}"))
            elif request > limit:
                errs.append(invalid(requests_path, str(request),
                                    f"must be less than or equal to {name} limit of {limit}"))
        elif not is_overcommit_allowed(name):
            errs.append(required(limits_path, "Limit must be set for non overcommitable resources"))
