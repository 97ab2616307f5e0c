"""Periodic compaction of the store's history, as kube-apiserver's compactor does it."""
from __future__ import annotations

import asyncio
import logging

from pykube_plane.store.kv import KV, CompactedError, StoreError

from .storage import Storage

log = logging.getLogger(__name__)


async def compact_periodically(kv: KV, storage: Storage, interval: float) -> None:
    """Every interval, compact the store's history up to the revision it had one interval ago, so
    old versions do not pile up but a watch or a paged list that started within the last interval
    can still resume. Runs until cancelled."""
    previous = 0
    while True:
        await asyncio.sleep(interval)
        try:
            current = await storage.current_revision()
            if previous:
                await kv.compact(previous)
                log.info("compacted the store at revision %d", previous)
            previous = current
        except CompactedError:
            previous = 0
        except StoreError as e:
            log.warning("compaction failed: %s", e.message)
