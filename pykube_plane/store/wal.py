"""The write-ahead log: Raft entries, hard states and snapshot marks, durable before they count.

Shaped after etcd's `server/storage/wal`: a directory of segment files named
``{seq:016x}-{first_index:016x}.wal``; ``seq`` counts segments without gaps and ``first_index`` is
the entry index the log expected next when the segment was cut (a hint for people; conflicting
rewrites can later put smaller indexes in it, so the code never trusts it). A segment is cut when
the tail has grown past ``segment_bytes`` (a segment may overshoot by one batch).

Record format, little-endian, no padding::

    [length u32][crc u32][type u8][payload: length bytes]
    crc = crc32(type byte + payload)

    ENTRY          payload = term u64, index u64, data              (format 1, read only)
    HARD_STATE     payload = term u64, vote u64, commit u64
    SNAPSHOT_MARK  payload = index u64, term u64
    TYPED_ENTRY    payload = term u64, index u64, entry type u8, data

Entries are written as TYPED_ENTRY, so a Raft configuration-change entry (type 1) is still one
after a replay. An ENTRY record, from a log written before entries had a type, reads back as a
normal entry (type 0): such logs held no configuration changes.

The CRC is per record, not chained as etcd chains it. etcd chains so that stale records left in
a preallocated or recycled file cannot pass as current ones; this WAL never preallocates or
recycles (a file ends exactly where its last record ends), so that threat does not exist here.
A per-record CRC buys something chaining cannot: a record can be judged on its own, so recovery
can look *past* a damaged record and tell a torn tail (nothing valid after it) from corruption
in the middle of the log (valid records after it).

The on-disk format and its types live in store/wal_format.py, recovery in store/wal_recovery.py;
this module writes (the segment files) and is the asyncio face.

Recovery rules (`WAL.open`):

- every record of every segment is read and its CRC verified;
- damage in the last segment with no valid record anywhere after it is a torn tail (a crash
  while writing): the file is truncated there and one WARNING names file, offset and bytes
  dropped;
- any other damage is `WALCorruptError`: earlier segments were fsynced before the next one was
  created, and a bad record followed by a good one is not what a crash leaves behind.
  (Resynchronising looks at every offset after the damage, so a length field that was itself hit
  cannot hide the records behind it.)

Replay (`WAL.read_all`): the last hard state; the last snapshot mark; entries after that mark
(or after an older snapshot's index, on request), where an entry whose index was already seen
replaces that entry and everything after it (Raft truncating a conflicting suffix). Each new segment starts by repeating the current hard state
and snapshot mark, so `release_before` can delete whole old segments without losing either.

Durability and group commit: `save` encodes its records at once on the event loop, into a shared
buffer, in call order. A single flusher task hands the whole buffer to the WAL's one worker
thread, which writes it and fsyncs once; everyone whose records were in that buffer is released
together. While that flush runs, new records pile up for the next one.
"""
from __future__ import annotations

import asyncio
import logging
import os
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .durable_file import fsync_dir, sync_data
from .wal_format import (
    ENTRY_CONF_CHANGE, ENTRY_HEAD_BYTES, ENTRY_NORMAL, MAX_PAYLOAD, MAX_U64, TMP_SUFFIX, Entry,
    HardState, Segment, SnapshotMark, WALCorruptError, WALError, append_entry, append_hard_state,
    append_mark, segment_name,
)
from .wal_recovery import Replay, list_segments, lock_directory, replay_segment

__all__ = [
    "ENTRY_NORMAL", "ENTRY_CONF_CHANGE", "Entry", "HardState", "SnapshotMark", "WAL", "WALError",
    "WALCorruptError", "segment_name",
]

log = logging.getLogger("pykube_plane.store.wal")

# ---------------------------------------------------------------------------------------------
# Files (everything below runs in the WAL's worker thread)


@dataclass(slots=True)
class _Batch:
    """Records handed from the event loop to the writer in one piece, and their effect."""
    data: bytearray = field(default_factory=bytearray)
    records: int = 0
    sync: bool = False
    max_index: int | None = None
    last_index: int | None = None
    hard_state: HardState | None = None
    mark: SnapshotMark | None = None
    waiters: list[asyncio.Future] = field(default_factory=list)




