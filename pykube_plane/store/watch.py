"""Watchers of the store, in etcd's watchable_store shape: synced and unsynced groups.

- A *synced* watcher has seen every revision up to the current one; it sits in the compiled
  `WatchIndex`, so a write finds its watchers by key in O(log n + hits), never by scanning.
- An *unsynced* watcher is behind: it was created at an old start revision, or its queue filled up
  (it fell behind a burst of writes). It is out of the index and is fed from MVCC history by
  `catch_up()` in bounded steps until it reaches the current revision, then it rejoins the index.
- Writers never wait on watchers: `notify()` appends to bounded per-watcher queues, and a watcher
  whose queue is full simply becomes unsynced (it will re-read what it missed from history). If the
  history it needs has been compacted, it is cancelled with `compact_revision` set, like etcd.

Events of one revision always travel in one WatchResponse (a txn is delivered whole).
Event objects are shared between watchers; a watcher that did not ask for prev_kv gets a variant
without it, made once per event per notify.
"""
from __future__ import annotations

import asyncio
from typing import TYPE_CHECKING, Iterable

from .kv import (
    EVENT_DELETE, EVENT_PUT, FILTER_NODELETE, FILTER_NOPUT, CompactedError, Event,
    StoreClosedError, WatchResponse,
)
from .watch_stream import WatchStream

if TYPE_CHECKING:
    from pykube_plane._mvcc import MVCC, WatchIndex

# A watcher holding more than this many undelivered events stops receiving live events and is
# caught up from history instead (etcd's chanBufLen is 128 responses; events are what cost memory).
MAX_PENDING_EVENTS = 4096
# Revisions replayed per catch-up step, so one far-behind watcher cannot monopolise the loop.
CATCH_UP_REVISIONS = 1000


class StoreWatch(WatchStream):
    """One watch on the embedded store; an async iterator of WatchResponse (kv.Watch)."""

    def __init__(self, hub: "WatchHub", watch_id: int, key: bytes, range_end: bytes,
                 next_revision: int, prev_kv: bool, progress_notify: bool,
                 filters: Iterable[str]) -> None:
        super().__init__()
        self._hub = hub
        self.id = watch_id
        self.key = key
        self.range_end = range_end
        self.next_revision = next_revision   # the first revision not yet queued for this watcher
        self.prev_kv = prev_kv
        self.progress_notify = progress_notify
        self.no_put = FILTER_NOPUT in filters
        self.no_delete = FILTER_NODELETE in filters
        self.synced = False
        self.pending_events = 0

    async def cancel(self) -> None:
        self._hub.cancel(self)

    def request_progress(self) -> None:
        """etcd's WatchProgressRequest: a progress notification if (and only if) synced."""
        self._hub.progress(self)

    def push(self, resp: WatchResponse) -> None:
        self.pending_events += len(resp.events)
        super().push(resp)

    def _consumed(self, resp: WatchResponse) -> None:
        self.pending_events -= len(resp.events)
        if not self.synced and not self.closed:
            self._hub.wake_catch_up()   # room again: history can refill the queue

    def accepts(self, event: Event) -> bool:
        if event.type == EVENT_PUT:
            return not self.no_put
        return not self.no_delete


