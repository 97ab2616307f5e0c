"""Strategic merge patch (apimachinery strategicpatch): application/strategic-merge-patch+json.

Maps merge key by key, `null` deletes; a list merges only where the type says so — by a merge
key (containers by `name`, ports by `containerPort`...) or, for scalars (finalizers), as a set
union — and is replaced otherwise. Directives: `$patch: replace|delete` on a map or as a list
item, `$retainKeys` (drop the keys not listed), `$deleteFromPrimitiveList/<field>`,
`$setElementOrder/<field>`. Without an order directive, items new to a merged list come *before*
the server's items, exactly as k8s does:

    original  {"containers": [{"name": "a"}]}
    patch     {"containers": [{"name": "b", "image": "x"}]}
    result    {"containers": [{"name": "b", "image": "x"}, {"name": "a"}]}
"""
from __future__ import annotations

from typing import Any

import orjson

from .common import PatchError, deep_copy, go_format, json_equal

DIRECTIVE = "$patch"
RETAIN_KEYS = "$retainKeys"
DELETE_FROM_PRIMITIVE_LIST = "$deleteFromPrimitiveList"
SET_ELEMENT_ORDER = "$setElementOrder"
ERR_BAD_JSON_DOC = "invalid JSON document"
ERR_NO_LIST_OF_LISTS = "lists of lists are not supported"
ERR_BAD_PRIMITIVE_LIST = "invalid patch format of primitive list"
ERR_BAD_RETAIN_KEYS = "invalid patch format of retainKeys"
ERR_BAD_SET_ELEMENT_ORDER = "invalid patch format of setElementOrder list"


class PatchMeta:
    """What a struct field's Go tags say: patchStrategy, patchMergeKey, and the element's fields."""

    __slots__ = ("strategy", "merge_key", "fields")

    def __init__(self, strategy: str = "", merge_key: str = "", fields: "dict[str, PatchMeta] | None" = None):
        self.strategy = strategy        # "merge", "replace" or "" (maps merge, lists are replaced)
        self.merge_key = merge_key
        self.fields = fields if fields is not None else {}

    def child(self, name: str) -> "PatchMeta":
        return self.fields.get(name, _UNKNOWN)


_UNKNOWN = PatchMeta()


def _merge(merge_key: str = "", fields: dict[str, PatchMeta] | None = None) -> PatchMeta:
    return PatchMeta("merge", merge_key, fields)


def _struct(**fields: PatchMeta) -> PatchMeta:
    return PatchMeta("", "", fields)


_CONDITIONS = _merge("type")
_META = _struct(finalizers=_merge(), ownerReferences=_merge("uid"))
_CONTAINER = {"ports": _merge("containerPort"), "env": _merge("name"), "volumeMounts": _merge("mountPath"),
              "volumeDevices": _merge("devicePath")}


# The patchStrategy/patchMergeKey tags of k8s.io/api for the served kinds. A list without a tag
# (tolerations, envFrom, rules, subjects, taints...) is replaced whole, as kube-apiserver does.
_POD_SPEC = _struct(
    volumes=_merge("name"),                     # "merge,retainKeys": $retainKeys applies when sent
    initContainers=_merge("name", _CONTAINER), containers=_merge("name", _CONTAINER),
    ephemeralContainers=_merge("name", _CONTAINER), imagePullSecrets=_merge("name"),
    hostAliases=_merge("ip"), topologySpreadConstraints=_merge("topologyKey"),
    schedulingGates=_merge("name"), resourceClaims=_merge("name"))
_POD_STATUS = _struct(conditions=_CONDITIONS, podIPs=_merge("ip"), hostIPs=_merge("ip"),
                      resourceClaimStatuses=_merge("name"))
_POD_TEMPLATE = _struct(metadata=_META, spec=_POD_SPEC)
_WORKLOAD_STATUS = _struct(conditions=_CONDITIONS)


def _kind(spec: PatchMeta | None = None, status: PatchMeta | None = None, **more: PatchMeta) -> PatchMeta:
    fields = {"metadata": _META}
    if spec is not None:
        fields["spec"] = spec
    if status is not None:
        fields["status"] = status
    fields.update(more)
    return PatchMeta("", "", fields)


