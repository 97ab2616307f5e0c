"""Every example manifest of the Kubernetes docs in ../shared/manifests/core passes the create path
(defaults, create preparation, validation) cleanly; variants broken on purpose fail at the right path."""
from __future__ import annotations

import copy

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from pykube_plane.api.defaults import apply_defaults, prepare_for_create
from pykube_plane.api.kinds import kind_info
from pykube_plane.api.validation import invalid_message, validate
from tests.conftest import SHARED_MANIFESTS

CORE = SHARED_MANIFESTS / "core"


def _documents() -> list[tuple[str, dict]]:
    docs = []
    for path in sorted(CORE.rglob("*.yaml")) + sorted(CORE.rglob("*.yml")):
        with path.open() as handle:
            for i, doc in enumerate(yaml.safe_load_all(handle)):
                if doc:
                    docs.append((f"{path.relative_to(CORE)}#{i}", doc))
    return docs


DOCUMENTS = _documents()


def created(doc: dict) -> tuple[str, dict]:
    """The object as the API server would validate it on create in namespace "default"."""
    kind = doc["kind"]
    obj = copy.deepcopy(doc)
    meta = obj.setdefault("metadata", {})
    if kind_info(kind).namespaced:
        meta.setdefault("namespace", "default")
    if not meta.get("name") and meta.get("generateName"):
        meta["name"] = meta["generateName"] + "x7k2q"
    meta["uid"] = "5f1b7a4e-9c0d-4b8e-a1f2-3c4d5e6f7a8b"
    meta["creationTimestamp"] = "2024-05-01T12:00:00Z"
    apply_defaults(kind, obj)
    prepare_for_create(kind, obj)
    return kind, obj


def test_the_shared_manifests_are_there():
    assert len(DOCUMENTS) >= 60, f"expected the docs' example manifests under {CORE}"
    kinds = {doc["kind"] for _, doc in DOCUMENTS}
    assert {"Pod", "Deployment", "Service", "Job", "Secret", "ConfigMap", "Role", "ClusterRoleBinding"} <= kinds


@pytest.mark.parametrize("source,doc", DOCUMENTS, ids=[s for s, _ in DOCUMENTS])
def test_manifest_is_valid(source, doc):
    kind, obj = created(doc)
    errors = validate(kind, obj)
    assert errors == [], invalid_message(kind, obj["metadata"].get("name", ""), errors)
    # defaulting is idempotent, and an unchanged re-apply is a valid update
    again = copy.deepcopy(obj)
    apply_defaults(kind, again)
    assert again == obj
    obj["metadata"]["resourceVersion"] = "7"
    assert validate(kind, copy.deepcopy(obj), obj, subresource="") == []


@pytest.mark.parametrize("source,doc", DOCUMENTS, ids=[s for s, _ in DOCUMENTS])
def test_broken_name_and_labels_are_reported(source, doc):
    kind, obj = created(doc)
    bad_name = "a/b" if kind_info(kind).group == "rbac.authorization.k8s.io" else "Not_Valid"
    broken = copy.deepcopy(obj)
    broken["metadata"]["name"] = bad_name
    broken["metadata"].setdefault("labels", {})["-leading-dash"] = "v"
    fields = [e.field for e in validate(kind, broken)]
    assert "metadata.name" in fields
    assert "metadata.labels" in fields


def _pod_specs(kind: str, obj: dict) -> tuple[str, dict] | None:
    """Where a kind keeps its PodSpec."""
    if kind == "Pod":
        return "spec", obj["spec"]
    template = obj.get("spec", {}).get("template")
    if isinstance(template, dict):
        return "spec.template.spec", template["spec"]
    return None


POD_BEARING = [(s, d) for s, d in DOCUMENTS if d["kind"] in ("Pod", "Deployment", "ReplicaSet",
                                                               "ReplicationController", "Job")]


