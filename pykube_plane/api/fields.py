"""Field selectors (`?fieldSelector=spec.nodeName=n1,status.phase!=Running`) and selectable fields.

Only a few fields per kind are selectable, as in kube-apiserver; `object_fields(kind, obj)` gives
them as strings (a missing field reads as ""), and `convert_field_selector(kind, selector)` refuses
any other with k8s' 'field label not supported: x'. Values may escape `\\`, `,` and `=` with `\\`.
"""
from __future__ import annotations

from typing import Any, Mapping


class FieldSelectorError(ValueError):
    """An unparsable selector or an unsupported field; str() is the k8s message (400 Bad Request)."""


EQUALS = "="
NOT_EQUALS = "!="
_TERM_OPERATORS = ("!=", "==", "=")    # "==" before "=" so the value keeps no leading '='


class FieldRequirement:
    """`field=value` or `field!=value` (== is read as =)."""

    __slots__ = ("field", "operator", "value")

    def __init__(self, field: str, operator: str, value: str) -> None:
        self.field = field
        self.operator = operator
        self.value = value

    def matches(self, fields: Mapping[str, str]) -> bool:
        have = fields.get(self.field, "")
        return have == self.value if self.operator == EQUALS else have != self.value

    def __str__(self) -> str:
        return f"{self.field}{self.operator}{escape_value(self.value)}"

    def __repr__(self) -> str:
        return f"FieldRequirement({self.field!r}, {self.operator!r}, {self.value!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FieldRequirement) and self.field == other.field
                and self.operator == other.operator and self.value == other.value)

    def __hash__(self) -> int:
        return hash((self.field, self.operator, self.value))


class FieldSelector:
    """An AND of field requirements; empty selects everything."""

    __slots__ = ("requirements",)

    def __init__(self, requirements: tuple[FieldRequirement, ...] = ()) -> None:
        self.requirements = requirements

    def matches(self, fields: Mapping[str, str]) -> bool:
        for requirement in self.requirements:
            if not requirement.matches(fields):
                return False
        return True

    @property
    def empty(self) -> bool:
        return not self.requirements

    def requires_exact_match(self, field: str) -> str | None:
        """The value `field` must equal (so a cache can use its index), else None."""
        for requirement in self.requirements:
            if requirement.field == field and requirement.operator == EQUALS:
                return requirement.value
        return None

    def check_supported(self, kind: str) -> "FieldSelector":
        """This selector with aliases rewritten; FieldSelectorError ('field label not supported: x')
        for a field `kind` does not offer."""
        return convert_field_selector(kind, self)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return f"FieldSelector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return isinstance(other, FieldSelector) and self.requirements == other.requirements

    def __hash__(self) -> int:
        return hash(self.requirements)


def escape_value(value: str) -> str:
    return value.replace("\\", "\\\\").replace(",", "\\,").replace("=", "\\=")


def unescape_value(value: str) -> str:
    if not any(ch in value for ch in "\\,="):
        return value
    out = []
    in_slash = False
    for ch in value:
        if in_slash:
            if ch not in "\\,=":
                raise FieldSelectorError(f"invalid field selector: invalid escape sequence: \\{ch}")
            out.append(ch)
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch in ",=":
            # Go prints the rune with %v, i.e. its code point
            raise FieldSelectorError(f"invalid field selector: unescaped character in value: {ord(ch)}")
        else:
            out.append(ch)
    if in_slash:
        raise FieldSelectorError("invalid field selector: invalid escape sequence: \\")
    return "".join(out)


def _split_terms(text: str) -> list[str]:
    terms, start, in_slash = [], 0, False
    for i, ch in enumerate(text):
        if in_slash:
            in_slash = False
        elif ch == "\\":
            in_slash = True
        elif ch == ",":
            terms.append(text[start:i])
            start = i + 1
    terms.append(text[start:])
    return terms


def _split_term(term: str) -> tuple[str, str, str] | None:
    for i in range(len(term)):
        for op in _TERM_OPERATORS:
            if term.startswith(op, i):
                return term[:i], op, term[i + len(op):]
    return None


def parse_field_selector(text: str) -> FieldSelector:
    """Parse `?fieldSelector=`; "" selects everything. Raises FieldSelectorError."""
    if not text:
        return FieldSelector()
    requirements = []
    for part in sorted(_split_terms(text)):
        if not part:
            continue
        split = _split_term(part)
        if split is None:
            raise FieldSelectorError(f"invalid selector: '{text}'; can't understand '{part}'")
        field, op, raw = split
        requirements.append(FieldRequirement(field, NOT_EQUALS if op == "!=" else EQUALS, unescape_value(raw)))
    return FieldSelector(tuple(requirements))


# -- selectable fields per kind --------------------------------------------------------------
# As kube-apiserver's field label conversion functions accept them: each kind with its own function
# names the exact set (Node and Namespace offer no metadata.namespace); any other kind takes the
# default metav1 pair. ReplicaSet keeps status.replicas, which its registry strategy exposes.

_CLUSTER_SCOPED = frozenset({"Namespace", "Node", "ClusterRole", "ClusterRoleBinding", "PriorityClass",
                             "PersistentVolume", "StorageClass"})

