"""Work queues for controllers, after client-go's util/workqueue.

The promise that makes controllers simple: **a key is never handled by two workers at once, and a
key added while it is being handled is handled once more afterwards.** Three sets keep it:

    queue       keys waiting, in order, each at most once
    dirty       keys that need handling (queued, or re-added while processing)
    processing  keys a worker holds between get() and done()

    add(k):   k in dirty -> nothing (already pending);  else dirty += k, and unless k is being
              processed, append to queue (done() will queue it)
    get():    pop the head; processing += k; dirty -= k
    done(k):  processing -= k; if k in dirty (re-added meanwhile) -> append to queue

On top: `DelayingQueue.add_after` (a timer heap on the event loop's clock) and
`RateLimitingQueue.add_rate_limited` (per-item exponential backoff, max'd with an overall token
bucket, like client-go's DefaultControllerRateLimiter).
"""
from __future__ import annotations

import asyncio
import heapq
import itertools
from collections import deque
from typing import Generic, Hashable, TypeVar

K = TypeVar("K", bound=Hashable)


class ShutDown(Exception):
    """get() on a queue that is shut down and (for a draining shutdown) empty."""


class WorkQueue(Generic[K]):
    def __init__(self, name: str = "") -> None:
        self.name = name
        self._queue: deque[K] = deque()
        self._dirty: set[K] = set()
        self._processing: set[K] = set()
        self._shutting_down = False
        self._getters: deque[asyncio.Future] = deque()
        self._drained: asyncio.Event | None = None
        self.adds = 0  # metrics: adds accepted, for tests and /metrics

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def shutting_down(self) -> bool:
        return self._shutting_down

    def add(self, key: K) -> None:
        if self._shutting_down or key in self._dirty:
            return
        self.adds += 1
        self._dirty.add(key)
        if key in self._processing:
            return  # done() re-queues it
        self._queue.append(key)
        self._wake_one()

    async def get(self) -> K:
        """The next key; hold it until done(key). Raises ShutDown once shut down and empty."""
        while not self._queue:
            if self._shutting_down:
                raise ShutDown(self.name)
            waiter = asyncio.get_running_loop().create_future()
            self._getters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter in self._getters:
                    self._getters.remove(waiter)
                if waiter.done() and not waiter.cancelled() and self._queue:
                    self._wake_one()  # pass our wake-up on; we will not take the key
                raise
        key = self._queue.popleft()
        self._processing.add(key)
        self._dirty.discard(key)
        return key

    def done(self, key: K) -> None:
        self._processing.discard(key)
        if key in self._dirty:
            self._queue.append(key)
            self._wake_one()
        elif not self._processing and self._drained is not None:
            self._drained.set()

    def shut_down(self) -> None:
        """Stop: new adds are ignored; get() raises ShutDown once the queue is empty."""
        self._shutting_down = True
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    async def shut_down_with_drain(self) -> None:
        """Shut down, then wait until every key handed out has been marked done."""
        self.shut_down()
        if self._processing:
            self._drained = asyncio.Event()
            await self._drained.wait()

    def _wake_one(self) -> None:
        while self._getters:
            waiter = self._getters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return


class DelayingQueue(WorkQueue[K]):
    """add_after(key, seconds): the key is added once the delay passes (the earliest wins)."""

    def __init__(self, name: str = "") -> None:
        super().__init__(name)
        self._timers: list[tuple[float, int, K]] = []
        self._ready_at: dict[K, float] = {}
        self._seq = itertools.count()
        self._timer: asyncio.TimerHandle | None = None

    def add_after(self, key: K, delay: float) -> None:
        if self._shutting_down:
            return
        if delay <= 0:
            self.add(key)
            return
        loop = asyncio.get_running_loop()
        at = loop.time() + delay
        if key in self._ready_at and self._ready_at[key] <= at:
            return  # already due sooner
        self._ready_at[key] = at
        heapq.heappush(self._timers, (at, next(self._seq), key))
        self._arm(loop)

    def _arm(self, loop: asyncio.AbstractEventLoop) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        if self._timers:
            self._timer = loop.call_at(self._timers[0][0], self._fire)

    def _fire(self) -> None:
        self._timer = None
        loop = asyncio.get_running_loop()
        now = loop.time()
        while self._timers and self._timers[0][0] <= now:
            at, _, key = heapq.heappop(self._timers)
            if self._ready_at.get(key) == at:  # otherwise superseded by a sooner add_after
                del self._ready_at[key]
                self.add(key)
        self._arm(loop)

    def shut_down(self) -> None:
        super().shut_down()
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        self._timers.clear()
        self._ready_at.clear()


class ItemExponentialBackoff:
    """Per-key delay base * 2**failures, capped (client-go: 5 ms base, 1000 s cap)."""

    def __init__(self, base: float = 0.005, cap: float = 1000.0) -> None:
        self.base = base
        self.cap = cap
        self._failures: dict = {}

    def when(self, key) -> float:
        n = self._failures.get(key, 0)
        self._failures[key] = n + 1
        return min(self.base * (2 ** n), self.cap)

    def forget(self, key) -> None:
        self._failures.pop(key, None)

    def retries(self, key) -> int:
        return self._failures.get(key, 0)


class TokenBucket:
    """Overall rate limit: `qps` tokens per second, up to `burst` saved (client-go: 10 qps, 100)."""

    def __init__(self, qps: float = 10.0, burst: int = 100) -> None:
        self.qps = qps
        self.burst = burst
        self._tokens = float(burst)
        self._last: float | None = None

    def reserve(self, now: float) -> float:
        """Take a token; returns how long the caller must wait for it."""
        if self._last is not None:
            self._tokens = min(self.burst, self._tokens + (now - self._last) * self.qps)
        self._last = now
        self._tokens -= 1
        return 0.0 if self._tokens >= 0 else -self._tokens / self.qps


class RateLimitingQueue(DelayingQueue[K]):
    """add_rate_limited(key): re-add after max(per-key backoff, overall bucket delay)."""

    def __init__(self, name: str = "", backoff: ItemExponentialBackoff | None = None,
                 bucket: TokenBucket | None = None) -> None:
        super().__init__(name)
        self.backoff = backoff or ItemExponentialBackoff()
        self.bucket = bucket or TokenBucket()

    def add_rate_limited(self, key: K) -> None:
        now = asyncio.get_running_loop().time()
        self.add_after(key, max(self.backoff.when(key), self.bucket.reserve(now)))

    def forget(self, key: K) -> None:
        """The key succeeded: its backoff starts from scratch next time."""
        self.backoff.forget(key)

    def num_requeues(self, key: K) -> int:
        return self.backoff.retries(key)
