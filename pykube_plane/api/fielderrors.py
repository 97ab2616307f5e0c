"""Field errors as apimachinery's `field.Error` renders them, and the Status texts built from them.

A `FieldError` is (type, field, detail, bad_value). Its text is k8s' exactly:

    FieldError(INVALID, "metadata.name", "a lowercase RFC 1123 ...", "Web").body()
        -> 'Invalid value: "Web": a lowercase RFC 1123 ...'
    str(error) -> 'metadata.name: Invalid value: "Web": a lowercase RFC 1123 ...'

Bad values print as Go's fmt would print the typed value: strings %q, numbers and booleans %v,
string slices and maps %#v (`[]string{"a"}`, `map[string]string{"k":"v"}`). A value that Go would
print as a struct is passed pre-rendered as `GoText`.
"""
from __future__ import annotations

from typing import Any, Iterable

from .kinds import qualified_kind

NOT_FOUND = "FieldValueNotFound"
REQUIRED = "FieldValueRequired"
DUPLICATE = "FieldValueDuplicate"
INVALID = "FieldValueInvalid"
NOT_SUPPORTED = "FieldValueNotSupported"
FORBIDDEN = "FieldValueForbidden"
TOO_LONG = "FieldValueTooLong"
TOO_MANY = "FieldValueTooMany"
INTERNAL = "InternalError"
TYPE_INVALID = "FieldValueTypeInvalid"

_TYPE_TEXT = {NOT_FOUND: "Not found", REQUIRED: "Required value", DUPLICATE: "Duplicate value",
              INVALID: "Invalid value", NOT_SUPPORTED: "Unsupported value", FORBIDDEN: "Forbidden",
              TOO_LONG: "Too long", TOO_MANY: "Too many", INTERNAL: "Internal error",
              TYPE_INVALID: "Invalid value"}
# These print no bad value, whatever they carry.
_VALUELESS = frozenset({REQUIRED, FORBIDDEN, TOO_LONG, INTERNAL})

FIELD_IMMUTABLE = "field is immutable"
IS_NEGATIVE = "must be greater than or equal to 0"
IS_NOT_POSITIVE = "must be greater than 0"
IS_NOT_INTEGER = "must be an integer"


class GoText(str):
    """A bad value already rendered the way Go prints it (a struct, an IntOrString...)."""


_OMIT = object()


def go_quote(value: str) -> str:
    """strconv.Quote for the strings that appear in messages."""
    out = ['"']
    for ch in value:
        if ch in '"\\':
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ch == "\r":
            out.append("\\r")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        elif not ch.isprintable():
            out.append(f"\\u{ord(ch):04x}" if ord(ch) <= 0xFFFF else f"\\U{ord(ch):08x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _go_number(value: int | float) -> str:
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e21:
        return str(int(value))
    return repr(value)          # Go's %v of a float64 is the shortest form too ("1.5", "1e+21")


def go_value(value: Any) -> str:
    """How a bad value prints inside 'Invalid value: ...'."""
    if isinstance(value, GoText):
        return str(value)
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (int, float)):
        return _go_number(value)
    if isinstance(value, str):
        return go_quote(value)
    if isinstance(value, list):
        if all(isinstance(v, str) for v in value):
            return "[]string{" + ", ".join(go_quote(v) for v in value) + "}"
        return "[]interface {}{" + ", ".join(go_value(v) for v in value) + "}"
    if isinstance(value, dict):
        if all(isinstance(v, str) for v in value.values()):
            return "map[string]string{" + ", ".join(f"{go_quote(k)}:{go_quote(value[k])}"
                                                     for k in sorted(value)) + "}"
        return "map[string]interface {}{" + ", ".join(f"{go_quote(k)}:{go_value(value[k])}"
                                                      for k in sorted(value)) + "}"
    return str(value)


class FieldError:
    """One validation failure at a field path (apimachinery field.Error)."""

    __slots__ = ("type", "field", "detail", "bad_value")

    def __init__(self, type: str, field: str, detail: str = "", bad_value: Any = _OMIT) -> None:
        self.type = type
        self.field = field
        self.detail = detail
        self.bad_value = bad_value

    def body(self) -> str:
        """ErrorBody(): the message without the field path (StatusCause.message)."""
        text = _TYPE_TEXT.get(self.type, self.type)
        if self.type not in _VALUELESS and self.bad_value is not _OMIT:
            text = f"{text}: {go_value(self.bad_value)}"
        if self.detail:
            text = f"{text}: {self.detail}"
        return text

    def __str__(self) -> str:
        return f"{self.field}: {self.body()}"

    def __repr__(self) -> str:
        return f"FieldError({self.type!r}, {self.field!r}, {self.detail!r}, {self.bad_value!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, FieldError) and self.type == other.type and self.field == other.field
                and self.detail == other.detail and self.bad_value == other.bad_value)

    def __hash__(self) -> int:
        return hash((self.type, self.field, self.detail))

    def as_cause(self) -> dict[str, str]:
        return {"reason": self.type, "message": self.body(), "field": self.field}


