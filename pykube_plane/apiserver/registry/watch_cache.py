"""The watch cache: one store watch per resource, serving LIST and WATCH without the store.

Shape (kube-apiserver's cacher, apiserver/pkg/storage/cacher):

    store watch(prefix, prev_kv) ──> apply(event) ──> objects   {key: CachedObject}
                                              │        by_namespace {ns: {key: obj}}
                                              │        by_node      {node: {key: obj}}   (pods)
                                              ├──> ring buffer of CacheEvents (the last N changes)
                                              └──> dispatch to matching Watchers (bounded queues)

- A `CachedObject` keeps the object's JSON bytes (resourceVersion included), its labels and the
  values of its selectable fields, not the decoded object: bytes are what LIST and WATCH send,
  and they are a fraction of a Python dict's memory. Bytes are encoded once per change; every
  watcher and every list response shares them.
- The ring buffer holds every change after `oldest_rv`: a watch from resourceVersion N >= oldest_rv
  replays the changes after N, then goes live; an older N is answered 410 Expired.
- A watcher is filtered by namespace, name, label and field selector; an object that stops
  (starts) matching reaches it as DELETED (ADDED), as in Kubernetes. Live events go to a bounded
  queue: a watcher that cannot keep up is closed, it never slows the cache or the other watchers.
  Initial events (the state at the start of a watch) are a separate, unbounded list of
  references to cached objects.
- `rv` is the revision the cache reflects: the last event's, or a store progress notification's.
  A consistent read asks the store for its revision and waits until `rv` reaches it.
"""
from __future__ import annotations

import asyncio
import logging
import sys
from collections import deque
from typing import Any, Callable, Iterable, Iterator, Protocol

import orjson

from pykube_plane.aio import cancel_and_wait
from pykube_plane.api.watchevents import ADDED, BOOKMARK, DELETED, ERROR, MODIFIED
from pykube_plane.store.kv import EVENT_DELETE, KV, KeyValue, prefix_end

log = logging.getLogger(__name__)

DEFAULT_CAPACITY = 10_000
DEFAULT_WATCHER_QUEUE = 1_000


class LabelSelector(Protocol):
    def matches(self, labels: dict[str, str]) -> bool: ...


class FieldSelector(Protocol):
    def matches(self, fields: dict[str, str]) -> bool: ...


class CachedObject:
    """One stored object as the cache keeps it. `data` is its JSON, resourceVersion included."""

    __slots__ = ("key", "namespace", "name", "rv", "data", "labels", "field_values", "node_name",
                 "_views")

    def __init__(self, key: bytes, namespace: str, name: str, rv: int, data: bytes,
                 labels: dict[str, str], field_values: tuple, node_name: str) -> None:
        self.key = key
        self.namespace = namespace
        self.name = name
        self.rv = rv
        self.data = data
        self.labels = labels
        self.field_values = field_values
        self.node_name = node_name
        self._views: dict | None = None

    def obj(self) -> dict[str, Any]:
        """A fresh decoded copy (callers may change it)."""
        return orjson.loads(self.data)

    def view(self, converter: Callable[[dict], dict] | None) -> bytes:
        """The JSON of this object as another API version shows it (events.k8s.io events)."""
        if converter is None:
            return self.data
        if self._views is None:
            self._views = {}
        data = self._views.get(converter)
        if data is None:
            data = self._views[converter] = orjson.dumps(converter(self.obj()))
        return data


class CacheEvent:
    """One change as the cache saw it: `cur` is None for a delete, `prev` None for a create."""

    __slots__ = ("rv", "cur", "prev", "_tombstone", "memo")

    def __init__(self, rv: int, cur: CachedObject | None, prev: CachedObject | None) -> None:
        self.rv = rv
        self.cur = cur
        self.prev = prev
        self._tombstone: CachedObject | None = None
        self.memo: dict = {}       # encodings of this event, made once, shared by all watchers

    @property
    def tombstone(self) -> CachedObject:
        """The previous object with this event's resourceVersion: what DELETED carries."""
        if self._tombstone is None:
            prev = self.prev
            assert prev is not None
            obj = prev.obj()
            obj.setdefault("metadata", {})["resourceVersion"] = str(self.rv)
            self._tombstone = CachedObject(prev.key, prev.namespace, prev.name, self.rv, orjson.dumps(obj),
                                           prev.labels, prev.field_values, prev.node_name)
        return self._tombstone


