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
import fcntl
import logging
import os
import re
import struct
import zlib
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from .durable_file import fsync_dir

__all__ = [
    "ENTRY_NORMAL", "ENTRY_CONF_CHANGE", "Entry", "HardState", "SnapshotMark", "WAL", "WALError", "WALCorruptError", "segment_name",
]

log = logging.getLogger("pykube_plane.store.wal")

# ---------------------------------------------------------------------------------------------
# Data


ENTRY_NORMAL = 0         # the encoded request (pykube_plane._raft.ENTRY_NORMAL)
ENTRY_CONF_CHANGE = 1    # an encoded ConfChange (pykube_plane._raft.ENTRY_CONF_CHANGE)


@dataclass(slots=True)
class Entry:
    """A Raft log entry; `data` is the encoded request, or a ConfChange when `type` says so.

    `save` also takes any object with these four attributes (the Raft core's own Entry)."""
    term: int
    index: int
    data: bytes
    type: int = ENTRY_NORMAL


@dataclass(slots=True)
class HardState:
    """Raft's persistent state: current term, vote in that term, highest known committed index."""
    term: int = 0
    vote: int = 0
    commit: int = 0

    def is_empty(self) -> bool:
        return self.term == 0 and self.vote == 0 and self.commit == 0


@dataclass(slots=True)
class SnapshotMark:
    """A snapshot covering every entry up to `index` (whose term is `term`) exists."""
    index: int
    term: int


class WALError(Exception):
    """A WAL operation failed; the message is etcd-style ("wal: ...")."""


class WALCorruptError(WALError):
    """The log is damaged somewhere other than its torn tail; it cannot be opened safely."""


# ---------------------------------------------------------------------------------------------
# Record format

RECORD_ENTRY = 1
RECORD_HARD_STATE = 2
RECORD_SNAPSHOT_MARK = 3
RECORD_TYPED_ENTRY = 4
_RECORD_NAMES = {RECORD_ENTRY: "entry", RECORD_HARD_STATE: "hard state",
                 RECORD_SNAPSHOT_MARK: "snapshot mark", RECORD_TYPED_ENTRY: "entry"}

_FRAME = struct.Struct("<II")            # length, crc
_TYPED_ENTRY_HEAD = struct.Struct("<BQQB")  # record type, term, index, entry type
_TYPED_HARD_STATE = struct.Struct("<BQQQ")  # type, term, vote, commit
_TYPED_MARK = struct.Struct("<BQQ")      # type, index, term
_U64_PAIR = struct.Struct("<QQ")
_U64_TRIPLE = struct.Struct("<QQQ")
_RECORD_HEADER = struct.Struct("<IIB")   # length, crc, type: what a reader sees first
HEADER_BYTES = _RECORD_HEADER.size       # 9
_ENTRY_HEAD_BYTES = _U64_PAIR.size + 1   # 17: term, index, entry type
_UNTYPED_ENTRY_HEAD_BYTES = _U64_PAIR.size  # 16: format 1 entries had no type
_MAX_U64 = (1 << 64) - 1
_MAX_PAYLOAD = (1 << 32) - 1
_TYPE_BYTE = {t: bytes([t]) for t in _RECORD_NAMES}
# Bytes that can be a record's type field; resynchronising only tries offsets where one sits.
_TYPE_BYTE_PATTERN = re.compile(b"[\x01-\x04]")

_SEGMENT_NAME = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16})\.wal$")
_TMP_SUFFIX = ".tmp"


def segment_name(seq: int, first_index: int) -> str:
    return f"{seq:016x}-{first_index:016x}.wal"


def _append_entry(out: bytearray, entry: Entry) -> None:
    typed_head = _TYPED_ENTRY_HEAD.pack(RECORD_TYPED_ENTRY, entry.term, entry.index, entry.type)
    data = entry.data
    crc = zlib.crc32(data, zlib.crc32(typed_head))
    out += _FRAME.pack(_ENTRY_HEAD_BYTES + len(data), crc)
    out += typed_head
    out += data


