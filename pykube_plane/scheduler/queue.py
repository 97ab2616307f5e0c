"""The scheduling queue, kube-scheduler's: activeQ (priority, then creation time), backoffQ
(1 s doubling to 10 s per attempt), the unschedulable pods (moved back on cluster events that may
make them fit, and after 5 minutes at most), and pods held by schedulingGates."""
from __future__ import annotations

import asyncio
import heapq
import itertools
import time
from typing import Mapping

from . import podinfo

INITIAL_BACKOFF = 1.0
MAX_BACKOFF = 10.0
MAX_UNSCHEDULABLE_SECONDS = 300.0


class SchedulingQueue:
    def __init__(self, clock=time.monotonic) -> None:
        self.clock = clock
        self.pods: dict[str, Mapping] = {}          # every pending pod by key, latest version
        self.attempts: dict[str, int] = {}
        self._active: list = []                     # (-priority, created, seq, key)
        self._in_active: set[str] = set()
        self._backoff: dict[str, float] = {}        # key -> ready time
        self.unschedulable: dict[str, float] = {}   # key -> since
        self.gated: set[str] = set()
        self._in_flight: set[str] = set()
        self._failed_at: dict[str, float] = {}
        # Cluster events seen while a pod was being scheduled may have made it fit: such a pod
        # goes to backoffQ instead of the unschedulable pods (kube-scheduler's moveRequestCycle).
        self._moves = 0
        self._popped_at_move: dict[str, int] = {}
        self._seq = itertools.count()
        self._wakeup = asyncio.Event()
        self.closed = False

    def sizes(self) -> dict[str, int]:
        return {"active": len(self._in_active), "backoff": len(self._backoff),
                "unschedulable": len(self.unschedulable), "gated": len(self.gated)}

    def _push_active(self, key: str) -> None:
        if key in self._in_active or key in self._in_flight:
            return
        pod = self.pods[key]
        created = (pod.get("metadata") or {}).get("creationTimestamp") or ""
        heapq.heappush(self._active, (-podinfo.priority(pod), created, next(self._seq), key))
        self._in_active.add(key)
        self._wakeup.set()

    def add(self, pod: Mapping) -> None:
        key = podinfo.pod_key(pod)
        self.pods[key] = pod
        if (pod.get("spec") or {}).get("schedulingGates"):
            self.gated.add(key)
            return
        self.gated.discard(key)
        if key in self.unschedulable or key in self._backoff:
            return      # waits for its turn; the newer object is what it will be scheduled as
        self._push_active(key)

    def update(self, pod: Mapping) -> None:
        key = podinfo.pod_key(pod)
        was_gated = key in self.gated
        old = self.pods.get(key)
        self.add(pod)
        if key in self.unschedulable and (was_gated or old is None or old.get("spec") != pod.get("spec")
                                          or (old.get("metadata") or {}).get("labels")
                                          != (pod.get("metadata") or {}).get("labels")):
            self._move(key)

    def delete(self, key: str) -> None:
        self.pods.pop(key, None)
        self.attempts.pop(key, None)
        self._in_active.discard(key)
        self._backoff.pop(key, None)
        self.unschedulable.pop(key, None)
        self.gated.discard(key)
        self._failed_at.pop(key, None)

    async def pop(self) -> Mapping | None:
        """The next pod to schedule, waiting for one; None once closed."""
        while not self.closed:
            self._flush_backoff()
            while self._active:
                _, _, _, key = heapq.heappop(self._active)
                if key in self._in_active:
                    self._in_active.discard(key)
                    self._in_flight.add(key)
                    self._popped_at_move[key] = self._moves
                    self.attempts[key] = self.attempts.get(key, 0) + 1
                    return self.pods[key]
            self._wakeup.clear()
            timeout = None
            if self._backoff:
                timeout = max(0.0, min(self._backoff.values()) - self.clock())
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout)
            except asyncio.TimeoutError:
                pass
        return None

    def done(self, key: str) -> None:
        """The scheduling attempt for `key` is over (bound, or parked by the calls below)."""
        self._in_flight.discard(key)
        self._popped_at_move.pop(key, None)

    def backoff_seconds(self, key: str) -> float:
        return min(MAX_BACKOFF, INITIAL_BACKOFF * 2 ** max(0, self.attempts.get(key, 1) - 1))

    def requeue_unschedulable(self, key: str) -> None:
        if self._popped_at_move.pop(key, self._moves) != self._moves:
            self.requeue_backoff(key)
            return
        self._in_flight.discard(key)
        self._failed_at[key] = self.clock()
        if key in self.pods:
            self.unschedulable[key] = self.clock()

    def requeue_backoff(self, key: str) -> None:
        self._in_flight.discard(key)
        self._failed_at[key] = self.clock()
        if key in self.pods:
            self._backoff[key] = self.clock() + self.backoff_seconds(key)
            self._wakeup.set()

    def _move(self, key: str) -> None:
        self.unschedulable.pop(key, None)
        ready = self._failed_at.get(key, 0.0) + self.backoff_seconds(key)   # still backs off its attempts
        if ready <= self.clock():
            self._push_active(key)
        else:
            self._backoff[key] = ready
            self._wakeup.set()

    def move_all_to_active_or_backoff(self) -> None:
        """A cluster event (a node added or changed, a pod gone) may make the unschedulable fit."""
        self._moves += 1
        for key in list(self.unschedulable):
            self._move(key)

    def flush(self) -> None:
        """Periodic: pods unschedulable for too long get another try."""
        now = self.clock()
        for key, since in list(self.unschedulable.items()):
            if now - since >= MAX_UNSCHEDULABLE_SECONDS:
                self._move(key)
        self._flush_backoff()

    def _flush_backoff(self) -> None:
        now = self.clock()
        for key, ready in list(self._backoff.items()):
            if ready <= now:
                del self._backoff[key]
                self._push_active(key)

    def close(self) -> None:
        self.closed = True
        self._wakeup.set()