SCHEMAS: dict[str, PatchMeta] = {
    "Pod": _kind(_POD_SPEC, _POD_STATUS),
    "PodTemplate": _kind(template=_POD_TEMPLATE),
    "Deployment": _kind(_struct(template=_POD_TEMPLATE), _WORKLOAD_STATUS),
    "ReplicaSet": _kind(_struct(template=_POD_TEMPLATE), _WORKLOAD_STATUS),
    "ReplicationController": _kind(_struct(template=_POD_TEMPLATE), _WORKLOAD_STATUS),
    "Job": _kind(_struct(template=_POD_TEMPLATE), _WORKLOAD_STATUS),
    "Service": _kind(_struct(ports=_merge("port")), _WORKLOAD_STATUS),
    "Node": _kind(_struct(podCIDRs=_merge()), _struct(conditions=_CONDITIONS, addresses=_merge("type"))),
    "Namespace": _kind(None, _WORKLOAD_STATUS),
    "ServiceAccount": _kind(secrets=_merge("name")),
}
_GENERIC = _kind()


def schema_for(kind: str) -> PatchMeta:
    """Patch metadata of a kind; unknown kinds get metadata rules only (lists replaced)."""
    return SCHEMAS.get(kind, _GENERIC)


def strategic_merge_patch(target: Any, patch: Any, kind: "str | PatchMeta") -> dict:
    """Apply a strategic merge patch to `target`, an object of `kind` (or of an explicit schema)."""
    if not isinstance(patch, dict):
        raise PatchError(ERR_BAD_JSON_DOC, 400)
    original = deep_copy(target) if isinstance(target, dict) else {}
    schema = kind if isinstance(kind, PatchMeta) else schema_for(kind)
    return _merge_map(original, deep_copy(patch), schema)


def _merge_map(original: dict, patch: dict, meta: PatchMeta) -> dict:
    """Merge `patch` into `original` (both ours to mutate)."""
    if DIRECTIVE in patch:
        directive = patch[DIRECTIVE]
        if directive == "replace":
            del patch[DIRECTIVE]
            return _without_directives(patch)
        if directive == "delete":
            return {}
        raise PatchError(f"unknown patch type: {go_format(directive)} in map: {go_format(patch)}")
    _apply_retain_keys(original, patch)
    _apply_set_element_order(original, patch, meta)
    for key, value in patch.items():
        is_delete_list = False
        if key.startswith(DELETE_FROM_PRIMITIVE_LIST):
            key = _directive_target(key, DELETE_FROM_PRIMITIVE_LIST, ERR_BAD_PRIMITIVE_LIST)
            is_delete_list = True
        elif key.startswith(SET_ELEMENT_ORDER):
            continue                            # consumed by _apply_set_element_order
        if value is None:
            original.pop(key, None)
            continue
        field = meta.child(key)
        current = original.get(key, _ABSENT)
        if is_delete_list:
            # only a list present on both sides loses items; anything else is a no-op in k8s
            if isinstance(current, list) and isinstance(value, list):
                original[key] = _delete_from_list(current, value)
            continue
        if isinstance(current, dict) and isinstance(value, dict):
            original[key] = (_without_directives(value) if field.strategy == "replace"
                             else _merge_map(current, value, field))
        elif isinstance(current, list) and isinstance(value, list):
            original[key] = _merge_list(current, value, field) if field.strategy == "merge" \
                else _without_directives(value)
        else:
            fresh = _without_directives(value)
            if fresh is _ABSENT:                # a bare {"$patch": ...} map adds nothing
                original.pop(key, None)
            else:
                original[key] = fresh
    return original


_ABSENT = object()


def _without_directives(value: Any) -> Any:
    """A patch value with nothing to merge into, as k8s stores it: nulls discarded, maps carrying
    `$patch` dropped (returns _ABSENT for such a map itself), other directive keys removed (k8s'
    typed decoding drops them as unknown fields)."""
    if isinstance(value, dict):
        if DIRECTIVE in value:
            return _ABSENT
        out = {}
        for key, item in value.items():
            if item is None or key.startswith("$"):
                continue
            cleaned = _without_directives(item)
            if cleaned is not _ABSENT:
                out[key] = cleaned
        return out
    if isinstance(value, list):
        out_list = []
        for item in value:
            cleaned = _without_directives(item)
            if cleaned is not _ABSENT:
                out_list.append(cleaned)
        return out_list
    return value


def _directive_target(key: str, prefix: str, error: str) -> str:
    head, sep, rest = key.partition("/")
    if not sep or head != prefix:
        raise PatchError(error, 400)
    return rest


