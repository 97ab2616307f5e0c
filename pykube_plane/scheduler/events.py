"""Events about pods, written in the background like client-go's event broadcaster: a bounded
queue (1000) drained by a few writers, so events never hold up scheduling or binding; when the
API server cannot keep up the queue fills and new events are dropped (and counted), as the
broadcaster drops them. A repeated event is recorded by bumping the first one's count."""
from __future__ import annotations

import asyncio
import datetime
import logging
import time
from typing import Any, Mapping

from pykube_plane.client import ApiError

log = logging.getLogger("pykube_plane.scheduler")


def now_rfc3339() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class EventRecorder:
    def __init__(self, client: Any, identity: str, *, queue_size: int = 1000, writers: int = 2) -> None:
        self.client = client
        self.identity = identity
        self.queue: asyncio.Queue = asyncio.Queue(queue_size)
        self.writers = writers
        self.dropped = 0
        self._tasks: list[asyncio.Task] = []

    def start(self) -> None:
        self._tasks = [asyncio.create_task(self._write()) for _ in range(self.writers)]

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)

    def _put(self, item: tuple) -> bool:
        try:
            self.queue.put_nowait(item)
            return True
        except asyncio.QueueFull:
            self.dropped += 1
            return False

    def event(self, pod: Mapping, type_: str, reason: str, message: str) -> str | None:
        """Queue a core/v1 Event about `pod`; its name, or None when it was dropped."""
        meta = pod["metadata"]
        stamp = now_rfc3339()
        name = f"{meta['name']}.{time.time_ns():x}"
        body = {"apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": meta.get("namespace") or "default"},
                "involvedObject": {"apiVersion": "v1", "kind": "Pod", "name": meta["name"],
                                   "namespace": meta.get("namespace"), "uid": meta.get("uid"),
                                   "resourceVersion": meta.get("resourceVersion")},
                "reason": reason, "message": message, "type": type_, "count": 1,
                "firstTimestamp": stamp, "lastTimestamp": stamp, "action": "Scheduling",
                "source": {"component": "default-scheduler"}, "reportingComponent": "default-scheduler",
                "reportingInstance": self.identity}
        return name if self._put(("create", body)) else None

    def repeat(self, namespace: str, name: str, count: int) -> bool:
        """The same event again: count it on the event already recorded."""
        return self._put(("patch", (namespace, name, {"count": count, "lastTimestamp": now_rfc3339()})))

    async def _write(self) -> None:
        while True:
            kind, item = await self.queue.get()
            try:
                if kind == "create":
                    await self.client.create(item)
                else:
                    namespace, name, patch = item
                    await self.client.patch("events", name, patch, namespace=namespace)
            except ApiError as e:
                log.info("could not record an event: %s", e)
            except Exception:           # a writer never dies
                log.exception("event writer")
