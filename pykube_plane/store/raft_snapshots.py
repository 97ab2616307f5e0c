"""A Raft member's snapshots: the files in DATA/member/snap, the WAL marks that point at them, and
what each new one lets go (the in-memory log below it, minus `catch_up_entries` kept for slow
followers, and the WAL segments before the previous snapshot).

The driver (store/raft_driver.py) decides when: it hands over the state machine's payload at an
applied index and the keeper writes it in the background, one at a time; a snapshot received from
the leader is persisted here before the driver rebuilds the state machine from it.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from pykube_plane._raft import ConfState, MemoryStorage, Snapshot, SnapshotOutOfDateError

from . import snapfile
from .kv import StoreError
from .wal import WAL, SnapshotMark

log = logging.getLogger("pykube_plane.store.raft")


class SnapshotKeeper:
    def __init__(self, member_id: int, snap_dir: Path, wal: WAL, storage: MemoryStorage,
                 catch_up_entries: int, index: int) -> None:
        self.member_id = member_id
        self.snap_dir = snap_dir
        self.wal = wal
        self.storage = storage
        self.catch_up_entries = catch_up_entries
        self.index = index              # of the newest snapshot taken or installed
        self.installed = 0              # snapshots received from a leader
        self._task: asyncio.Task | None = None

    async def data(self, index: int, term: int) -> bytes:
        """The payload of our snapshot at index/term, for a MsgSnap (read from its file)."""
        data = await asyncio.to_thread(snapfile.read_snapshot, self.snap_dir, index, term)
        if data is None:
            raise StoreError(f"etcdserver: snapshot at index {index} is no longer available")
        return data

    async def install(self, snap: Snapshot) -> None:
        """Persist a snapshot from the leader: its file, a WAL mark, then Raft's storage."""
        await asyncio.to_thread(snapfile.write_snapshot, self.snap_dir, snap.index, snap.term,
                                snap.data)
        await self.wal.save_snapshot_mark(SnapshotMark(snap.index, snap.term))
        self.storage.apply_snapshot(Snapshot(snap.index, snap.term, snap.conf_state, b""))
        self.index = snap.index
        self.installed += 1

    def due(self, applied_index: int, snapshot_count: int) -> bool:
        """Whether enough entries were applied since the last snapshot (and none is being written)."""
        return applied_index - self.index >= snapshot_count and self._task is None

    def start(self, index: int, term: int, conf_state: ConfState, payload: bytes) -> None:
        """Write the snapshot of `payload` at index/term in the background."""
        self._task = asyncio.get_running_loop().create_task(
            self._write(index, term, conf_state, payload), name="raft-snapshot")

    async def wait(self) -> None:
        """Let a snapshot being written finish (its failure is logged, not raised)."""
        if self._task is not None:
            await asyncio.gather(self._task, return_exceptions=True)

    async def _write(self, index: int, term: int, conf_state: ConfState, payload: bytes) -> None:
        try:
            await asyncio.to_thread(snapfile.write_snapshot, self.snap_dir, index, term, payload)
            if index <= self.index:
                return  # a snapshot from the leader overtook this one
            await self.wal.save_snapshot_mark(SnapshotMark(index, term))
            try:
                self.storage.create_snapshot(index, conf_state, b"")
            except SnapshotOutOfDateError:
                return
            compact_to = index - self.catch_up_entries
            if compact_to >= self.storage.first_index():
                self.storage.compact(compact_to)
            previous, self.index = self.index, index
            if previous:
                # Up to the previous snapshot only: if the newest file proves unreadable, the older
                # one plus the WAL still rebuild the state.
                await self.wal.release_before(min(previous, max(compact_to, 0) + 1))
            await asyncio.to_thread(snapfile.prune_snapshots, self.snap_dir, 2)
            log.info("member %x: snapshot at index %d", self.member_id, index)
        except asyncio.CancelledError:
            raise
        except Exception as exc:  # noqa: BLE001 - a failed snapshot is retried at the next one
            log.error("snapshot at index %d failed: %s", index, exc)
        finally:
            self._task = None
