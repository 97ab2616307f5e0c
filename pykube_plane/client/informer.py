"""Shared informers: one list+watch per resource feeding a local indexed cache and any number of
event handlers (client-go's SharedIndexInformer).

    informer = SharedIndexInformer(client, "pods", namespace="default")
    informer.add_event_handler(on_add=..., on_update=..., on_delete=...)
    informer.start()
    await informer.wait_for_sync()
    informer.indexer.list(label_selector="app=web")

The flow, all on the event loop:

    Reflector ──replace/apply──> informer: update the Indexer, then append one notification
                                 per change to each handler's own queue
    handler queue ──(its task)──> on_add(obj) / on_update(old, new) / on_delete(obj)

- Each handler sees the changes in the order the server made them (per object, and overall),
  each once: a watch event whose resourceVersion the cache already holds is not a change.
- A relist (first list, or after 410 Gone) is diffed against the cache as client-go's
  DeltaFIFO.Replace does: new keys -> on_add, changed resourceVersion -> on_update, keys no
  longer listed -> on_delete with the last object known (its final state was not seen).
- Periodic resync (`resync_period` seconds, per handler) re-delivers every cached object as
  on_update(obj, obj) — a level-triggered nudge; an unchanged resourceVersion tells it apart.
- A slow handler delays only itself: its queue grows, the cache and other handlers go on.
- Handlers may be plain functions or coroutines; an exception is logged, never kills the stream.
- Objects in the cache and in notifications are shared: never change them in place.
"""
from __future__ import annotations

import asyncio
import inspect
import logging
from collections import deque
from typing import TYPE_CHECKING, Any, Callable, Mapping

from pykube_plane.aio import cancel_and_wait
from pykube_plane.api.watchevents import ADDED, DELETED, MODIFIED

from .backoff import Backoff
from .indexer import IndexFunc, Indexer, KeyFunc, object_key
from .reflector import Reflector
from .resources import ResourceSpec
from .watch import resource_version_of

if TYPE_CHECKING:
    from .api import APIClient

log = logging.getLogger(__name__)

_ADD, _UPDATE, _DELETE, _SYNCED = 0, 1, 2, 3


class ResourceEventHandler:
    """Subclass and override what you need (or pass on_add/on_update/on_delete functions)."""

    def on_add(self, obj: dict) -> Any:
        pass

    def on_update(self, old: dict, new: dict) -> Any:
        pass

    def on_delete(self, obj: dict) -> Any:
        pass


class _FunctionHandler(ResourceEventHandler):
    def __init__(self, on_add: Callable | None, on_update: Callable | None, on_delete: Callable | None) -> None:
        if on_add is not None:
            self.on_add = on_add  # type: ignore[method-assign]
        if on_update is not None:
            self.on_update = on_update  # type: ignore[method-assign]
        if on_delete is not None:
            self.on_delete = on_delete  # type: ignore[method-assign]