_META_FIELDS = ("metadata.name", "metadata.namespace")

_KIND_FIELDS: dict[str, tuple[str, ...]] = {
    "Pod": _META_FIELDS + ("spec.nodeName", "spec.restartPolicy", "spec.schedulerName", "spec.serviceAccountName",
                           "spec.hostNetwork", "status.phase", "status.podIP", "status.nominatedNodeName"),
    "Event": _META_FIELDS + ("involvedObject.kind", "involvedObject.namespace", "involvedObject.name",
                             "involvedObject.uid", "involvedObject.apiVersion", "involvedObject.resourceVersion",
                             "involvedObject.fieldPath", "reason", "reportingComponent", "source", "type"),
    "Secret": _META_FIELDS + ("type",),
    "Service": _META_FIELDS + ("spec.clusterIP", "spec.type"),
    "Namespace": ("metadata.name", "status.phase"),
    "Node": ("metadata.name", "spec.unschedulable"),
    "ReplicationController": _META_FIELDS + ("status.replicas",),
    "ReplicaSet": _META_FIELDS + ("status.replicas",),
    "Job": _META_FIELDS + ("status.successful",),
}

# Old names still accepted and rewritten (v1 clients once sent spec.host for pods).
_ALIASES: dict[str, dict[str, str]] = {"Pod": {"spec.host": "spec.nodeName"}}

_SELECTABLE = {kind: frozenset(names) for kind, names in _KIND_FIELDS.items()}
_DEFAULT_SELECTABLE = frozenset(_META_FIELDS)


def selectable_fields(kind: str) -> frozenset[str]:
    """The field labels `kind` can be selected by (what `object_fields` fills in)."""
    return _SELECTABLE.get(kind, _DEFAULT_SELECTABLE)


def unsupported_field_message(kind: str, field: str) -> str:
    """The conversion function's refusal, worded per kind as kube-apiserver words it."""
    if kind == "Job":
        return f'field label "{field}" not supported for batchv1.Job'
    if kind in _SELECTABLE:
        return f"field label not supported: {field}"
    return f'"{field}" is not a known field selector: only "metadata.name", "metadata.namespace"'


def convert_field_selector(kind: str, selector: FieldSelector) -> FieldSelector:
    """Rewrite aliases and refuse unsupported fields (FieldSelectorError, a 400 Bad Request)."""
    supported = selectable_fields(kind)
    aliases = _ALIASES.get(kind, {})
    out = []
    for requirement in selector.requirements:
        field = aliases.get(requirement.field, requirement.field)
        if field not in supported:
            raise FieldSelectorError(unsupported_field_message(kind, requirement.field))
        out.append(requirement if field == requirement.field
                   else FieldRequirement(field, requirement.operator, requirement.value))
    return FieldSelector(tuple(out))


def _dict(value: Any) -> Mapping:
    return value if isinstance(value, Mapping) else {}


def _text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) else str(value)


def object_fields(kind: str, obj: Mapping) -> dict[str, str]:
    """The selectable fields of `obj` as strings, keyed by field label."""
    meta = _dict(obj.get("metadata"))
    out = {"metadata.name": _text(meta.get("name")),
           "metadata.namespace": "" if kind in _CLUSTER_SCOPED else _text(meta.get("namespace"))}
    spec = _dict(obj.get("spec"))
    status = _dict(obj.get("status"))
    if kind == "Pod":
        out["spec.nodeName"] = _text(spec.get("nodeName"))
        out["spec.restartPolicy"] = _text(spec.get("restartPolicy"))
        out["spec.schedulerName"] = _text(spec.get("schedulerName"))
        out["spec.serviceAccountName"] = _text(spec.get("serviceAccountName"))
        out["spec.hostNetwork"] = "true" if spec.get("hostNetwork") is True else "false"
        out["status.phase"] = _text(status.get("phase"))
        pod_ips = status.get("podIPs")
        first = pod_ips[0] if isinstance(pod_ips, list) and pod_ips else None
        out["status.podIP"] = _text(_dict(first).get("ip")) if first else _text(status.get("podIP"))
        out["status.nominatedNodeName"] = _text(status.get("nominatedNodeName"))
    elif kind == "Event":
        involved = _dict(obj.get("involvedObject"))
        for name in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath"):
            out[f"involvedObject.{name}"] = _text(involved.get(name))
        out["reason"] = _text(obj.get("reason"))
        out["reportingComponent"] = _text(obj.get("reportingComponent"))
        out["source"] = _text(_dict(obj.get("source")).get("component"))
        out["type"] = _text(obj.get("type"))
    elif kind == "Secret":
        out["type"] = _text(obj.get("type"))
    elif kind == "Service":
        out["spec.clusterIP"] = _text(spec.get("clusterIP"))
        out["spec.type"] = _text(spec.get("type"))
    elif kind == "Namespace":
        out["status.phase"] = _text(status.get("phase"))
    elif kind == "Node":
        out["spec.unschedulable"] = "true" if spec.get("unschedulable") is True else "false"
    elif kind in ("ReplicationController", "ReplicaSet"):
        out["status.replicas"] = _text(status.get("replicas", 0))
    elif kind == "Job":
        out["status.successful"] = _text(status.get("succeeded", 0))
    return out