def _apply_retain_keys(original: dict, patch: dict) -> None:
    if RETAIN_KEYS not in patch:
        return
    keys = patch.pop(RETAIN_KEYS)
    if not isinstance(keys, list) or not all(isinstance(k, str) for k in keys):
        raise PatchError(ERR_BAD_RETAIN_KEYS, 400)
    retained = set(keys)
    for key, value in patch.items():
        if value is None or key.startswith((DELETE_FROM_PRIMITIVE_LIST, SET_ELEMENT_ORDER)):
            continue
        if key not in retained:
            raise PatchError(ERR_BAD_RETAIN_KEYS, 400)
    for key in [k for k in original if k not in retained]:
        del original[key]


def _element_kind(*lists: list) -> str | None:
    """'map' or 'scalar' for the items of these lists; None if all are empty."""
    seen: type | None = None
    for items in lists:
        for item in items:
            if isinstance(item, list):
                raise PatchError(ERR_NO_LIST_OF_LISTS, 422)
            category = dict if isinstance(item, dict) else (float if isinstance(item, (int, float))
                                                              and not isinstance(item, bool) else type(item))
            if seen is None:
                seen = category
            elif seen is not category:
                raise PatchError("list element types are not identical: ["
                                 + " ".join(go_format(list(x)) for x in lists) + "]")
    if seen is None:
        return None
    return "map" if seen is dict else "scalar"


def _delete_from_list(original: list, doomed: list) -> list:
    """$deleteFromPrimitiveList: every item equal to one listed goes, duplicates included."""
    _element_kind(original, doomed)
    return [item for item in original if not any(json_equal(item, d) for d in doomed)]


def _merge_list(original: list, patch: list, field: PatchMeta) -> list:
    """A list whose field has patchStrategy merge: scalars as a set, maps by the merge key."""
    if not original and not patch:
        return original
    kind = _element_kind(original, patch)
    merge_key = field.merge_key
    if kind == "scalar":
        merged = _dedupe(original + patch)
    else:
        if not merge_key:
            raise PatchError("cannot merge lists without merge key for type struct")
        original, patch = _apply_list_directives(original, patch, merge_key)
        merged = _merge_items(original, patch, merge_key, field)
    in_patch, server_only = _partition(merged, patch, merge_key if kind == "map" else "")
    return _normalize_order(in_patch, server_only, patch, original, merge_key if kind == "map" else "")


def _dedupe(items: list) -> list:
    out: list = []
    for item in items:
        if not any(json_equal(item, kept) for kept in out):
            out.append(item)
    return out


def _key_of(item: Any, merge_key: str) -> Any:
    if not isinstance(item, dict):
        raise PatchError(f"expected a map[string]interface {{}}, but received a {type(item).__name__}")
    if merge_key not in item:
        raise PatchError(f"map: {go_format(item)} does not contain declared merge key: {merge_key}")
    return item[merge_key]


def _apply_list_directives(original: list, patch: list, merge_key: str) -> tuple[list, list]:
    """Handle `$patch` items: delete removes matching server items, replace drops the server list."""
    plain = []
    replace = False
    for item in patch:
        if not isinstance(item, dict) or DIRECTIVE not in item:
            plain.append(item)
            continue
        directive = item[DIRECTIVE]
        if directive == "delete":
            doomed = _key_of(item, merge_key)
            original = [o for o in original if not (isinstance(o, dict) and json_equal(o.get(merge_key), doomed)
                                                    and merge_key in o)]
        elif directive == "replace":
            replace = True
        elif directive == "merge":
            raise PatchError("merging lists cannot yet be specified in the patch")
        else:
            raise PatchError(f"unknown patch type: {go_format(directive)} in map: {go_format(item)}")
    if replace:
        return _without_directives(plain), []
    return original, plain


def _merge_items(original: list, patch: list, merge_key: str, field: PatchMeta) -> list:
    merged = list(original)
    element = PatchMeta("", "", field.fields)
    for item in patch:
        wanted = _key_of(item, merge_key)
        for index, existing in enumerate(merged):
            if isinstance(existing, dict) and merge_key in existing and json_equal(existing[merge_key], wanted):
                merged[index] = _merge_map(existing, item, element)
                break
        else:
            merged.append(_without_directives(item))
    return merged


