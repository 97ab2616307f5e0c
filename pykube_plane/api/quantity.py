"""Resource quantities ("500m", "1Gi", "2e3", "0.5") held exactly, as apimachinery's resource.Quantity.

A `Quantity` is an integer count of nano-units plus the format its suffix chose. Nano is the finest
precision Kubernetes keeps: parsing rounds anything finer *up*, away from zero ("0.1n" -> "1n"),
so a request never rounds down to nothing. No floats anywhere.

Formats and canonical text (what the API server writes back):

    "1.5"    DecimalSI        -> "1500m"   (no fractional digits; largest suffix without loss)
    "1500m"  DecimalSI        -> "1500m"   (exponent is a multiple of 3: 1500m, not 1.5)
    "2000"   DecimalSI        -> "2k"
    "1.5Gi"  BinarySI         -> "1536Mi"
    "0.5Ki"  BinarySI         -> "512"     (|x| < 1024 is written as DecimalSI)
    "12e6"   DecimalExponent  -> "12e6"
    "1000E"  DecimalSI        -> "1e21"    (no SI suffix past E: exponent notation)

Like the Go type, a value parsed from a string that is already in canonical integer form keeps
its original text ("+1" stays "+1"); arithmetic drops it.
"""
from __future__ import annotations

from fractions import Fraction
from functools import lru_cache, total_ordering

DECIMAL_SI = "DecimalSI"
BINARY_SI = "BinarySI"
DECIMAL_EXPONENT = "DecimalExponent"

QUANTITY_REGEX = "^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$"
ERR_FORMAT = f"quantities must match the regular expression '{QUANTITY_REGEX}'"
ERR_NUMERIC = "unable to parse numeric part of quantity"
ERR_SUFFIX = "unable to parse quantity's suffix"

NANO = 10 ** 9
_MAX_INT64 = 2 ** 63 - 1
_MAX_BINARY_NANOS = _MAX_INT64 * NANO          # BinarySI values are capped at 2^63-1
# inf.Dec would hold 1e999999999 lazily; an int would not. Such exponents are nonsense for any
# resource, and refusing them keeps one request from pinning the event loop.
_MAX_DECIMAL_EXPONENT = 1000
_MAX_DIGITS = 1000

_DECIMAL_SUFFIXES = {"n": -9, "u": -6, "m": -3, "": 0, "k": 3, "M": 6, "G": 9, "T": 12, "P": 15, "E": 18}
_DECIMAL_SUFFIX_OF = {v: k for k, v in _DECIMAL_SUFFIXES.items()}
_BINARY_SUFFIXES = {"Ki": 10, "Mi": 20, "Gi": 30, "Ti": 40, "Pi": 50, "Ei": 60}
_BINARY_SUFFIX_OF = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"]
_SUFFIX_CHARS = frozenset("eEinumkKMGTP")


class QuantityError(ValueError):
    """A string that is not a quantity; str() is apimachinery's message."""


