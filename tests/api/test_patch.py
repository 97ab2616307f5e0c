"""The three patch types. Strategic merge cases follow apimachinery's strategicpatch/patch_test.go
(its MergeItem test type, rebuilt below as a schema); JSON patch and merge patch follow RFC 6902 /
RFC 7386 examples; a few properties are checked with hypothesis."""
from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given
from hypothesis import strategies as st

from pykube_plane.api.patch import (PatchError, PatchMeta, json_merge_patch, json_patch, schema_for,
                                    strategic_merge_patch)


def _merge_item_schema() -> PatchMeta:
    """apimachinery's MergeItem: name/value/other scalars, mergingList (merge by name),
    nonMergingList, mergingIntList (merge), nonMergingIntList, simpleMap, replacingItem (replace),
    retainKeysMap (retainKeys), retainKeysMergingList (merge,retainKeys by name)."""
    fields: dict[str, PatchMeta] = {}
    fields.update(
        mergingList=PatchMeta("merge", "name", fields),
        nonMergingList=PatchMeta("", "", fields),
        mergingIntList=PatchMeta("merge"),
        mergeItemPtr=PatchMeta("merge", "name", fields),
        replacingItem=PatchMeta("replace"),
        retainKeysMap=PatchMeta("", "", {"mergingIntList": PatchMeta("merge"),
                                         "mergingList": PatchMeta("merge", "name", fields)}),
        retainKeysMergingList=PatchMeta("merge", "name", fields),
    )
    return PatchMeta("", "", fields)


MERGE_ITEM = _merge_item_schema()

