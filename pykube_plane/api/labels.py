"""Label selectors: the string syntax of `?labelSelector=` and the LabelSelector object of specs.

String syntax (apimachinery labels.Parse), requirements joined by commas, all must hold:

    env=prod  env==prod  env!=prod       exact match / mismatch (a missing key matches !=)
    env in (a,b)  env notin (a,b)        set membership (a missing key matches notin)
    env  !env                            exists / does not exist
    n>3  n<3                             integer comparison (the key must exist and parse)

Parse errors carry k8s' text, e.g. "unable to parse requirement: found '', expected: identifier".
A parsed `Selector` exposes `requirements` sorted by key, so a cache can pick an index for
`key=value`, and prints back in k8s' normal form (`str(selector)`).
"""
from __future__ import annotations

from typing import Iterable, Mapping

from .names import is_label_key, is_label_value

IN = "in"
NOT_IN = "notin"
EQUALS = "="
DOUBLE_EQUALS = "=="
NOT_EQUALS = "!="
EXISTS = "exists"
DOES_NOT_EXIST = "!"
GREATER_THAN = "gt"
LESS_THAN = "lt"

_BINARY_OPERATORS = (IN, NOT_IN, EQUALS, DOUBLE_EQUALS, NOT_EQUALS, GREATER_THAN, LESS_THAN)
_VALID_OPERATORS = _BINARY_OPERATORS + (EXISTS, DOES_NOT_EXIST)


class SelectorError(ValueError):
    """An unparsable or invalid selector; str() is the k8s message (400 Bad Request)."""


def _quote(value: object) -> str:
    """Go's %q for the strings that appear in these messages."""
    text = str(value)
    out = ['"']
    for ch in text:
        if ch == '"' or ch == "\\":
            out.append("\\" + ch)
        elif ch == "\n":
            out.append("\\n")
        elif ch == "\t":
            out.append("\\t")
        elif ord(ch) < 32 or ord(ch) == 127:
            out.append(f"\\x{ord(ch):02x}")
        else:
            out.append(ch)
    out.append('"')
    return "".join(out)


def _go_string_slice(values: Iterable[str]) -> str:
    return "[]string{" + ", ".join(_quote(v) for v in values) + "}"


def _invalid(path: str, value: str, detail: str) -> str:
    return f"{path}: Invalid value: {value}: {detail}"


class Requirement:
    """One `key <op> values` term. Build with `Requirement.new` to get k8s' validation."""

    __slots__ = ("key", "operator", "values", "_value_set")

    def __init__(self, key: str, operator: str, values: tuple[str, ...]) -> None:
        self.key = key
        self.operator = operator
        self.values = values
        self._value_set = frozenset(values)

    @classmethod
    def new(cls, key: str, operator: str, values: Iterable[str] = (), path: str | None = None) -> "Requirement":
        """NewRequirement: validates the key, the operator's arity, and every value."""
        values = tuple(values)
        root = f"{path}." if path else ""
        errors: list[str] = []
        key_errors = is_label_key(key)
        if key_errors:
            errors.append(_invalid(f"{root}key", _quote(key), "; ".join(key_errors)))
        values_path = f"{root}values"
        if operator in (IN, NOT_IN):
            if not values:
                errors.append(_invalid(values_path, _go_string_slice(values),
                                       "for 'in', 'notin' operators, values set can't be empty"))
        elif operator in (EQUALS, DOUBLE_EQUALS, NOT_EQUALS):
            if len(values) != 1:
                errors.append(_invalid(values_path, _go_string_slice(values),
                                       "exact-match compatibility requires one single value"))
        elif operator in (EXISTS, DOES_NOT_EXIST):
            if values:
                errors.append(_invalid(values_path, _go_string_slice(values),
                                       "values set must be empty for exists and does not exist"))
        elif operator in (GREATER_THAN, LESS_THAN):
            if len(values) != 1:
                errors.append(_invalid(values_path, _go_string_slice(values),
                                       "for 'Gt', 'Lt' operators, exactly one value is required"))
            for i, value in enumerate(values):
                if _parse_int64(value) is None:
                    errors.append(_invalid(f"{values_path}[{i}]", _quote(value),
                                           "for 'Gt', 'Lt' operators, the value must be an integer"))
        else:
            supported = ", ".join(_quote(op) for op in _VALID_OPERATORS)
            errors.append(f"{root}operator: Unsupported value: {_quote(operator)}: supported values: {supported}")
        for i, value in enumerate(values):
            value_errors = is_label_value(value)
            if value_errors:
                errors.append(_invalid(f"{values_path}[{i}][{key}]", _quote(value), "; ".join(value_errors)))
        if errors:
            raise SelectorError(errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")
        return cls(key, operator, values)

    def matches(self, labels: Mapping[str, str]) -> bool:
        op = self.operator
        if op in (EQUALS, DOUBLE_EQUALS, IN):
            value = labels.get(self.key)
            return value is not None and value in self._value_set
        if op in (NOT_EQUALS, NOT_IN):
            value = labels.get(self.key)
            return value is None or value not in self._value_set
        if op == EXISTS:
            return self.key in labels
        if op == DOES_NOT_EXIST:
            return self.key not in labels
        if op in (GREATER_THAN, LESS_THAN):
            value = labels.get(self.key)
            if value is None or len(self.values) != 1:
                return False
            have, want = _parse_int64(value), _parse_int64(self.values[0])
            if have is None or want is None:
                return False
            return have > want if op == GREATER_THAN else have < want
        return False

    def __str__(self) -> str:
        op = self.operator
        if op == EXISTS:
            return self.key
        if op == DOES_NOT_EXIST:
            return "!" + self.key
        values = self.values[0] if len(self.values) == 1 else ",".join(sorted(self.values))
        if op in (IN, NOT_IN):
            return f"{self.key} {op} ({values})"
        symbol = {GREATER_THAN: ">", LESS_THAN: "<"}.get(op, op)
        return f"{self.key}{symbol}{values}"

    def __repr__(self) -> str:
        return f"Requirement({self.key!r}, {self.operator!r}, {self.values!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Requirement) and self.key == other.key and self.operator == other.operator
                and self.values == other.values)

    def __hash__(self) -> int:
        return hash((self.key, self.operator, self.values))