def event_line(event_type: str, data: bytes) -> bytes:
    """One watch event in the JSON stream framing (a line per event)."""
    return b'{"type":"' + event_type.encode() + b'","object":' + data + b"}\n"


class Filter:
    """Which objects a list or watch wants. `field_names` orders CachedObject.field_values."""

    __slots__ = ("namespace", "name", "labels", "fields", "node_name", "field_names")

    def __init__(self, namespace: str = "", name: str = "", labels: LabelSelector | None = None,
                 fields: FieldSelector | None = None, node_name: str | None = None,
                 field_names: tuple[str, ...] = ()) -> None:
        self.namespace = namespace
        self.name = name
        self.labels = labels
        self.fields = fields
        self.node_name = node_name      # an exact spec.nodeName the field selector requires
        self.field_names = field_names

    def matches(self, co: CachedObject) -> bool:
        if self.namespace and co.namespace != self.namespace:
            return False
        if self.name and co.name != self.name:
            return False
        if self.node_name is not None and co.node_name != self.node_name:
            return False
        if self.labels is not None and not self.labels.matches(co.labels):
            return False
        if self.fields is not None and not self.fields.matches(dict(zip(self.field_names, co.field_values))):
            return False
        return True


class Watcher:
    """One client watch on the cache. Consumers `await next_batch()` until it returns []."""

    def __init__(self, cache: "WatchCache", filt: Filter, queue_limit: int, bookmarks: bool) -> None:
        self.cache = cache
        self.filter = filt
        self.queue_limit = queue_limit
        self.bookmarks = bookmarks
        self.initial: deque = deque()   # (type, CachedObject, event|None) replayed first, unbounded
        self.queue: deque = deque()     # live items, bounded
        self.closed = False
        self.close_reason = ""
        self.last_rv = 0                # resourceVersion of the last item delivered
        self._wake = asyncio.Event()

    def _push(self, item: tuple) -> None:
        if self.closed:
            return
        if len(self.queue) >= self.queue_limit:
            # Too slow: cut it rather than buffer without bound or make the cache wait.
            self.close("slow watcher: buffer full")
            return
        self.queue.append(item)
        self._wake.set()

    def close(self, reason: str = "") -> None:
        if not self.closed:
            self.closed = True
            self.close_reason = reason
            self.queue.clear()
            self.cache._remove(self)
            self._wake.set()

    def bookmark(self, rv: int) -> None:
        if rv > self.last_rv and not self.queue:
            self._push((BOOKMARK, rv, None))

    async def next_batch(self, max_items: int = 256) -> list[tuple]:
        """Up to `max_items` items (type, CachedObject | rv | status, event); [] once closed."""
        while True:
            out: list[tuple] = []
            while self.initial and len(out) < max_items:
                out.append(self.initial.popleft())
            while self.queue and len(out) < max_items:
                out.append(self.queue.popleft())
            if out:
                last = out[-1]
                if last[0] == BOOKMARK:
                    self.last_rv = last[1]
                elif last[0] != ERROR:
                    self.last_rv = max(self.last_rv, last[1].rv)
                return out
            if self.closed:
                return []
            self._wake.clear()
            await self._wake.wait()


class TooOldError(Exception):
    def __init__(self, requested: int, oldest: int) -> None:
        super().__init__(f"too old resource version: {requested} ({oldest})")
        self.requested = requested
        self.oldest = oldest


