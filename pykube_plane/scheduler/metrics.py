"""The scheduler's Prometheus metrics, in their own registry (several schedulers may share a process)."""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

BUCKETS = (0.0005, 0.001, 0.002, 0.004, 0.008, 0.016, 0.032, 0.064, 0.128, 0.256, 0.512, 1.024, 2.048,
           4.096, 8.192, 16.384)


class SchedulerMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.attempts = Counter("scheduler_schedule_attempts_total",
                                "Number of attempts to schedule pods, by the result.",
                                ["result", "profile"], registry=self.registry)
        self.e2e = Histogram("scheduler_e2e_scheduling_duration_seconds",
                             "E2e scheduling latency in seconds (scheduling algorithm + binding).",
                             ["result", "profile"], buckets=BUCKETS, registry=self.registry)
        self.pending = Gauge("scheduler_pending_pods", "Number of pending pods, by the queue type.",
                             ["queue"], registry=self.registry)
        self.leader = Gauge("leader_election_master_status", "1 while this process leads.", ["name"],
                            registry=self.registry)

    def attempt(self, result: str, profile: str, seconds: float) -> None:
        self.attempts.labels(result, profile).inc()
        self.e2e.labels(result, profile).observe(seconds)

    def set_pending(self, sizes: dict[str, int]) -> None:
        for queue, size in sizes.items():
            self.pending.labels(queue).set(size)

    def exposition(self) -> bytes:
        return generate_latest(self.registry)