def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _SegmentFiles:
    """The segment files, the tail's descriptor and the directory lock. Worker thread only."""

    def __init__(self, directory: Path, dir_fd: int, segments: list[Segment], tail_fd: int,
                 tail_bytes: int, replay: Replay, segment_bytes: int, fsync: bool,
                 stats: dict) -> None:
        self.directory = directory
        self.dir_fd = dir_fd
        self.segments = segments
        self.tail_fd = tail_fd
        self.tail_bytes = tail_bytes
        self.segment_bytes = segment_bytes
        self.fsync = fsync
        self.stats = stats
        # State as of the last record written: what a new segment's header repeats.
        self.hard_state = replay.hard_state
        self.mark = replay.mark
        self.last_entry_index = replay.last_entry_index

    # -- writing

    def write_batch(self, batch: _Batch) -> None:
        if self.tail_bytes >= self.segment_bytes and batch.data:
            self._cut()
        if batch.data:
            _write_all(self.tail_fd, batch.data)
            self.tail_bytes += len(batch.data)
            self.stats["records_written"] += batch.records
            self.stats["bytes_written"] += len(batch.data)
        if batch.sync:
            sync_data(self.tail_fd)
            self.stats["fsyncs"] += 1
        self.stats["flushes"] += 1
        tail = self.segments[-1]
        if batch.max_index is not None:
            tail.max_index = batch.max_index if tail.max_index is None else max(
                tail.max_index, batch.max_index)
        if batch.last_index is not None:
            self.last_entry_index = batch.last_index
        if batch.hard_state is not None:
            self.hard_state = batch.hard_state
        if batch.mark is not None:
            self.mark = batch.mark

    def _cut(self) -> None:
        """Seal the tail and start the next segment, which opens with the current state."""
        if self.fsync:
            sync_data(self.tail_fd)
            self.stats["fsyncs"] += 1
        os.close(self.tail_fd)
        self.tail_fd = -1
        seq = self.segments[-1].seq + 1
        first_index = self.last_entry_index + 1
        path = self.directory / segment_name(seq, first_index)
        header = bytearray()
        records = 0
        if not self.hard_state.is_empty():
            append_hard_state(header, self.hard_state)
            records += 1
        if self.mark is not None:
            append_mark(header, self.mark)
            records += 1
        # Built under a temporary name so a crash never leaves a segment with half a header.
        self.tail_fd = self._create_file(path, header)
        self.segments.append(Segment(seq, first_index, path))
        self.tail_bytes = len(header)
        self.stats["records_written"] += records
        self.stats["bytes_written"] += len(header)
        self.stats["segments_cut"] += 1
        log.info("wal: created segment %s", path)

    def _create_file(self, path: Path, content: bytes | bytearray) -> int:
        tmp = path.with_name(path.name + TMP_SUFFIX)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_APPEND, 0o600)
        try:
            _write_all(fd, content)
            if self.fsync:
                os.fsync(fd)
                self.stats["fsyncs"] += 1
            os.rename(tmp, path)
            self._sync_dir()
        except BaseException:
            os.close(fd)
            raise
        return fd

    def _sync_dir(self) -> None:
        if self.fsync:
            os.fsync(self.dir_fd)

    # -- releasing

    def release_before(self, index: int) -> int:
        """Delete the oldest segments while each holds only entries below `index`; never the tail."""
        released = 0
        # Oldest first, so a crash part-way leaves a gapless run of segments.
        while len(self.segments) > 1:
            oldest = self.segments[0]
            if oldest.max_index is not None and oldest.max_index >= index:
                break
            oldest.path.unlink()
            self.segments.pop(0)
            released += 1
        if released:
            self._sync_dir()
            self.stats["segments_released"] += released
        return released

    def close(self) -> None:
        try:
            if self.tail_fd >= 0:
                if self.fsync:
                    sync_data(self.tail_fd)
                    self.stats["fsyncs"] += 1
                os.close(self.tail_fd)
                self.tail_fd = -1
        finally:
            os.close(self.dir_fd)  # also drops the directory lock


# ---------------------------------------------------------------------------------------------
# Recovery (worker thread): store/wal_recovery.py reads the segments back


