"""`SharedInformerFactory`: one informer (one watch) per resource, however many controllers ask.

    factory = SharedInformerFactory(client, resync_period=30)
    pods = factory.informer("pods")              # the scheduler asks...
    same = factory.informer("Pod")               # ...a controller asks: the same informer
    factory.start()
    await factory.wait_for_sync()
    ...
    await factory.shutdown()

Informers asked for after `start()` are started by the next `start()` call, as in client-go.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Any, Mapping

from .informer import SharedIndexInformer
from .indexer import IndexFunc
from .resources import ResourceSpec

if TYPE_CHECKING:
    from .api import APIClient


class SharedInformerFactory:
    def __init__(self, client: "APIClient", *, namespace: str | None = None, resync_period: float = 0.0,
                 label_selector: str = "", field_selector: str = "", page_size: int = 500) -> None:
        self.client = client
        self.namespace = namespace
        self.resync_period = resync_period
        self.label_selector = label_selector
        self.field_selector = field_selector
        self.page_size = page_size
        self._informers: dict[tuple, SharedIndexInformer] = {}

    def _key(self, resource: ResourceSpec, namespace: str | None, label_selector: str, field_selector: str) -> tuple:
        # "pods", "Pod" and "po" are one resource: share by what they resolve to when known.
        resolved = self.client.resources.lookup(resource)
        return (resolved if resolved is not None else str(resource), namespace, label_selector, field_selector)

    def informer(self, resource: ResourceSpec, *, indexers: Mapping[str, IndexFunc] | None = None,
                 namespace: Any = ..., label_selector: str | None = None,
                 field_selector: str | None = None) -> SharedIndexInformer:
        """The shared informer of `resource` (created on first request). Indexers asked for by
        later callers are added to the same informer."""
        ns = self.namespace if namespace is ... else namespace
        labels = self.label_selector if label_selector is None else label_selector
        fields = self.field_selector if field_selector is None else field_selector
        key = self._key(resource, ns, labels, fields)
        informer = self._informers.get(key)
        if informer is None:
            informer = SharedIndexInformer(self.client, key[0], namespace=ns, label_selector=labels,
                                           field_selector=fields, resync_period=self.resync_period,
                                           indexers=indexers, page_size=self.page_size)
            self._informers[key] = informer
        elif indexers:
            informer.add_indexers({k: v for k, v in indexers.items() if k not in informer.indexer.index_names()})
        return informer

    @property
    def informers(self) -> list[SharedIndexInformer]:
        return list(self._informers.values())

    def start(self) -> None:
        for informer in self._informers.values():
            informer.start()

    async def wait_for_sync(self, timeout: float | None = None) -> dict[str, bool]:
        """{informer name: synced} for every started informer, once all synced or after timeout."""
        started = [i for i in self._informers.values() if i.started]
        results = await asyncio.gather(*(i.wait_for_sync(timeout) for i in started))
        return {i.name: ok for i, ok in zip(started, results)}

    async def shutdown(self) -> None:
        await asyncio.gather(*(i.stop() for i in self._informers.values()))

    async def __aenter__(self) -> "SharedInformerFactory":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.shutdown()
