"""Churn for informer tests: storms of writes that remember what they did, handlers that record
what they saw, and the checks that compare the two with the server's own state."""
from __future__ import annotations

import asyncio
import random
from collections import defaultdict
from typing import Any

from pykube_plane.client import APIClient, ConnectionFailed, NotFound, SharedIndexInformer, object_key


def configmap(name: str, value: str = "0") -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"churn": "yes"}},
            "data": {"v": value}}


def rv(obj: dict) -> int:
    return int(obj["metadata"]["resourceVersion"])


class Recorder:
    """An event handler that logs (event, resourceVersion) per object key."""

    def __init__(self) -> None:
        self.events: dict[str, list[tuple[str, int]]] = defaultdict(list)
        self.resyncs = 0
        self.violations: list[str] = []

    def on_add(self, obj: dict) -> None:
        self.events[object_key(obj)].append(("add", rv(obj)))

    def on_update(self, old: dict, new: dict) -> None:
        if old is new:
            self.resyncs += 1
            return
        if rv(old) >= rv(new):
            self.violations.append(f"update from {old['metadata']} to {new['metadata']}")
        self.events[object_key(new)].append(("update", rv(new)))

    def on_delete(self, obj: dict) -> None:
        self.events[object_key(obj)].append(("delete", rv(obj)))


class Storm:
    """Writers that create, update and delete configmaps. Each name belongs to one writer, so the
    writes to one object are sequential and `expected` holds them in the server's order."""

    def __init__(self, client: APIClient, namespace: str, names: int, seed: int = 7) -> None:
        self.client = client
        self.namespace = namespace
        self.names = [f"cm-{i:03d}" for i in range(names)]
        self.random = random.Random(seed)
        self.expected: dict[str, list[tuple[str, int | None]]] = defaultdict(list)
        self.exists: dict[str, bool] = {}
        self.uncertain: set[str] = set()      # a write whose outcome a broken connection hid

    def key(self, name: str) -> str:
        return f"{self.namespace}/{name}"

    async def run(self, rounds: int, writers: int = 4) -> None:
        await asyncio.gather(*(self._writer(self.names[i::writers], rounds, random.Random(self.random.random()))
                               for i in range(writers)))

    async def _writer(self, names: list[str], rounds: int, rnd: random.Random) -> None:
        for _ in range(rounds):
            name = rnd.choice(names)
            try:
                await self._write(name, rnd)
            except ConnectionFailed:
                self.uncertain.add(self.key(name))
                await self._settle(name)

    async def _write(self, name: str, rnd: random.Random) -> None:
        key = self.key(name)
        if not self.exists.get(name):
            created = await self.client.create(configmap(name), namespace=self.namespace)
            self.exists[name] = True
            self.expected[key].append(("add", rv(created)))
        elif rnd.random() < 0.25:
            await self.client.delete("configmaps", name, namespace=self.namespace)
            self.exists[name] = False
            self.expected[key].append(("delete", None))
        else:
            patched = await self.client.patch("configmaps", name, {"data": {"v": str(rnd.random())}},
                                              namespace=self.namespace)
            self.expected[key].append(("update", rv(patched)))

    async def _settle(self, name: str) -> None:
        """After an unknown outcome, learn whether the object exists (retrying until the server
        answers)."""
        while True:
            try:
                await self.client.get("configmaps", name, namespace=self.namespace)
                self.exists[name] = True
                return
            except NotFound:
                self.exists[name] = False
                return
            except ConnectionFailed:
                await asyncio.sleep(0.2)


async def server_state(client: APIClient, namespace: str) -> dict[str, int]:
    listed = await client.list_all("configmaps", namespace=namespace)
    return {object_key(o): rv(o) for o in listed["items"]}


def cache_state(informer: SharedIndexInformer) -> dict[str, int]:
    return {object_key(o): rv(o) for o in informer.indexer.items()}


async def converged(informer: SharedIndexInformer, client: APIClient, namespace: str,
                    recorders: list[Recorder] = (), timeout: float = 60) -> dict[str, int]:
    """Wait until the cache equals the server's state and every handler has caught up; answers
    the state. Fails with both states if that does not happen within `timeout` (a hang guard,
    not a timing assertion)."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        want = await server_state(client, namespace)
        have = cache_state(informer)
        handlers_idle = all(reg.pending == 0 for reg in informer._handlers)
        if want == have and handlers_idle and all(_final(r) == want for r in recorders):
            return want
        if loop.time() > deadline:
            raise AssertionError(f"informer did not converge:\nserver {want}\ncache  {have}")
        await asyncio.sleep(0.1)


def _final(recorder: Recorder) -> dict[str, int]:
    out = {}
    for key, events in recorder.events.items():
        kind, version = events[-1]
        if kind != "delete":
            out[key] = version
    return out


def check_order(recorder: Recorder) -> None:
    """Per object: resourceVersions only grow, an object is never added twice without a delete
    between, never updated or deleted unless present. (A delete found by a relist carries the
    last object known, so its resourceVersion may equal the one before.)"""
    assert not recorder.violations, recorder.violations
    for key, events in recorder.events.items():
        present = False
        last = 0
        for kind, version in events:
            assert version > last or (kind == "delete" and version == last), f"{key}: {events}"
            last = version
            if kind == "add":
                assert not present, f"{key} added twice: {events}"
                present = True
            else:
                assert present, f"{key} {kind} while absent: {events}"
                present = kind == "update"


def check_exact(recorder: Recorder, storm: Storm, initial: dict[str, list[tuple[str, Any]]] | None = None) -> None:
    """Each write seen exactly once, in order (deletes carry the delete's own resourceVersion,
    which the writer does not learn: only their place is compared)."""
    keys = set(storm.expected) | set(initial or {})
    for key in keys:
        want = list((initial or {}).get(key, [])) + storm.expected.get(key, [])
        got = recorder.events.get(key, [])
        assert [k for k, _ in got] == [k for k, _ in want], f"{key}:\nwrote {want}\nsaw   {got}"
        for (kind, seen), (_, wrote) in zip(got, want):
            if wrote is not None:
                assert seen == wrote, f"{key}:\nwrote {want}\nsaw   {got}"
    assert set(recorder.events) <= keys