def _recover(directory: Path, segment_bytes: int, fsync: bool, stats: dict,
             ) -> tuple[_SegmentFiles, tuple[HardState, list[Entry], SnapshotMark | None]]:
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    if created and fsync:
        fsync_dir(directory.parent)
    dir_fd = lock_directory(directory)
    try:
        segments = list_segments(directory)
        replay = Replay()
        tail_bytes = 0
        for i, segment in enumerate(segments):
            tail_bytes = replay_segment(segment, i == len(segments) - 1, replay, fsync)
        recovered = replay.finish()
        files = _SegmentFiles(directory, dir_fd, segments, -1, tail_bytes, replay,
                              segment_bytes, fsync, stats)
        if segments:
            files.tail_fd = os.open(segments[-1].path, os.O_WRONLY | os.O_APPEND)
        else:
            first = Segment(0, 0, directory / segment_name(0, 0))
            files.tail_fd = files._create_file(first.path, b"")
            segments.append(first)
        return files, recovered
    except BaseException:
        os.close(dir_fd)
        raise


# ---------------------------------------------------------------------------------------------
# The asyncio face


class WAL:
    """A write-ahead log in one directory; see the module docstring for format and rules.

    Entries must be saved in Raft order: each save's entries are consecutive, the first is at
    most one past the last saved entry (lower means a conflicting suffix is replaced), and all
    are above the latest snapshot mark.
    """

    def __init__(self, files: _SegmentFiles, executor: ThreadPoolExecutor,
                 recovered: tuple[HardState, list[Entry], SnapshotMark | None],
                 fsync: bool, stats: dict) -> None:
        self._files = files
        self._executor = executor
        self._recovered = recovered
        self._fsync = fsync
        self.stats = stats
        self._loop = asyncio.get_running_loop()
        hard_state, entries, mark = recovered
        self._mark_index = mark.index if mark is not None else 0
        self._last_index = entries[-1].index if entries else 0
        self._pending = _Batch()
        self._flusher: asyncio.Task | None = None
        self._error: WALError | None = None
        self._closed = False

    @classmethod
    async def open(cls, dir: str | Path, *, segment_bytes: int = 64 << 20,
                   fsync: bool = True) -> "WAL":
        """Create the log in `dir`, or recover the one there (see the module docstring)."""
        if segment_bytes <= 0:
            raise ValueError("wal: segment_bytes must be positive")
        stats = {"records_written": 0, "bytes_written": 0, "fsyncs": 0, "flushes": 0,
                 "segments_cut": 0, "segments_released": 0}
        executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="wal")
        loop = asyncio.get_running_loop()
        try:
            files, recovered = await loop.run_in_executor(
                executor, _recover, Path(dir), segment_bytes, fsync, stats)
        except OSError as exc:
            executor.shutdown(wait=False)
            raise WALError(f"wal: cannot open {dir}: {exc}") from exc
        except BaseException:
            executor.shutdown(wait=False)
            raise
        return cls(files, executor, recovered, fsync, stats)

    def read_all(self, after_index: int | None = None,
                 ) -> tuple[HardState, list[Entry], SnapshotMark | None]:
        """What recovery found: last hard state, entries after the last snapshot mark, that mark.

        `after_index` asks for the entries after another position instead: the index of the
        snapshot the caller actually loaded, when that is older than the last mark (its newest
        snapshot file was unreadable). WALError if segments holding them were released.
        """
        hard_state, entries, mark = self._recovered
        mark_index = mark.index if mark is not None else 0
        after = mark_index if after_index is None else after_index
        first = entries[0].index if entries else mark_index + 1
        if after + 1 < first:
            raise WALError(f"wal: entries after index {after} are no longer in the log (it "
                           f"holds entries from {first}); start from a newer snapshot")
        return hard_state, entries[max(after + 1 - first, 0):], mark

    async def save(self, entries: Sequence[Entry], hard_state: HardState | None = None,
                   must_sync: bool = True) -> None:
        """Append entries (and a hard state); once this returns with must_sync, they are durable."""
        self._check_usable()
        if not entries and hard_state is None:
            return
        batch = self._pending
        if entries:
            self._check_entries(entries)
            for entry in entries:
                append_entry(batch.data, entry)
            last = entries[-1].index
            self._last_index = last
            batch.records += len(entries)
            batch.last_index = last
            batch.max_index = last if batch.max_index is None else max(batch.max_index, last)
        if hard_state is not None:
            _check_u64("hard state", hard_state.term, hard_state.vote, hard_state.commit)
            append_hard_state(batch.data, hard_state)
            batch.records += 1
            batch.hard_state = HardState(hard_state.term, hard_state.vote, hard_state.commit)
        await self._commit(must_sync)

    async def save_snapshot_mark(self, mark: SnapshotMark) -> None:
        """Record, durably, that a snapshot at mark.index / mark.term exists."""
        self._check_usable()
        _check_u64("snapshot mark", mark.index, mark.term)
        if mark.index < self._mark_index:
            raise ValueError(f"wal: snapshot mark {mark.index} is older than the saved mark "
                             f"{self._mark_index}")
        batch = self._pending
        append_mark(batch.data, mark)
        batch.records += 1
        batch.mark = SnapshotMark(mark.index, mark.term)
        self._mark_index = mark.index
        await self._commit(True)

    async def release_before(self, index: int) -> None:
        """Delete whole segments holding only entries below `index` (they are in a snapshot)."""
        self._check_usable()
        if index > self._mark_index + 1:
            raise ValueError(f"wal: cannot release entries before {index}: the latest snapshot "
                             f"mark only covers up to {self._mark_index}")
        await self._commit(True)  # the mark that justifies this must be durable first
        try:
            await self._loop.run_in_executor(self._executor, self._files.release_before, index)
        except OSError as exc:
            raise WALError(f"wal: cannot release segments: {exc}") from exc

    async def close(self) -> None:
        """Flush and sync whatever is pending, then close the files and drop the lock."""
        if self._closed:
            return
        self._closed = True  # refuse new saves while the last flush runs
        try:
            if self._error is None:
                await self._commit(True)
        finally:
            await self._close_files()

    async def _close_files(self) -> None:
        try:
            await self._loop.run_in_executor(self._executor, self._files.close)
        except OSError as exc:
            raise WALError(f"wal: close failed: {exc}") from exc
        finally:
            self._executor.shutdown(wait=False)

    # -- internals

    def _check_usable(self) -> None:
        if self._error is not None:
            raise self._error
        if self._closed:
            raise WALError("wal: closed")

    def _check_entries(self, entries: Sequence[Entry]) -> None:
        previous = max(self._last_index, self._mark_index)
        first = entries[0].index
        if first <= self._mark_index:
            raise ValueError(f"wal: entry {first} is already covered by snapshot mark "
                             f"{self._mark_index}")
        if first > previous + 1:
            raise ValueError(f"wal: entry {first} would leave a gap after entry {previous}")
        expected = first
        for entry in entries:
            if entry.index != expected:
                raise ValueError(f"wal: entries must be consecutive: got {entry.index}, "
                                 f"expected {expected}")
            _check_u64("entry", entry.term, entry.index)
            if not 0 <= entry.type <= 255:
                raise ValueError(f"wal: entry {entry.index} type {entry.type} does not fit in a byte")
            if not isinstance(entry.data, (bytes, bytearray)):
                raise TypeError(f"wal: entry {entry.index} data must be bytes, "
                                f"not {type(entry.data).__name__}")
            if len(entry.data) > MAX_PAYLOAD - ENTRY_HEAD_BYTES:
                raise ValueError(f"wal: entry {entry.index} is too large ({len(entry.data)} bytes)")
            expected += 1

    async def _commit(self, must_sync: bool) -> None:
        """Have the pending records written; with must_sync, wait until they are durable."""
        waiter = self._loop.create_future() if must_sync else None
        if waiter is not None:
            self._pending.waiters.append(waiter)
        if self._flusher is None:
            self._flusher = self._loop.create_task(self._flush_pending())
        if waiter is not None:
            await waiter

    async def _flush_pending(self) -> None:
        try:
            while self._pending.data or self._pending.waiters:
                batch = self._pending
                self._pending = _Batch()
                batch.sync = self._fsync and bool(batch.waiters)
                try:
                    await self._loop.run_in_executor(self._executor, self._files.write_batch, batch)
                except Exception as exc:  # noqa: BLE001 - every failure must reach the waiters
                    self._fail(exc, batch)
                    return
                for waiter in batch.waiters:
                    if not waiter.done():
                        waiter.set_result(None)
        finally:
            self._flusher = None

    def _fail(self, exc: Exception, batch: _Batch) -> None:
        # After a failed write or fsync the file's state is unknown; no later write may be
        # acknowledged on top of it (the fsync-error lesson), so the WAL stops for good.
        self._error = WALError(f"wal: write failed, log is unusable until reopened: {exc}")
        pending, self._pending = self._pending, _Batch()
        for waiter in batch.waiters + pending.waiters:
            if not waiter.done():
                waiter.set_exception(self._error)


def _check_u64(what: str, *values: int) -> None:
    for value in values:
        if not 0 <= value <= MAX_U64:
            raise ValueError(f"wal: {what} field {value} does not fit in an unsigned 64-bit integer")
