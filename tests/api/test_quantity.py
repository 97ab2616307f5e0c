"""Quantities against apimachinery's own vectors (resource/quantity_test.go), plus round-trip laws."""
from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pykube_plane.api.quantity import (BINARY_SI, DECIMAL_EXPONENT, DECIMAL_SI, ERR_FORMAT, ERR_SUFFIX, Quantity,
                                       QuantityError, canonical_text, parse_quantity, parse_quantity_value)

MAX_INT64 = 2 ** 63 - 1


def exact(mantissa: int, exponent: int) -> Fraction:
    return Fraction(mantissa) * Fraction(10) ** exponent


# (input, exact value, format) — TestQuantityParse
PARSE_TABLE = [
    ("0", exact(0, 0), DECIMAL_SI), ("0n", exact(0, 0), DECIMAL_SI), ("0Ki", exact(0, 0), BINARY_SI),
    ("0M", exact(0, 0), DECIMAL_SI), ("0Ti", exact(0, 0), BINARY_SI),
    ("1", exact(1, 0), DECIMAL_SI),
    ("1Ki", exact(1024, 0), BINARY_SI), ("8Ki", exact(8 * 1024, 0), BINARY_SI),
    ("7Mi", exact(7 * 2 ** 20, 0), BINARY_SI), ("6Gi", exact(6 * 2 ** 30, 0), BINARY_SI),
    ("5Ti", exact(5 * 2 ** 40, 0), BINARY_SI), ("4Pi", exact(4 * 2 ** 50, 0), BINARY_SI),
    ("3Ei", exact(3 * 2 ** 60, 0), BINARY_SI), ("100Ti", exact(100 * 2 ** 40, 0), BINARY_SI),
    ("5n", exact(5, -9), DECIMAL_SI), ("4u", exact(4, -6), DECIMAL_SI), ("3m", exact(3, -3), DECIMAL_SI),
    ("8k", exact(8, 3), DECIMAL_SI), ("50k", exact(5, 4), DECIMAL_SI), ("7M", exact(7, 6), DECIMAL_SI),
    ("6G", exact(6, 9), DECIMAL_SI), ("40T", exact(4, 13), DECIMAL_SI), ("2P", exact(2, 15), DECIMAL_SI),
    ("1E", exact(1, 18), DECIMAL_SI),
    ("1E-3", exact(1, -3), DECIMAL_EXPONENT), ("1e3", exact(1, 3), DECIMAL_EXPONENT),
    ("1E18", exact(1, 18), DECIMAL_EXPONENT), ("1e13", exact(1, 13), DECIMAL_EXPONENT),
    ("100.035k", exact(100035, 0), DECIMAL_SI),
    ("0.001", exact(1, -3), DECIMAL_SI), ("0.0005k", exact(5, -1), DECIMAL_SI),
    ("0.50000", exact(5, -1), DECIMAL_SI), ("0.5e-2", exact(5, -3), DECIMAL_EXPONENT),
    ("10.035M", exact(10035, 3), DECIMAL_SI), ("1.3E+6", exact(13, 5), DECIMAL_EXPONENT),
    ("1.53E12", exact(153, 10), DECIMAL_EXPONENT), ("1.7E18", exact(17, 17), DECIMAL_EXPONENT),
    ("6.987654321G", exact(6987654321, 0), DECIMAL_SI), ("1.01E", exact(101, 16), DECIMAL_SI),
    # rounding up to the nano, away from zero
    ("3.001n", exact(4, -9), DECIMAL_SI), ("1.1E-9", exact(2, -9), DECIMAL_EXPONENT),
    ("0.0000000001", exact(1, -9), DECIMAL_SI), ("0.5e-9", exact(1, -9), DECIMAL_EXPONENT),
    ("0.9n", exact(1, -9), DECIMAL_SI), ("0.00000012345", exact(124, -9), DECIMAL_SI),
    # BinarySI saturates at 2^63-1, DecimalSI does not
    ("9Ei", Fraction(MAX_INT64), BINARY_SI), ("9223372036854775807Ki", Fraction(MAX_INT64), BINARY_SI),
    ("12E", exact(12, 18), DECIMAL_SI),
    ("100.035Ki", exact(10243584, -2), BINARY_SI), ("0.5Mi", exact(2 ** 19, 0), BINARY_SI),
    ("0.025Ti", exact(274877906944, -1), BINARY_SI),
    # "things written by trolls"
    ("0.000000000001Ki", exact(2, -9), DECIMAL_SI), (".001", exact(1, -3), DECIMAL_SI),
    (".0001k", exact(100, -3), DECIMAL_SI), ("1.", exact(1, 0), DECIMAL_SI), ("1.G", exact(1, 9), DECIMAL_SI),
    (".", exact(0, 0), DECIMAL_SI),
]


