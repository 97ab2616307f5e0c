"""The controllers are clients of the API only: they import pykube_plane.client and .api (object
helpers), never the API server or the store (DESIGN.md's layers)."""
from __future__ import annotations

import ast
from pathlib import Path

import pykube_plane.controllers as controllers

ALLOWED = ("pykube_plane.client", "pykube_plane.api", "pykube_plane.controllers")


def test_controllers_import_only_the_client_and_api_helpers():
    root = Path(controllers.__file__).parent
    offenders = []
    for path in sorted(root.rglob("*.py")):
        package = "pykube_plane." + ".".join(path.relative_to(root.parent).with_suffix("").parts[:-1])
        for node in ast.walk(ast.parse(path.read_text())):
            names = []
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom):
                if node.level:
                    base = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                    names = [f"{base}.{node.module}" if node.module else base]
                else:
                    names = [node.module or ""]
            for name in names:
                if name.startswith("pykube_plane") and not name.startswith(ALLOWED):
                    offenders.append(f"{path.name}: {name}")
    assert offenders == []
    assert len(list(root.rglob("*.py"))) > 10
