"""The reflector: keep a sink equal to the server's state of one resource (client-go's Reflector).

    list (paged, consistent) ──> sink.replace(objects, rv)
    watch from rv ───────────> sink.apply(type, object) per change; bookmarks move rv on
       │ stream ended / connection broke:  resume the watch from the last rv (the Watch does it)
       │ 410 Gone (rv left the window):    list again, then watch from the new list's rv
       └ any other failure:               back off (exponential, jittered), watch again from rv

`last_sync_resource_version` is the revision the sink reflects: every change up to it is in.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Protocol

from pykube_plane.api.watchevents import BOOKMARK

from .backoff import Backoff
from .errors import ApiError, Gone
from .resources import ResourceSpec
from .watch import resource_version_of

if TYPE_CHECKING:
    from .api import APIClient

log = logging.getLogger(__name__)


class ReflectorSink(Protocol):
    def replace(self, objects: list[dict], resource_version: str) -> None:
        """The full state at `resource_version` (a list)."""

    def apply(self, event_type: str, obj: dict) -> None:
        """One change: ADDED, MODIFIED or DELETED."""


class Reflector:
    def __init__(self, client: "APIClient", resource: ResourceSpec, sink: ReflectorSink, *,
                 namespace: str | None = None, label_selector: str = "", field_selector: str = "",
                 page_size: int = 500, backoff: Backoff | None = None, name: str = "") -> None:
        self.client = client
        self.resource = resource
        self.sink = sink
        self.namespace = namespace
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.page_size = page_size
        self.backoff = backoff or Backoff(initial=0.8, cap=30.0)
        self.name = name or str(resource)
        self.last_sync_resource_version = ""
        self.lists = 0          # full lists taken (1 + relists): for tests and metrics
        self.watch_restarts = 0

    async def run(self) -> None:
        """Until cancelled."""
        need_list = True
        while True:
            try:
                if need_list:
                    await self._list()
                    need_list = False
                await self._watch()
            except asyncio.CancelledError:
                raise
            except Gone as e:
                log.info("reflector %s: %s; listing again", self.name, e.message)
                need_list = True
            except ApiError as e:
                delay = self.backoff.next()
                log.warning("reflector %s: %s (%s); retrying in %.1fs", self.name, e.message, e.reason, delay)
                await asyncio.sleep(delay)
            except Exception:
                delay = self.backoff.next()
                log.exception("reflector %s failed; listing again in %.1fs", self.name, delay)
                need_list = True
                await asyncio.sleep(delay)

    async def _list(self) -> None:
        listed = await self.client.list_all(self.resource, namespace=self.namespace, label_selector=self.label_selector,
                                            field_selector=self.field_selector, page_size=self.page_size)
        rv = resource_version_of(listed)
        self.sink.replace(listed.get("items") or [], rv)
        self.last_sync_resource_version = rv
        self.lists += 1

    async def _watch(self) -> None:
        watch = self.client.watch(self.resource, namespace=self.namespace, label_selector=self.label_selector,
                                  field_selector=self.field_selector,
                                  resource_version=self.last_sync_resource_version, bookmarks=True)
        self.watch_restarts += 1
        apply = self.sink.apply
        try:
            async for event_type, obj in watch:
                if event_type != BOOKMARK:
                    apply(event_type, obj)
                self.last_sync_resource_version = watch.resource_version
                if self.backoff.attempts:
                    self.backoff.reset()
        finally:
            await watch.close()