@pytest.mark.parametrize("text,value,fmt", PARSE_TABLE)
def test_parse_matches_apimachinery(text, value, fmt):
    for sign, prefix in ((1, ""), (1, "+"), (-1, "-")):
        q = parse_quantity(prefix + text)
        assert q.as_fraction() == sign * value
        assert q.format == fmt


@pytest.mark.parametrize("text", ["1.1.M", "1+1.0M", "0.1mi", "0.1am", "aoeu", ".5i", "1i", "-3.01i", "-3.01e-",
                                  " 1", "1 ", ""])
def test_invalid_quantities_are_refused(text):
    with pytest.raises(QuantityError):
        parse_quantity(text)


def test_error_messages_are_apimachinerys():
    with pytest.raises(QuantityError) as err:
        parse_quantity("aoeu")
    assert str(err.value) == ("quantities must match the regular expression "
                              "'^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'")
    assert str(err.value) == ERR_FORMAT
    with pytest.raises(QuantityError) as err:
        parse_quantity("1i")
    assert str(err.value) == ERR_SUFFIX == "unable to parse quantity's suffix"


# (text parsed, canonical form) — TestQuantityString's "alternate" column and TestQuantityParseEmit
CANONICAL = [
    ("1024Mi", "1Gi"), ("307200Ki", "300Mi"), ("1025024Mi", "1001Gi"), ("1024Gi", "1Ti"),
    ("1000M", "1G"), ("0.001T", "1G"), ("1000u", "1m"), ("1.08", "1080m"), ("1080000000n", "1080m"),
    ("1000E", "1e21"), ("5000E", "5e21"), ("1000000E", "1e24"),
    (".001e12", "1e9"), ("0.001e0", "1e-3"), ("1000e-12", "1e-9"), ("00", "0"),
    ("1.5", "1500m"), ("0.5", "500m"), ("2000", "2k"), ("1.5Gi", "1536Mi"), ("0.5Ki", "512"),
    (".001Ki", "1024m"), (".000001Ki", "1024u"), (".000000001Ki", "1024n"), (".000000000001Ki", "2n"),
    ("1500E", "1500E"),
]


@pytest.mark.parametrize("text,canonical", CANONICAL)
def test_canonical_form(text, canonical):
    q = parse_quantity(text)
    assert str(q) == canonical
    assert q.canonical() == canonical
    if q:
        assert str(-q) == "-" + canonical
    again = parse_quantity(canonical)
    assert again == q
    assert str(again) == canonical          # the canonical text is kept verbatim


@pytest.mark.parametrize("text", ["1Gi", "300Mi", "6Ki", "1001Gi", "1Ti", "5", "500m", "1G", "1m", "80m",
                                  "1080m", "300M", "1T", "1E", "1234567M", "3k", "1025", "0", "1e9", "1e-3",
                                  "80e-3", "300e6", "1e12", "3e3", "1n", "80n", "1080n", "1u", "1080u", "1Ki"])
def test_canonical_strings_are_kept(text):
    assert str(parse_quantity(text)) == text


def test_noncanonical_text_that_go_keeps():
    # The int64 fast path keeps an input it considers canonical, sign included.
    assert str(parse_quantity("+1")) == "+1"
    assert str(parse_quantity("1025Ki")) == "1025Ki"
    assert str(parse_quantity("1024Ki")) == "1Mi"        # a multiple of 8 is re-rendered
    assert str(parse_quantity("01")) == "01"                 # leading zeros are skipped, the text kept
    # arithmetic always re-renders
    assert str(parse_quantity("+1") + parse_quantity("0")) == "1"