# -- constructors named after apimachinery's -----------------------------------------------------

def required(field: str, detail: str = "") -> FieldError:
    return FieldError(REQUIRED, field, detail)


def invalid(field: str, value: Any, detail: str) -> FieldError:
    return FieldError(INVALID, field, detail, value)


def not_supported(field: str, value: Any, supported: Iterable[str]) -> FieldError:
    values = list(supported)
    detail = "supported values: " + ", ".join(go_quote(str(v)) for v in values) if values else ""
    return FieldError(NOT_SUPPORTED, field, detail, value)


def duplicate(field: str, value: Any) -> FieldError:
    return FieldError(DUPLICATE, field, "", value)


def forbidden(field: str, detail: str) -> FieldError:
    return FieldError(FORBIDDEN, field, detail)


def not_found(field: str, value: Any) -> FieldError:
    return FieldError(NOT_FOUND, field, "", value)


def too_long(field: str, max_length: int) -> FieldError:
    return FieldError(TOO_LONG, field, f"must have at most {max_length} bytes")


def type_invalid(field: str, value: Any, expected: str) -> FieldError:
    return FieldError(TYPE_INVALID, field, f"must be of type {expected}", value)


# -- Status texts ---------------------------------------------------------------------------------

def aggregate_message(errors: Iterable[FieldError]) -> str:
    """ErrorList.ToAggregate().Error(): one message alone, several in brackets, repeats dropped."""
    seen: list[str] = []
    for error in errors:
        text = str(error)
        if text not in seen:
            seen.append(text)
    if len(seen) == 1:
        return seen[0]
    return "[" + ", ".join(seen) + "]"


def invalid_message(kind: str, name: str, errors: Iterable[FieldError]) -> str:
    """NewInvalid's Status message: 'Deployment.apps "web" is invalid: [spec.replicas: ...]'."""
    return f"{qualified_kind(kind)} {go_quote(name)} is invalid: {aggregate_message(errors)}"


def causes(errors: Iterable[FieldError]) -> list[dict[str, str]]:
    """StatusDetails.causes, one per error: {reason, message, field}."""
    return [error.as_cause() for error in errors]


# -- reading user JSON without trusting its types --------------------------------------------------

def _shown(value: Any) -> Any:
    """A wrongly typed JSON value as a bad value: scalars as themselves, containers by kind."""
    if isinstance(value, dict):
        return GoText("object")
    if isinstance(value, list):
        return GoText("array")
    return value


class Errors(list):
    """A FieldError list that also reads fields of decoded JSON, recording a type error (and
    answering an empty value) wherever the JSON holds the wrong type. None reads as absent."""

    def add(self, *errors: FieldError) -> None:
        self.extend(errors)

    def mapping(self, value: Any, path: str) -> dict:
        if value is None:
            return {}
        if isinstance(value, dict):
            return value
        self.append(type_invalid(path, _shown(value), "object"))
        return {}

    def items(self, value: Any, path: str) -> list:
        if value is None:
            return []
        if isinstance(value, list):
            return value
        self.append(type_invalid(path, _shown(value), "array"))
        return []

    def string(self, value: Any, path: str) -> str:
        if value is None:
            return ""
        if isinstance(value, str):
            return value
        self.append(type_invalid(path, _shown(value), "string"))
        return ""

    def integer(self, value: Any, path: str) -> int | None:
        if value is None:
            return None
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        if isinstance(value, float) and value.is_integer():
            return int(value)
        self.append(type_invalid(path, _shown(value), "integer"))
        return None

    def boolean(self, value: Any, path: str) -> bool | None:
        if value is None or isinstance(value, bool):
            return value
        self.append(type_invalid(path, _shown(value), "boolean"))
        return None

    def string_map(self, value: Any, path: str) -> dict[str, str]:
        """A map[string]string (labels, selectors, data): non-string values are type errors."""
        out = {}
        for key, item in self.mapping(value, path).items():
            if isinstance(item, str):
                out[key] = item
            else:
                self.append(type_invalid(f"{path}[{key}]", _shown(item), "string"))
        return out