# (description, original, patch, expected) written as YAML like the upstream table.
SMP_CASES = yaml.safe_load("""
- [unique scalars when merging lists, {mergingIntList: [1, 2]}, {mergingIntList: [2, 3]}, {mergingIntList: [1, 2, 3]}]
- [delete map from nested map, {simpleMap: {key1: 1, key2: 1}}, {simpleMap: {$patch: delete}}, {simpleMap: {}}]
- [delete all items from merging list, {mergingList: [{name: 1}, {name: 2}]}, {mergingList: [{$patch: replace}]},
   {mergingList: []}]
- [merge empty merging lists, {mergingList: []}, {mergingList: []}, {mergingList: []}]
- [delete all keys from map, {name: 1, value: 1}, {$patch: replace}, {}]
- [add key and delete all keys from map, {name: 1, value: 1}, {other: a, $patch: replace}, {other: a}]
- [delete all duplicate entries in a merging list,
   {mergingList: [{name: 1}, {name: 1}, {name: 2, value: a}, {name: 3}, {name: 3}]},
   {mergingList: [{name: 1, $patch: delete}, {name: 3, $patch: delete}]},
   {mergingList: [{name: 2, value: a}]}]
- [retainKeys map can add a field when no retainKeys directive present, {retainKeysMap: {name: foo}},
   {retainKeysMap: {value: bar}}, {retainKeysMap: {name: foo, value: bar}}]
- [retainKeys map can delete a field, {retainKeysMap: {name: foo, value: a}}, {retainKeysMap: {value: null}},
   {retainKeysMap: {name: foo}}]
- [retainKeys map merge an empty map, {retainKeysMap: {name: foo, value: a}}, {retainKeysMap: {}},
   {retainKeysMap: {name: foo, value: a}}]
- [retainKeys list can add a field, {retainKeysMergingList: [{name: bar}, {name: foo}]},
   {retainKeysMergingList: [{name: foo, value: a}]},
   {retainKeysMergingList: [{name: bar}, {name: foo, value: a}]}]
- [preserve the order from the patch in a merging list, {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]},
   {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, other: x}]},
   {mergingList: [{name: 3, value: c}, {name: 1, value: a}, {name: 2, value: b, other: x}]}]
- [preserve the order from the patch in a merging list 2, {mergingList: [{name: 1}, {name: 2, value: b}, {name: 3}]},
   {mergingList: [{name: 3, value: c}, {name: 1, value: a}]},
   {mergingList: [{name: 2, value: b}, {name: 3, value: c}, {name: 1, value: a}]}]
- [preserve the order from the patch in a merging int list, {mergingIntList: [1, 2, 3]}, {mergingIntList: [3, 1, 2]},
   {mergingIntList: [3, 1, 2]}]
- [preserve the order from the patch in a merging int list 2, {mergingIntList: [1, 2, 3]}, {mergingIntList: [3, 1]},
   {mergingIntList: [2, 3, 1]}]
- [setElementOrder names an item absent from the list, {mergingList: [{name: 1}, {name: 3}]},
   {"$setElementOrder/mergingList": [{name: 3}, {name: 2}, {name: 1}],
    mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]},
   {mergingList: [{name: 3, value: 3}, {name: 1, value: 1}]}]
- [setElementOrder alone reorders an int list, {mergingIntList: [1, 3]}, {"$setElementOrder/mergingIntList": [3, 2, 1]},
   {mergingIntList: [3, 1]}]
- [deleteFromPrimitiveList of a missing item adds nothing, {mergingIntList: [1, 2]},
   {"$deleteFromPrimitiveList/mergingIntList": [3]}, {mergingIntList: [1, 2]}]
- [deleteFromPrimitiveList on an empty list, {mergingIntList: null}, {"$deleteFromPrimitiveList/mergingIntList": [3]},
   {mergingIntList: null}]
- [deleteFromPrimitiveList on a missing list adds no list, {foo: [bar]}, {"$deleteFromPrimitiveList/mergingIntList": [3]},
   {foo: [bar]}]
- [deleteFromPrimitiveList from a merging list, {mergingIntList: [1, 2, 3]},
   {"$deleteFromPrimitiveList/mergingIntList": [2]}, {mergingIntList: [1, 3]}]
- [deleteFromPrimitiveList from a non-merging list, {nonMergingIntList: [1, 2, 3]},
   {"$deleteFromPrimitiveList/nonMergingIntList": [2]}, {nonMergingIntList: [1, 3]}]
- [nil original, {}, {name: 1, value: 1}, {name: 1, value: 1}]
- [add field to map with conflict, {name: a, other: a}, {name: 1, value: 1}, {name: 1, value: 1, other: a}]
- [add field and delete field from map, {name: 1, other: a}, {name: null, value: 1}, {value: 1, other: a}]
- [delete field from nested map, {simpleMap: {key1: 1, key2: 1, other: a}}, {simpleMap: {key2: null}},
   {simpleMap: {key1: 1, other: a}}]
- [replace list of scalars, {nonMergingIntList: [1, 4]}, {nonMergingIntList: [2, 3]}, {nonMergingIntList: [2, 3]}]
- [delete all maps from merging list with conflict, {mergingList: [{name: 1, other: a}, {name: 2, other: b}]},
   {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}, {mergingList: []}]
- [delete all maps from empty merging list, {mergingList: []},
   {mergingList: [{name: 1, $patch: delete}, {name: 2, $patch: delete}]}, {mergingList: []}]
- [null for a missing field is dropped, {name: a, other: a}, {name: 1, value: 1, other: null}, {name: 1, value: 1}]
- [nested patch merge with empty list, {name: hi},
   {mergingList: [{name: hello}, {$patch: delete, name: doesntexist}]}, {name: hi, mergingList: [{name: hello}]}]
- [nested patch merge with setElementOrder, {name: hi, mergingList: [{name: hello2}]},
   {"$setElementOrder/mergingList": [{name: hello}, {name: doesntexist}],
    mergingList: [{name: hello}, {$patch: delete, name: doesntexist}]},
   {name: hi, mergingList: [{name: hello}, {name: hello2}]}]
- [delete items in lists of scalars, {mergingIntList: [1, 2, 3, 4]},
   {"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]},
   {mergingIntList: [1, 2, 4]}]
- [delete all duplicate items in lists of scalars, {mergingIntList: [1, 2, 3, 3, 4]},
   {"$setElementOrder/mergingIntList": [1, 2], "$deleteFromPrimitiveList/mergingIntList": [3]},
   {mergingIntList: [1, 2, 4]}]
- [add and delete items in lists of scalars, {mergingIntList: [1, 2, 3]},
   {"$setElementOrder/mergingIntList": [1, 2, 4], "$deleteFromPrimitiveList/mergingIntList": [3],
    mergingIntList: [4]},
   {mergingIntList: [1, 2, 4]}]
- [merge lists of maps, {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}]},
   {"$setElementOrder/mergingList": [{name: 4}, {name: 1}, {name: 2}, {name: 3}],
    mergingList: [{name: 4, value: 4}, {name: 3, value: 3}]},
   {mergingList: [{name: 4, value: 4}, {name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}]
- [merge lists of maps with conflict, {mergingList: [{name: 1, other: a}, {name: 2, value: 3, other: b}]},
   {"$setElementOrder/mergingList": [{name: 1}, {name: 2}, {name: 3}],
    mergingList: [{name: 2, value: 2}, {name: 3, value: 3}]},
   {mergingList: [{name: 1, other: a}, {name: 2, value: 2, other: b}, {name: 3, value: 3}]}]
- [retainKeys drops unlisted keys, {retainKeysMap: {name: foo, value: a, other: b}},
   {retainKeysMap: {$retainKeys: [name, value], value: c}}, {retainKeysMap: {name: foo, value: c}}]
- [retainKeys in a merging list item, {retainKeysMergingList: [{name: foo, value: a, other: b}]},
   {retainKeysMergingList: [{name: foo, $retainKeys: [name, other], other: c}]},
   {retainKeysMergingList: [{name: foo, other: c}]}]
- [replace strategy takes the map whole, {replacingItem: {a: 1, b: 2}}, {replacingItem: {c: 3}},
   {replacingItem: {c: 3}}]
- [non merging list of maps is replaced, {nonMergingList: [{name: 1, value: a}]}, {nonMergingList: [{name: 2}]},
   {nonMergingList: [{name: 2}]}]
- [a map with $patch in a new field is dropped, {name: a}, {simpleMap: {$patch: replace, a: b}}, {name: a}]
- [type change takes the patch value, {name: [1]}, {name: {a: null, b: 1}}, {name: {b: 1}}]
- [nested merge lists merge deeply, {mergingList: [{name: a, mergingList: [{name: x, value: 1}]}]},
   {mergingList: [{name: a, mergingList: [{name: y}, {name: x, other: 2}]}]},
   {mergingList: [{name: a, mergingList: [{name: y}, {name: x, value: 1, other: 2}]}]}]
""")