class WatchCache:
    """The cache of one storage prefix (see the module docstring)."""

    def __init__(self, kv: KV, prefix: bytes, namespaced: bool, *,
                 describe: Callable[[dict], tuple[tuple, str]],
                 capacity: int = DEFAULT_CAPACITY, watcher_queue: int = DEFAULT_WATCHER_QUEUE,
                 index_node: bool = False, name: str = "") -> None:
        """`describe(obj)` gives an object's (selectable field values, node name)."""
        self.kv = kv
        self.prefix = prefix
        self.namespaced = namespaced
        self.describe = describe
        self.capacity = capacity
        self.watcher_queue = watcher_queue
        self.index_node = index_node
        self.name = name or prefix.decode()
        self.objects: dict[bytes, CachedObject] = {}
        self.by_namespace: dict[str, dict[bytes, CachedObject]] = {}
        self.by_node: dict[str, dict[bytes, CachedObject]] = {}
        self.events: deque[CacheEvent] = deque()
        self.oldest_rv = 0              # the buffer holds every change after this revision
        self.rv = 0
        self.ready = asyncio.Event()
        self._rv_waiters: list[tuple[int, asyncio.Future]] = []
        self._all_watchers: set[Watcher] = set()
        self._ns_watchers: dict[str, set[Watcher]] = {}
        self._node_watchers: dict[str, set[Watcher]] = {}
        self._listeners: list[Callable[[str, CachedObject | None, CachedObject | None], None]] = []
        self._recent: dict[tuple[bytes, int], tuple[dict, bytes]] = {}
        self._task: asyncio.Task | None = None
        self._watch: Any = None
        self._sorted_keys: list[bytes] | None = None

    # ------------------------------------------------------------------------------------------
    # lifecycle

    async def start(self) -> None:
        await self._load()
        self._task = asyncio.get_running_loop().create_task(self._run(), name=f"watch-cache {self.name}")

    async def stop(self) -> None:
        await cancel_and_wait(self._task, ignore_errors=True)
        self._task = None
        self.close_watchers("server shutting down")

    def close_watchers(self, reason: str) -> None:
        for w in list(self._iter_watchers()):
            w.close(reason)

    async def _load(self) -> None:
        """Fill the cache from a consistent snapshot of the prefix (paged, one revision)."""
        objects: dict[bytes, CachedObject] = {}
        end = prefix_end(self.prefix)
        start = self.prefix
        revision = 0
        while True:
            result = await self.kv.range(start, end, revision=revision, limit=10_000)
            revision = result.revision
            for kv in result.kvs:
                objects[kv.key] = self._make(kv)
            if not result.more or not result.kvs:
                break
            start = result.kvs[-1].key + b"\0"
        self.objects = {}
        self.by_namespace = {}
        self.by_node = {}
        for co in objects.values():
            self._index(co)
        self.events.clear()
        self.oldest_rv = revision
        self._set_rv(revision)
        self._recent.clear()
        self.ready.set()

    async def _run(self) -> None:
        while True:
            try:
                self._watch = self.kv.watch(self.prefix, prefix_end(self.prefix), start_revision=self.rv + 1,
                                            prev_kv=True, progress_notify=True)
                async for resp in self._watch:
                    if resp.canceled:
                        log.warning("watch cache %s: store watch cancelled (%s), relisting",
                                    self.name, resp.cancel_reason or f"compacted at {resp.compact_revision}")
                        break
                    if resp.events:
                        self._apply_batch(resp.events)
                    elif not resp.created and resp.revision > self.rv:
                        self._set_rv(resp.revision)   # progress notification
                else:
                    return  # the store closed the watch: shutting down
                # cancelled: start over from a fresh snapshot; watchers must rewatch
                for w in list(self._iter_watchers()):
                    w.close("watch cache reinitialized")
                await self._load()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("watch cache %s failed; relisting", self.name)
                await asyncio.sleep(0.5)
                try:
                    for w in list(self._iter_watchers()):
                        w.close("watch cache reinitialized")
                    await self._load()
                except Exception:
                    log.exception("watch cache %s: relist failed", self.name)

    # ------------------------------------------------------------------------------------------
    # applying store events

    def _make(self, kv: KeyValue, decoded: tuple[dict, bytes] | None = None) -> CachedObject:
        if decoded is not None:
            obj, data = decoded
        else:
            obj = orjson.loads(kv.value)
            meta = obj.get("metadata")
            if meta is None:
                meta = obj["metadata"] = {}
            meta["resourceVersion"] = str(kv.mod_revision)
            data = orjson.dumps(obj)
        meta = obj.get("metadata") or {}
        rest = kv.key[len(self.prefix):].decode()
        if self.namespaced:
            namespace, _, name = rest.partition("/")
        else:
            namespace, name = "", rest
        field_values, node_name = self.describe(obj)
        labels = meta.get("labels") or {}
        return CachedObject(kv.key, sys.intern(namespace), name, kv.mod_revision, data, labels,
                            field_values, sys.intern(node_name))

    def remember(self, key: bytes, rv: int, obj: dict, data: bytes) -> None:
        """Handed over by the registry after its own write: the event for (key, rv) then needs no
        decoding or encoding. `obj`/`data` must be exactly what the store holds at rv."""
        if len(self._recent) > 10_000:
            self._recent.clear()
        self._recent[(key, rv)] = (obj, data)

    def _apply_batch(self, events: Iterable) -> None:
        last = self.rv
        for ev in events:
            kv = ev.kv
            rv = kv.mod_revision
            prev = self.objects.get(kv.key)
            if ev.type == EVENT_DELETE:
                if prev is None:
                    continue
                self._unindex(prev)
                change = CacheEvent(rv, None, prev)
            else:
                cur = self._make(kv, self._recent.pop((kv.key, rv), None))
                if prev is not None:
                    self._unindex(prev)
                self._index(cur)
                change = CacheEvent(rv, cur, prev)
            self._record(change)
            self._dispatch(change)
            for listener in self._listeners:
                try:
                    listener(DELETED if change.cur is None else (MODIFIED if prev else ADDED),
                             change.cur, change.prev)
                except Exception:
                    log.exception("watch cache %s: listener failed", self.name)
            last = max(last, rv)
        self._set_rv(last)

    def _index(self, co: CachedObject) -> None:
        if co.key not in self.objects:
            self._sorted_keys = None
        self.objects[co.key] = co
        self.by_namespace.setdefault(co.namespace, {})[co.key] = co
        if self.index_node:
            self.by_node.setdefault(co.node_name, {})[co.key] = co

    def _unindex(self, co: CachedObject) -> None:
        if self.objects.pop(co.key, None) is not None:
            self._sorted_keys = None
        bucket = self.by_namespace.get(co.namespace)
        if bucket is not None:
            bucket.pop(co.key, None)
            if not bucket:
                del self.by_namespace[co.namespace]
        if self.index_node:
            bucket = self.by_node.get(co.node_name)
            if bucket is not None:
                bucket.pop(co.key, None)
                if not bucket:
                    del self.by_node[co.node_name]

    def _record(self, change: CacheEvent) -> None:
        if len(self.events) >= self.capacity:
            self.oldest_rv = self.events.popleft().rv
        self.events.append(change)

    def _set_rv(self, rv: int) -> None:
        if rv < self.rv:
            return
        self.rv = rv
        if self._rv_waiters:
            still = []
            for want, fut in self._rv_waiters:
                if want <= rv:
                    if not fut.done():
                        fut.set_result(None)
                else:
                    still.append((want, fut))
            self._rv_waiters = still

    # ------------------------------------------------------------------------------------------
    # dispatch

    def _iter_watchers(self) -> Iterator[Watcher]:
        yield from self._all_watchers
        for group in self._ns_watchers.values():
            yield from group
        for group in self._node_watchers.values():
            yield from group

    def _candidates(self, change: CacheEvent) -> Iterator[Watcher]:
        yield from self._all_watchers
        obj = change.cur or change.prev
        assert obj is not None
        group = self._ns_watchers.get(obj.namespace)
        if group:
            yield from group
        if self._node_watchers:
            nodes = {o.node_name for o in (change.cur, change.prev) if o is not None}
            for node in nodes:
                group = self._node_watchers.get(node)
                if group:
                    yield from group

    def _dispatch(self, change: CacheEvent) -> None:
        if not (self._all_watchers or self._ns_watchers or self._node_watchers):
            return
        cur, prev = change.cur, change.prev
        for w in list(self._candidates(change)):
            f = w.filter
            now = cur is not None and f.matches(cur)
            before = prev is not None and f.matches(prev)
            if now and before:
                w._push((MODIFIED, cur, change))
            elif now:
                w._push((ADDED, cur, change))
            elif before:
                w._push((DELETED, change.tombstone, change))

    def _add_watcher(self, w: Watcher) -> None:
        f = w.filter
        if f.node_name is not None and self.index_node:
            self._node_watchers.setdefault(f.node_name, set()).add(w)
        elif f.namespace:
            self._ns_watchers.setdefault(f.namespace, set()).add(w)
        else:
            self._all_watchers.add(w)

    def _remove(self, w: Watcher) -> None:
        f = w.filter
        if f.node_name is not None and self.index_node:
            group = self._node_watchers.get(f.node_name)
            key, groups = f.node_name, self._node_watchers
        elif f.namespace:
            group = self._ns_watchers.get(f.namespace)
            key, groups = f.namespace, self._ns_watchers
        else:
            self._all_watchers.discard(w)
            return
        if group is not None:
            group.discard(w)
            if not group:
                del groups[key]

    def add_listener(self, fn: Callable[[str, CachedObject | None, CachedObject | None], None]) -> None:
        """Call `fn(type, cur, prev)` on every change (after watchers got it)."""
        self._listeners.append(fn)

    @property
    def watcher_count(self) -> int:
        return sum(1 for _ in self._iter_watchers())

    # ------------------------------------------------------------------------------------------
    # reads

    def get(self, key: bytes) -> CachedObject | None:
        return self.objects.get(key)

    def _candidates_for(self, f: Filter) -> Iterable[CachedObject]:
        if f.node_name is not None and self.index_node:
            bucket = self.by_node.get(f.node_name, {})
            return bucket.values()
        if f.namespace:
            return self.by_namespace.get(f.namespace, {}).values()
        return self.objects.values()

    def list(self, f: Filter, start_after: bytes = b"") -> list[CachedObject]:
        """Matching objects sorted by key (after `start_after` when given)."""
        if not f.namespace and f.node_name is None:
            if self._sorted_keys is None:
                self._sorted_keys = sorted(self.objects)
            objects = self.objects
            out = []
            for key in self._sorted_keys:
                if start_after and key <= start_after:
                    continue
                co = objects[key]
                if f.matches(co):
                    out.append(co)
            return out
        items = [co for co in self._candidates_for(f) if (not start_after or co.key > start_after) and f.matches(co)]
        items.sort(key=lambda co: co.key)
        return items

    async def wait_until(self, rv: int, timeout: float) -> bool:
        """True once the cache has seen revision `rv` (False after `timeout` seconds)."""
        if self.rv >= rv:
            return True
        fut = asyncio.get_running_loop().create_future()
        self._rv_waiters.append((rv, fut))
        if self._watch is not None:
            try:
                self._watch.request_progress()
            except Exception:
                pass
        try:
            await asyncio.wait_for(asyncio.shield(fut), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    def request_progress(self) -> None:
        if self._watch is not None:
            try:
                self._watch.request_progress()
            except Exception:
                pass

    # ------------------------------------------------------------------------------------------
    # watch

    def watch(self, f: Filter, from_rv: int | None, *, initial: bool, bookmarks: bool = False,
              queue_limit: int | None = None) -> Watcher:
        """A new watcher. `initial`: start with ADDED events for every matching object (watch
        without a resourceVersion, or sendInitialEvents); otherwise replay the changes after
        `from_rv` from the ring buffer (TooOldError if they are no longer all there)."""
        w = Watcher(self, f, queue_limit or self.watcher_queue, bookmarks)
        if initial:
            for co in self._candidates_for(f):
                if f.matches(co):
                    w.initial.append((ADDED, co, None))
        elif from_rv is not None and from_rv < self.rv:
            if from_rv < self.oldest_rv:
                raise TooOldError(from_rv, self.oldest_rv + 1)
            replay = []
            for change in reversed(self.events):
                if change.rv <= from_rv:
                    break
                replay.append(change)
            for change in reversed(replay):
                cur, prev = change.cur, change.prev
                now = cur is not None and f.matches(cur)
                before = prev is not None and f.matches(prev)
                if now and before:
                    w.initial.append((MODIFIED, cur, change))
                elif now:
                    w.initial.append((ADDED, cur, change))
                elif before:
                    w.initial.append((DELETED, change.tombstone, change))
        w.last_rv = self.rv if from_rv is None else max(from_rv, 0)
        self._add_watcher(w)
        if w.initial:
            w._wake.set()
        return w

    def send_bookmarks(self) -> None:
        """Give every bookmark-wanting watcher the cache's current revision."""
        for w in list(self._iter_watchers()):
            if w.bookmarks:
                w.bookmark(self.rv)
