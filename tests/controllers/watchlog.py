"""A watch log (pods by default) recorded from a real watch in a thread of its own, to check rollout bounds
afterwards: at no point in the server's own order of changes may a bound be broken."""
from __future__ import annotations

import asyncio
import threading
from typing import Callable

from pykube_plane.client import DELETED, Client


class WatchLog:
    def __init__(self, kubeconfig: str, namespace: str, resource: str = "pods") -> None:
        self.kubeconfig = kubeconfig
        self.namespace = namespace
        self.resource = resource
        self.events: list[tuple[str, dict]] = []
        self.initial = 0        # events that are the first list: one state, checked as a whole
        self._ready = threading.Event()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._task: asyncio.Task | None = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self) -> "WatchLog":
        self._thread.start()
        self._ready.wait(30)
        return self

    def __exit__(self, *exc: object) -> None:
        if self._loop is not None and self._task is not None:
            self._loop.call_soon_threadsafe(self._task.cancel)
        self._thread.join(30)

    def _run(self) -> None:
        self._loop = asyncio.new_event_loop()
        try:
            self._task = self._loop.create_task(self._watch())
            self._loop.run_until_complete(self._task)
        except asyncio.CancelledError:
            pass
        finally:
            self._loop.close()

    async def _watch(self) -> None:
        async with Client.from_kubeconfig(self.kubeconfig) as client:
            first = await client.list(self.resource, namespace=self.namespace)
            for pod in first.get("items") or ():
                self.events.append(("ADDED", pod))
            self.initial = len(self.events)
            watch = client.watch(self.resource, namespace=self.namespace,
                                 resource_version=first["metadata"]["resourceVersion"])
            self._ready.set()
            async for event in watch:
                self.events.append((event.type, event.object))

    def replay(self, check: Callable[[dict[str, dict]], None]) -> int:
        """Call check(live pods by name) after every change; returns how many states were checked."""
        live: dict[str, dict] = {}
        checked = 0
        for n, (kind, pod) in enumerate(self.events):
            name = pod["metadata"]["name"]
            if kind == DELETED:
                live.pop(name, None)
            else:
                live[name] = pod
            if n + 1 >= self.initial:
                check(live)
                checked += 1
        return checked
