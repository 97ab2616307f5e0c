"""`Lookups`: what strategies may ask of the registry (strategies.StrategyContext) — object
copies, the Service allocator, PriorityClasses — and nothing else of it."""
from __future__ import annotations

from typing import Any, Callable

from .allocator import ServiceAllocator
from .resources import Resource, ResourceTable
from .storage import Storage, decode
from .watch_cache import WatchCache


class Lookups:
    def __init__(self, table: ResourceTable, cache: Callable[[Resource], WatchCache], storage: Storage,
                 allocator: ServiceAllocator, copy: Callable[[Any], Any]) -> None:
        self._priority_classes = table.lookup("scheduling.k8s.io", "v1", "priorityclasses")
        self._cache = cache
        self._storage = storage
        self.allocator = allocator
        self.copy = copy
        self._default_pc: tuple[int, dict | None] = (-1, None)

    async def lookup_priority_class(self, name: str) -> dict | None:
        pcs = self._priority_classes
        co = self._cache(pcs).get(pcs.key("", name))
        if co is None:
            kv = await self._storage.get(pcs.key("", name))
            return decode(kv) if kv is not None else None
        return co.obj()

    def default_priority_class(self) -> dict | None:
        """The globalDefault PriorityClass (the lowest valued, if several), worked out again only
        after a PriorityClass changes."""
        cache = self._cache(self._priority_classes)
        if self._default_pc[0] != cache.rv:
            best = None
            for co in cache.objects.values():
                obj = co.obj()
                if obj.get("globalDefault") and (best is None or obj.get("value", 0) < best.get("value", 0)):
                    best = obj
            self._default_pc = (cache.rv, best)
        return self._default_pc[1]
