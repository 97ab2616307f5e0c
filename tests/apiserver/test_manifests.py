"""The real-world acceptance test: every manifest of ../shared/manifests/core applies with the real
kubectl (client-side apply, server-side field validation Strict, as kubectl sends it) and reads
back with what it declared (defaults may add fields; quantities may come back canonical)."""
from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
import yaml

from pykube_plane.api.quantity import QuantityError, parse_quantity

from tests.conftest import SHARED_MANIFESTS


def manifest_files() -> list[Path]:
    core = SHARED_MANIFESTS / "core"
    if not core.exists():
        pytest.fail(f"{core} is missing: the shared manifests are needed for this test")
    return sorted(core.rglob("*.yaml"))


def documents(path: Path) -> list[dict]:
    return [d for d in yaml.safe_load_all(path.read_text()) if d]


def same_scalar(expected, actual) -> bool:
    if expected == actual:
        return True
    if isinstance(expected, (str, int, float)) and isinstance(actual, (str, int, float)) \
            and not isinstance(expected, bool) and not isinstance(actual, bool):
        try:
            return parse_quantity(str(expected)).as_fraction() == parse_quantity(str(actual)).as_fraction()
        except (QuantityError, AttributeError, ValueError):
            return False
    return False


def differences(expected, actual, path: str = "") -> list[str]:
    """Where `actual` lacks or changes what `expected` declares."""
    if isinstance(expected, dict):
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, got {actual!r}"]
        out = []
        for key, value in expected.items():
            if key == "stringData":     # folded into data by the server, checked separately
                continue
            if key not in actual:
                if value in ({}, [], None):
                    continue
                out.append(f"{path}.{key}: missing")
            else:
                out += differences(value, actual[key], f"{path}.{key}")
        return out
    if isinstance(expected, list):
        if not isinstance(actual, list) or len(actual) != len(expected):
            return [f"{path}: expected {expected!r}, got {actual!r}"]
        out = []
        for i, (e, a) in enumerate(zip(expected, actual)):
            out += differences(e, a, f"{path}[{i}]")
        return out
    return [] if same_scalar(expected, actual) else [f"{path}: expected {expected!r}, got {actual!r}"]


def rounds_without_name_clashes(files: list[Path]) -> list[list[Path]]:
    """The examples assume a fresh cluster each: two files may declare the same Pod (immutable once
    created). Files go to the first round where their un-namespaced objects do not clash; each
    round after the first is applied in a namespace of its own."""
    rounds: list[list[Path]] = []
    used: list[set] = []
    for path in files:
        keys = {(d["kind"], d["metadata"]["name"]) for d in documents(path) if not d["metadata"].get("namespace")}
        for i, taken in enumerate(used):
            if not keys & taken:
                rounds[i].append(path)
                taken |= keys
                break
        else:
            rounds.append([path])
            used.append(set(keys))
    return rounds


CLUSTER_SCOPED = ("Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass")


def test_every_core_manifest_applies_and_reads_back(apiserver_process):
    k = apiserver_process
    files = manifest_files()
    assert len(files) >= 70
    docs = [(f, d) for f in files for d in documents(f)]
    namespace_files = sorted({f for f, d in docs if d["kind"] == "Namespace"})
    rounds = rounds_without_name_clashes([f for f in files if f not in namespace_files])
    round_namespaces = ["default"] + [f"manifests-{i}" for i in range(1, len(rounds))]
    defined = {d["metadata"]["name"] for _, d in docs if d["kind"] == "Namespace"}
    referenced = {d["metadata"].get("namespace") for _, d in docs} - {None, "default", "kube-system"}
    missing = "".join(f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"
                      for ns in sorted((referenced - defined) | set(round_namespaces[1:])))
    k.kubectl("create", "-f", "-", input=missing)
    k.kubectl("apply", *[a for f in namespace_files for a in ("-f", str(f))])

    problems = []
    objects = 0
    for namespace, group in zip(round_namespaces, rounds):
        # the first round keeps each file's own namespaces (kubectl refuses -n over a declared one)
        args = [a for f in group for a in ("-f", str(f))] + (["-n", namespace] if namespace != "default" else [])
        applied = k.kubectl("apply", *args)
        group_docs = [(f, d) for f in group for d in documents(f)]
        assert applied.stdout.count(" created") == len(group_docs), applied.stdout
        listed = json.loads(k.kubectl("get", *args, "-o", "json").stdout)
        by_key = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o
                  for o in listed["items"]}
        for path, doc in group_docs:
            ns = "" if doc["kind"] in CLUSTER_SCOPED else doc["metadata"].get("namespace") or namespace
            got = by_key.get((doc["kind"], ns, doc["metadata"]["name"]))
            objects += 1
            if got is None:
                problems.append(f"{path.name}: {doc['kind']} {doc['metadata']['name']} not read back")
                continue
            assert got["metadata"]["uid"] and int(got["metadata"]["resourceVersion"]) > 0
            for diff in differences(doc, got):
                problems.append(f"{path.name}: {doc['kind']}/{doc['metadata']['name']}{diff}")
            for key, value in (doc.get("stringData") or {}).items():
                if base64.b64decode(got["data"][key]).decode() != value:
                    problems.append(f"{path.name}: stringData {key} not folded into data")
        # applying the same files again writes nothing (kubectl may still send a patch, e.g. for
        # a LimitRange's atomic list the server has defaulted into: it changes nothing)
        again = k.kubectl("apply", *args)
        assert " created" not in again.stdout, again.stdout
        relisted = json.loads(k.kubectl("get", *args, "-o", "json").stdout)
        changed = [f'{o["kind"]}/{o["metadata"]["name"]}' for o, before in zip(relisted["items"], listed["items"])
                   if o["metadata"]["resourceVersion"] != before["metadata"]["resourceVersion"]]
        assert not changed, changed
    assert not problems, "\n".join(problems)
    assert objects == len(docs) - sum(1 for _, d in docs if d["kind"] == "Namespace")
