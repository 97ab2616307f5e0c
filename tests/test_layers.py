"""The layer rules of docs/architecture.md, checked on the source: an AST walk over pykube_plane/
that lists every import between its sub-packages. A rule broken names the file and the import.

Imports under `if TYPE_CHECKING:` count for the layer rules (a type is a dependency too) but not
for circles (they never run, so they cannot deadlock an import).
"""
from __future__ import annotations

import ast
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

from tests.conftest import ROOT

PACKAGE = "pykube_plane"

# sub-package -> the sub-packages it may import (None: any)
FACES = {"cli", "testing", "bench"}
BASE = {"aio"}          # low-level helpers (asyncio) anyone may import; they import nothing of the package
MAY_IMPORT: dict[str, set[str] | None] = {
    "aio": set(),
    "api": set(),
    "store": {"_raft", "_mvcc"},
    "apiserver": {"api", "store"},
    "client": {"api"},
    "scheduler": {"api", "client", "_sched"},
    "controllers": {"api", "client"},
    "kubelet": {"api", "client"},
}
# sub-package -> the only sub-packages that may import it
ONLY_IMPORTED_BY: dict[str, set[str]] = {
    "store": {"apiserver", "controlplane"} | FACES,
    "apiserver": {"controlplane"} | FACES,
    "scheduler": {"controlplane"} | FACES,
    "controllers": {"controlplane"} | FACES,
    "kubelet": {"controlplane"} | FACES,
    "controlplane": FACES,
    "_raft": {"store"},
    "_mvcc": {"store"},
}
# packages whose own sub-packages (and top-level modules) must not import each other in a circle
CIRCLE_FREE = ("", "apiserver")


@dataclass(frozen=True)
class Import:
    source: str         # dotted module that imports
    target: str         # dotted module imported
    path: str           # file, relative to the tree
    line: int
    type_only: bool


def module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _type_checking_lines(tree: ast.AST) -> set[int]:
    lines: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for inner in node.body:
                for sub in ast.walk(inner):
                    if hasattr(sub, "lineno"):
                        lines.add(sub.lineno)
    return lines


def imports(root: Path, package: str = PACKAGE) -> list[Import]:
    """Every import of `package`'s own modules by `package`'s modules under root/package."""
    found: list[Import] = []
    modules = {module_name(root, p) for p in (root / package).rglob("*.py")}
    modules |= {f"{package}.{p.name.split('.')[0]}" for p in (root / package).glob("*.so")}   # compiled cores
    for path in sorted((root / package).rglob("*.py")):
        source = module_name(root, path)
        here = source if path.name == "__init__.py" else source.rpartition(".")[0]
        tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
        type_only = _type_checking_lines(tree)
        for node in ast.walk(tree):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = here.split(".")[:len(here.split(".")) - node.level + 1]
                    module = ".".join(base + ([node.module] if node.module else []))
                else:
                    module = node.module or ""
                # `from pkg import mod` imports the module pkg.mod
                targets = [f"{module}.{a.name}" if f"{module}.{a.name}" in modules else module for a in node.names]
            for target in targets:
                if target == package or target.startswith(package + "."):
                    found.append(Import(source, target, str(path.relative_to(root)), node.lineno,
                                        node.lineno in type_only))
    return found


def subpackage(module: str, within: str = "") -> str:
    """The part of `module` directly below PACKAGE[.within] ('' for PACKAGE's own modules)."""
    prefix = PACKAGE + ("." + within if within else "")
    if not module.startswith(prefix + "."):
        return ""
    return module[len(prefix) + 1:].split(".")[0]


def layer_violations(found: list[Import]) -> list[str]:
    problems = []
    for imp in found:
        source, target = subpackage(imp.source), subpackage(imp.target)
        if not source or not target or source == target:
            continue
        allowed = MAY_IMPORT.get(source)
        if allowed is not None and target not in allowed and not (target in BASE and source not in BASE):
            problems.append(f"{imp.path}:{imp.line}: {source}/ may not import {target}/ ({imp.target})")
        importers = ONLY_IMPORTED_BY.get(target)
        if importers is not None and source not in importers:
            problems.append(f"{imp.path}:{imp.line}: only {sorted(importers)} may import {target}/, "
                            f"not {source}/ ({imp.target})")
    return problems


def circles(found: list[Import], within: str = "") -> list[list[str]]:
    """Import circles between the parts directly below PACKAGE[.within], run-time imports only."""
    graph: dict[str, set[str]] = defaultdict(set)
    prefix = PACKAGE + ("." + within if within else "")
    for imp in found:
        if imp.type_only or not imp.source.startswith(prefix + ".") or not imp.target.startswith(prefix + "."):
            continue
        a, b = subpackage(imp.source, within), subpackage(imp.target, within)
        if a and b and a != b:
            graph[a].add(b)
    cycles, state, stack = [], {}, []

    def visit(node: str) -> None:
        state[node] = 1
        stack.append(node)
        for nxt in sorted(graph.get(node, ())):
            if state.get(nxt) == 1:
                cycles.append(stack[stack.index(nxt):] + [nxt])
            elif nxt not in state:
                visit(nxt)
        stack.pop()
        state[node] = 2

    for node in sorted(graph):
        if node not in state:
            visit(node)
    return cycles


# -- the project itself --------------------------------------------------------------------------


def test_the_package_keeps_its_layers():
    found = imports(ROOT)
    assert len(found) > 100          # the walk sees the package's imports at all
    assert layer_violations(found) == []


def test_no_import_circles_between_sub_packages():
    found = imports(ROOT)
    for within in CIRCLE_FREE:
        assert circles(found, within) == [], within or PACKAGE


def test_client_needs_nothing_of_the_api_server():
    """What the in-process client is given is a Protocol: client/ names no apiserver/ or store/
    module even for type checking."""
    found = [i for i in imports(ROOT) if subpackage(i.source) == "client"]
    assert found and {subpackage(i.target) for i in found} <= {"client", "api"} | BASE


# -- the checker finds what it is for --------------------------------------------------------------


def write(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


def test_the_checker_reports_a_broken_rule_and_a_circle(tmp_path):
    root = write(tmp_path, {
        "pykube_plane/__init__.py": "",
        "pykube_plane/api/__init__.py": "",
        "pykube_plane/store/__init__.py": "",
        "pykube_plane/store/kv.py": "from pykube_plane.api import meta\n",
        "pykube_plane/api/meta.py": "",
        "pykube_plane/apiserver/__init__.py": "",
        "pykube_plane/apiserver/server.py": "from ..store import kv\nfrom . import web\n",
        "pykube_plane/apiserver/web.py": "from .server import APIServer\n",
        "pykube_plane/client/__init__.py": "",
        "pykube_plane/client/inprocess.py": ("from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n"
                                             "    from pykube_plane.apiserver.server import APIServer\n"),
        "pykube_plane/scheduler/__init__.py": "import pykube_plane.store.kv\n",
    })
    found = imports(root)
    problems = layer_violations(found)
    assert any("client/ may not import apiserver/" in p and "inprocess.py:3" in p for p in problems), problems
    assert any("scheduler/ may not import store/" in p for p in problems), problems
    assert any("may import store/, not scheduler/" in p for p in problems), problems
    assert not any("apiserver/server.py" in p for p in problems)     # apiserver may use the store
    assert circles(found, "apiserver") == [["server", "web", "server"]]
    assert circles(found) == []      # the client's import is for type checking only