def _append_fixed(out: bytearray, typed_payload: bytes) -> None:
    out += _FRAME.pack(len(typed_payload) - 1, zlib.crc32(typed_payload))
    out += typed_payload


def _append_hard_state(out: bytearray, hs: HardState) -> None:
    _append_fixed(out, _TYPED_HARD_STATE.pack(RECORD_HARD_STATE, hs.term, hs.vote, hs.commit))


def _append_mark(out: bytearray, mark: SnapshotMark) -> None:
    _append_fixed(out, _TYPED_MARK.pack(RECORD_SNAPSHOT_MARK, mark.index, mark.term))


def _record_at(buf: bytes, view: memoryview, pos: int) -> tuple[int, int, int] | str:
    """The valid record starting at `pos` as (type, payload_start, payload_end), or why not."""
    if pos + HEADER_BYTES > len(buf):
        return "incomplete record header"
    length, crc, rtype = _RECORD_HEADER.unpack_from(buf, pos)
    start = pos + HEADER_BYTES
    end = start + length
    if end > len(buf):
        return f"record of {length} bytes runs past the end of the file"
    type_byte = _TYPE_BYTE.get(rtype)
    if type_byte is None:
        return f"unknown record type {rtype}"
    if zlib.crc32(view[start:end], zlib.crc32(type_byte)) != crc:
        return "crc mismatch"
    return rtype, start, end


def _next_valid_record(buf: bytes, view: memoryview, damaged_at: int) -> int | None:
    """Offset of the first valid record starting anywhere after `damaged_at`, if there is one."""
    for match in _TYPE_BYTE_PATTERN.finditer(buf, damaged_at + 1 + HEADER_BYTES - 1):
        pos = match.start() - (HEADER_BYTES - 1)
        if not isinstance(_record_at(buf, view, pos), str):
            return pos
    return None


# ---------------------------------------------------------------------------------------------
# Replay


class _Replay:
    """Folds records, in log order, into what `read_all` returns.

    Invariant: `entries` is contiguous (entries[i].index == entries[0].index + i). Entries at or
    below the snapshot mark are kept while their segments exist, so a caller whose newest
    snapshot file is unreadable can start from an older one (`read_all(after_index=...)`).
    """

    __slots__ = ("hard_state", "mark", "entries", "last_entry_index")

    def __init__(self) -> None:
        self.hard_state = HardState()
        self.mark: SnapshotMark | None = None
        self.entries: list[Entry] = []
        self.last_entry_index = 0  # of the last entry record read, in log order

    def entry(self, entry: Entry, where: str) -> None:
        self.last_entry_index = entry.index
        if self.mark is not None and entry.index <= self.mark.index:
            return  # saves refuse these; a snapshot already holds that position
        entries = self.entries
        if entries:
            first = entries[0].index
            last = entries[-1].index
            if entry.index <= last:
                del entries[max(entry.index - first, 0):]  # conflict: the new entry wins
            elif entry.index != last + 1:
                raise WALCorruptError(
                    f"wal: entry {entry.index} follows entry {last} {where}: entries are missing")
        entries.append(entry)

    def snapshot_mark(self, mark: SnapshotMark) -> None:
        self.mark = mark
        if self.entries and self.entries[-1].index < mark.index:
            self.entries.clear()  # the snapshot jumped past the log; it restarts after the mark

    def finish(self) -> tuple[HardState, list[Entry], SnapshotMark | None]:
        after = self.mark.index if self.mark is not None else 0
        if self.entries and self.entries[0].index > after + 1:
            raise WALCorruptError(
                f"wal: entries start at {self.entries[0].index} but the latest snapshot covers "
                f"only up to {after}: entries are missing")
        return self.hard_state, self.entries, self.mark


