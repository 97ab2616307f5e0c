"""Label selectors against apimachinery's own cases (labels/selector_test.go) and messages."""
from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pykube_plane.api.labels import (DOES_NOT_EXIST, DOUBLE_EQUALS, EQUALS, EXISTS, GREATER_THAN, IN, LESS_THAN,
                                     NOT_EQUALS, NOT_IN, Requirement, Selector, SelectorError, parse_selector,
                                     selector_from_label_selector, selector_from_set)
from pykube_plane.api.names import is_label_key, is_label_value


@pytest.mark.parametrize("text", ["x=a,y=b,z=c", "", "x!=a,y=b", "x=", "x= ", "x=,z= ", "x= ,z= ", "!x", "x>1",
                                  "x>1,z<5"])
def test_good_selectors_print_back_without_spaces(text):
    assert str(parse_selector(text)) == text.replace(" ", "")


@pytest.mark.parametrize("text", ["x=a||y=b", "x==a==b", "!x=a", "x<a", "x,,y", ",x,y", "x nott in (y)",
                                  "a in (xyz),", "a in (xyz)b notin ()", "a in (xyz abc)", "a notin(", "a (", "(",
                                  "x in (,,)"])
def test_bad_selectors_are_refused(text):
    with pytest.raises(SelectorError):
        parse_selector(text)


def test_parse_is_deterministic():
    assert str(parse_selector("x=a,a=x")) == str(parse_selector("a=x,x=a")) == "a=x,x=a"


@pytest.mark.parametrize("text,labels,expected", [
    ("", {"x": "y"}, True), ("x=y", {"x": "y"}, True), ("x=y,z=w", {"x": "y", "z": "w"}, True),
    ("x!=y,z!=w", {"x": "z", "z": "a"}, True), ("notin=in", {"notin": "in"}, True), ("x", {"x": "z"}, True),
    ("!x", {"y": "z"}, True), ("x>1", {"x": "2"}, True), ("x<1", {"x": "0"}, True),
    ("x=z", {}, False), ("x=y", {"x": "z"}, False), ("x=y,z=w", {"x": "w", "z": "w"}, False),
    ("x!=y,z!=w", {"x": "z", "z": "w"}, False), ("x", {"y": "z"}, False), ("!x", {"x": "z"}, False),
    ("x>1", {"x": "0"}, False), ("x<1", {"x": "2"}, False), ("x>1", {"x": "v2"}, False), ("x>1", {}, False),
    ("foo=bar,foobar=bar,baz=blah", {"foo": "bar", "baz": "blah"}, False),
    ("x in (foo),y notin (alpha)", {"x": "foo", "y": "baz"}, True),
    ("x in (foo),y in (alpha)", {"x": "foo", "y": "baz"}, False),
    ("x notin (),y", {"y": ""}, True), ("!x,y", {"y": ""}, True), ("x notin (),!y", {"y": ""}, False),
    ("x in ()", {"y": "baz"}, False), ("x!=a", {}, True), ("env in (prod,qa)", {"env": "qa"}, True),
])
def test_matching(text, labels, expected):
    assert parse_selector(text).matches(labels) is expected


@pytest.mark.parametrize("text,requirements", [
    ("\rx", [("x", EXISTS, ())]),
    ("this-is-a-dns.domain.com/key-with-dash", [("this-is-a-dns.domain.com/key-with-dash", EXISTS, ())]),
    ("0.1.2.domain/99 notin (10.10.100.1, tick.tack.clock)",
     [("0.1.2.domain/99", NOT_IN, ("10.10.100.1", "tick.tack.clock"))]),
    ("foo  in\t (abc)", [("foo", IN, ("abc",))]),
    ("x notin\n (abc)", [("x", NOT_IN, ("abc",))]),
    ("x in (abc,)", [("x", IN, ("", "abc"))]),
    ("x in ()", [("x", IN, ("",))]),
    ("x notin (abc,,def),bar,z in (),w",
     [("bar", EXISTS, ()), ("w", EXISTS, ()), ("x", NOT_IN, ("", "abc", "def")), ("z", IN, ("",))]),
    ("x,y in (a)", [("x", EXISTS, ()), ("y", IN, ("a",))]),
    ("x=a,y!=b,z in (h,i,j)", [("x", EQUALS, ("a",)), ("y", NOT_EQUALS, ("b",)), ("z", IN, ("h", "i", "j"))]),
    ("x notin ( )", [("x", NOT_IN, ("",))]),
    ("x notin (, a)", [("x", NOT_IN, ("", "a"))]),
    ("a ", [("a", EXISTS, ())]),
    ("a in (x,y,notin, z,in)", [("a", IN, ("in", "notin", "x", "y", "z"))]),
    ("x==a", [("x", DOUBLE_EQUALS, ("a",))]),
    ("x>1,y<7", [("x", GREATER_THAN, ("1",)), ("y", LESS_THAN, ("7",))]),
])
def test_parsed_requirements(text, requirements):
    got = [(r.key, r.operator, r.values) for r in parse_selector(text).requirements]
    assert got == requirements