class HandlerRegistration:
    """One handler on an informer: its own queue and task (client-go's processorListener)."""

    def __init__(self, informer: "SharedIndexInformer", handler: ResourceEventHandler, resync_period: float) -> None:
        self.informer = informer
        self.handler = handler
        self.resync_period = resync_period
        self.next_resync = 0.0
        self.delivered = 0                  # notifications handed to the handler
        self._queue: deque[tuple] = deque()
        self._wake = asyncio.Event()
        self._synced = asyncio.Event()
        self._task: asyncio.Task | None = None

    @property
    def has_synced(self) -> bool:
        """True once the handler has been given every object of the informer's first list."""
        return self._synced.is_set()

    async def wait_for_sync(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    @property
    def pending(self) -> int:
        return len(self._queue)

    def _push(self, item: tuple) -> None:
        self._queue.append(item)
        self._wake.set()

    def _start(self) -> None:
        if self._task is None:
            self._task = asyncio.get_running_loop().create_task(self._run(), name=f"handler {self.informer.name}")

    async def _stop(self) -> None:
        await cancel_and_wait(self._task)
        self._task = None

    async def _run(self) -> None:
        handler = self.handler
        queue = self._queue
        while True:
            if not queue:
                self._wake.clear()
                await self._wake.wait()
                continue
            item = queue.popleft()
            kind = item[0]
            if kind == _SYNCED:
                self._synced.set()
                continue
            try:
                if kind == _ADD:
                    result = handler.on_add(item[1])
                elif kind == _UPDATE:
                    result = handler.on_update(item[1], item[2])
                else:
                    result = handler.on_delete(item[1])
                if result is not None and inspect.isawaitable(result):
                    await result
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("informer %s: event handler failed", self.informer.name)
            self.delivered += 1


class SharedIndexInformer:
    def __init__(self, client: "APIClient", resource: ResourceSpec, *, namespace: str | None = None,
                 label_selector: str = "", field_selector: str = "", resync_period: float = 0.0,
                 indexers: Mapping[str, IndexFunc] | None = None, key_func: KeyFunc = object_key,
                 page_size: int = 500, backoff: Backoff | None = None) -> None:
        self.client = client
        self.resource = resource
        self.name = str(resource) + (f" in {namespace}" if namespace else "")
        self.resync_period = resync_period
        self.indexer = Indexer(indexers, key_func)
        self.reflector = Reflector(client, resource, self, namespace=namespace, label_selector=label_selector,
                                   field_selector=field_selector, page_size=page_size, backoff=backoff,
                                   name=self.name)
        self._handlers: list[HandlerRegistration] = []
        self._synced = asyncio.Event()
        self._tasks: list[asyncio.Task] = []
        self._resync_wake: asyncio.Event | None = None
        self.started = False

    # -- handlers --------------------------------------------------------------------------------

    def add_event_handler(self, handler: ResourceEventHandler | None = None, *, on_add: Callable | None = None,
                          on_update: Callable | None = None, on_delete: Callable | None = None,
                          resync_period: float | None = None) -> HandlerRegistration:
        """Register a handler (object or functions). Added late, it first receives the cached
        objects as adds, as in client-go."""
        if handler is None:
            handler = _FunctionHandler(on_add, on_update, on_delete)
        period = self.resync_period if resync_period is None else resync_period
        reg = HandlerRegistration(self, handler, period)
        if self.started:
            for obj in self.indexer.items():
                reg._push((_ADD, obj))
            if self._synced.is_set():
                reg._push((_SYNCED,))
            reg._start()
            self._arm_resync(reg)
        self._handlers.append(reg)
        return reg

    async def remove_event_handler(self, reg: HandlerRegistration) -> None:
        if reg in self._handlers:
            self._handlers.remove(reg)
            await reg._stop()

    def add_indexers(self, indexers: Mapping[str, IndexFunc]) -> None:
        self.indexer.add_indexers(indexers)

    # -- lifecycle -------------------------------------------------------------------------------

    @property
    def has_synced(self) -> bool:
        """True once the first list is in the cache."""
        return self._synced.is_set()

    async def wait_for_sync(self, timeout: float | None = None) -> bool:
        """Wait until the cache holds the first list and every handler has been given it."""
        try:
            await asyncio.wait_for(self._synced.wait(), timeout)
            for reg in list(self._handlers):
                await asyncio.wait_for(reg._synced.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    @property
    def last_sync_resource_version(self) -> str:
        return self.reflector.last_sync_resource_version

    def start(self) -> None:
        """Start list+watch and the handlers (in the running event loop)."""
        if self.started:
            return
        self.started = True
        loop = asyncio.get_running_loop()
        for reg in self._handlers:
            reg._start()
            self._arm_resync(reg)
        self._tasks.append(loop.create_task(self.reflector.run(), name=f"reflector {self.name}"))
        self._resync_wake = asyncio.Event()
        self._tasks.append(loop.create_task(self._resync_loop(), name=f"resync {self.name}"))

    async def stop(self) -> None:
        await cancel_and_wait(self._tasks)
        self._tasks.clear()
        for reg in self._handlers:
            await reg._stop()
        self.started = False

    async def __aenter__(self) -> "SharedIndexInformer":
        self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # -- the reflector's sink ----------------------------------------------------------------------

    def _notify(self, item: tuple) -> None:
        for reg in self._handlers:
            reg._push(item)

    def replace(self, objects: list[dict], resource_version: str) -> None:
        indexer = self.indexer
        key_func = indexer.key_func
        listed = {key_func(o): o for o in objects}
        notify = self._notify
        for key in indexer.keys():
            if key not in listed:
                old = indexer.delete(key)
                notify((_DELETE, old))
        for key, obj in listed.items():
            old = indexer.get(key)
            if old is None:
                indexer.add(obj)
                notify((_ADD, obj))
            elif resource_version_of(old) != resource_version_of(obj):
                indexer.add(obj)
                notify((_UPDATE, old, obj))
        if not self._synced.is_set():
            self._synced.set()
            notify((_SYNCED,))

    def apply(self, event_type: str, obj: dict) -> None:
        indexer = self.indexer
        if event_type == DELETED:
            old = indexer.delete(obj)
            if old is not None:
                self._notify((_DELETE, obj))
            return
        if event_type not in (ADDED, MODIFIED):
            return
        key = indexer.key_func(obj)
        old = indexer.get(key)
        if old is not None and resource_version_of(old) == resource_version_of(obj):
            return      # already held (a replayed event): not a change
        indexer.put(key, obj)
        self._notify((_ADD, obj) if old is None else (_UPDATE, old, obj))

    # -- resync ----------------------------------------------------------------------------------

    def _arm_resync(self, reg: HandlerRegistration) -> None:
        if reg.resync_period > 0:
            reg.next_resync = asyncio.get_running_loop().time() + reg.resync_period
            if self._resync_wake is not None:
                self._resync_wake.set()

    async def _resync_loop(self) -> None:
        loop = asyncio.get_running_loop()
        assert self._resync_wake is not None
        while True:
            due = [r.next_resync for r in self._handlers if r.resync_period > 0]
            self._resync_wake.clear()
            if not due:
                await self._resync_wake.wait()
                continue
            delay = min(due) - loop.time()
            if delay > 0:
                try:
                    await asyncio.wait_for(self._resync_wake.wait(), delay)
                except asyncio.TimeoutError:
                    pass
                continue
            now = loop.time()
            if not self._synced.is_set():
                await self._synced.wait()
            for reg in self._handlers:
                if reg.resync_period > 0 and reg.next_resync <= now:
                    for obj in self.indexer.items():
                        reg._push((_UPDATE, obj, obj))
                    reg.next_resync = now + reg.resync_period
