"""The generic registry: create, get, list, watch, update, patch, delete for every row of the
resource table, over the store (writes, consistent reads) and the watch caches (lists, watches).

It is kube-apiserver's genericregistry.Store in one class, with the kind's own rules coming from
its `Strategy`. Every write is a compare-and-swap on the key's mod_revision (storage.py);
updates and patches that did not pin a resourceVersion are retried on conflict, as
GuaranteedUpdate does. Objects handed out are fresh copies; the caches keep only bytes.
"""
from __future__ import annotations

import asyncio
import logging
import time
from typing import Any, Callable

import orjson

from pykube_plane.aio import cancel_and_wait
from pykube_plane.api import defaults as api_defaults
from pykube_plane.api import fields as api_fields
from pykube_plane.api import meta as api_meta
from pykube_plane.api import patch as api_patch
from pykube_plane.api.watchevents import BOOKMARK, INITIAL_EVENTS_END
from pykube_plane.apiserver import status as st
from pykube_plane.store.kv import KV, CompactedError, FutureRevisionError, RequestTooLargeError, StoreError

from . import checks, finalizers, listing, namespaces, updates
from .allocator import ServiceAllocator
from .compactor import compact_periodically
from .listing import ListResult
from .lookups import Lookups
from .options import DeleteOptions, ListOptions, WriteOptions
from .resources import RESOURCES, Resource, ResourceTable
from .storage import AllocationTakenError, KeyExistsError, RevisionConflictError, Storage, decode, encode
from .watch_cache import CachedObject, Filter, TooOldError, WatchCache, Watcher

log = logging.getLogger(__name__)

UPDATE_RETRIES = 16
LEASE_REUSE = 60.0
FRESHNESS_TIMEOUT = 3.0
MERGE_PATCH = "application/merge-patch+json"
JSON_PATCH = "application/json-patch+json"
STRATEGIC_MERGE_PATCH = "application/strategic-merge-patch+json"
APPLY_PATCH = "application/apply-patch+yaml"
PATCH_TYPES = (JSON_PATCH, MERGE_PATCH, STRATEGIC_MERGE_PATCH)


def copy(obj: Any) -> Any:
    return orjson.loads(orjson.dumps(obj))