# ---------------------------------------------------------------------------------------------
# Files (everything below runs in the WAL's worker thread)


@dataclass(slots=True)
class _Segment:
    seq: int
    first_index: int
    path: Path
    max_index: int | None = None  # largest entry index held; None: holds no entry


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


# fdatasync skips the inode timestamps but still flushes the size a write changed.
_sync_data = getattr(os, "fdatasync", os.fsync)


def _write_all(fd: int, data: bytes | bytearray) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class _SegmentFiles:
    """The segment files, the tail's descriptor and the directory lock. Worker thread only."""

    def __init__(self, directory: Path, dir_fd: int, segments: list[_Segment], tail_fd: int,
                 tail_bytes: int, replay: _Replay, segment_bytes: int, fsync: bool,
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
            _sync_data(self.tail_fd)
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
            _sync_data(self.tail_fd)
            self.stats["fsyncs"] += 1
        os.close(self.tail_fd)
        self.tail_fd = -1
        seq = self.segments[-1].seq + 1
        first_index = self.last_entry_index + 1
        path = self.directory / segment_name(seq, first_index)
        header = bytearray()
        records = 0
        if not self.hard_state.is_empty():
            _append_hard_state(header, self.hard_state)
            records += 1
        if self.mark is not None:
            _append_mark(header, self.mark)
            records += 1
        # Built under a temporary name so a crash never leaves a segment with half a header.
        self.tail_fd = self._create_file(path, header)
        self.segments.append(_Segment(seq, first_index, path))
        self.tail_bytes = len(header)
        self.stats["records_written"] += records
        self.stats["bytes_written"] += len(header)
        self.stats["segments_cut"] += 1
        log.info("wal: created segment %s", path)

    def _create_file(self, path: Path, content: bytes | bytearray) -> int:
        tmp = path.with_name(path.name + _TMP_SUFFIX)
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
                    _sync_data(self.tail_fd)
                    self.stats["fsyncs"] += 1
                os.close(self.tail_fd)
                self.tail_fd = -1
        finally:
            os.close(self.dir_fd)  # also drops the directory lock


# ---------------------------------------------------------------------------------------------
# Recovery (worker thread)


def _list_segments(directory: Path) -> list[_Segment]:
    segments = []
    for path in directory.iterdir():
        name = path.name
        if name.endswith(".wal" + _TMP_SUFFIX):
            path.unlink()  # a segment whose creation never finished; nothing in it was acknowledged
            continue
        match = _SEGMENT_NAME.match(name)
        if match:
            segments.append(_Segment(int(match[1], 16), int(match[2], 16), path))
        elif name.endswith(".wal"):
            raise WALError(f"wal: unexpected file name {path}")
    segments.sort(key=lambda s: s.seq)
    for before, after in zip(segments, segments[1:]):
        if after.seq != before.seq + 1:
            raise WALCorruptError(
                f"wal: segment sequence jumps from {before.path.name} to {after.path.name}: "
                "segments are missing")
    return segments


def _replay_segment(segment: _Segment, is_last: bool, replay: _Replay, fsync: bool) -> int:
    """Apply one segment's records; returns the offset where its valid records end."""
    buf = segment.path.read_bytes()
    view = memoryview(buf)
    where = f"in {segment.path}"
    pos = 0
    while pos < len(buf):
        found = _record_at(buf, view, pos)
        if isinstance(found, str):
            return _handle_damage(segment, buf, view, pos, found, is_last, fsync)
        rtype, start, end = found
        length = end - start
        if rtype == RECORD_TYPED_ENTRY or rtype == RECORD_ENTRY:
            head = _ENTRY_HEAD_BYTES if rtype == RECORD_TYPED_ENTRY else _UNTYPED_ENTRY_HEAD_BYTES
            if length < head:
                raise _malformed(segment, pos, rtype)
            term, index = _U64_PAIR.unpack_from(buf, start)
            etype = buf[start + 16] if rtype == RECORD_TYPED_ENTRY else ENTRY_NORMAL
            replay.entry(Entry(term, index, bytes(view[start + head:end]), etype), where)
            segment.max_index = index if segment.max_index is None else max(segment.max_index,
                                                                            index)
        elif rtype == RECORD_HARD_STATE:
            if length != _U64_TRIPLE.size:
                raise _malformed(segment, pos, rtype)
            replay.hard_state = HardState(*_U64_TRIPLE.unpack_from(buf, start))
        else:
            if length != _U64_PAIR.size:
                raise _malformed(segment, pos, rtype)
            replay.snapshot_mark(SnapshotMark(*_U64_PAIR.unpack_from(buf, start)))
        pos = end
    return pos


def _malformed(segment: _Segment, pos: int, rtype: int) -> WALCorruptError:
    return WALCorruptError(
        f"wal: malformed {_RECORD_NAMES[rtype]} record in {segment.path} at offset {pos}")


def _handle_damage(segment: _Segment, buf: bytes, view: memoryview, pos: int, reason: str,
                   is_last: bool, fsync: bool) -> int:
    if not is_last:
        raise WALCorruptError(
            f"wal: corrupt record in {segment.path} at offset {pos} ({reason}); the segment was "
            "sealed before the next one was created, so this is not a torn write")
    valid_after = _next_valid_record(buf, view, pos)
    if valid_after is not None:
        raise WALCorruptError(
            f"wal: corrupt record in {segment.path} at offset {pos} ({reason}), followed by a "
            f"valid record at offset {valid_after}: the log is damaged before its tail")
    dropped = len(buf) - pos
    fd = os.open(segment.path, os.O_WRONLY)
    try:
        os.ftruncate(fd, pos)
        if fsync:
            _sync_data(fd)
    finally:
        os.close(fd)
    log.warning("wal: torn tail in %s at offset %d (%s): truncated, %d bytes dropped",
                segment.path, pos, reason, dropped)
    return pos


def _lock_directory(directory: Path) -> int:
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(dir_fd)
        raise WALError(f"wal: {directory} is in use by another WAL (directory is locked)") from None
    return dir_fd


def _recover(directory: Path, segment_bytes: int, fsync: bool, stats: dict,
             ) -> tuple[_SegmentFiles, tuple[HardState, list[Entry], SnapshotMark | None]]:
    created = not directory.exists()
    directory.mkdir(parents=True, exist_ok=True)
    if created and fsync:
        fsync_dir(directory.parent)
    dir_fd = _lock_directory(directory)
    try:
        segments = _list_segments(directory)
        replay = _Replay()
        tail_bytes = 0
        for i, segment in enumerate(segments):
            tail_bytes = _replay_segment(segment, i == len(segments) - 1, replay, fsync)
        recovered = replay.finish()
        files = _SegmentFiles(directory, dir_fd, segments, -1, tail_bytes, replay,
                              segment_bytes, fsync, stats)
        if segments:
            files.tail_fd = os.open(segments[-1].path, os.O_WRONLY | os.O_APPEND)
        else:
            first = _Segment(0, 0, directory / segment_name(0, 0))
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
                _append_entry(batch.data, entry)
            last = entries[-1].index
            self._last_index = last
            batch.records += len(entries)
            batch.last_index = last
            batch.max_index = last if batch.max_index is None else max(batch.max_index, last)
        if hard_state is not None:
            _check_u64("hard state", hard_state.term, hard_state.vote, hard_state.commit)
            _append_hard_state(batch.data, hard_state)
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
        _append_mark(batch.data, mark)
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
            if len(entry.data) > _MAX_PAYLOAD - _ENTRY_HEAD_BYTES:
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
        if not 0 <= value <= _MAX_U64:
            raise ValueError(f"wal: {what} field {value} does not fit in an unsigned 64-bit integer")
