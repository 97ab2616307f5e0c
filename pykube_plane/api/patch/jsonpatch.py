"""JSON patch (RFC 6902, atomic): application/json-patch+json."""
from __future__ import annotations

from typing import Any

from .common import PatchError, deep_copy, json_equal

_BAD_PATCH_DOCUMENT = "json: cannot unmarshal {} into Go value of type jsonpatch.Patch"


def _pointer_tokens(path: Any, what: str = "path") -> list[str]:
    if not isinstance(path, str):
        raise PatchError(f"{what} must be a string", 422)
    if path == "":
        return []
    if not path.startswith("/"):
        raise PatchError(f"JSON pointer must be empty or start with a \"/\": {path!r}", 422)
    return [t.replace("~1", "/").replace("~0", "~") for t in path[1:].split("/")]


def _array_index(token: str, size: int, allow_end: bool) -> int:
    body = token[1:] if token.startswith("-") else token
    if not body.isdigit() or not body.isascii():
        raise PatchError(f'strconv.Atoi: parsing "{token}": invalid syntax')
    index = int(token)
    limit = size + 1 if allow_end else size
    if index < 0:
        index += limit          # json-patch v4 accepts negative indices counted from the end
    if not 0 <= index < limit:
        raise PatchError(f"Unable to access invalid index: {int(token)}: invalid index referenced")
    return index


def _resolve(doc: Any, tokens: list[str]) -> tuple[bool, Any]:
    node = doc
    for token in tokens:
        if isinstance(node, dict):
            if token not in node:
                return False, None
            node = node[token]
        elif isinstance(node, list):
            body = token[1:] if token.startswith("-") else token
            if not body.isdigit() or not body.isascii():
                return False, None
            index = int(token)
            if index < 0:
                index += len(node)
            if not 0 <= index < len(node):
                return False, None
            node = node[index]
        else:
            return False, None
    return True, node


def _container(doc: Any, tokens: list[str]) -> Any:
    if not tokens:
        return None             # json-patch v4 never replaces the whole document
    found, node = _resolve(doc, tokens[:-1])
    return node if found and isinstance(node, (dict, list)) else None


def _op_add(doc: Any, path: str, tokens: list[str], value: Any) -> Any:
    parent = _container(doc, tokens)
    if parent is None:
        raise PatchError(f'add operation does not apply: doc is missing path: "{path}": missing value')
    key = tokens[-1]
    if isinstance(parent, dict):
        parent[key] = value
    elif key == "-":
        parent.append(value)
    else:
        parent.insert(_array_index(key, len(parent), allow_end=True), value)
    return doc


def _op_remove(doc: Any, path: str, tokens: list[str]) -> tuple[Any, Any]:
    parent = _container(doc, tokens)
    if parent is None:
        raise PatchError(f'remove operation does not apply: doc is missing path: "{path}": missing value')
    key = tokens[-1]
    if isinstance(parent, dict):
        if key not in parent:
            raise PatchError(f"Unable to remove nonexistent key: {key}: missing value")
        return doc, parent.pop(key)
    return doc, parent.pop(_array_index(key, len(parent), allow_end=False))


def _op_replace(doc: Any, path: str, tokens: list[str], value: Any) -> Any:
    parent = _container(doc, tokens)
    key = tokens[-1]
    if isinstance(parent, dict) and key in parent:
        parent[key] = value
        return doc
    if isinstance(parent, list):
        parent[_array_index(key, len(parent), allow_end=False)] = value
        return doc
    raise PatchError(f"replace operation does not apply: doc is missing key: {path}: missing value")


def json_patch(target: Any, ops: Any) -> Any:
    """Apply RFC 6902 operations in order, all or nothing."""
    if not isinstance(ops, list):
        raise PatchError(_BAD_PATCH_DOCUMENT.format("object" if isinstance(ops, dict) else "value"), 400)
    doc = deep_copy(target)
    for op in ops:
        if not isinstance(op, dict):
            raise PatchError(_BAD_PATCH_DOCUMENT.format("value"), 400)
        kind = op.get("op")
        path = op.get("path")
        tokens = _pointer_tokens(path)
        if kind == "add":
            if "value" not in op:
                raise PatchError("add operation does not apply: missing value")
            doc = _op_add(doc, path, tokens, deep_copy(op["value"]))
        elif kind == "remove":
            doc, _ = _op_remove(doc, path, tokens)
        elif kind == "replace":
            if "value" not in op:
                raise PatchError("replace operation does not apply: missing value")
            doc = _op_replace(doc, path, tokens, deep_copy(op["value"]))
        elif kind in ("move", "copy"):
            source = op.get("from")
            from_tokens = _pointer_tokens(source, "from")
            found, value = _resolve(doc, from_tokens)
            if not found:
                raise PatchError(f"{kind} operation does not apply: doc is missing from path: {source}: missing value")
            if kind == "move":
                if from_tokens == tokens:
                    continue
                if tokens[:len(from_tokens)] == from_tokens:
                    raise PatchError(f"move operation does not apply: cannot move {source} into its own child {path}")
                doc, value = _op_remove(doc, source, from_tokens)
            else:
                value = deep_copy(value)
            doc = _op_add(doc, path, tokens, value)
        elif kind == "test":
            found, value = _resolve(doc, tokens)
            expected = op.get("value")
            if not found and expected is None and tokens and _container(doc, tokens) is not None:
                continue            # testing that a member is absent/null
            if not found or not json_equal(value, expected):
                raise PatchError(f"testing value {path} failed: test failed")
        else:
            raise PatchError(f"Unexpected kind: {kind}")
    return doc
