"""asyncio helpers every layer may use (no imports from the rest of the package)."""
from __future__ import annotations

import asyncio
from typing import Iterable


async def cancel_and_wait(tasks: asyncio.Future | Iterable[asyncio.Future | None] | None, *,
                          ignore_errors: bool = False) -> None:
    """Cancel the tasks and wait until every one has finished.

    A task's own cancellation is the expected end, not an error. An exception a task ended
    with instead is raised (the first one) unless `ignore_errors`. If the caller is cancelled
    while waiting, that cancellation propagates (the tasks are still cancelled): the usual
    `task.cancel(); try: await task except CancelledError: pass` swallows it."""
    if tasks is None:
        return
    pending = [tasks] if isinstance(tasks, asyncio.Future) else [t for t in tasks if t is not None]
    if not pending:
        return
    for task in pending:
        task.cancel()
    await asyncio.wait(pending)
    if ignore_errors:
        for task in pending:
            if not task.cancelled():
                task.exception()        # retrieved: no "exception was never retrieved" warning
        return
    for task in pending:
        if not task.cancelled() and task.exception() is not None:
            raise task.exception()  # type: ignore[misc]