@pytest.mark.parametrize("description,original,patch,expected", SMP_CASES, ids=[c[0] for c in SMP_CASES])
def test_strategic_merge_patch_vectors(description, original, patch, expected):
    frozen_original, frozen_patch = copy.deepcopy(original), copy.deepcopy(patch)
    assert strategic_merge_patch(original, patch, MERGE_ITEM) == expected
    assert original == frozen_original and patch == frozen_patch        # inputs untouched


@pytest.mark.parametrize("original,patch,fragment", [
    ({"mergingList": [{"name": 1}, {"name": 3}, {"name": 2}]},
     {"$setElementOrder/mergingList": [{"name": 1}, {"name": 2}, {"name": 3}],
      "mergingList": [{"name": 3, "value": 3}, {"name": 1, "value": 1}]}, "doesn't match"),
    ({"mergingIntList": [1, 3, 2]}, {"$setElementOrder/mergingIntList": [1, 2, 3], "mergingIntList": [3, 1]},
     "doesn't match"),
    ({"mergingList": [{"name": 1, "value": "a"}]}, {"mergingList": [{"value": "b"}]},
     "does not contain declared merge key: name"),
    ({"mergingList": [{"name": 1}]}, {"mergingList": [{"name": 1, "$patch": "merge"}]},
     "merging lists cannot yet be specified in the patch"),
    ({"name": 1}, {"$patch": "bogus"}, "unknown patch type: bogus in map: map[$patch:bogus]"),
    ({"mergingIntList": [1]}, {"mergingIntList": ["a"]}, "list element types are not identical"),
    ({"mergingIntList": [[1]]}, {"mergingIntList": [[2]]}, "lists of lists are not supported"),
    ({"retainKeysMap": {"name": "a"}}, {"retainKeysMap": {"$retainKeys": ["name"], "value": "b"}},
     "invalid patch format of retainKeys"),
    ({}, {"$setElementOrder/mergingList": "x"}, "invalid patch format of setElementOrder list"),
    ({}, {"$deleteFromPrimitiveListmergingList": [1]}, "invalid patch format of primitive list"),
])
def test_strategic_merge_patch_errors(original, patch, fragment):
    with pytest.raises(PatchError) as err:
        strategic_merge_patch(original, patch, MERGE_ITEM)
    assert fragment in str(err.value)


def test_strategic_merge_patch_refuses_a_non_object():
    with pytest.raises(PatchError) as err:
        strategic_merge_patch({}, [], "Pod")
    assert err.value.code == 400


# -- the served kinds' tables -------------------------------------------------------------------

POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "web", "labels": {"app": "web"}, "finalizers": ["a"],
                 "ownerReferences": [{"uid": "u1", "name": "rs"}]},
    "spec": {
        "containers": [{"name": "app", "image": "nginx:1.25",
                        "ports": [{"containerPort": 80, "protocol": "TCP"}],
                        "env": [{"name": "A", "value": "1"}, {"name": "B", "value": "2"}],
                        "volumeMounts": [{"name": "data", "mountPath": "/data"}]},
                       {"name": "sidecar", "image": "busybox"}],
        "volumes": [{"name": "data", "emptyDir": {}}],
        "tolerations": [{"key": "a", "operator": "Exists"}],
        "imagePullSecrets": [{"name": "reg"}],
    },
    "status": {"conditions": [{"type": "Ready", "status": "False"}, {"type": "Initialized", "status": "True"}]},
}


def test_pod_containers_merge_by_name_and_nested_lists_by_their_keys():
    patch = {"spec": {"containers": [{"name": "app", "image": "nginx:1.26",
                                      "env": [{"name": "B", "value": "3"}, {"name": "C", "value": "4"}],
                                      "ports": [{"containerPort": 443}]}]}}
    out = strategic_merge_patch(POD, patch, "Pod")
    app = out["spec"]["containers"][0]
    assert [c["name"] for c in out["spec"]["containers"]] == ["app", "sidecar"]
    assert app["image"] == "nginx:1.26"
    assert app["env"] == [{"name": "A", "value": "1"}, {"name": "B", "value": "3"}, {"name": "C", "value": "4"}]
    assert app["ports"] == [{"containerPort": 443}, {"containerPort": 80, "protocol": "TCP"}]
    assert app["volumeMounts"] == [{"name": "data", "mountPath": "/data"}]


def test_pod_delete_directive_and_replaced_lists():
    patch = {"spec": {"containers": [{"name": "sidecar", "$patch": "delete"}],
                      "tolerations": [{"key": "b", "operator": "Exists"}],
                      "volumes": [{"name": "cache", "emptyDir": {}}]},
             "metadata": {"finalizers": ["b"], "labels": {"app": None, "tier": "fe"}}}
    out = strategic_merge_patch(POD, patch, "Pod")
    assert [c["name"] for c in out["spec"]["containers"]] == ["app"]
    assert out["spec"]["tolerations"] == [{"key": "b", "operator": "Exists"}]     # no patchStrategy: replaced
    assert [v["name"] for v in out["spec"]["volumes"]] == ["cache", "data"]
    assert out["metadata"]["finalizers"] == ["b", "a"]                              # scalar set merge
    assert out["metadata"]["labels"] == {"tier": "fe"}