@total_ordering
class Quantity:
    """An exact, immutable resource amount. Compare, add and subtract freely; str() is canonical."""

    __slots__ = ("_nanos", "_format", "_text")

    def __init__(self, nanos: int = 0, format: str = DECIMAL_SI, _text: str | None = None) -> None:
        self._nanos = nanos
        self._format = format
        self._text = _text

    # -- constructors -------------------------------------------------------------------------
    @classmethod
    def from_int(cls, value: int, format: str = DECIMAL_SI) -> "Quantity":
        return cls(value * NANO, format)

    @classmethod
    def from_milli(cls, value: int, format: str = DECIMAL_SI) -> "Quantity":
        return cls(value * 10 ** 6, format)

    # -- values (rounded up, away from zero, like k8s' Value / MilliValue) ----------------------
    @property
    def format(self) -> str:
        return self._format

    def nano_value(self) -> int:
        return self._nanos

    def scaled_value(self, exponent: int) -> int:
        """ceil(self / 10**exponent), rounding away from zero."""
        shift = 9 + exponent
        if shift <= 0:
            return self._nanos * 10 ** -shift
        q, r = divmod(abs(self._nanos), 10 ** shift)
        if r:
            q += 1
        return q if self._nanos >= 0 else -q

    def value(self) -> int:
        return self.scaled_value(0)

    def milli_value(self) -> int:
        return self.scaled_value(-3)

    def as_fraction(self) -> Fraction:
        return Fraction(self._nanos, NANO)

    def is_zero(self) -> bool:
        return self._nanos == 0

    def sign(self) -> int:
        return (self._nanos > 0) - (self._nanos < 0)

    # -- arithmetic: the result keeps the left format, or the right one when the left is zero ---
    def __add__(self, other: object) -> "Quantity":
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = other._format if self._nanos == 0 else self._format
        return Quantity(self._nanos + other._nanos, fmt)

    def __sub__(self, other: object) -> "Quantity":
        if not isinstance(other, Quantity):
            return NotImplemented
        fmt = other._format if self._nanos == 0 else self._format
        return Quantity(self._nanos - other._nanos, fmt)

    def __neg__(self) -> "Quantity":
        return Quantity(-self._nanos, self._format)

    def __mul__(self, factor: object) -> "Quantity":
        if not isinstance(factor, int) or isinstance(factor, bool):
            return NotImplemented
        return Quantity(self._nanos * factor, self._format)

    __rmul__ = __mul__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos == other._nanos

    def __lt__(self, other: object) -> bool:
        if not isinstance(other, Quantity):
            return NotImplemented
        return self._nanos < other._nanos

    def __hash__(self) -> int:
        return hash(self._nanos)

    def __bool__(self) -> bool:
        return self._nanos != 0

    # -- text -----------------------------------------------------------------------------------
    def canonical(self) -> str:
        """CanonicalizeBytes: the form the API server writes, ignoring any kept original text."""
        nanos, fmt = self._nanos, self._format
        if nanos == 0:
            return "0"
        if fmt == BINARY_SI and (-1024 * NANO < nanos < 1024 * NANO or nanos % NANO):
            fmt = DECIMAL_SI                       # small or fractional binary amounts read better in SI
        sign = "-" if nanos < 0 else ""
        amount = abs(nanos)
        if fmt == BINARY_SI:
            amount //= NANO
            power = 0
            while power < 6 and amount % 1024 == 0:
                amount //= 1024
                power += 1
            return f"{sign}{amount}{_BINARY_SUFFIX_OF[power]}"
        exponent = -9
        while amount % 10 == 0:
            amount //= 10
            exponent += 1
        shift = exponent % 3                       # lower the exponent to a multiple of 3
        amount *= 10 ** shift
        exponent -= shift
        if fmt == DECIMAL_EXPONENT or exponent > 18:
            # SI has no suffix past "E" (10^18): k8s writes "1e21" rather than drop the exponent
            return f"{sign}{amount}" + (f"e{exponent}" if exponent else "")
        return f"{sign}{amount}{_DECIMAL_SUFFIX_OF[exponent]}"

    def __str__(self) -> str:
        return self._text if self._text is not None else self.canonical()

    def __repr__(self) -> str:
        return f"Quantity({str(self)!r})"


def _scan(text: str) -> tuple[bool, str, str, str]:
    """Split into (negative, integer digits, fraction digits, suffix) like apimachinery's scanner."""
    end = len(text)
    pos = 0
    negative = False
    if end and text[0] in "+-":
        negative = text[0] == "-"
        pos = 1
    while pos < end and text[pos] == "0":
        pos += 1
    if pos >= end:
        return negative, "0", "", ""
    start = pos
    while pos < end and "0" <= text[pos] <= "9":
        pos += 1
    num = text[start:pos] or "0"
    denom = ""
    if pos < end and text[pos] == ".":
        pos += 1
        start = pos
        while pos < end and "0" <= text[pos] <= "9":
            pos += 1
        denom = text[start:pos]
    suffix_start = pos
    while pos < end and text[pos] in _SUFFIX_CHARS:
        pos += 1
    if pos < end and text[pos] in "+-":
        pos += 1
    while pos < end and "0" <= text[pos] <= "9":
        pos += 1
    if pos < end:
        raise QuantityError(ERR_FORMAT)
    return negative, num, denom, text[suffix_start:]


