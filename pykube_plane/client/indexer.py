"""The informer's local cache: objects by key, plus indexes (client-go's cache.Indexer).

Keys are `namespace/name` (just `name` for cluster-scoped objects). An index is a function from
an object to the values it files under; the indexer keeps, per index, value -> set of keys:

    indexer = Indexer({"namespace": index_by_namespace, "app": index_by_label("app")})
    indexer.by_index("namespace", "default")      # every object in default
    indexer.by_index("app", "web")                # every object labelled app=web
    indexer.list(namespace="default", label_selector="tier in (front,back)")

Example of the bookkeeping, with the "app" index:
    add  a (app=web)        items {a}       indices app: {web: {a}}
    add  b (app=web)        items {a, b}    indices app: {web: {a, b}}
    update a (app=db)       items {a, b}    indices app: {web: {b}, db: {a}}
    delete b                items {a}       indices app: {db: {a}}     (empty sets are dropped)

Objects are the informer's shared copies: read them, never change them (copy first).
"""
from __future__ import annotations

from typing import Any, Callable, Iterable, Iterator, Mapping

from pykube_plane.api import labels as api_labels

KeyFunc = Callable[[Mapping[str, Any]], str]
IndexFunc = Callable[[Mapping[str, Any]], Iterable[str]]

NAMESPACE_INDEX = "namespace"


def object_key(obj: Mapping[str, Any]) -> str:
    """client-go's MetaNamespaceKeyFunc: `namespace/name`, or `name` without a namespace."""
    meta = obj.get("metadata") or {}
    namespace = meta.get("namespace")
    name = meta.get("name") or ""
    return f"{namespace}/{name}" if namespace else name


def split_key(key: str) -> tuple[str, str]:
    """(namespace, name) of a key made by `object_key`."""
    namespace, sep, name = key.partition("/")
    return (namespace, name) if sep else ("", namespace)


def index_by_namespace(obj: Mapping[str, Any]) -> list[str]:
    return [(obj.get("metadata") or {}).get("namespace") or ""]


def index_by_label(label: str) -> IndexFunc:
    """Files each object under the value of its `label` (objects without it are not indexed)."""
    def index(obj: Mapping[str, Any]) -> list[str]:
        value = ((obj.get("metadata") or {}).get("labels") or {}).get(label)
        return [value] if value is not None else []
    index.__name__ = f"index_by_label_{label}"
    return index


def index_by_field(path: str) -> IndexFunc:
    """Files each object under the value at a dotted path, e.g. "spec.nodeName"."""
    parts = path.split(".")

    def index(obj: Mapping[str, Any]) -> list[str]:
        value: Any = obj
        for part in parts:
            if not isinstance(value, Mapping):
                return []
            value = value.get(part)
        return [str(value)] if value is not None and value != "" else []
    index.__name__ = f"index_by_field_{path}"
    return index


class UnknownIndex(KeyError):
    """by_index on an index that was never added."""


class Indexer:
    def __init__(self, indexers: Mapping[str, IndexFunc] | None = None, key_func: KeyFunc = object_key) -> None:
        self.key_func = key_func
        self._items: dict[str, dict] = {}
        self._indexers: dict[str, IndexFunc] = {NAMESPACE_INDEX: index_by_namespace}
        self._indices: dict[str, dict[str, set[str]]] = {NAMESPACE_INDEX: {}}
        if indexers:
            self.add_indexers(indexers)

    # -- reads -----------------------------------------------------------------------------------

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: object) -> bool:
        return key in self._items

    def __iter__(self) -> Iterator[dict]:
        return iter(list(self._items.values()))

    def get(self, key: str) -> dict | None:
        """The object with this key (`namespace/name` or `name`), or None."""
        return self._items.get(key)

    def get_object(self, namespace: str, name: str) -> dict | None:
        return self._items.get(f"{namespace}/{name}" if namespace else name)

    def keys(self) -> list[str]:
        return list(self._items)

    def items(self) -> list[dict]:
        return list(self._items.values())

    def list(self, namespace: str | None = None, label_selector: str | Mapping[str, str] | None = None) -> list[dict]:
        """Objects in `namespace` (all when None) whose labels match the selector (a selector
        string such as "app=web,tier!=db" or a dict of required labels)."""
        if namespace is None:
            candidates: Iterable[dict] = self._items.values()
        else:
            candidates = self.by_index(NAMESPACE_INDEX, namespace)
        if not label_selector:
            return list(candidates)
        if isinstance(label_selector, str):
            selector = api_labels.parse_selector(label_selector)
        else:
            selector = api_labels.selector_from_set(label_selector)
        return [o for o in candidates if selector.matches((o.get("metadata") or {}).get("labels") or {})]

    def index_names(self) -> list[str]:
        return list(self._indexers)

    def index_keys(self, index: str, value: str) -> list[str]:
        try:
            bucket = self._indices[index]
        except KeyError:
            raise UnknownIndex(f"index {index!r} does not exist") from None
        return sorted(bucket.get(value, ()))

    def by_index(self, index: str, value: str) -> list[dict]:
        """Objects filed under `value` by the index named `index`."""
        items = self._items
        return [items[k] for k in self.index_keys(index, value)]

    def index_values(self, index: str) -> list[str]:
        """Every value the index currently files something under."""
        try:
            return list(self._indices[index])
        except KeyError:
            raise UnknownIndex(f"index {index!r} does not exist") from None

    # -- writes (the informer's) -----------------------------------------------------------------

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        """Add indexes, built at once over the objects already held."""
        for name, func in indexers.items():
            if name in self._indexers and self._indexers[name] is not func:
                raise ValueError(f"index {name!r} already exists")
            self._indexers[name] = func
            bucket: dict[str, set[str]] = {}
            for key, obj in self._items.items():
                for value in func(obj):
                    bucket.setdefault(value, set()).add(key)
            self._indices[name] = bucket

    def add(self, obj: dict) -> dict | None:
        """Add or replace; answers the object it replaced."""
        return self.put(self.key_func(obj), obj)

    def put(self, key: str, obj: dict) -> dict | None:
        """`add` with the key already known."""
        old = self._items.get(key)
        self._items[key] = obj
        self._reindex(key, old, obj)
        return old

    update = add

    def delete(self, obj_or_key: Mapping[str, Any] | str) -> dict | None:
        key = obj_or_key if isinstance(obj_or_key, str) else self.key_func(obj_or_key)
        old = self._items.pop(key, None)
        if old is not None:
            self._reindex(key, old, None)
        return old

    def replace(self, objects: Iterable[dict]) -> None:
        """Hold exactly these objects (indexes rebuilt)."""
        self._items = {self.key_func(o): o for o in objects}
        for name, func in self._indexers.items():
            bucket: dict[str, set[str]] = {}
            for key, obj in self._items.items():
                for value in func(obj):
                    bucket.setdefault(value, set()).add(key)
            self._indices[name] = bucket

    def _reindex(self, key: str, old: dict | None, new: dict | None) -> None:
        for name, func in self._indexers.items():
            bucket = self._indices[name]
            new_values = func(new) if new is not None else ()
            if old is None:
                for value in new_values:
                    keys = bucket.get(value)
                    if keys is None:
                        bucket[value] = {key}
                    else:
                        keys.add(key)
                continue
            old_values = func(old)
            if old_values == new_values:
                continue        # the common update: same namespace, same labels
            stale = set(old_values).difference(new_values)
            for value in stale:
                keys = bucket.get(value)
                if keys is not None:
                    keys.discard(key)
                    if not keys:
                        del bucket[value]
            for value in set(new_values).difference(old_values):
                bucket.setdefault(value, set()).add(key)
