"""Creation/deletion expectations (the replicaset controller's ControllerExpectations).

A controller that just asked for 5 creations must not create again before its informer has seen
them, or a lagging cache makes it create twice. Per controller key it records how many adds and
which deletions it still waits to observe; `satisfied(key)` is true once all were observed, or
once the record is older than the TTL (a lost watch event must not wedge a controller forever).

    exp.expect_creations("ns/web", 3)     # before sending 3 creates
    exp.creation_observed("ns/web")       # informer saw one (or a create failed: lower it too)
    exp.satisfied("ns/web")               # False until 3 observed
"""
from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Callable

EXPECTATIONS_TTL = 300.0    # k8s ExpectationsTimeout: 5 minutes


@dataclass
class _Expectation:
    adds: int = 0
    deletes: set[str] = field(default_factory=set)   # pod keys whose deletion is awaited
    stamp: float = 0.0


class Expectations:
    def __init__(self, ttl: float = EXPECTATIONS_TTL, clock: Callable[[], float] = time.monotonic) -> None:
        self.ttl = ttl
        self.clock = clock
        self._records: dict[str, _Expectation] = {}

    def satisfied(self, key: str) -> bool:
        record = self._records.get(key)
        if record is None:
            return True     # nothing recorded (new controller, or restarted): sync
        if record.adds <= 0 and not record.deletes:
            return True
        return self.clock() - record.stamp > self.ttl

    def expect_creations(self, key: str, count: int) -> None:
        self._records[key] = _Expectation(adds=count, stamp=self.clock())

    def expect_deletions(self, key: str, pod_keys: list[str]) -> None:
        self._records[key] = _Expectation(deletes=set(pod_keys), stamp=self.clock())

    def creation_observed(self, key: str, count: int = 1) -> None:
        record = self._records.get(key)
        if record is not None:
            record.adds -= count

    def deletion_observed(self, key: str, pod_key: str) -> None:
        record = self._records.get(key)
        if record is not None:
            record.deletes.discard(pod_key)

    def pending(self, key: str) -> tuple[int, int]:
        record = self._records.get(key)
        return (0, 0) if record is None else (max(record.adds, 0), len(record.deletes))

    def forget(self, key: str) -> None:
        self._records.pop(key, None)