@pytest.mark.parametrize("source,doc", POD_BEARING, ids=[s for s, _ in POD_BEARING])
def test_broken_pod_specs_fail_at_the_right_path(source, doc):
    kind, obj = created(doc)
    prefix, spec = _pod_specs(kind, obj)
    variants = []
    no_image = copy.deepcopy(obj)
    _pod_specs(kind, no_image)[1]["containers"][0]["image"] = ""
    variants.append((no_image, f"{prefix}.containers[0].image", "FieldValueRequired"))
    twin = copy.deepcopy(obj)
    containers = _pod_specs(kind, twin)[1]["containers"]
    containers.append(copy.deepcopy(containers[0]))
    variants.append((twin, f"{prefix}.containers[{len(containers) - 1}].name", "FieldValueDuplicate"))
    bad_port = copy.deepcopy(obj)
    _pod_specs(kind, bad_port)[1]["containers"][0]["ports"] = [{"containerPort": 0, "protocol": "TCP"}]
    variants.append((bad_port, f"{prefix}.containers[0].ports[0].containerPort", "FieldValueRequired"))
    bad_policy = copy.deepcopy(obj)
    _pod_specs(kind, bad_policy)[1]["restartPolicy"] = "Sometimes"
    variants.append((bad_policy, f"{prefix}.restartPolicy", "FieldValueNotSupported"))
    greedy = copy.deepcopy(obj)
    _pod_specs(kind, greedy)[1]["containers"][0]["resources"] = {"requests": {"cpu": "2"}, "limits": {"cpu": "1"}}
    variants.append((greedy, f"{prefix}.containers[0].resources.requests", "FieldValueInvalid"))
    for broken, path, reason in variants:
        errors = validate(kind, broken)
        assert (path, reason) in [(e.field, e.type) for e in errors], invalid_message(kind, "x", errors)


KIND_VARIANTS = {
    "Service": lambda o: (o["spec"].update(type="Sideways"), "spec.type"),
    "ConfigMap": lambda o: (o.setdefault("data", {}).update({"bad key": "x"}), "data[bad key]"),
    "Secret": lambda o: (o.setdefault("data", {}).update({"bad/key": "eA=="}), "data[bad/key]"),
    "Namespace": lambda o: (o.setdefault("spec", {}).update(finalizers=["bogus"]), "spec.finalizers"),
    "ServiceAccount": lambda o: (o["metadata"].update(generateName="Bad_"), "metadata.generateName"),
    "Role": lambda o: (o["rules"][0].update(verbs=[]), "rules[0].verbs"),
    "ClusterRole": lambda o: (o["rules"][0].update(verbs=[]), "rules[0].verbs"),
    "RoleBinding": lambda o: (o["roleRef"].update(kind="Secret"), "roleRef.kind"),
    "ClusterRoleBinding": lambda o: (o["roleRef"].update(kind="Role"), "roleRef.kind"),
    "LimitRange": lambda o: (o["spec"]["limits"][0].update(type="Planet"), "spec.limits[0].type"),
    "ResourceQuota": lambda o: (o["spec"].setdefault("hard", {}).update(pods="-1"), "spec.hard[pods]"),
    "Deployment": lambda o: (o["spec"].update(replicas=-1), "spec.replicas"),
    "ReplicaSet": lambda o: (o["spec"].update(replicas=-1), "spec.replicas"),
    "ReplicationController": lambda o: (o["spec"].update(replicas=-1), "spec.replicas"),
    "Job": lambda o: (o["spec"].update(backoffLimit=-1), "spec.backoffLimit"),
    "Pod": lambda o: (o["spec"].update(dnsPolicy="Maybe"), "spec.dnsPolicy"),
}


@pytest.mark.parametrize("source,doc", DOCUMENTS, ids=[s for s, _ in DOCUMENTS])
def test_kind_specific_breakage(source, doc):
    kind, obj = created(doc)
    broken = copy.deepcopy(obj)
    _, path = KIND_VARIANTS[kind](broken)
    errors = validate(kind, broken)
    assert path in [e.field for e in errors], invalid_message(kind, "x", errors)


def test_every_manifest_kind_has_a_variant():
    assert {doc["kind"] for _, doc in DOCUMENTS} <= set(KIND_VARIANTS)


# -- manifests with junk dropped in anywhere: field errors, never an exception ---------------------

JUNK = [None, 0, -1, 1.5, True, "", "x", "Bad_Name", [], {}, [1], {"a": None}, [None], "1Gi", "-5", 2 ** 70]


def _paths(value, at=()):
    yield at
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, at + (key,))
    elif isinstance(value, list):
        for i, item in enumerate(value):
            yield from _paths(item, at + (i,))


@settings(max_examples=200, deadline=None)
@given(st.sampled_from(DOCUMENTS), st.data())
def test_junk_anywhere_gives_field_errors(document, data):
    _, doc = document
    kind, obj = created(doc)
    broken = copy.deepcopy(obj)
    for _ in range(data.draw(st.integers(1, 3))):
        where = data.draw(st.sampled_from([p for p in _paths(broken) if p]))
        target = broken
        for step in where[:-1]:
            target = target[step]
        target[where[-1]] = copy.deepcopy(data.draw(st.sampled_from(JUNK)))
    apply_defaults(kind, broken)
    prepare_for_create(kind, broken)
    for errors in (validate(kind, broken), validate(kind, broken, obj), validate(kind, obj, broken, subresource="")):
        invalid_message(kind, "x", errors)