def test_pod_status_conditions_merge_by_type():
    patch = {"status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    out = strategic_merge_patch(POD, patch, "Pod")
    assert out["status"]["conditions"] == [{"type": "Ready", "status": "True"},
                                           {"type": "Initialized", "status": "True"}]


def test_pod_volume_retain_keys_switches_the_source():
    pod = {"spec": {"volumes": [{"name": "v", "emptyDir": {}}]}}
    patch = {"spec": {"volumes": [{"name": "v", "$retainKeys": ["name", "hostPath"], "hostPath": {"path": "/x"}}]}}
    out = strategic_merge_patch(pod, patch, "Pod")
    assert out["spec"]["volumes"] == [{"name": "v", "hostPath": {"path": "/x"}}]


def test_deployment_template_containers_merge():
    deploy = {"spec": {"replicas": 1, "template": {"metadata": {"labels": {"app": "x"}},
                                                    "spec": {"containers": [{"name": "c", "image": "a"}]}}}}
    patch = {"spec": {"replicas": 3, "template": {"spec": {"containers": [{"name": "c", "image": "b"}]}}}}
    out = strategic_merge_patch(deploy, patch, "Deployment")
    assert out["spec"]["replicas"] == 3
    assert out["spec"]["template"]["spec"]["containers"] == [{"name": "c", "image": "b"}]
    assert out["spec"]["template"]["metadata"]["labels"] == {"app": "x"}


def test_service_ports_merge_by_port_and_owner_references_by_uid():
    svc = {"metadata": {"ownerReferences": [{"uid": "1", "name": "a"}]},
           "spec": {"ports": [{"port": 80, "targetPort": 8080}]}}
    patch = {"metadata": {"ownerReferences": [{"uid": "2", "name": "b"}]},
             "spec": {"ports": [{"port": 80, "name": "http"}, {"port": 443}]}}
    out = strategic_merge_patch(svc, patch, "Service")
    assert out["spec"]["ports"] == [{"port": 80, "targetPort": 8080, "name": "http"}, {"port": 443}]
    assert [r["uid"] for r in out["metadata"]["ownerReferences"]] == ["2", "1"]


def test_unknown_kinds_replace_lists_but_merge_metadata():
    cm = {"metadata": {"finalizers": ["x"]}, "data": {"a": "1"}, "items": [1, 2]}
    out = strategic_merge_patch(cm, {"metadata": {"finalizers": ["y"]}, "data": {"b": "2"}, "items": [3]},
                                "ConfigMap")
    assert out == {"metadata": {"finalizers": ["y", "x"]}, "data": {"a": "1", "b": "2"}, "items": [3]}
    assert schema_for("Whatever") is schema_for("Unknown")


# -- JSON merge patch (RFC 7386 appendix A) --------------------------------------------------------

MERGE_PATCH_RFC = [
    ({"a": "b"}, {"a": "c"}, {"a": "c"}),
    ({"a": "b"}, {"b": "c"}, {"a": "b", "b": "c"}),
    ({"a": "b"}, {"a": None}, {}),
    ({"a": "b", "b": "c"}, {"a": None}, {"b": "c"}),
    ({"a": ["b"]}, {"a": "c"}, {"a": "c"}),
    ({"a": "c"}, {"a": ["b"]}, {"a": ["b"]}),
    ({"a": {"b": "c"}}, {"a": {"b": "d", "c": None}}, {"a": {"b": "d"}}),
    ({"a": [{"b": "c"}]}, {"a": [1]}, {"a": [1]}),
    (["a", "b"], ["c", "d"], ["c", "d"]),
    ({"a": "b"}, ["c"], ["c"]),
    ({"a": "foo"}, None, None),
    ({"a": "foo"}, "bar", "bar"),
    ({"e": None}, {"a": 1}, {"e": None, "a": 1}),
    ([1, 2], {"a": "b", "c": None}, {"a": "b"}),
    ({}, {"a": {"bb": {"ccc": None}}}, {"a": {"bb": {}}}),
]


@pytest.mark.parametrize("target,patch,expected", MERGE_PATCH_RFC)
def test_json_merge_patch_rfc7386(target, patch, expected):
    assert json_merge_patch(target, patch) == expected


json_values = st.recursive(st.none() | st.booleans() | st.integers() | st.text(max_size=3),
                           lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=2), inner,
                                                                                       max_size=3), max_leaves=8)
json_objects = st.dictionaries(st.text(max_size=2), json_values, max_size=4)


def _without_nulls(value):
    if isinstance(value, dict):
        return {k: _without_nulls(v) for k, v in value.items() if v is not None}
    return value


@given(json_objects, json_objects)
def test_merge_patch_laws(target, patch):
    once = json_merge_patch(target, patch)
    assert json_merge_patch(once, patch) == once                       # idempotent
    assert json_merge_patch(target, {}) == target                      # empty patch is identity
    for key, value in patch.items():                                   # every patched key reads as patched
        if value is None:
            assert key not in once
        elif not isinstance(value, dict):
            assert once[key] == value
        else:
            assert isinstance(once[key], dict)
    assert json_merge_patch({}, patch) == _without_nulls(patch)


@given(json_objects, st.dictionaries(st.text(max_size=2), st.integers() | st.text(max_size=3), max_size=4))
def test_strategic_patch_equals_merge_patch_without_lists_or_directives(target, patch):
    patch = {k: v for k, v in patch.items() if not k.startswith("$")}
    assert strategic_merge_patch(target, patch, "ConfigMap") == json_merge_patch(target, patch)


# -- JSON patch (RFC 6902 appendix A) ---------------------------------------------------------------

