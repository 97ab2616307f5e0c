"""In-process store clusters for the driver tests: several `Store`s in one event loop, each with
its own data dir and a real peer transport on a 127.0.0.1 port. Ticks are short (20 ms) so
elections take a fraction of a second; nothing else differs from a member process."""
from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Callable

from pykube_plane.store.membership import ClusterConfig
from pykube_plane.store.store import Store
from tests.conftest import free_port

TICK = 0.02
WAIT = 15.0


def peer_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


class LocalCluster:
    def __init__(self, base: Path, size: int, **store_options) -> None:
        self.base = base
        self.options = store_options
        self.ports = {f"m{i}": free_port() for i in range(size)}
        self.stores: dict[str, Store] = {}

    def config(self, name: str, state: str = "new") -> ClusterConfig:
        initial = {n: [peer_url(p)] for n, p in self.ports.items()}
        url = peer_url(self.ports[name])
        return ClusterConfig(name, initial, [url], [url], state=state, tick_interval=TICK)

    async def start(self) -> "LocalCluster":
        await asyncio.gather(*(self.open(n) for n in self.ports))
        return self

    async def open(self, name: str, state: str = "new") -> Store:
        store = await Store.open(self.base / name, cluster=self.config(name, state), **self.options)
        self.stores[name] = store
        return store

    async def add_member(self, name: str, learner: bool = False) -> Store:
        """MemberAdd through the current leader, then start the new member joining."""
        self.ports[name] = free_port()
        leader = await self.leader()
        await leader.member_add([peer_url(self.ports[name])], is_learner=learner)
        return await self.open(name, state="existing")

    async def close(self, name: str) -> None:
        store = self.stores.pop(name)
        await store.close()

    async def close_all(self) -> None:
        await asyncio.gather(*(s.close() for s in self.stores.values()), return_exceptions=True)
        self.stores.clear()

    def leaders(self) -> list[Store]:
        return [s for s in self.stores.values() if s.is_leader]

    async def leader(self) -> Store:
        await until(lambda: len(self.leaders()) == 1
                    and all(s.leader_id == self.leaders()[0].member_id
                            for s in self.stores.values()))
        return self.leaders()[0]

    async def followers(self) -> list[Store]:
        leader = await self.leader()
        return [s for s in self.stores.values() if s is not leader]

    async def converged(self) -> None:
        """Every member has applied the same revision and holds the same data."""
        await until(lambda: len({s.revision for s in self.stores.values()}) == 1
                    and len({s.hash_kv()[0] for s in self.stores.values()}) == 1)


async def until(condition: Callable[[], bool], timeout: float = WAIT) -> None:
    """Poll a condition (bounded): the tests never assert on timing, only on eventually."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not condition():
        if loop.time() > deadline:
            raise AssertionError("condition not reached in time")
        await asyncio.sleep(0.01)
