"""Workqueue: a key is never held by two workers at once, and no add is ever lost."""
from __future__ import annotations

import asyncio
import random

import pytest
from hypothesis import given, settings, strategies as st

from pykube_plane.client.workqueue import (
    DelayingQueue, ItemExponentialBackoff, RateLimitingQueue, ShutDown, TokenBucket, WorkQueue,
)

ops = st.lists(st.one_of(
    st.tuples(st.just("add"), st.integers(0, 4)),
    st.tuples(st.just("get"), st.integers(0, 2)),    # worker id
    st.tuples(st.just("done"), st.integers(0, 2)),
), max_size=60)


@settings(max_examples=300, deadline=None)
@given(ops)
def test_model_no_concurrent_holders_and_no_lost_adds(script):
    """Drive the queue step by step against the rule it promises.

    `needs` holds keys added since their last get: each must be handed out again eventually."""
    async def run():
        q: WorkQueue[int] = WorkQueue()
        held: dict[int, int] = {}          # worker -> key it holds
        needs: set[int] = set()
        for op, arg in script:
            if op == "add":
                q.add(arg)
                needs.add(arg)
            elif op == "get" and arg not in held and len(q):
                key = await q.get()
                assert key not in held.values(), "a key handed to two workers at once"
                held[arg] = key
                needs.discard(key)
            elif op == "done" and arg in held:
                q.done(held.pop(arg))
        for worker in list(held):           # finish everything: every needed key comes out
            q.done(held.pop(worker))
        while len(q):
            key = await q.get()
            needs.discard(key)
            q.done(key)
        assert not needs, f"adds lost: {needs}"
    asyncio.run(run())


async def test_concurrent_workers_never_overlap_and_catch_every_add():
    q: WorkQueue[int] = WorkQueue()
    rng = random.Random(7)
    holding: set[int] = set()
    last_add: dict[int, int] = {}        # key -> step of its last add
    last_start: dict[int, int] = {}      # key -> step when a worker last took it
    step = 0

    async def worker():
        nonlocal step
        while True:
            try:
                key = await q.get()
            except ShutDown:
                return
            assert key not in holding
            holding.add(key)
            step += 1
            last_start[key] = step
            await asyncio.sleep(rng.random() * 0.002)
            holding.discard(key)
            q.done(key)

    workers = [asyncio.create_task(worker()) for _ in range(8)]
    for _ in range(2000):
        key = rng.randrange(20)
        step += 1
        last_add[key] = step
        q.add(key)
        if rng.random() < 0.3:
            await asyncio.sleep(0)
    while len(q) or q._processing:
        await asyncio.sleep(0.01)
    await q.shut_down_with_drain()
    await asyncio.gather(*workers)
    for key, added in last_add.items():
        assert last_start[key] > added, f"key {key} added at {added} but last handled at {last_start[key]}"


async def test_shutdown_wakes_getters_and_drain_waits_for_done():
    q: WorkQueue[str] = WorkQueue()
    getter = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("a")
    assert await getter == "a"
    drained = asyncio.create_task(q.shut_down_with_drain())
    await asyncio.sleep(0.01)
    assert not drained.done()               # "a" is still being processed
    q.done("a")
    await asyncio.wait_for(drained, 1)
    q.add("b")                              # ignored after shutdown
    with pytest.raises(ShutDown):
        await q.get()


async def test_cancelled_getter_does_not_swallow_a_key():
    q: WorkQueue[str] = WorkQueue()
    first = asyncio.create_task(q.get())
    second = asyncio.create_task(q.get())
    await asyncio.sleep(0)
    q.add("k")
    first.cancel()
    results = await asyncio.gather(first, second, return_exceptions=True)
    assert "k" in results


async def test_add_after_delays_and_keeps_the_earliest():
    q: DelayingQueue[str] = DelayingQueue()
    q.add_after("x", 0.2)
    q.add_after("x", 0.02)                  # sooner wins
    q.add_after("x", 0.5)                   # later is ignored
    assert len(q) == 0
    assert await asyncio.wait_for(q.get(), 1) == "x"
    q.done("x")
    await asyncio.sleep(0.3)
    assert len(q) == 0                      # the superseded timers did not re-add it


def test_backoff_and_bucket():
    backoff = ItemExponentialBackoff(base=0.005, cap=1.0)
    assert [backoff.when("k") for _ in range(4)] == [0.005, 0.01, 0.02, 0.04]
    assert backoff.retries("k") == 4
    for _ in range(20):
        backoff.when("k")
    assert backoff.when("k") == 1.0
    backoff.forget("k")
    assert backoff.when("k") == 0.005
    bucket = TokenBucket(qps=10, burst=2)
    assert bucket.reserve(0.0) == 0.0
    assert bucket.reserve(0.0) == 0.0
    assert bucket.reserve(0.0) == pytest.approx(0.1)
    assert bucket.reserve(1.0) == 0.0       # refilled


async def test_rate_limited_requeue_and_forget():
    q: RateLimitingQueue[str] = RateLimitingQueue(backoff=ItemExponentialBackoff(base=0.01))
    q.add_rate_limited("k")
    q.add_rate_limited("k")
    assert q.num_requeues("k") == 2
    assert await asyncio.wait_for(q.get(), 1) == "k"
    q.done("k")
    q.forget("k")
    assert q.num_requeues("k") == 0