def _order_value(item: Any, merge_key: str) -> Any:
    value = item.get(merge_key) if merge_key and isinstance(item, dict) else item
    if isinstance(value, (dict, list)):
        return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _index_map(order: list, merge_key: str) -> dict:
    positions: dict = {}
    for i, item in enumerate(order):
        positions.setdefault(_order_value(item, merge_key), i)
    return positions


def _partition(merged: list, by: list, merge_key: str) -> tuple[list, list]:
    wanted = _index_map(by, merge_key)
    in_patch, server_only = [], []
    for item in merged:
        if merge_key:
            _key_of(item, merge_key)
        (in_patch if _order_value(item, merge_key) in wanted else server_only).append(item)
    return in_patch, server_only


def _sort_by(items: list, order: list, merge_key: str) -> list:
    positions = _index_map(order, merge_key)
    missing = len(order)
    return sorted(items, key=lambda item: positions.get(_order_value(item, merge_key), missing))


def _normalize_order(in_patch: list, server_only: list, patch_order: list, server_order: list,
                     merge_key: str) -> list:
    """Patch items in patch order, server-only items in server order, interleaved by server order.

    A server-only item goes before a patch item only when both are in the server list and it came
    first there; so an item new to the list lands ahead of the server items after it (k8s's
    mergeSortedSlice)."""
    left = _sort_by(server_only, server_order, merge_key)
    right = _sort_by(in_patch, patch_order, merge_key)
    positions = _index_map(server_order, merge_key)
    out = []
    i = j = 0
    while i < len(left) or j < len(right):
        if i >= len(left):
            out.append(right[j])
            j += 1
        elif j >= len(right):
            out.append(left[i])
            i += 1
        else:
            li = positions.get(_order_value(left[i], merge_key), -1)
            ri = positions.get(_order_value(right[j], merge_key), -1)
            if li >= 0 and ri >= 0 and li < ri:
                out.append(left[i])
                i += 1
            else:
                out.append(right[j])
                j += 1
    return out


def _apply_set_element_order(original: dict, patch: dict, meta: PatchMeta) -> None:
    for directive_key in [k for k in patch if k.startswith(SET_ELEMENT_ORDER)]:
        order = patch.pop(directive_key)
        if not isinstance(order, list):
            raise PatchError(ERR_BAD_SET_ELEMENT_ORDER, 400)
        key = _directive_target(directive_key, SET_ELEMENT_ORDER, ERR_BAD_SET_ELEMENT_ORDER)
        field = meta.child(key)
        merge_key = field.merge_key
        current = original.get(key)
        incoming = patch.get(key)
        if key in original and not isinstance(current, list):
            raise PatchError(f"expected a []interface {{}}, but received a {type(current).__name__}")
        if key in patch and incoming is not None and not isinstance(incoming, list):
            raise PatchError(f"expected a []interface {{}}, but received a {type(incoming).__name__}")
        if isinstance(incoming, list):
            _check_order_consistent(incoming, order, merge_key)
        if isinstance(current, list) and isinstance(incoming, list):
            merged = _merge_list(current, incoming, field) if field.strategy == "merge" \
                else _without_directives(incoming)
        elif isinstance(current, list):
            merged = current
        elif isinstance(incoming, list):
            merged = _without_directives(incoming)
        else:
            continue
        kind = _element_kind(current or [], incoming or [])
        if kind is not None:
            key_for_order = merge_key if kind == "map" else ""
            in_order, server_only = _partition(merged, order, key_for_order)
            merged = _normalize_order(in_order, server_only, order, current or [], key_for_order)
        original[key] = merged
        patch.pop(key, None)


def _check_order_consistent(patch_list: list, order: list, merge_key: str) -> None:
    """Items of the patch list must appear in the order list, in the same relative order."""
    items = [p for p in patch_list if not (isinstance(p, dict) and DIRECTIVE in p)]
    if not items or not order:
        return
    p = o = 0
    while p < len(items) and o < len(order):
        if merge_key:
            same = json_equal(_key_of(items[p], merge_key), _key_of(order[o], merge_key))
        else:
            same = json_equal(items[p], order[o])
        if same:
            p += 1
        o += 1
    if p < len(items):
        raise PatchError(f"The order in patch list:\n{go_format(patch_list)}\n doesn't match "
                         f"{SET_ELEMENT_ORDER} list:\n{go_format(order)}\n")
