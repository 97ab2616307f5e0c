"""The OpenAPI definitions of the served kinds (schemas.json, see schema_gen.py) and what the
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


def unknown_fields(definition: str, obj: Any, limit: int = 50) -> list[str]:
    """Paths of the fields in `obj` that the schema does not define, in k8s' notation
    (`spec.containers[0].imagePullPolcy`), at most `limit` of them."""
    found: list[str] = []
    defs = definitions()
    _walk(defs, defs.get(definition), obj, "", found, limit)
    return found


def _walk(defs: dict, schema: dict | None, value: Any, path: str, found: list[str], limit: int) -> None:
    if schema is None or len(found) >= limit:
        return
    target = ref_target(schema)
    if target is not None:
        schema = defs.get(target)
        if schema is None:
            return
    if schema.get("x-kubernetes-preserve-unknown-fields"):
        return
    kind = schema.get("type")
    if isinstance(value, dict):
        properties = schema.get("properties")
        if properties is not None:
            for key, item in value.items():
                child = f"{path}.{key}" if path else key
                prop = properties.get(key)
                if prop is None:
                    found.append(child)
                    if len(found) >= limit:
                        return
                else:
                    _walk(defs, prop, item, child, found, limit)
        elif isinstance(schema.get("additionalProperties"), dict):
            extra = schema["additionalProperties"]
            for key, item in value.items():
                _walk(defs, extra, item, f"{path}[{key}]", found, limit)
    elif isinstance(value, list) and kind == "array" and isinstance(schema.get("items"), dict):
        items = schema["items"]
        for i, item in enumerate(value):
            _walk(defs, items, item, f"{path}[{i}]", found, limit)
