"""The OpenAPI definitions of the served kinds (schemas.json, see scripts/schema_gen.py) and what the
server reads from them: which definition describes a kind, and which fields of an object the
schema does not know (server-side field validation: fieldValidation=Strict/Warn/Ignore).
"""
from __future__ import annotations

import functools
from pathlib import Path
from typing import Any

import orjson

SCHEMAS_FILE = Path(__file__).with_name("schemas.json")


@functools.lru_cache(maxsize=1)
def definitions() -> dict[str, dict]:
    return orjson.loads(SCHEMAS_FILE.read_bytes())["definitions"]


@functools.lru_cache(maxsize=1)
def _by_gvk() -> dict[tuple[str, str, str], str]:
    out = {}
    for name, schema in definitions().items():
        for gvk in schema.get("x-kubernetes-group-version-kind", ()):
            out.setdefault((gvk["group"], gvk["version"], gvk["kind"]), name)
    return out


def definition_name(group: str, version: str, kind: str) -> str | None:
    """The definition of a kind (io.k8s.api.core.v1.Pod for ("", "v1", "Pod"))."""
    return _by_gvk().get((group, version, kind))


def ref_target(schema: dict) -> str | None:
    """The definition a property refers to (directly or through a one-element allOf)."""
    ref = schema.get("$ref")
    if ref is None and "allOf" in schema and len(schema["allOf"]) == 1:
        ref = schema["allOf"][0].get("$ref")
    return ref


def unknown_fields(definition: str, obj: Any, limit: int = 50, prune: bool = False) -> list[str]:
    """Paths of the fields in `obj` that the schema does not define, in k8s' notation
    (`spec.containers[0].imagePullPolcy`), at most `limit` of them. With `prune`, they are also
    removed from `obj`, as decoding into kube-apiserver's Go types drops them."""
    found: list[str] = []
    node = _compiled(definition)
    if node is not None:
        _walk(node, obj, "", found, limit if not prune else 1 << 30, prune)
    return found


# A compiled schema node: (properties, items, additional). `properties` maps a field to its node
# (None: the node accepts anything); `items` / `additional` are the nodes of list items / map
# values. FREE accepts anything. Compiled once per definition, shared by every check.
FREE = None
_nodes: dict[str, list] = {}


def _compiled(name: str) -> list | None:
    node = _nodes.get(name)
    if node is None:
        schema = definitions().get(name)
        if schema is None:
            return FREE
        node = _nodes[name] = [None, None, None]     # placed first: recursive definitions end here
        node[:] = _compile(schema) or [None, None, None]
    return node


def _compile(schema: dict) -> list | None:
    target = ref_target(schema)
    if target is not None:
        return _compiled(target)
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return FREE
    properties = schema.get("properties")
    if properties is not None:
        return [{k: _compile(v) for k, v in properties.items()}, None, None]
    if schema.get("type") == "array" and isinstance(schema.get("items"), dict):
        return [None, _compile(schema["items"]), None]
    if isinstance(schema.get("additionalProperties"), dict):
        return [None, None, _compile(schema["additionalProperties"])]
    return FREE


def _walk(node: list, value: Any, path: str, found: list[str], limit: int, prune: bool = False) -> None:
    properties, items, additional = node
    if type(value) is dict:
        if properties is not None:
            unknown = None
            for key, item in value.items():
                if key in properties:
                    child = properties[key]
                    if child is not None and (type(item) is dict or type(item) is list):
                        _walk(child, item, f"{path}.{key}" if path else key, found, limit, prune)
                else:
                    found.append(f"{path}.{key}" if path else key)
                    if prune:
                        (unknown := unknown or []).append(key)
                    elif len(found) >= limit:
                        return
            if unknown:
                for key in unknown:
                    del value[key]
        elif additional is not None:
            for key, item in value.items():
                if type(item) is dict or type(item) is list:
                    _walk(additional, item, f"{path}[{key}]", found, limit, prune)
    elif type(value) is list and items is not None:
        for i, item in enumerate(value):
            if type(item) is dict or type(item) is list:
                _walk(items, item, f"{path}[{i}]", found, limit, prune)
