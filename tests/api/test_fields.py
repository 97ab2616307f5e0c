"""Field selectors (apimachinery fields/selector_test.go cases) and the selectable fields of each kind."""
from __future__ import annotations

import pytest

from pykube_plane.api.fields import (FieldSelectorError, convert_field_selector, escape_value, object_fields,
                                     parse_field_selector, selectable_fields, unescape_value)


@pytest.mark.parametrize("text", ["x=a,y=b,z=c", "", "x!=a,y=b", r"x=a||y\=b", r"x=a\=\=b"])
def test_good_selectors_print_back(text):
    assert str(parse_field_selector(text)) == text


@pytest.mark.parametrize("text,message", [
    ("x=a||y=b", "invalid field selector: unescaped character in value: 61"),
    ("x==a==b", "invalid field selector: unescaped character in value: 61"),
    ("x=a,b", "invalid selector: 'x=a,b'; can't understand 'b'"),
    ("x in (a)", "invalid selector: 'x in (a)'; can't understand 'x in (a)'"),
    ("x", "invalid selector: 'x'; can't understand 'x'"),
    (r"x=a\b", r"invalid field selector: invalid escape sequence: \b"),
    ("x=a\\", "invalid field selector: invalid escape sequence: \\"),
])
def test_bad_selectors(text, message):
    with pytest.raises(FieldSelectorError) as err:
        parse_field_selector(text)
    assert str(err.value) == message


def test_operators_and_matching():
    sel = parse_field_selector("spec.nodeName=n1,status.phase!=Running")
    assert sel.matches({"spec.nodeName": "n1", "status.phase": "Pending"})
    assert not sel.matches({"spec.nodeName": "n1", "status.phase": "Running"})
    assert not sel.matches({"spec.nodeName": "n2", "status.phase": "Pending"})
    assert parse_field_selector("a==b").matches({"a": "b"})
    assert str(parse_field_selector("a==b")) == "a=b"
    assert parse_field_selector("a=").matches({})              # a missing field reads as ""
    assert parse_field_selector("a!=x").matches({})
    assert parse_field_selector("").empty and parse_field_selector("").matches({"a": "b"})
    assert parse_field_selector(r"a=x\,y").matches({"a": "x,y"})
    assert str(parse_field_selector("b=1,a=2")) == "a=2,b=1"     # terms sorted, like k8s
    assert parse_field_selector("spec.nodeName=n1").requires_exact_match("spec.nodeName") == "n1"
    assert parse_field_selector("spec.nodeName!=n1").requires_exact_match("spec.nodeName") is None


def test_escaping_round_trips():
    for raw in ["plain", "a,b", "a=b", "back\\slash", "=,\\"]:
        assert unescape_value(escape_value(raw)) == raw
        assert parse_field_selector("f=" + escape_value(raw)).matches({"f": raw})


def test_supported_fields_per_kind():
    assert "spec.nodeName" in selectable_fields("Pod")
    assert selectable_fields("ConfigMap") == {"metadata.name", "metadata.namespace"}
    assert selectable_fields("Node") == {"metadata.name", "spec.unschedulable"}
    pods = convert_field_selector("Pod", parse_field_selector("spec.host=n1,status.phase=Running"))
    assert str(pods) == "spec.nodeName=n1,status.phase=Running"
    with pytest.raises(FieldSelectorError) as err:
        convert_field_selector("Pod", parse_field_selector("spec.bogus=1"))
    assert str(err.value) == "field label not supported: spec.bogus"
    with pytest.raises(FieldSelectorError) as err:
        convert_field_selector("Node", parse_field_selector("metadata.namespace=x"))
    assert str(err.value) == "field label not supported: metadata.namespace"
    with pytest.raises(FieldSelectorError) as err:
        convert_field_selector("Job", parse_field_selector("spec.x=1"))
    assert str(err.value) == 'field label "spec.x" not supported for batchv1.Job'
    with pytest.raises(FieldSelectorError) as err:
        convert_field_selector("ConfigMap", parse_field_selector("data=1"))
    assert str(err.value) == '"data" is not a known field selector: only "metadata.name", "metadata.namespace"'
    assert parse_field_selector("metadata.name=x").check_supported("Lease").matches({"metadata.name": "x"})


def test_object_fields():
    pod = {"metadata": {"name": "p", "namespace": "ns"},
           "spec": {"nodeName": "n1", "restartPolicy": "Always", "hostNetwork": True},
           "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.1"}], "podIP": "10.0.0.9"}}
    fields = object_fields("Pod", pod)
    assert fields["spec.nodeName"] == "n1"
    assert fields["spec.hostNetwork"] == "true"
    assert fields["status.podIP"] == "10.0.0.1"
    assert fields["spec.schedulerName"] == ""
    assert set(fields) == set(selectable_fields("Pod"))
    event = {"metadata": {"name": "e", "namespace": "ns"}, "involvedObject": {"kind": "Pod", "name": "p"},
             "reason": "Started", "source": {"component": "kubelet"}, "type": "Normal"}
    fields = object_fields("Event", event)
    assert fields["involvedObject.kind"] == "Pod" and fields["source"] == "kubelet"
    assert set(fields) == set(selectable_fields("Event"))
    assert object_fields("Node", {"metadata": {"name": "n"}, "spec": {"unschedulable": True}})[
        "spec.unschedulable"] == "true"
    assert object_fields("Node", {"metadata": {"name": "n"}})["spec.unschedulable"] == "false"
    assert object_fields("Namespace", {"metadata": {"name": "x"}, "status": {"phase": "Active"}})[
        "status.phase"] == "Active"
    assert object_fields("Secret", {"metadata": {"name": "s"}, "type": "Opaque"})["type"] == "Opaque"
    assert object_fields("Job", {"metadata": {"name": "j"}, "status": {"succeeded": 2}})["status.successful"] == "2"
    assert object_fields("ReplicaSet", {"metadata": {"name": "r"}})["status.replicas"] == "0"
    assert object_fields("Service", {"metadata": {"name": "s"}, "spec": {"type": "NodePort"}})["spec.type"] == \
        "NodePort"
    for kind in ("Pod", "Event", "Secret", "Service", "Namespace", "Node", "ReplicationController", "ReplicaSet",
                 "Job", "ConfigMap"):
        assert selectable_fields(kind) <= set(object_fields(kind, {"metadata": {"name": "x"}}))
    assert object_fields("Pod", {"metadata": "garbage", "spec": []})["metadata.name"] == ""