def _parse_int64(text: str) -> int | None:
    body = text[1:] if text[:1] in ("+", "-") else text
    if not body or not body.isascii() or not body.isdigit():
        return None
    value = int(text)
    return value if -2 ** 63 <= value < 2 ** 63 else None


class Selector:
    """An AND of requirements (sorted by key). `Selector.nothing()` matches no object at all."""

    __slots__ = ("requirements", "_nothing")

    def __init__(self, requirements: Iterable[Requirement] = (), _nothing: bool = False) -> None:
        # Stable sort by key, as apimachinery does, so printing and indexing are deterministic.
        self.requirements: tuple[Requirement, ...] = tuple(sorted(requirements, key=lambda r: r.key))
        self._nothing = _nothing

    @classmethod
    def everything(cls) -> "Selector":
        return _EVERYTHING

    @classmethod
    def nothing(cls) -> "Selector":
        return _NOTHING

    def matches(self, labels: Mapping[str, str] | None) -> bool:
        if self._nothing:
            return False
        if labels is None:
            labels = {}
        for requirement in self.requirements:
            if not requirement.matches(labels):
                return False
        return True

    @property
    def empty(self) -> bool:
        """True when it selects everything."""
        return not self._nothing and not self.requirements

    @property
    def matches_nothing(self) -> bool:
        return self._nothing

    def requires_exact_match(self, key: str) -> str | None:
        """The single value `key` must have (from =, == or a one-value in), else None."""
        for requirement in self.requirements:
            if requirement.key == key:
                if requirement.operator in (EQUALS, DOUBLE_EQUALS, IN) and len(requirement.values) == 1:
                    return requirement.values[0]
                return None
        return None

    def add(self, *requirements: Requirement) -> "Selector":
        if self._nothing:
            return self
        return Selector(self.requirements + requirements)

    def __str__(self) -> str:
        return ",".join(str(r) for r in self.requirements)

    def __repr__(self) -> str:
        return "Selector.nothing()" if self._nothing else f"Selector({str(self)!r})"

    def __eq__(self, other: object) -> bool:
        return (isinstance(other, Selector) and self._nothing == other._nothing
                and self.requirements == other.requirements)

    def __hash__(self) -> int:
        return hash((self.requirements, self._nothing))


_EVERYTHING = Selector()
_NOTHING = Selector((), _nothing=True)


# -- the string syntax: a lexer and a recursive-descent parser like apimachinery's ------------

_T_ERROR, _T_END, _T_CLOSE, _T_COMMA, _T_NOT, _T_DEQ, _T_EQ, _T_GT, _T_ID, _T_IN, _T_LT, _T_NEQ, _T_NOTIN, \
    _T_OPEN = range(14)