JSON_PATCH_RFC = [
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux"}], {"baz": "qux", "foo": "bar"}),
    ({"foo": ["bar", "baz"]}, [{"op": "add", "path": "/foo/1", "value": "qux"}], {"foo": ["bar", "qux", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "remove", "path": "/baz"}], {"foo": "bar"}),
    ({"foo": ["bar", "qux", "baz"]}, [{"op": "remove", "path": "/foo/1"}], {"foo": ["bar", "baz"]}),
    ({"baz": "qux", "foo": "bar"}, [{"op": "replace", "path": "/baz", "value": "boo"}], {"baz": "boo", "foo": "bar"}),
    ({"foo": {"bar": "baz", "waldo": "fred"}, "qux": {"corge": "grault"}},
     [{"op": "move", "from": "/foo/waldo", "path": "/qux/thud"}],
     {"foo": {"bar": "baz"}, "qux": {"corge": "grault", "thud": "fred"}}),
    ({"foo": ["all", "grass", "cows", "eat"]}, [{"op": "move", "from": "/foo/1", "path": "/foo/3"}],
     {"foo": ["all", "cows", "eat", "grass"]}),
    ({"baz": "qux", "foo": ["a", 2, "c"]},
     [{"op": "test", "path": "/baz", "value": "qux"}, {"op": "test", "path": "/foo/1", "value": 2}],
     {"baz": "qux", "foo": ["a", 2, "c"]}),
    ({"foo": "bar"}, [{"op": "add", "path": "/child", "value": {"grandchild": {}}}],
     {"foo": "bar", "child": {"grandchild": {}}}),
    ({"foo": "bar"}, [{"op": "add", "path": "/baz", "value": "qux", "xyz": 123}], {"foo": "bar", "baz": "qux"}),
    ({"/": 9, "~1": 10}, [{"op": "test", "path": "/~01", "value": 10}], {"/": 9, "~1": 10}),
    ({"foo": ["bar"]}, [{"op": "add", "path": "/foo/-", "value": ["abc", "def"]}], {"foo": ["bar", ["abc", "def"]]}),
    ({"a": {"b": 1}}, [{"op": "copy", "from": "/a", "path": "/c"}], {"a": {"b": 1}, "c": {"b": 1}}),
    ({"metadata": {"labels": {"a/b": "1"}}}, [{"op": "remove", "path": "/metadata/labels/a~1b"}],
     {"metadata": {"labels": {}}}),
    ({"a": None}, [{"op": "test", "path": "/a", "value": None}], {"a": None}),
]


@pytest.mark.parametrize("target,ops,expected", JSON_PATCH_RFC)
def test_json_patch_rfc6902(target, ops, expected):
    frozen = copy.deepcopy(target)
    assert json_patch(target, ops) == expected
    assert target == frozen


@pytest.mark.parametrize("target,ops,fragment", [
    ({"baz": "qux"}, [{"op": "test", "path": "/baz", "value": "bar"}], "testing value /baz failed: test failed"),
    ({"foo": "bar"}, [{"op": "add", "path": "/baz/bat", "value": "qux"}], "doc is missing path"),
    ({"foo": "bar"}, [{"op": "remove", "path": "/nope"}], "Unable to remove nonexistent key: nope"),
    ({"foo": "bar"}, [{"op": "replace", "path": "/nope", "value": 1}], "replace operation does not apply"),
    ({"foo": [1]}, [{"op": "add", "path": "/foo/5", "value": 1}], "invalid index referenced"),
    ({"foo": 1}, [{"op": "frobnicate", "path": "/foo"}], "Unexpected kind: frobnicate"),
    ({"a": {"b": 1}}, [{"op": "move", "from": "/a", "path": "/a/b/c"}], "into its own child"),
    ({"a": 1}, [{"op": "copy", "from": "/x", "path": "/y"}], "doc is missing from path"),
    ({"1": 1}, [{"op": "test", "path": "/1", "value": True}], "test failed"),     # 1 is not true
])
def test_json_patch_errors(target, ops, fragment):
    with pytest.raises(PatchError) as err:
        json_patch(target, ops)
    assert fragment in str(err.value)
    assert err.value.code == 422


def test_json_patch_is_atomic_and_checks_its_document():
    target = {"a": 1}
    with pytest.raises(PatchError):
        json_patch(target, [{"op": "add", "path": "/b", "value": 2}, {"op": "remove", "path": "/nope"}])
    assert target == {"a": 1}
    with pytest.raises(PatchError) as err:
        json_patch(target, {"op": "add"})
    assert err.value.code == 400
    assert str(err.value) == "json: cannot unmarshal object into Go value of type jsonpatch.Patch"
    assert json_patch(target, [{"op": "test", "path": "/a", "value": 1.0}]) == {"a": 1}


@given(json_objects, st.text(min_size=1, max_size=3), json_values)
def test_json_patch_add_then_remove_is_identity(target, key, value):
    path = "/" + key.replace("~", "~0").replace("/", "~1")
    if key in target:
        return
    added = json_patch(target, [{"op": "add", "path": path, "value": value}])
    assert added[key] == value
    assert json_patch(added, [{"op": "remove", "path": path}]) == target