class WatchHub:
    def __init__(self, mvcc: "MVCC", index: "WatchIndex") -> None:
        self._mvcc = mvcc
        self._index = index
        self._watchers: dict[int, StoreWatch] = {}
        self._unsynced: set[StoreWatch] = set()
        self._next_id = 1
        self._catch_up_handle: asyncio.Handle | None = None
        self.closed = False

    def set_mvcc(self, mvcc: "MVCC") -> None:
        """After a snapshot restore swaps the MVCC: everyone re-reads from history."""
        self._mvcc = mvcc
        for w in list(self._watchers.values()):
            if w.synced:
                self._unsync(w)
        self.wake_catch_up()

    def __len__(self) -> int:
        return len(self._watchers)

    # --- lifecycle -------------------------------------------------------------------------------
    def create(self, key: bytes, range_end: bytes, start_revision: int, prev_kv: bool,
               progress_notify: bool, filters: Iterable[str]) -> StoreWatch:
        if self.closed:
            raise StoreClosedError()
        current = self._mvcc.revision
        start = start_revision if start_revision > 0 else current + 1
        w = StoreWatch(self, self._next_id, key, range_end, start, prev_kv, progress_notify, filters)
        self._next_id += 1
        self._watchers[w.id] = w
        if start > current:
            self._sync(w)
        else:
            self._unsynced.add(w)
            self.wake_catch_up()
        return w

    def cancel(self, w: StoreWatch, final: WatchResponse | None = None) -> None:
        if self._watchers.pop(w.id, None) is None:
            return
        if w.synced:
            self._index.remove(w.id)
            w.synced = False
        self._unsynced.discard(w)
        w.close(final)

    def close(self) -> None:
        self.closed = True
        for w in list(self._watchers.values()):
            self.cancel(w)
        if self._catch_up_handle is not None:
            self._catch_up_handle.cancel()

    def _sync(self, w: StoreWatch) -> None:
        self._unsynced.discard(w)
        self._index.add(w.id, w.key, w.range_end)
        w.synced = True

    def _unsync(self, w: StoreWatch) -> None:
        self._index.remove(w.id)
        w.synced = False
        self._unsynced.add(w)

    # --- live events -----------------------------------------------------------------------------
    def notify(self, events: list[Event]) -> None:
        """Deliver the events of freshly applied revisions to synced watchers. Never blocks."""
        if not events or not self._watchers:
            return
        revision = self._mvcc.revision
        index = self._index
        watchers = self._watchers
        batches: dict[int, list[Event]] = {}
        bare: dict[int, Event] = {}  # id(event) -> the same event without prev_kv
        for ev in events:
            ids = index.match(ev.kv.key)
            if not ids:
                continue
            for wid in ids:
                w = watchers[wid]
                if ev.kv.mod_revision < w.next_revision or not w.accepts(ev):
                    continue  # before a future start revision, or filtered out
                out = ev
                if not w.prev_kv and ev.prev_kv is not None:
                    out = bare.get(id(ev))
                    if out is None:
                        out = bare[id(ev)] = Event(ev.type, ev.kv, None)
                batch = batches.get(wid)
                if batch is None:
                    batches[wid] = [out]
                else:
                    batch.append(out)
        for wid, batch in batches.items():
            w = watchers[wid]
            if w.pending_events + len(batch) > MAX_PENDING_EVENTS:
                # Too slow: leave the live path; history will replay from the first missed revision.
                w.next_revision = batch[0].kv.mod_revision
                self._unsync(w)
                continue
            w.push(WatchResponse(wid, revision, batch))
        for w in self._watchers.values():
            if w.synced and w.next_revision <= revision:
                w.next_revision = revision + 1
        if self._unsynced:
            self.wake_catch_up()

    # --- catching up from history ----------------------------------------------------------------
    def wake_catch_up(self) -> None:
        if self._catch_up_handle is None and self._unsynced and not self.closed:
            loop = asyncio.get_running_loop()
            self._catch_up_handle = loop.call_soon(self._catch_up_step)

    def _catch_up_step(self) -> None:
        self._catch_up_handle = None
        current = self._mvcc.revision
        for w in list(self._unsynced):
            if w.pending_events >= MAX_PENDING_EVENTS:
                continue  # its consumer must drain first; __anext__ wakes us again
            end = min(current, w.next_revision + CATCH_UP_REVISIONS - 1)
            if w.next_revision <= end:
                try:
                    events = self._mvcc.events_since(w.key, w.range_end, w.next_revision, end)
                except CompactedError as exc:
                    compact_rev = exc.compact_revision or self._mvcc.compact_revision
                    self.cancel(w, WatchResponse(w.id, current, [], canceled=True,
                                                 compact_revision=compact_rev,
                                                 cancel_reason=CompactedError.message))
                    continue
                batch = [self._shape(w, ev) for ev in events if w.accepts(ev)]
                if batch:
                    w.push(WatchResponse(w.id, current, batch))
                w.next_revision = end + 1
            if w.next_revision > current:
                self._sync(w)
        if self._unsynced:
            # Yield to other work between steps; watchers waiting on their consumers don't spin us.
            if any(w.pending_events < MAX_PENDING_EVENTS for w in self._unsynced):
                loop = asyncio.get_running_loop()
                self._catch_up_handle = loop.call_soon(self._catch_up_step)

    @staticmethod
    def _shape(w: StoreWatch, ev: Event) -> Event:
        if not w.prev_kv and ev.prev_kv is not None:
            return Event(ev.type, ev.kv, None)
        return ev

    # --- progress ------------------------------------------------------------------------------
    def progress(self, w: StoreWatch) -> None:
        if w.synced and not w.closed:
            w.push(WatchResponse(w.id, self._mvcc.revision, []))

    def progress_all(self) -> None:
        """Periodic progress notification to synced watchers that asked for it."""
        revision = self._mvcc.revision
        for w in self._watchers.values():
            if w.synced and w.progress_notify and w.pending_events == 0:
                w.push(WatchResponse(w.id, revision, []))


__all__ = ["StoreWatch", "WatchHub", "MAX_PENDING_EVENTS", "EVENT_PUT", "EVENT_DELETE"]
