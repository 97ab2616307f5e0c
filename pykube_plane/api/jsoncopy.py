"""Deep copies of JSON-shaped data (dicts, lists, scalars), for handing objects across a boundary
that must not share them (the in-process API entry point)."""
from __future__ import annotations

from typing import Any


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-shaped data — several times faster than copy.deepcopy, and no encoding."""
    if isinstance(value, dict):
        return {k: copy_json(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, (dict, list)) else v for v in value]
    return value
