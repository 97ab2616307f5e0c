"""Work queue metrics as client-go names them (workqueue_* with label `name` = the controller),
in one prometheus registry per ControllerManager, and a queue that feeds them."""
from __future__ import annotations

import asyncio
import time
from typing import Hashable

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram

from pykube_plane.client import RateLimitingQueue

# client-go's buckets: 10^-8 .. 10^1 seconds
_BUCKETS = tuple(10.0 ** e for e in range(-8, 2))


class WorkqueueMetrics:
    def __init__(self, registry: CollectorRegistry | None = None) -> None:
        self.registry = registry or CollectorRegistry()
        r = self.registry
        self.depth = Gauge("workqueue_depth", "Current depth of workqueue", ["name"], registry=r)
        self.adds = Counter("workqueue_adds", "Total number of adds handled by workqueue", ["name"], registry=r)
        self.queue_duration = Histogram("workqueue_queue_duration_seconds",
                                        "How long in seconds an item stays in workqueue before being requested.",
                                        ["name"], buckets=_BUCKETS, registry=r)
        self.work_duration = Histogram("workqueue_work_duration_seconds",
                                       "How long in seconds processing an item from workqueue takes.",
                                       ["name"], buckets=_BUCKETS, registry=r)
        self.unfinished = Gauge("workqueue_unfinished_work_seconds",
                                "How many seconds of work has been done that is in progress and hasn't been observed "
                                "by work_duration.", ["name"], registry=r)
        self.longest = Gauge("workqueue_longest_running_processor_seconds",
                             "How many seconds has the longest running processor for workqueue been running.",
                             ["name"], registry=r)
        self.retries = Counter("workqueue_retries", "Total number of retries handled by workqueue", ["name"],
                               registry=r)
        self.leader = Gauge("leader_election_master_status",
                            "Gauge of if the reporting system is master of the relevant lease, 0 indicates "
                            "backup, 1 indicates master.", ["name"], registry=r)


class MeteredQueue(RateLimitingQueue):
    """A RateLimitingQueue that reports depth, adds, time queued and work time."""

    def __init__(self, name: str, metrics: WorkqueueMetrics) -> None:
        super().__init__(name)
        self._depth = metrics.depth.labels(name)
        self._adds = metrics.adds.labels(name)
        self._queued = metrics.queue_duration.labels(name)
        self._work = metrics.work_duration.labels(name)
        self._retries = metrics.retries.labels(name)
        self._added_at: dict[Hashable, float] = {}
        self._started_at: dict[Hashable, float] = {}
        self._started_wall: dict[Hashable, float] = {}
        # computed when scraped (from the scraping thread too: read a snapshot, never the loop)
        metrics.unfinished.labels(name).set_function(lambda: sum(self._running()))
        metrics.longest.labels(name).set_function(lambda: max(self._running(), default=0.0))

    def _running(self) -> list[float]:
        now = time.monotonic()
        return [now - at for at in list(self._started_wall.values())]

    def add(self, key) -> None:
        before = self.adds
        super().add(key)
        if self.adds != before:
            self._adds.inc()
            self._added_at.setdefault(key, asyncio.get_running_loop().time())
            self._depth.set(len(self))

    async def get(self):
        key = await super().get()
        now = asyncio.get_running_loop().time()
        added = self._added_at.pop(key, None)
        if added is not None:
            self._queued.observe(now - added)
        self._started_at[key] = now
        self._started_wall[key] = time.monotonic()
        self._depth.set(len(self))
        return key

    def done(self, key) -> None:
        self._started_wall.pop(key, None)
        started = self._started_at.pop(key, None)
        if started is not None:
            self._work.observe(asyncio.get_running_loop().time() - started)
        super().done(key)
        self._depth.set(len(self))

    def add_rate_limited(self, key) -> None:
        self._retries.inc()
        super().add_rate_limited(key)
