"""The consumer end of a watch: WatchResponses queued by a producer, read with `async for`.

Shared by the embedded store's watchers and the remote etcd client's, so both iterate, wake and
end the same way. The producer never waits: `push` only appends.
"""
from __future__ import annotations

import asyncio
from collections import deque

from .kv import WatchResponse


class WatchStream:
    def __init__(self) -> None:
        self.closed = False
        self._queue: deque[WatchResponse] = deque()
        self._waiter: asyncio.Future | None = None

    def __aiter__(self) -> "WatchStream":
        return self

    async def __anext__(self) -> WatchResponse:
        while not self._queue:
            if self.closed:
                raise StopAsyncIteration
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None
        resp = self._queue.popleft()
        self._consumed(resp)
        return resp

    def push(self, resp: WatchResponse) -> None:
        self._queue.append(resp)
        self._wake()

    def close(self, final: WatchResponse | None = None) -> None:
        """End the stream; `final` (a cancellation notice) is the last response read."""
        if self.closed:
            return
        if final is not None:
            self._queue.append(final)
        self.closed = True
        self._wake()

    def _consumed(self, resp: WatchResponse) -> None:
        """Hook: the consumer took `resp` off the queue."""

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)