_TOKENS = {")": _T_CLOSE, ",": _T_COMMA, "!": _T_NOT, "==": _T_DEQ, "=": _T_EQ, ">": _T_GT, "in": _T_IN,
           "<": _T_LT, "!=": _T_NEQ, "notin": _T_NOTIN, "(": _T_OPEN}
_SPECIAL = frozenset("=!(),><")
_SPACE = frozenset(" \t\r\n")


def _lex(text: str) -> list[tuple[int, str]]:
    items: list[tuple[int, str]] = []
    pos, end = 0, len(text)
    while True:
        while pos < end and text[pos] in _SPACE:
            pos += 1
        if pos >= end:
            items.append((_T_END, ""))
            return items
        if text[pos] in _SPECIAL:
            # longest run of special characters that still forms a known operator
            buffer, last = "", None
            while pos < end and text[pos] in _SPECIAL:
                candidate = buffer + text[pos]
                if candidate in _TOKENS:
                    buffer, last = candidate, (_TOKENS[candidate], candidate)
                    pos += 1
                elif last is not None:
                    break
                else:
                    buffer = candidate
                    pos += 1
            if last is None:
                items.append((_T_ERROR, f"error expected: keyword found '{buffer}'"))
            else:
                items.append(last)
        else:
            start = pos
            while pos < end and text[pos] not in _SPECIAL and text[pos] not in _SPACE:
                pos += 1
            word = text[start:pos]
            items.append((_TOKENS.get(word, _T_ID), word))


class _Parser:
    KEY_AND_OPERATOR, VALUES = 0, 1

    def __init__(self, text: str) -> None:
        self.items = _lex(text)
        self.position = 0

    def _token(self, index: int, context: int) -> tuple[int, str]:
        tok, lit = self.items[index]
        if context == self.VALUES and tok in (_T_IN, _T_NOTIN):
            tok = _T_ID                     # 'in' is a fine value: "x in (in)"
        return tok, lit

    def lookahead(self, context: int) -> tuple[int, str]:
        return self._token(self.position, context)

    def consume(self, context: int) -> tuple[int, str]:
        self.position += 1
        return self._token(self.position - 1, context)

    def parse(self) -> list[Requirement]:
        requirements: list[Requirement] = []
        while True:
            tok, lit = self.lookahead(self.VALUES)
            if tok in (_T_ID, _T_NOT):
                try:
                    requirements.append(self.parse_requirement())
                except SelectorError as err:
                    raise SelectorError(f"unable to parse requirement: {err}") from None
                tok, lit = self.consume(self.VALUES)
                if tok == _T_END:
                    return requirements
                if tok == _T_COMMA:
                    tok2, lit2 = self.lookahead(self.VALUES)
                    if tok2 not in (_T_ID, _T_NOT):
                        raise SelectorError(f"found '{lit2}', expected: identifier after ','")
                else:
                    raise SelectorError(f"found '{lit}', expected: ',' or 'end of string'")
            elif tok == _T_END:
                return requirements
            else:
                raise SelectorError(f"found '{lit}', expected: !, identifier, or 'end of string'")

    def parse_requirement(self) -> Requirement:
        key, operator = self.parse_key_and_infer_operator()
        if operator in (EXISTS, DOES_NOT_EXIST):
            return Requirement.new(key, operator, ())
        operator = self.parse_operator()
        if operator in (IN, NOT_IN):
            values = self.parse_values()
        else:
            values = self.parse_exact_value()
        return Requirement.new(key, operator, sorted(values))

    def parse_key_and_infer_operator(self) -> tuple[str, str]:
        operator = ""
        tok, lit = self.consume(self.VALUES)
        if tok == _T_NOT:
            operator = DOES_NOT_EXIST
            tok, lit = self.consume(self.VALUES)
        if tok != _T_ID:
            raise SelectorError(f"found '{lit}', expected: identifier")
        key_errors = is_label_key(lit)
        if key_errors:
            raise SelectorError(_invalid("<nil>", _quote(lit), "; ".join(key_errors)))
        tok, _ = self.lookahead(self.VALUES)
        if tok in (_T_END, _T_COMMA) and operator != DOES_NOT_EXIST:
            operator = EXISTS
        return lit, operator

    def parse_operator(self) -> str:
        tok, lit = self.consume(self.KEY_AND_OPERATOR)
        operator = {_T_IN: IN, _T_EQ: EQUALS, _T_DEQ: DOUBLE_EQUALS, _T_GT: GREATER_THAN, _T_LT: LESS_THAN,
                    _T_NOTIN: NOT_IN, _T_NEQ: NOT_EQUALS}.get(tok)
        if operator is None:
            raise SelectorError(f"found '{lit}', expected: {', '.join(_BINARY_OPERATORS)}")
        return operator

    def parse_values(self) -> set[str]:
        tok, lit = self.consume(self.VALUES)
        if tok != _T_OPEN:
            raise SelectorError(f"found '{lit}' expected: '('")
        tok, lit = self.lookahead(self.VALUES)
        if tok in (_T_ID, _T_COMMA):
            values = self.parse_identifiers_list()
            tok, _ = self.consume(self.VALUES)
            if tok != _T_CLOSE:
                raise SelectorError(f"found '{lit}', expected: ')'")
            return values
        if tok == _T_CLOSE:                 # "()" is the set holding the empty string
            self.consume(self.VALUES)
            return {""}
        raise SelectorError(f"found '{lit}', expected: ',', ')' or identifier")

    def parse_identifiers_list(self) -> set[str]:
        values: set[str] = set()
        while True:
            tok, lit = self.consume(self.VALUES)
            if tok == _T_ID:
                values.add(lit)
                tok2, lit2 = self.lookahead(self.VALUES)
                if tok2 == _T_COMMA:
                    continue
                if tok2 == _T_CLOSE:
                    return values
                raise SelectorError(f"found '{lit2}', expected: ',' or ')'")
            if tok == _T_COMMA:             # "(,a" "a,,b" "a,)" all hold the empty string
                if not values:
                    values.add("")
                tok2, _ = self.lookahead(self.VALUES)
                if tok2 == _T_CLOSE:
                    values.add("")
                    return values
                if tok2 == _T_COMMA:        # the second comma is eaten here, so "(,,)" is an error
                    self.consume(self.VALUES)
                    values.add("")
            else:
                raise SelectorError(f"found '{lit}', expected: ',', or identifier")

    def parse_exact_value(self) -> set[str]:
        tok, _ = self.lookahead(self.VALUES)
        if tok in (_T_END, _T_COMMA):
            return {""}
        tok, lit = self.consume(self.VALUES)
        if tok == _T_ID:
            return {lit}
        raise SelectorError(f"found '{lit}', expected: identifier")


