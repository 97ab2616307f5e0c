"""cancel_and_wait: the one helper for "cancel these tasks and wait for them"."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane.aio import cancel_and_wait


async def forever(started: asyncio.Event) -> None:
    started.set()
    await asyncio.Event().wait()


async def test_cancels_and_waits_for_every_task_and_skips_none():
    started = [asyncio.Event() for _ in range(3)]
    tasks = [asyncio.create_task(forever(e)) for e in started]
    for e in started:
        await e.wait()
    await cancel_and_wait([tasks[0], None, tasks[1], tasks[2]])
    assert all(t.cancelled() for t in tasks)
    await cancel_and_wait(None)
    await cancel_and_wait([])


async def test_a_task_that_failed_raises_unless_errors_are_ignored():
    async def fail() -> None:
        raise ValueError("boom")

    failed = asyncio.create_task(fail())
    await asyncio.wait([failed])
    with pytest.raises(ValueError, match="boom"):
        await cancel_and_wait(failed)
    again = asyncio.create_task(fail())
    await asyncio.wait([again])
    await cancel_and_wait(again, ignore_errors=True)


async def test_a_task_that_ignores_cancellation_is_waited_for():
    finished = asyncio.Event()

    async def cleanup_first() -> None:
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(0.01)     # its cleanup still runs before cancel_and_wait returns
            finished.set()
            raise

    task = asyncio.create_task(cleanup_first())
    await asyncio.sleep(0)
    await cancel_and_wait(task)
    assert finished.is_set() and task.cancelled()


async def test_the_callers_own_cancellation_is_not_swallowed():
    inner_started = asyncio.Event()

    async def slow_to_stop() -> None:
        inner_started.set()
        try:
            await asyncio.Event().wait()
        except asyncio.CancelledError:
            await asyncio.sleep(10)

    inner = asyncio.create_task(slow_to_stop())
    await inner_started.wait()
    stopper = asyncio.create_task(cancel_and_wait(inner))
    await asyncio.sleep(0.01)
    stopper.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stopper
    inner.cancel()
    await asyncio.wait([inner])
