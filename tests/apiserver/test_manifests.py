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


def test_every_core_manifest_applies_and_reads_back(apiserver_process):
    files = manifest_files()
    assert len(files) >= 70
    docs = [(f, d) for f in files for d in documents(f)]
    defined = {d["metadata"]["name"] for _, d in docs if d["kind"] == "Namespace"}
    referenced = {d["metadata"].get("namespace") for _, d in docs} - {None, "default", "kube-system"}
    missing = "".join(f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"
                      for ns in sorted(referenced - defined))
    apiserver_process.kubectl("create", "-f", "-", input=missing)
    namespace_files = sorted({f for f, d in docs if d["kind"] == "Namespace"})
    other_files = [f for f in files if f not in namespace_files]
    args = [a for f in namespace_files for a in ("-f", str(f))]
    apiserver_process.kubectl("apply", *args)
    args = [a for f in other_files for a in ("-f", str(f))]
    applied = apiserver_process.kubectl("apply", *args)
    assert applied.stdout.count(" created") + applied.stdout.count(" configured") \
        + applied.stdout.count(" unchanged") >= len(docs) - len(namespace_files)

    listed = json.loads(apiserver_process.kubectl("get", *[a for f in files for a in ("-f", str(f))],
                                                  "-o", "json").stdout)
    by_key = {(o["kind"], o["metadata"].get("namespace", ""), o["metadata"]["name"]): o for o in listed["items"]}
    # Some examples reuse a name (two "frontend" Services): the file applied last is what is stored.
    last: dict[tuple, tuple[Path, dict]] = {}
    for path, doc in docs:
        namespace = doc["metadata"].get("namespace", "")
        if not namespace and doc["kind"] not in ("Namespace", "ClusterRole", "ClusterRoleBinding", "PriorityClass"):
            namespace = "default"
        last[(doc["kind"], namespace, doc["metadata"]["name"])] = (path, doc)
    assert len(last) > 60
    problems = []
    for key, (path, doc) in last.items():
        got = by_key.get(key)
        if got is None:
            problems.append(f"{path.name}: {doc['kind']} {doc['metadata']['name']} not read back")
            continue
        assert got["metadata"]["uid"] and int(got["metadata"]["resourceVersion"]) > 0
        for diff in differences(doc, got):
            problems.append(f"{path.name}: {doc['kind']}/{doc['metadata']['name']}{diff}")
        for key, value in (doc.get("stringData") or {}).items():
            if base64.b64decode(got["data"][key]).decode() != value:
                problems.append(f"{path.name}: stringData {key} not folded into data")
    assert not problems, "\n".join(problems)

    # applying the same files again changes nothing
    again = apiserver_process.kubectl("apply", *args)
    assert " created" not in again.stdout