def test_printing_normal_form():
    assert str(parse_selector("z,y notin (jkl),x in (def,abc)")) == "x in (abc,def),y notin (jkl),z"
    assert str(parse_selector("x notin (abc,def),y!=jkl,!z")) == "x notin (abc,def),y!=jkl,!z"
    assert str(parse_selector("z notin (),x notin (abc),y in (mno,jkl)")) == "x notin (abc),y in (jkl,mno),z notin ()"
    assert str(parse_selector("x=abc,y==jkl,z!=a")) == "x=abc,y==jkl,z!=a"
    assert str(parse_selector("x>2,y<8,z")) == "x>2,y<8,z"


@pytest.mark.parametrize("text,message", [
    ("x=a||y=b", "unable to parse requirement: values[0][x]: Invalid value: \"a||y\": a valid label must be an "
                 "empty string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with "
                 "an alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation "
                 "is '(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
    ("x,,y", "found ',', expected: identifier after ','"),
    (",x", "found ',', expected: !, identifier, or 'end of string'"),
    ("a (", "unable to parse requirement: found '(', expected: in, notin, =, ==, !=, gt, lt"),
    ("a in (xyz abc)", "unable to parse requirement: found 'abc', expected: ',' or ')'"),
    ("a notin(", "unable to parse requirement: found '', expected: ',', ')' or identifier"),
    ("a in x", "unable to parse requirement: found 'x' expected: '('"),
    ("!x=a", "found '=', expected: ',' or 'end of string'"),
    ("x<a", "unable to parse requirement: values[0]: Invalid value: \"a\": "
            "for 'Gt', 'Lt' operators, the value must be an integer"),
    ("x=a b", "found 'b', expected: ',' or 'end of string'"),
    ("Bad_/x", "unable to parse requirement: <nil>: Invalid value: \"Bad_/x\": prefix part a lowercase RFC 1123 "
               "subdomain must consist of lower case alphanumeric characters, '-' or '.', and must start and end "
               "with an alphanumeric character (e.g. 'example.com', regex used for validation is "
               "'[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')"),
    ("x=a%", "unable to parse requirement: values[0][x]: Invalid value: \"a%\": a valid label must be an empty "
             "string or consist of alphanumeric characters, '-', '_' or '.', and must start and end with an "
             "alphanumeric character (e.g. 'MyValue',  or 'my_value',  or '12345', regex used for validation is "
             "'(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])?')"),
])
def test_error_messages(text, message):
    with pytest.raises(SelectorError) as err:
        parse_selector(text)
    assert str(err.value) == message


def test_requirement_constructor_errors():
    with pytest.raises(SelectorError, match=r"^values: Invalid value: \[\]string\{\}: for 'in', 'notin' operators"):
        Requirement.new("x1", IN, [])
    with pytest.raises(SelectorError, match=r'^values: Invalid value: \[\]string\{"bar", "foo"\}: exact-match'):
        Requirement.new("x5", EQUALS, ["bar", "foo"])
    with pytest.raises(SelectorError, match=r'^values: Invalid value: \[\]string\{"foo"\}: values set must be empty'):
        Requirement.new("x8", EXISTS, ["foo"])
    with pytest.raises(SelectorError, match=r"^key: Invalid value: \"a{254}\": name part must be no more than 63"):
        Requirement.new("a" * 254, EXISTS)
    with pytest.raises(SelectorError, match=r"^values\[0\]\[x16\]: Invalid value: \"a{254}\": must be no more"):
        Requirement.new("x16", EQUALS, ["a" * 254])
    with pytest.raises(SelectorError) as err:
        Requirement.new("x18", "unsupportedOp")
    assert str(err.value) == ('operator: Unsupported value: "unsupportedOp": supported values: "in", "notin", "=", '
                              '"==", "!=", "gt", "lt", "exists", "!"')
    with pytest.raises(SelectorError) as err:           # several errors aggregate in brackets
        Requirement.new("x", GREATER_THAN, ["a", "b"])
    assert str(err.value).startswith("[values: Invalid value: []string{\"a\", \"b\"}: for 'Gt', 'Lt' operators, "
                                     "exactly one value is required, values[0]: Invalid value: \"a\"")
    for op, values in ((IN, ["foo"]), (NOT_IN, ["foo"]), (DOES_NOT_EXIST, []), (GREATER_THAN, ["1"]),
                       (LESS_THAN, ["6"])):
        Requirement.new("x", op, values)


def test_requires_exact_match():
    assert parse_selector("key in (value)").requires_exact_match("key") == "value"
    assert parse_selector("key in (value,value2)").requires_exact_match("key") is None
    assert parse_selector("key in (value,value1),key2 in (value2)").requires_exact_match("key2") == "value2"
    assert parse_selector("key=value").requires_exact_match("key") == "value"
    assert parse_selector("key==value").requires_exact_match("key") == "value"
    assert parse_selector("key!=value").requires_exact_match("key") is None
    assert parse_selector("other=value").requires_exact_match("key") is None


def test_everything_nothing_and_sets():
    assert parse_selector("").empty and parse_selector("").matches({"x": "y"})
    assert Selector.everything().matches(None)
    assert not Selector.nothing().matches({}) and not Selector.nothing().empty
    assert str(Selector.nothing()) == ""
    assert selector_from_set(None).empty
    sel = selector_from_set({"foo": "bar", "baz": "blah"})
    assert str(sel) == "baz=blah,foo=bar"
    assert sel.matches({"foo": "bar", "baz": "blah", "x": "y"}) and not sel.matches({"foo": "bar"})
    assert str(sel.add(Requirement.new("a", EXISTS))) == "a,baz=blah,foo=bar"


def test_label_selector_objects():
    assert selector_from_label_selector(None).matches_nothing
    assert selector_from_label_selector({}).empty
    sel = selector_from_label_selector({
        "matchLabels": {"app": "web"},
        "matchExpressions": [{"key": "tier", "operator": "In", "values": ["fe", "be"]},
                             {"key": "env", "operator": "NotIn", "values": ["dev"]},
                             {"key": "track", "operator": "Exists"},
                             {"key": "legacy", "operator": "DoesNotExist"}]})
    assert str(sel) == "app=web,env notin (dev),!legacy,tier in (be,fe),track"
    assert sel.matches({"app": "web", "tier": "fe", "track": "x"})
    assert not sel.matches({"app": "web", "tier": "fe", "track": "x", "legacy": "1"})
    assert not sel.matches({"app": "web", "tier": "fe", "env": "dev", "track": "x"})
    with pytest.raises(SelectorError) as err:
        selector_from_label_selector({"matchExpressions": [{"key": "a", "operator": "Gt", "values": ["1"]}]})
    assert str(err.value) == '"Gt" is not a valid label selector operator'
    with pytest.raises(SelectorError, match="for 'in', 'notin' operators, values set can't be empty"):
        selector_from_label_selector({"matchExpressions": [{"key": "a", "operator": "In", "values": []}]})


def test_label_key_and_value_rules():
    assert is_label_key("app.kubernetes.io/name") == []
    assert is_label_key("MyName") == []
    assert is_label_key("a/b/c")[0].startswith("a valid label key must consist of")
    assert is_label_key("/x") == ["prefix part must be non-empty"]
    assert is_label_key("x/") == ["name part must be non-empty", "name part must consist of alphanumeric characters, "
                                  "'-', '_' or '.', and must start and end with an alphanumeric character (e.g. "
                                  "'MyName',  or 'my.name',  or '123-abc', regex used for validation is "
                                  "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')"]
    assert is_label_key("abc\n") != []                   # no newline sneaks past the anchor
    assert is_label_value("") == []
    assert is_label_value("a" * 63) == []
    assert is_label_value("a" * 64) == ["must be no more than 63 characters"]
    assert is_label_value("-a") != []


label_keys = st.from_regex(r"\A[a-z][a-z0-9]{0,6}\Z")
label_values = st.from_regex(r"\A([a-z0-9]{1,5})?\Z")


@given(st.dictionaries(label_keys, label_values, max_size=4), st.dictionaries(label_keys, label_values, max_size=4))
def test_printed_selector_parses_to_the_same_meaning(required, labels):
    sel = selector_from_set(required)
    again = parse_selector(str(sel))
    assert str(again) == str(sel)
    assert again.matches(labels) == sel.matches(labels) == all(labels.get(k) == v for k, v in required.items())
