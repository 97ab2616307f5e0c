"""Exponential backoff with jitter, and the retry policy of API calls built on it."""
from __future__ import annotations

import random
from dataclasses import dataclass


class Backoff:
    """Delays initial, initial*factor, ... up to cap, each stretched by up to `jitter` (a fraction)
    so that many clients failing together do not retry together. `reset()` after a success."""

    def __init__(self, initial: float = 0.8, factor: float = 2.0, cap: float = 30.0, jitter: float = 0.2) -> None:
        self.initial = initial
        self.factor = factor
        self.cap = cap
        self.jitter = jitter
        self.attempts = 0

    def next(self) -> float:
        delay = min(self.cap, self.initial * (self.factor ** self.attempts))
        self.attempts += 1
        return delay * (1.0 + self.jitter * random.random())

    def reset(self) -> None:
        self.attempts = 0


@dataclass(frozen=True)
class RetryPolicy:
    """When a failed call is tried again (client-go's rules, see APIClient.request):
    connection failures, 429, and 5xx answers that carry Retry-After (or 503/504 on reads)."""

    max_retries: int = 5
    initial: float = 0.1
    factor: float = 2.0
    cap: float = 10.0
    max_retry_after: float = 30.0   # never wait longer than this for one Retry-After

    def backoff(self) -> Backoff:
        return Backoff(self.initial, self.factor, self.cap)


NO_RETRIES = RetryPolicy(max_retries=0)