@pytest.mark.parametrize("text,milli,value", [
    ("1", 1000, 1), ("500m", 500, 1), ("1.5", 1500, 2), ("1Gi", 1024 ** 3 * 1000, 1024 ** 3),
    ("1n", 1, 1), ("-1n", -1, -1), ("9.01", 9010, 10), ("-9.01", -9010, -10), ("0", 0, 0),
])
def test_values_round_away_from_zero(text, milli, value):
    q = parse_quantity(text)
    assert q.milli_value() == milli
    assert q.value() == value


def test_scaled_value_like_round_up():
    q = parse_quantity("9.01")
    assert q.scaled_value(-2) == 901
    assert q.scaled_value(-1) == 91
    assert q.scaled_value(1) == 1
    assert q.scaled_value(2) == 1
    assert parse_quantity("-9.01").scaled_value(-1) == -91


def test_comparisons_and_arithmetic():
    assert parse_quantity("100m") > parse_quantity("50m")
    assert parse_quantity("10000T") > parse_quantity("100Gi")
    assert parse_quantity("1") == parse_quantity("1000m")
    assert parse_quantity("1Ki") == parse_quantity("1024")
    assert sorted([parse_quantity(x) for x in ("1Gi", "1", "2m")]) == [parse_quantity(x) for x in ("2m", "1", "1Gi")]
    assert str(parse_quantity("1") + parse_quantity("500m")) == "1500m"
    assert str(parse_quantity("1Gi") - parse_quantity("512Mi")) == "512Mi"
    assert str(parse_quantity("100m") - parse_quantity("1")) == "-900m"
    assert str(parse_quantity("250m") * 4) == "1"
    assert len({parse_quantity("1"), parse_quantity("1000m")}) == 1


@pytest.mark.parametrize("text", ["100m", "1Gi"])
def test_adding_zero_keeps_the_suffix(text):
    value, zero = parse_quantity(text), parse_quantity("0")
    assert str(value + zero) == text
    assert str(zero + value) == text
    assert str(value - zero) == text
    assert str(zero - value) == "-" + text


def test_constructors():
    assert str(Quantity.from_milli(1)) == "1m"
    assert str(Quantity.from_milli(1234000)) == "1234"
    assert str(Quantity.from_milli(1024, BINARY_SI)) == "1024m"     # fractional binary reads as SI
    assert str(Quantity.from_int(1000)) == "1k"
    assert str(Quantity.from_int(1024, BINARY_SI)) == "1Ki"
    assert str(Quantity.from_int(1000000, DECIMAL_EXPONENT)) == "1e6"
    assert str(Quantity.from_int(5, BINARY_SI)) == "5"


def test_json_values():
    assert str(parse_quantity_value(2)) == "2"
    assert str(parse_quantity_value(0.5)) == "500m"
    assert str(parse_quantity_value(" 1 ")) == "1"             # UnmarshalJSON trims spaces
    for bad in (None, True, [], {}, float("nan")):
        with pytest.raises(QuantityError):
            parse_quantity_value(bad)
    assert canonical_text("0.5") == "500m"
    assert canonical_text("nonsense") == "nonsense"


def test_huge_exponents_are_refused_not_computed():
    with pytest.raises(QuantityError):
        parse_quantity("1e999999999")


# -- properties ----------------------------------------------------------------------------------

SUFFIXES = ["", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei", "e3", "e-3", "E6"]
quantity_texts = st.builds(
    lambda sign, whole, frac, suffix: f"{sign}{whole}{'.' + frac if frac else ''}{suffix}",
    st.sampled_from(["", "+", "-"]), st.integers(0, 10 ** 12).map(str),
    st.one_of(st.just(""), st.text("0123456789", min_size=1, max_size=6)), st.sampled_from(SUFFIXES))


@given(quantity_texts)
def test_canonical_text_round_trips(text):
    q = parse_quantity(text)
    canonical = q.canonical()
    again = parse_quantity(canonical)
    assert again == q
    assert str(again) == canonical
    assert again.canonical() == canonical
    assert parse_quantity(str(q)) == q


@given(st.integers(-10 ** 15, 10 ** 15), st.integers(-10 ** 15, 10 ** 15))
def test_sum_is_exact(a, b):
    qa, qb = Quantity.from_milli(a), Quantity.from_milli(b)
    assert (qa + qb).milli_value() == a + b
    assert (qa - qb) + qb == qa
    assert (qa < qb) == (a < b)
