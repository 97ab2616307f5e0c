"""Events recorded by controllers (core/v1 Events, as client-go's EventRecorder writes them).

Recording never blocks the caller nor fails it: the write is a background task, and a repeat of
the same (object, reason, message) bumps `count` on the Event already written.
"""
from __future__ import annotations

import asyncio
import logging
import os
import socket
import uuid
from typing import Any

from pykube_plane.api import meta as api_meta
from pykube_plane.client import APIClient, ApiError, NotFound

log = logging.getLogger(__name__)

NORMAL = "Normal"
WARNING = "Warning"


def object_reference(obj: dict) -> dict:
    meta = obj.get("metadata") or {}
    ref = {"kind": obj.get("kind", ""), "apiVersion": obj.get("apiVersion", ""), "name": meta.get("name", ""),
           "uid": meta.get("uid", ""), "resourceVersion": meta.get("resourceVersion", "")}
    if meta.get("namespace"):
        ref["namespace"] = meta["namespace"]
    return ref


class EventRecorder:
    def __init__(self, client: APIClient, component: str) -> None:
        self.client = client
        self.component = component
        self.host = socket.gethostname()
        self._written: dict[tuple, tuple[str, int]] = {}     # (uid, reason, message) -> (event name, count)
        self._tasks: set[asyncio.Task] = set()

    def event(self, obj: dict, type_: str, reason: str, message: str) -> None:
        try:
            task = asyncio.get_running_loop().create_task(self._write(obj, type_, reason, message))
        except RuntimeError:
            return
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    async def _write(self, obj: dict, type_: str, reason: str, message: str) -> None:
        meta = obj.get("metadata") or {}
        namespace = meta.get("namespace") or "default"
        key = (meta.get("uid"), reason, message)
        now = api_meta.now_rfc3339()
        try:
            seen = self._written.get(key)
            if seen is not None:
                name, count = seen
                try:
                    await self.client.patch("events", name, {"count": count + 1, "lastTimestamp": now},
                                            namespace=namespace)
                    self._written[key] = (name, count + 1)
                    return
                except NotFound:
                    pass
            name = f"{meta.get('name', 'object')}.{uuid.uuid4().hex[:16]}"
            body: dict[str, Any] = {
                "apiVersion": "v1", "kind": "Event",
                "metadata": {"name": name, "namespace": namespace},
                "involvedObject": object_reference(obj), "reason": reason, "message": message[:1024],
                "type": type_, "count": 1, "firstTimestamp": now, "lastTimestamp": now,
                "source": {"component": self.component, "host": self.host},
                "reportingComponent": self.component, "reportingInstance": f"{self.host}-{os.getpid()}",
            }
            await self.client.create(body, resource="events", namespace=namespace)
            if len(self._written) > 4096:
                self._written.clear()
            self._written[key] = (name, 1)
        except (ApiError, OSError) as e:
            log.debug("event %s on %s not recorded: %s", reason, meta.get("name"), e)

    async def flush(self) -> None:
        if self._tasks:
            await asyncio.gather(*list(self._tasks), return_exceptions=True)
