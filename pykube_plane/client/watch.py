"""Watch streams as async iterators of (type, object), resumed from the last resourceVersion.

    async with client.watch("pods", namespace="default") as events:
        async for event_type, pod in events:          # ADDED / MODIFIED / DELETED
            ...

A stream the server ends (its timeout, a restart, a cut slow watcher) or a broken connection is
re-opened from the last resourceVersion seen — an event's or a bookmark's — so the caller sees
one unbroken sequence, each change once. When that resourceVersion has left the server's window
the iterator raises `Gone` (410): the caller must list again (an informer does it for you).

Starting without a resourceVersion, the iterator lists first and yields the objects as ADDED,
then watches from the list's resourceVersion: a watch the server started from "now" could not be
resumed exactly if it broke while still sending its initial objects.
"""
from __future__ import annotations

import asyncio
import logging
import random
from collections import deque
from typing import TYPE_CHECKING, Any, AsyncIterator, NamedTuple

from pykube_plane.api.watchevents import ADDED, BOOKMARK, ERROR

from .errors import ApiError, ConnectionFailed, Gone, error_from_status
from .resources import APIResource, ResourceSpec

if TYPE_CHECKING:
    from .api import APIClient

log = logging.getLogger(__name__)

# The server ends each watch after a while (client-go's reflector asks 5-10 minutes) so that
# load spreads over API servers; resuming makes it invisible.
WATCH_TIMEOUT_RANGE = (300, 600)


class WatchEvent(NamedTuple):
    type: str
    object: dict[str, Any]


def resource_version_of(obj: Any) -> str:
    meta = obj.get("metadata") if isinstance(obj, dict) else None
    return str(meta.get("resourceVersion") or "") if isinstance(meta, dict) else ""


class Watch:
    """One logical watch: opened (and re-opened) through the client's transport."""

    def __init__(self, client: "APIClient", resource: ResourceSpec, *, namespace: str = "", name: str = "",
                 label_selector: str = "", field_selector: str = "", resource_version: str = "",
                 timeout_seconds: int | None = None, bookmarks: bool = False, resume: bool = True) -> None:
        self.client = client
        self.resource_spec = resource
        self.resource: APIResource | None = None
        self.namespace = namespace
        self.name = name
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.resource_version = resource_version     # the last one seen: where a resume starts
        self.timeout_seconds = timeout_seconds
        self.bookmarks = bookmarks
        self.resume = resume
        self.reconnects = 0                          # streams re-opened (for tests and metrics)
        self._stream: AsyncIterator[tuple[str, dict]] | None = None   # opened, not yet read
        self._initial: deque[WatchEvent] = deque()
        self._events = self._run()
        self._started = False
        self._closed = False

    def __aiter__(self) -> "Watch":
        return self

    async def __anext__(self) -> WatchEvent:
        if self._closed:
            raise StopAsyncIteration
        return await self._events.__anext__()

    async def start(self) -> None:
        """Fix the starting point now (entering `async with` does it): changes made after this
        returns are seen even if iteration begins later."""
        if self._started:
            return
        self._started = True
        self.resource = await self.client.resources.resolve(self.resource_spec)
        if self.resume and self.resource_version in ("", "0"):
            await self._initial_list(self.resource)
        elif not self.resume:
            self._stream = await self.client._open_watch(self.resource, self.namespace, self.name, self._query())

    async def close(self) -> None:
        self._closed = True
        await self._events.aclose()
        stream, self._stream = self._stream, None
        aclose = getattr(stream, "aclose", None)
        if aclose is not None:
            await aclose()

    aclose = close

    async def __aenter__(self) -> "Watch":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # ------------------------------------------------------------------------------------------

    def _query(self) -> dict[str, str]:
        query = {"watch": "true", "allowWatchBookmarks": "true"}
        if self.resource_version:
            query["resourceVersion"] = self.resource_version
        if self.label_selector:
            query["labelSelector"] = self.label_selector
        if self.field_selector:
            query["fieldSelector"] = self.field_selector
        timeout = self.timeout_seconds
        if timeout is None and self.resume:
            timeout = random.randint(*WATCH_TIMEOUT_RANGE)
        if timeout is not None:
            query["timeoutSeconds"] = str(timeout)
        return query

    async def _initial_list(self, resource: APIResource) -> None:
        field_selector = self.field_selector
        if self.name:
            name_field = f"metadata.name={self.name}"
            field_selector = f"{field_selector},{name_field}" if field_selector else name_field
        listed = await self.client.list_all(resource, namespace=self.namespace, label_selector=self.label_selector,
                                            field_selector=field_selector, resource_version=self.resource_version)
        self._initial.extend(WatchEvent(ADDED, obj) for obj in listed["items"])
        self.resource_version = resource_version_of(listed)

    async def _run(self) -> AsyncIterator[WatchEvent]:
        await self.start()
        client = self.client
        resource = self.resource
        assert resource is not None
        while self._initial:
            yield self._initial.popleft()
        backoff = client.retry.backoff()
        failures = 0
        while True:
            stream, self._stream = self._stream, None
            if stream is None:
                try:
                    stream = await client._open_watch(resource, self.namespace, self.name, self._query())
                except ApiError as e:
                    failures += 1
                    delay = self._retry_delay(e, failures, backoff)
                    if delay is None:
                        raise
                    log.debug("watch %s: %s; again in %.2fs", resource, e, delay)
                    await asyncio.sleep(delay)
                    self.reconnects += 1
                    continue
            delivered = False
            try:
                async for event_type, obj in stream:
                    if event_type == ERROR:
                        raise error_from_status(int(obj.get("code") or 500), obj)
                    rv = resource_version_of(obj)
                    if rv:
                        self.resource_version = rv
                    delivered = True
                    if event_type == BOOKMARK and not self.bookmarks:
                        continue
                    yield WatchEvent(event_type, obj)
            except ConnectionFailed as e:
                if not self.resume:
                    raise
                log.debug("watch %s: stream broke (%s); resuming from %s", resource, e, self.resource_version)
            finally:
                aclose = getattr(stream, "aclose", None)
                if aclose is not None:
                    await aclose()
            if not self.resume:
                return
            if delivered:
                failures = 0
                backoff.reset()
            else:
                # Ended without a single event: do not spin on a server that closes at once.
                await asyncio.sleep(backoff.next())
            self.reconnects += 1

    def _retry_delay(self, e: ApiError, failures: int, backoff: Any) -> float | None:
        if isinstance(e, Gone) or not self.resume or not getattr(e, "transient", True):
            return None
        retry = self.client.retry
        if failures > retry.max_retries:
            return None
        if isinstance(e, ConnectionFailed) or e.code in (429, 500, 502, 503, 504):
            after = e.retry_after
            if after is not None:
                return min(after, retry.max_retry_after)
            return backoff.next()
        return None
