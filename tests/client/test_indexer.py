"""Indexer: after any sequence of adds, updates, deletes and replaces, every index answers what
a scan of the objects answers (property test), and lookups by namespace and label selector agree."""
from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as hs

from pykube_plane.client import Indexer, index_by_field, index_by_label, object_key, split_key
from pykube_plane.client.indexer import NAMESPACE_INDEX, UnknownIndex

NAMESPACES = ("", "a", "b")
NAMES = ("x", "y", "z", "w")
APPS = (None, "web", "db")
NODES = (None, "n1", "n2")


def make(namespace: str, name: str, app: str | None, node: str | None, rv: int) -> dict:
    meta: dict = {"name": name, "resourceVersion": str(rv)}
    if namespace:
        meta["namespace"] = namespace
    if app is not None:
        meta["labels"] = {"app": app, "tier": "t" + str(rv % 2)}
    obj = {"metadata": meta, "spec": {}}
    if node is not None:
        obj["spec"]["nodeName"] = node
    return obj


objects = hs.builds(make, hs.sampled_from(NAMESPACES), hs.sampled_from(NAMES), hs.sampled_from(APPS),
                    hs.sampled_from(NODES), hs.integers(1, 1000))
operations = hs.lists(hs.one_of(
    hs.tuples(hs.just("add"), objects),
    hs.tuples(hs.just("delete"), objects),
    hs.tuples(hs.just("replace"), hs.lists(objects, max_size=6)),
), max_size=40)

INDEXERS = {"app": index_by_label("app"), "node": index_by_field("spec.nodeName")}


def scan(model: dict[str, dict], func, value: str) -> list[str]:
    return sorted(k for k, o in model.items() if value in func(o))


@settings(max_examples=300, deadline=None)
@given(operations, hs.booleans())
def test_indexes_agree_with_a_scan(ops, late_indexers):
    indexer = Indexer(None if late_indexers else INDEXERS)
    model: dict[str, dict] = {}
    for i, (op, arg) in enumerate(ops):
        if late_indexers and i == len(ops) // 2:
            indexer.add_indexers(INDEXERS)      # built over what is held already
        if op == "add":
            indexer.add(arg)
            model[object_key(arg)] = arg
        elif op == "delete":
            indexer.delete(arg)
            model.pop(object_key(arg), None)
        else:
            indexer.replace(arg)
            model = {object_key(o): o for o in arg}
    if late_indexers and len(ops) < 2:
        indexer.add_indexers(INDEXERS)
    assert sorted(indexer.keys()) == sorted(model)
    funcs = {NAMESPACE_INDEX: lambda o: [(o["metadata"].get("namespace") or "")], **INDEXERS}
    for name, func in funcs.items():
        values = set(indexer.index_values(name))
        assert values == {v for o in model.values() for v in func(o)}
        for value in values | {"nothing-here"}:
            assert indexer.index_keys(name, value) == scan(model, func, value)
            assert [object_key(o) for o in indexer.by_index(name, value)] == scan(model, func, value)
    for ns in NAMESPACES:
        expected = sorted(k for k, o in model.items() if (o["metadata"].get("namespace") or "") == ns)
        assert sorted(object_key(o) for o in indexer.list(namespace=ns)) == expected
        web = sorted(k for k in expected if (model[k]["metadata"].get("labels") or {}).get("app") == "web")
        assert sorted(object_key(o) for o in indexer.list(namespace=ns, label_selector="app=web")) == web
        assert sorted(object_key(o) for o in indexer.list(namespace=ns, label_selector={"app": "web"})) == web
        not_web = sorted(k for k in expected if (model[k]["metadata"].get("labels") or {}).get("app") != "web")
        assert sorted(object_key(o) for o in indexer.list(namespace=ns, label_selector="app!=web")) == not_web


def test_keys_and_lookups():
    indexer = Indexer()
    pod = make("default", "web-0", "web", "n1", 5)
    node = make("", "n1", None, None, 7)
    assert indexer.add(pod) is None
    indexer.add(node)
    assert object_key(pod) == "default/web-0" and object_key(node) == "n1"
    assert split_key("default/web-0") == ("default", "web-0") and split_key("n1") == ("", "n1")
    assert indexer.get("default/web-0") is pod and indexer.get_object("", "n1") is node
    newer = make("default", "web-0", "web", "n2", 6)
    assert indexer.add(newer) is pod                 # replaced, old answered
    assert indexer.delete("default/web-0") is newer
    assert indexer.delete("default/web-0") is None
    assert "n1" in indexer and len(indexer) == 1
    try:
        indexer.by_index("app", "web")
    except UnknownIndex:
        pass
    else:
        raise AssertionError("an index never added must be refused")