class Registry:
    def __init__(self, kv: KV, table: ResourceTable = RESOURCES, *, service_cidr: str = "10.96.0.0/12",
                 node_port_range: tuple[int, int] = (30000, 32767), watch_capacity: int = 10_000,
                 watcher_queue: int = 1_000, clock: Callable[[], float] = time.time,
                 namespace_lifecycle: Any = None, event_ttl: float = 3600.0) -> None:
        self.kv = kv
        self.table = table
        self.storage = Storage(kv)
        self.clock = clock
        self.allocator = ServiceAllocator(service_cidr, node_port_range)
        self.watch_capacity = watch_capacity
        self.watcher_queue = watcher_queue
        self.caches: dict[str, WatchCache] = {}
        self._field_names: dict[str, tuple[str, ...]] = {}
        self._tasks: list[asyncio.Task] = []
        self.namespace_lifecycle: Any = namespace_lifecycle     # admission.NamespaceLifecycle or None
        self.copy = copy
        self.event_ttl = event_ttl
        self._lease: tuple[int, float] = (0, 0.0)   # (store lease id, when granted)
        self.lookups = Lookups(table, self.cache, self.storage, self.allocator, copy)   # what strategies see

    # ------------------------------------------------------------------------------------------
    # lifecycle

    async def start(self, bookmark_interval: float = 30.0, compaction_interval: float = 300.0) -> None:
        for r in self.table.stored():
            names = tuple(sorted(api_fields.selectable_fields(r.kind)))
            self._field_names[r.storage] = names
            kind = r.kind

            def describe(obj: dict, kind=kind, names=names) -> tuple[tuple, str]:
                values = api_fields.object_fields(kind, obj)
                return tuple(values.get(n, "") for n in names), values.get("spec.nodeName", "")

            self.caches[r.storage] = WatchCache(self.kv, r.prefix(), r.namespaced, describe=describe,
                                                capacity=self.watch_capacity, watcher_queue=self.watcher_queue,
                                                index_node=(r.kind == "Pod"), name=r.plural)
        await asyncio.gather(*(c.start() for c in self.caches.values()))
        services = self.caches[self.table.lookup("", "v1", "services").storage]
        for co in services.objects.values():
            self.allocator.observe(None, co.obj())
        services.add_listener(lambda _t, cur, prev: self.allocator.observe(
            prev.obj() if prev is not None else None, cur.obj() if cur is not None else None))
        loop = asyncio.get_running_loop()
        self._tasks = [loop.create_task(self._bookmarks(bookmark_interval), name="watch-bookmarks")]
        if compaction_interval > 0:
            self._tasks.append(loop.create_task(compact_periodically(self.kv, self.storage, compaction_interval),
                                                   name="store-compactor"))

    def close_watchers(self, reason: str) -> None:
        """End every open watch (their streams close); the caches keep running."""
        for cache in self.caches.values():
            cache.close_watchers(reason)

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks = []
        await asyncio.gather(*(c.stop() for c in self.caches.values()))

    async def _bookmarks(self, interval: float) -> None:
        while True:
            await asyncio.sleep(interval)
            for cache in self.caches.values():
                cache.request_progress()
            await asyncio.sleep(0.05)
            for cache in self.caches.values():
                cache.send_bookmarks()

    def cache(self, resource: Resource) -> WatchCache:
        return self.caches[resource.storage]

    # ------------------------------------------------------------------------------------------
    # helpers

    def _external(self, resource: Resource, obj: dict) -> dict:
        conv = resource.strategy.to_external
        return conv(obj) if conv else obj

    def _internal(self, resource: Resource, obj: dict) -> dict:
        conv = resource.strategy.to_internal
        return conv(obj) if conv else obj

    async def _wait_fresh(self, cache: WatchCache) -> bool:
        revision = await self.storage.current_revision()
        return await cache.wait_until(revision, FRESHNESS_TIMEOUT)

    def _remember(self, resource: Resource, key: bytes, rv: int, obj: dict) -> None:
        cache = self.caches.get(resource.storage)
        if cache is not None:
            cache.remember(key, rv, obj, orjson.dumps(obj))

    async def _lease_for(self, resource: Resource) -> int:
        """The store lease an expiring object (an Event) is written under. Like kube-apiserver's
        lease manager, one lease serves every such write for a minute (its TTL covers that
        minute too), so expiring objects cost a lease a minute, not one each."""
        if not resource.strategy.expires or self.event_ttl <= 0:
            return 0
        lease_id, granted = self._lease
        now = self.clock()
        if lease_id and now - granted < LEASE_REUSE:
            return lease_id
        grant = await self.kv.lease_grant(int(self.event_ttl + LEASE_REUSE))
        self._lease = (grant.id, now)
        return grant.id

    @staticmethod
    def _store_error(e: StoreError) -> st.APIError:
        if isinstance(e, RequestTooLargeError):
            return st.request_too_large(1536 * 1024)
        return st.internal_error(e.message)

    # ------------------------------------------------------------------------------------------
    # reads

    async def get(self, resource: Resource, namespace: str, name: str, resource_version: str = "") -> dict:
        key = resource.key(namespace, name)
        if resource_version == "0":
            co = self.cache(resource).get(key)
            if co is None:
                raise st.not_found(resource, name)
            return self._external(resource, co.obj())
        kv = await self.storage.get(key)
        if kv is None:
            raise st.not_found(resource, name)
        return self._external(resource, decode(kv))

    def filter_for(self, resource: Resource, namespace: str, label_selector: str = "", field_selector: str = "",
                   name: str = "") -> Filter:
        labels, fields, node_name = listing.parse_selectors(resource, label_selector, field_selector)
        exact_name = name
        if fields is not None and not exact_name:
            exact_name = fields.requires_exact_match("metadata.name") or ""
        return Filter(namespace=namespace if resource.namespaced else "", name=exact_name, labels=labels,
                      fields=fields, node_name=node_name if resource.kind == "Pod" else None,
                      field_names=self._field_names.get(resource.storage, ()))

    async def list(self, resource: Resource, namespace: str, opts: ListOptions) -> ListResult:
        f = self.filter_for(resource, namespace, opts.label_selector, opts.field_selector)
        cache = self.cache(resource)
        if opts.continue_token:
            rv, start = listing.decode_continue(resource, opts.continue_token)
            return await self._list_from_store(resource, f, rv, start, opts.limit, cache)
        rv_text = opts.resource_version
        if opts.resource_version_match == "Exact":
            return await self._list_from_store(resource, f, int(rv_text), b"", opts.limit, cache)
        if rv_text == "":
            if not await self._wait_fresh(cache):
                revision = await self.storage.current_revision()
                return await self._list_from_store(resource, f, revision, b"", opts.limit, cache)
        elif rv_text != "0":
            wanted = int(rv_text)
            if wanted > cache.rv and not await cache.wait_until(wanted, FRESHNESS_TIMEOUT):
                raise st.timeout(f"Too large resource version: {wanted}, current: {cache.rv}")
        items = cache.list(f)
        rv = cache.rv
        if opts.limit and len(items) > opts.limit:
            remaining = len(items) - opts.limit
            items = items[:opts.limit]
            token = listing.encode_continue(resource, rv, items[-1].key)
            plain = f.labels is None and f.fields is None
            return ListResult(resource, items, rv, token, remaining if plain else None)
        return ListResult(resource, items, rv)

    async def _list_from_store(self, resource: Resource, f: Filter, revision: int, start: bytes, limit: int,
                               cache: WatchCache) -> ListResult:
        prefix = resource.prefix(f.namespace)
        start = start or prefix
        items: list[CachedObject] = []
        batch = max(limit, 500) if limit else 10_000
        more = False
        last_key = b""
        try:
            while True:
                kvs, rev, more = await self.storage.list(prefix, start, revision, batch)
                if revision == 0:
                    revision = rev
                for kv in kvs:
                    last_key = kv.key
                    co = cache._make(kv)
                    if f.matches(co):
                        items.append(co)
                        if limit and len(items) == limit:
                            break
                if limit and len(items) == limit:
                    more = more or (kvs and kvs[-1].key != last_key)
                    break
                if not more or not kvs:
                    break
                start = kvs[-1].key + b"\0"
        except CompactedError:
            raise st.gone("The provided continue parameter is too old to display a consistent list result. "
                          "You can start a new list without the continue parameter, or use the continue token "
                          "in this response to retrieve the remainder of the results. Continuing with the "
                          "provided token results in an inconsistent list - objects that were created, "
                          "modified, or deleted between the time the first chunk was returned and now may "
                          "show up in the list.") from None
        except FutureRevisionError:
            raise st.timeout(f"Too large resource version: {revision}, current: {cache.rv}") from None
        token = listing.encode_continue(resource, revision, last_key) if (limit and more and items) else ""
        return ListResult(resource, items, revision, token)

    async def watch(self, resource: Resource, namespace: str, opts: ListOptions, name: str = "") -> Watcher:
        f = self.filter_for(resource, namespace, opts.label_selector, opts.field_selector, name)
        cache = self.cache(resource)
        rv_text = opts.resource_version
        if opts.send_initial_events:
            if rv_text == "":
                await self._wait_fresh(cache)
            elif rv_text != "0":
                wanted = int(rv_text)
                if wanted > cache.rv and not await cache.wait_until(wanted, FRESHNESS_TIMEOUT):
                    raise st.timeout(f"Too large resource version: {wanted}, current: {cache.rv}")
            w = cache.watch(f, None, initial=True, bookmarks=True)
            w.initial.append((BOOKMARK, cache.rv, INITIAL_EVENTS_END))
            w._wake.set()
            return w
        if rv_text in ("", "0"):
            if rv_text == "":
                await self._wait_fresh(cache)
            return cache.watch(f, None, initial=True, bookmarks=opts.allow_bookmarks)
        wanted = int(rv_text)
        if wanted > cache.rv and not await cache.wait_until(wanted, FRESHNESS_TIMEOUT):
            raise st.timeout(f"Too large resource version: {wanted}, current: {cache.rv}")
        try:
            return cache.watch(f, wanted, initial=False, bookmarks=opts.allow_bookmarks)
        except TooOldError as e:
            raise st.too_old_resource_version(e.requested, e.oldest) from None

    # ------------------------------------------------------------------------------------------
    # create

    async def create(self, resource: Resource, namespace: str, body: Any, opts: WriteOptions,
                     user: Any = None) -> dict:
        if not resource.stored:
            raise st.method_not_allowed()
        meta = checks.check_body(resource, body)
        checks.check_fields(resource, body, opts)
        obj = self._internal(resource, body)
        meta = obj["metadata"]
        if resource.namespaced:
            body_ns = meta.get("namespace")
            if body_ns and body_ns != namespace:
                raise st.bad_request("the namespace of the provided object does not match the namespace sent on "
                                     "the request")
            meta["namespace"] = namespace
        else:
            meta.pop("namespace", None)
        if meta.get("resourceVersion"):
            raise st.bad_request("resourceVersion should not be set on objects to be created")
        for system_field in ("deletionTimestamp", "deletionGracePeriodSeconds", "selfLink", "managedFields",
                             "generation"):
            meta.pop(system_field, None)
        generate = not meta.get("name") and bool(meta.get("generateName"))
        meta["uid"] = api_meta.new_uid()
        meta["creationTimestamp"] = api_meta.now_rfc3339()
        strategy = resource.strategy
        strategy.prepare_for_create(self.lookups, resource, obj)
        api_defaults.apply_defaults(resource.kind, obj)
        original = copy(obj) if generate else obj
        taken: set[bytes] = set()
        for attempt in range(UPDATE_RETRIES):
            if attempt:
                obj = copy(original)
                meta = obj["metadata"]
            if generate and isinstance(meta.get("generateName"), str):
                meta["name"] = api_meta.generate_name(meta["generateName"])
            api_defaults.prepare_for_create(resource.kind, obj)
            name = meta.get("name")
            checks.check_name(resource, name)
            await namespaces.admit_write(self.namespace_lifecycle, self.storage, self.table, resource, "create", namespace, name, obj, user)
            await strategy.admit(self.lookups, resource, obj, None, user)
            key = resource.key(namespace, name)
            # before allocating anything for it; the cache may lag a delete, so the store confirms
            if name and not generate and self.cache(resource).get(key) is not None \
                    and await self.storage.get(key) is not None:
                raise st.already_exists(resource, name)
            await strategy.allocate(self.lookups, resource, obj, None, taken)
            checks.validate(resource, obj, None)
            if opts.dry_run:
                return self._external(resource, obj)
            claims = list(strategy.allocations(self.lookups, resource, obj).items())
            try:
                rev = await self.storage.create(key, encode(obj), claims, lease=await self._lease_for(resource))
            except KeyExistsError:
                if generate:
                    continue
                raise st.already_exists(resource, name) from None
            except AllocationTakenError as e:
                taken.update(e.keys)
                continue
            except StoreError as e:
                raise self._store_error(e) from None
            meta["resourceVersion"] = str(rev)
            self._remember(resource, key, rev, obj)
            return self._external(resource, obj)
        raise st.APIError(409, "AlreadyExists", f'{st.qualified(resource)} could not be created: too many conflicts',
                          {"kind": resource.plural})

    # ------------------------------------------------------------------------------------------
    # update and patch

    async def update(self, resource: Resource, namespace: str, name: str, body: Any, opts: WriteOptions,
                     user: Any = None, subresource: str = "") -> tuple[dict, bool]:
        """PUT. Returns (object, created)."""
        if not resource.stored:
            raise st.method_not_allowed()
        meta = checks.check_body(resource, body)
        checks.check_fields(resource, body, opts)
        if meta.get("name") not in (None, "", name):
            raise st.bad_request(f"the name of the object ({meta.get('name')}) does not match the name on the URL "
                                 f"({name})")
        if resource.namespaced and meta.get("namespace") not in (None, "", namespace):
            raise st.bad_request("the namespace of the provided object does not match the namespace sent on the "
                                 "request")
        meta["name"] = name
        body = self._internal(resource, body)
        pinned = body["metadata"].get("resourceVersion") or ""

        def apply(current: dict) -> dict:
            return copy(body)

        return await self._guaranteed_update(resource, namespace, name, apply, pinned, opts, user, subresource,
                                             create_body=body)

    async def patch(self, resource: Resource, namespace: str, name: str, patch_type: str, patch: Any,
                    opts: WriteOptions, user: Any = None, subresource: str = "") -> dict:
        if not resource.stored:
            raise st.method_not_allowed()
        if patch_type not in PATCH_TYPES:
            raise st.unsupported_media_type(patch_type, PATCH_TYPES)
        if patch_type == JSON_PATCH:
            if not isinstance(patch, list):
                raise st.bad_request("json: cannot unmarshal object into Go value of type jsonpatch.Patch")
        elif not isinstance(patch, dict):
            raise st.bad_request("the patch must be a JSON object")
        state: dict[str, Any] = {}

        def apply(current: dict) -> dict:
            target = self._external(resource, copy(current))
            try:
                if patch_type == JSON_PATCH:
                    patched = api_patch.json_patch(target, patch)
                elif patch_type == MERGE_PATCH:
                    patched = api_patch.json_merge_patch(target, patch)
                else:
                    patched = api_patch.strategic_merge_patch(target, patch, resource.kind)
            except api_patch.PatchError as e:
                raise st.APIError(422 if patch_type == JSON_PATCH else 400,
                                  "Invalid" if patch_type == JSON_PATCH else "BadRequest", str(e),
                                  {"name": name, "kind": resource.kind} if patch_type == JSON_PATCH else None)
            if not isinstance(patched, dict):
                raise st.bad_request("the patched object is not a JSON object")
            if not state:
                state["checked"] = True
                self._check_patched(resource, patched, opts, name, namespace, subresource)
            meta = patched.get("metadata")
            if not isinstance(meta, dict):
                raise st.bad_request("metadata must be an object")
            patched_rv = meta.get("resourceVersion")
            if patched_rv and patched_rv != current["metadata"].get("resourceVersion"):
                raise st.modified_conflict(resource, name)
            return self._internal(resource, patched)

        obj, _ = await self._guaranteed_update(resource, namespace, name, apply, "", opts, user, subresource)
        return obj

    def _check_patched(self, resource: Resource, patched: dict, opts: WriteOptions, name: str, namespace: str,
                       subresource: str) -> None:
        kind, version = patched.get("kind"), patched.get("apiVersion")
        if kind not in (None, resource.kind) or version not in (None, resource.api_version):
            raise st.bad_request("the kind or apiVersion of a patched object may not change")
        meta = patched.get("metadata")
        if isinstance(meta, dict):
            if meta.get("name") not in (None, name):
                raise st.invalid_field(resource.kind, resource.group, name, "metadata.name", "FieldValueInvalid",
                                       "field is immutable", meta.get("name"))
            if resource.namespaced and meta.get("namespace") not in (None, namespace):
                raise st.invalid_field(resource.kind, resource.group, name, "metadata.namespace",
                                       "FieldValueInvalid", "field is immutable", meta.get("namespace"))
        checks.check_fields(resource, patched, opts)

    async def _guaranteed_update(self, resource: Resource, namespace: str, name: str,
                                 apply: Callable[[dict], dict], pinned: str, opts: WriteOptions, user: Any,
                                 subresource: str, create_body: dict | None = None) -> tuple[dict, bool]:
        """Read, apply, write with compare-and-swap; retry on conflict unless the caller pinned a
        resourceVersion. Answers (object, created)."""
        key = resource.key(namespace, name)
        strategy = resource.strategy
        taken: set[bytes] = set()
        for _ in range(UPDATE_RETRIES):
            kv = await self.storage.get(key)
            if kv is None:
                if create_body is not None and not subresource and strategy.allow_create_on_update:
                    if pinned:
                        raise st.not_found(resource, name)
                    body = copy(create_body)
                    body["metadata"].pop("resourceVersion", None)
                    created = await self.create(resource, namespace, self._external(resource, body), opts, user)
                    return created, True
                raise st.not_found(resource, name)
            old = decode(kv)
            if pinned and pinned != old["metadata"]["resourceVersion"]:
                raise st.modified_conflict(resource, name)
            new = apply(old)
            new = updates.prepare(self.lookups, resource, subresource, new, old)
            api_defaults.apply_defaults(resource.kind, new)
            if not subresource:
                strategy.bump_generation(new, old)
            if not subresource:
                await namespaces.admit_write(self.namespace_lifecycle, self.storage, self.table, resource, "update", namespace, name, new, user)
            await strategy.allocate(self.lookups, resource, new, old, taken)
            checks.validate(resource, new, old, subresource if subresource in ("status", "binding") else "")
            if updates.same_but_version(new, old):
                return self._external(resource, old), False
            if opts.dry_run:
                new["metadata"]["resourceVersion"] = old["metadata"]["resourceVersion"]
                return self._external(resource, new), False
            if strategy.should_delete_during_update(new, old):
                try:
                    held = list(strategy.allocations(self.lookups, resource, old))
                    rev = await self.storage.delete(key, kv.mod_revision, held)
                except RevisionConflictError:
                    if pinned:
                        raise st.modified_conflict(resource, name) from None
                    continue
                new["metadata"]["resourceVersion"] = str(rev)
                return self._external(resource, new), False
            old_alloc = strategy.allocations(self.lookups, resource, old)
            new_alloc = strategy.allocations(self.lookups, resource, new)
            claims = [(k, v) for k, v in new_alloc.items() if k not in old_alloc]
            releases = [k for k in old_alloc if k not in new_alloc]
            try:
                rev = await self.storage.update(key, encode(new), kv.mod_revision, claims, releases,
                                                lease=await self._lease_for(resource))
            except RevisionConflictError:
                if pinned:
                    raise st.modified_conflict(resource, name) from None
                continue
            except AllocationTakenError as e:
                taken.update(e.keys)
                continue
            except StoreError as e:
                raise self._store_error(e) from None
            new["metadata"]["resourceVersion"] = str(rev)
            self._remember(resource, key, rev, new)
            return self._external(resource, new), False
        raise st.conflict(resource, name, "too many concurrent writers; please retry")

    # ------------------------------------------------------------------------------------------
    # delete

    async def delete(self, resource: Resource, namespace: str, name: str, opts: DeleteOptions,
                     user: Any = None) -> tuple[int, dict]:
        """DELETE: (HTTP status, the object or a Status)."""
        if not resource.stored:
            raise st.method_not_allowed()
        key = resource.key(namespace, name)
        strategy = resource.strategy
        for _ in range(UPDATE_RETRIES):
            kv = await self.storage.get(key)
            if kv is None:
                raise st.not_found(resource, name)
            old = decode(kv)
            meta = old["metadata"]
            if opts.precondition_uid is not None and opts.precondition_uid != meta.get("uid"):
                raise st.conflict(resource, name, f"Precondition failed: UID in precondition: {opts.precondition_uid}, "
                                                  f"UID in object meta: {meta.get('uid')}")
            if opts.precondition_rv is not None and opts.precondition_rv != meta.get("resourceVersion"):
                raise st.conflict(resource, name, "Precondition failed: ResourceVersion in precondition: "
                                                  f"{opts.precondition_rv}, ResourceVersion in object meta: "
                                                  f"{meta.get('resourceVersion')}")
            strategy.check_delete(self.lookups, resource, old)
            if strategy.finalized_by_controller:
                if self.namespace_lifecycle is not None:
                    namespaces.admit_delete(self.namespace_lifecycle, name, user)
                result = await namespaces.delete(self.storage, self._remember, resource, key, kv.mod_revision, old,
                                                 opts)
                if result is None:
                    continue
                return result
            new = copy(old)
            new_meta = new["metadata"]
            finalizers_changed = finalizers.for_garbage_collection(resource, new_meta, opts)
            grace = strategy.grace_period(new, opts.grace_period)
            now = self.clock()
            update = finalizers_changed
            delete_now = False
            if new_meta.get("deletionTimestamp"):
                current = new_meta.get("deletionGracePeriodSeconds")
                if grace is not None and current and opts.grace_period is not None and opts.grace_period < current:
                    # a shorter grace period moves the deadline closer
                    deadline = finalizers.parse_time(new_meta["deletionTimestamp"]) - current + opts.grace_period
                    new_meta["deletionTimestamp"] = finalizers.format_time(deadline)
                    new_meta["deletionGracePeriodSeconds"] = opts.grace_period
                    update = True
                    delete_now = opts.grace_period == 0 and not new_meta.get("finalizers")
                elif not current and not new_meta.get("finalizers"):
                    delete_now = True
                elif not update:
                    return 200, self._deleted_answer(resource, old)     # deletion already pending
            elif grace:
                new_meta["deletionTimestamp"] = finalizers.format_time(now + grace)
                new_meta["deletionGracePeriodSeconds"] = grace
                if new_meta.get("generation"):
                    new_meta["generation"] += 1
                update = True
            elif new_meta.get("finalizers"):
                new_meta["deletionTimestamp"] = finalizers.format_time(now)
                new_meta["deletionGracePeriodSeconds"] = 0
                if new_meta.get("generation"):
                    new_meta["generation"] += 1
                update = True
            else:
                delete_now = True
            if opts.dry_run:
                return 200, self._external(resource, new if update else old)
            try:
                if delete_now:
                    rev = await self.storage.delete(key, kv.mod_revision,
                                                    list(strategy.allocations(self.lookups, resource, old)))
                    old["metadata"]["resourceVersion"] = str(rev) if strategy.return_deleted_object else meta["resourceVersion"]
                    if strategy.return_deleted_object:
                        return 200, self._external(resource, old)
                    return 200, st.success_status(resource, name, meta.get("uid", ""), code=0)
                rev = await self.storage.update(key, encode(new), kv.mod_revision)
            except RevisionConflictError:
                if opts.precondition_rv is not None:
                    raise st.modified_conflict(resource, name) from None
                continue
            except StoreError as e:
                raise self._store_error(e) from None
            new_meta["resourceVersion"] = str(rev)
            self._remember(resource, key, rev, new)
            code = 202 if opts.orphan_dependents is False else 200
            return code, self._external(resource, new)
        raise st.conflict(resource, name, "too many concurrent writers; please retry")

    def _deleted_answer(self, resource: Resource, obj: dict) -> dict:
        if resource.strategy.return_deleted_object:
            return self._external(resource, obj)
        meta = obj["metadata"]
        return st.success_status(resource, meta.get("name", ""), meta.get("uid", ""), code=0)

    async def delete_collection(self, resource: Resource, namespace: str, list_opts: ListOptions,
                                opts: DeleteOptions, user: Any = None) -> dict:
        listed = await self.list(resource, namespace, ListOptions(label_selector=list_opts.label_selector,
                                                                  field_selector=list_opts.field_selector))
        deleted = []
        for co in listed.items:
            try:
                _, obj = await self.delete(resource, co.namespace, co.name, opts, user)
            except st.APIError as e:
                if e.code == 404:
                    continue
                raise
            if obj.get("kind") != "Status":
                deleted.append(obj)
            else:
                deleted.append(self._external(resource, co.obj()))
        return {"kind": resource.list_kind, "apiVersion": resource.api_version,
                "metadata": {"resourceVersion": str(self.cache(resource).rv)}, "items": deleted}
