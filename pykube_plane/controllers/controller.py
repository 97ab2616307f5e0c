"""The base of every controller: informers in, keys through a rate-limited queue, `sync(key)` out.

    class EchoController(Controller):
        name = "echo"
        def __init__(self, ctx):
            super().__init__(ctx)
            self.configmaps = self.watch("configmaps")     # enqueue ns/name on every change
        async def sync(self, key):
            obj = self.configmaps.indexer.get(key)            # the cache, never a GET
            ...

The promise kept here once for all controllers: a key is reconciled by one worker at a time,
level-based from the cache; a failing sync is retried with per-key exponential backoff (5 ms ..
`max_backoff`) and reported as a Warning Event on the object; an exception never kills a worker.
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any, Callable

from pykube_plane.client import (
    APIClient, ApiError, Conflict, ItemExponentialBackoff, SharedIndexInformer, SharedInformerFactory, ShutDown,
    object_key,
)

from .events import WARNING, EventRecorder
from .metrics import MeteredQueue, WorkqueueMetrics

log = logging.getLogger(__name__)


@dataclass
class ControllerContext:
    """What the manager hands every controller it builds."""
    client: APIClient
    factory: SharedInformerFactory
    metrics: WorkqueueMetrics
    recorder: EventRecorder
    concurrency: dict[str, int] = field(default_factory=dict)     # controller name -> workers
    options: dict[str, Any] = field(default_factory=dict)         # flags a controller reads


def deleted_object(obj: Any) -> dict | None:
    """The object of a delete notification (tombstones carry it in `obj`)."""
    if isinstance(obj, dict) and "metadata" in obj:
        return obj
    inner = getattr(obj, "obj", None)
    return inner if isinstance(inner, dict) else None


class Controller:
    name = ""                   # the --controllers name
    default_workers = 5
    max_backoff = 300.0         # cap of the per-key retry delay (client-go's controllers use 1000 s)

    def __init__(self, ctx: ControllerContext) -> None:
        self.ctx = ctx
        self.client = ctx.client
        self.recorder = ctx.recorder
        self.queue: MeteredQueue = MeteredQueue(self.name, ctx.metrics)
        self.queue.backoff = ItemExponentialBackoff(cap=self.max_backoff)
        self.informers: list[SharedIndexInformer] = []
        self._tasks: list[asyncio.Task] = []
        self.syncs = 0
        self.errors = 0

    # -- declaring what to watch -------------------------------------------------------------------

    def informer(self, resource: str, **kwargs: Any) -> SharedIndexInformer:
        """The shared informer of `resource`; the controller waits for it to sync before working."""
        informer = self.ctx.factory.informer(resource, **kwargs)
        if informer not in self.informers:
            self.informers.append(informer)
        return informer

    def watch(self, resource: str, key: Callable[[dict], str | None] | None = None, **kwargs: Any) -> SharedIndexInformer:
        """The informer of `resource`, each change enqueuing `key(obj)` (default: its ns/name)."""
        informer = self.informer(resource, **kwargs)
        keyof = key or object_key

        def enqueue(obj: Any) -> None:
            obj = deleted_object(obj)
            if obj is not None:
                k = keyof(obj)
                if k:
                    self.queue.add(k)

        informer.add_event_handler(on_add=enqueue, on_update=lambda old, new: enqueue(new), on_delete=enqueue)
        return informer

    def enqueue(self, obj_or_key: dict | str, after: float = 0.0) -> None:
        key = obj_or_key if isinstance(obj_or_key, str) else object_key(obj_or_key)
        if after > 0:
            self.queue.add_after(key, after)
        else:
            self.queue.add(key)

    # -- running ---------------------------------------------------------------------------------

    @property
    def workers(self) -> int:
        return max(1, int(self.ctx.concurrency.get(self.name, self.default_workers)))

    async def run(self) -> None:
        """Wait for the caches, then work until cancelled."""
        await asyncio.gather(*(i.wait_for_sync() for i in self.informers))
        await self.started()
        self._tasks = [asyncio.get_running_loop().create_task(self._worker(), name=f"{self.name} worker {n}")
                       for n in range(self.workers)]
        try:
            await asyncio.gather(*self._tasks)
        finally:
            self.queue.shut_down()
            for t in self._tasks:
                t.cancel()
            await asyncio.gather(*self._tasks, return_exceptions=True)

    async def started(self) -> None:
        """Hook: the caches are synced, workers not yet running (periodic tasks start here)."""

    async def _worker(self) -> None:
        while True:
            try:
                key = await self.queue.get()
            except ShutDown:
                return
            try:
                await self.sync(key)
                self.queue.forget(key)
            except asyncio.CancelledError:
                raise
            except Exception as e:
                self.errors += 1
                self._on_error(key, e)
                self.queue.add_rate_limited(key)
            finally:
                self.syncs += 1
                self.queue.done(key)

    def _on_error(self, key: str, e: Exception) -> None:
        if isinstance(e, Conflict):
            log.debug("%s: %s: conflict, retrying from a fresh read: %s", self.name, key, e)
            return
        log.warning("%s: syncing %s failed (retry %d): %s: %s", self.name, key, self.queue.num_requeues(key),
                    type(e).__name__, e, exc_info=not isinstance(e, ApiError))
        obj = self.object_for_event(key)
        if obj is not None:
            self.recorder.event(obj, WARNING, "SyncFailed", f"{type(e).__name__}: {e}")

    def object_for_event(self, key: str) -> dict | None:
        """The object an error event is recorded on (default: the first informer's object)."""
        return self.informers[0].indexer.get(key) if self.informers else None

    async def sync(self, key: str) -> None:
        raise NotImplementedError