def _interpret_suffix(suffix: str) -> tuple[int, int, str]:
    """-> (base, exponent, format)."""
    if suffix in _DECIMAL_SUFFIXES:
        return 10, _DECIMAL_SUFFIXES[suffix], DECIMAL_SI
    if suffix in _BINARY_SUFFIXES:
        return 2, _BINARY_SUFFIXES[suffix], BINARY_SI
    if len(suffix) > 1 and suffix[0] in "eE":
        digits = suffix[1:]
        body = digits[1:] if digits[0] in "+-" else digits
        if body.isdigit() and body.isascii() and len(body) <= 18:
            exponent = int(digits)
            if abs(exponent) > _MAX_DECIMAL_EXPONENT:
                raise QuantityError(ERR_SUFFIX)
            return 10, exponent, DECIMAL_EXPONENT
    raise QuantityError(ERR_SUFFIX)


def _kept_text(text: str, num: str, denom: str, base: int, exponent: int, fmt: str) -> str | None:
    """apimachinery keeps the input string when its int64 fast path sees a canonical form."""
    shifted = num + denom
    if len(shifted) > 18 or not shifted or shifted[0] == "0":
        return None
    if base == 2:
        value = int(shifted)
        precision = 15 - len(num) - int(exponent * 3 / 10) - 1
        if denom or precision < 0 or value * 2 ** exponent > _MAX_INT64:
            return None
        return text if value & 7 else None
    scale = exponent - len(denom)
    if scale < -9 or scale % 3 or shifted.endswith("000"):
        return None
    return text


@lru_cache(maxsize=8192)
def parse_quantity(text: str) -> Quantity:
    """Parse a quantity string; raise QuantityError with apimachinery's message."""
    if not isinstance(text, str):
        raise QuantityError(ERR_FORMAT)
    if not text:
        raise QuantityError(ERR_FORMAT)
    if text == "0":
        return Quantity(0, DECIMAL_SI, "0")
    negative, num, denom, suffix = _scan(text)
    base, exponent, fmt = _interpret_suffix(suffix)
    if len(num) + len(denom) > _MAX_DIGITS:
        raise QuantityError(ERR_NUMERIC)
    mantissa = int(num + denom) if (num + denom) else 0
    if base == 10:
        shift = exponent - len(denom) + 9
        if shift >= 0:
            nanos = mantissa * 10 ** shift
        else:
            nanos, rest = divmod(mantissa, 10 ** -shift)
            nanos += 1 if rest else 0
    else:
        nanos, rest = divmod(mantissa * 2 ** exponent * NANO, 10 ** len(denom))
        nanos += 1 if rest else 0
    if fmt == BINARY_SI:
        if nanos > _MAX_BINARY_NANOS:
            nanos = _MAX_BINARY_NANOS
        if 0 < nanos < NANO:
            fmt = DECIMAL_SI
    kept = _kept_text(text, num, denom, base, exponent, fmt) if nanos else None
    return Quantity(-nanos if negative else nanos, fmt, kept)


def parse_quantity_value(value: object) -> Quantity:
    """A quantity as it arrives in decoded JSON: a string, or a bare JSON number (cpu: 0.5)."""
    if isinstance(value, bool) or value is None:
        raise QuantityError(ERR_FORMAT)
    if isinstance(value, int):
        return parse_quantity(str(value))
    if isinstance(value, float):
        if value != value or value in (float("inf"), float("-inf")):
            raise QuantityError(ERR_FORMAT)
        return parse_quantity(repr(value))
    if isinstance(value, str):
        return parse_quantity(value.strip())
    raise QuantityError(ERR_FORMAT)


def canonical_text(value: object) -> object:
    """The text the API server would store for a decoded quantity value; input unchanged if invalid."""
    try:
        return str(parse_quantity_value(value))
    except QuantityError:
        return value
