"""Clients of the API server: work queues now; REST/in-process clients and informers follow."""
from .workqueue import (  # noqa: F401
    DelayingQueue, ItemExponentialBackoff, RateLimitingQueue, ShutDown, TokenBucket, WorkQueue,
)