def parse_selector(text: str) -> Selector:
    """Parse `?labelSelector=`; "" selects everything. Raises SelectorError with k8s' message."""
    if not text:
        return _EVERYTHING
    return Selector(_Parser(text).parse())


def selector_from_set(labels: Mapping[str, str] | None) -> Selector:
    """Exact match of every pair (a ReplicationController's spec.selector); empty selects all."""
    if not labels:
        return _EVERYTHING
    return Selector(Requirement(k, EQUALS, (v,)) for k, v in labels.items())


_EXPRESSION_OPERATORS = {"In": IN, "NotIn": NOT_IN, "Exists": EXISTS, "DoesNotExist": DOES_NOT_EXIST}


def selector_from_label_selector(spec: Mapping | None) -> Selector:
    """metav1.LabelSelectorAsSelector: None selects nothing, {} selects everything."""
    if spec is None:
        return _NOTHING
    if not isinstance(spec, Mapping):
        raise SelectorError("a label selector must be an object")
    match_labels = spec.get("matchLabels") or {}
    expressions = spec.get("matchExpressions") or []
    if not isinstance(match_labels, Mapping) or not isinstance(expressions, list):
        raise SelectorError("matchLabels must be an object and matchExpressions a list")
    if not match_labels and not expressions:
        return _EVERYTHING
    requirements = []
    for key, value in match_labels.items():
        if not isinstance(value, str):
            raise SelectorError(_invalid("values[0]", _quote(value), "must be a string"))
        requirements.append(Requirement.new(key, EQUALS, (value,)))
    for expression in expressions:
        if not isinstance(expression, Mapping):
            raise SelectorError("a matchExpressions entry must be an object")
        operator = _EXPRESSION_OPERATORS.get(expression.get("operator"))   # type: ignore[arg-type]
        if operator is None:
            raise SelectorError(f"{_quote(expression.get('operator', ''))} is not a valid label selector operator")
        values = expression.get("values") or []
        key = expression.get("key", "")
        if not isinstance(key, str) or not isinstance(values, list) or not all(isinstance(v, str) for v in values):
            raise SelectorError("a matchExpressions entry needs a string key and a list of string values")
        requirements.append(Requirement.new(key, operator, values))
    return Selector(requirements)

