"""WAL recovery: reading every segment back, verifying each record, telling a torn tail (truncated)
from damage inside the log (WALCorruptError), and folding the records into what `WAL.read_all`
returns. Runs in the WAL's worker thread; store/wal.py states the rules."""
from __future__ import annotations

import fcntl
import logging
import os
from pathlib import Path

from .durable_file import sync_data
from .wal_format import (
    ENTRY_HEAD_BYTES, ENTRY_NORMAL, RECORD_ENTRY, RECORD_HARD_STATE, RECORD_NAMES,
    RECORD_TYPED_ENTRY, SEGMENT_NAME, TMP_SUFFIX, U64_PAIR, U64_TRIPLE, UNTYPED_ENTRY_HEAD_BYTES,
    Entry, HardState, Segment, SnapshotMark, WALCorruptError, WALError, next_valid_record,
    record_at,
)

log = logging.getLogger("pykube_plane.store.wal")


class Replay:
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



def list_segments(directory: Path) -> list[Segment]:
    segments = []
    for path in directory.iterdir():
        name = path.name
        if name.endswith(".wal" + TMP_SUFFIX):
            path.unlink()  # a segment whose creation never finished; nothing in it was acknowledged
            continue
        match = SEGMENT_NAME.match(name)
        if match:
            segments.append(Segment(int(match[1], 16), int(match[2], 16), path))
        elif name.endswith(".wal"):
            raise WALError(f"wal: unexpected file name {path}")
    segments.sort(key=lambda s: s.seq)
    for before, after in zip(segments, segments[1:]):
        if after.seq != before.seq + 1:
            raise WALCorruptError(
                f"wal: segment sequence jumps from {before.path.name} to {after.path.name}: "
                "segments are missing")
    return segments


def replay_segment(segment: Segment, is_last: bool, replay: Replay, fsync: bool) -> int:
    """Apply one segment's records; returns the offset where its valid records end."""
    buf = segment.path.read_bytes()
    view = memoryview(buf)
    where = f"in {segment.path}"
    pos = 0
    while pos < len(buf):
        found = record_at(buf, view, pos)
        if isinstance(found, str):
            return handle_damage(segment, buf, view, pos, found, is_last, fsync)
        rtype, start, end = found
        length = end - start
        if rtype == RECORD_TYPED_ENTRY or rtype == RECORD_ENTRY:
            head = ENTRY_HEAD_BYTES if rtype == RECORD_TYPED_ENTRY else UNTYPED_ENTRY_HEAD_BYTES
            if length < head:
                raise malformed(segment, pos, rtype)
            term, index = U64_PAIR.unpack_from(buf, start)
            etype = buf[start + 16] if rtype == RECORD_TYPED_ENTRY else ENTRY_NORMAL
            replay.entry(Entry(term, index, bytes(view[start + head:end]), etype), where)
            segment.max_index = index if segment.max_index is None else max(segment.max_index,
                                                                            index)
        elif rtype == RECORD_HARD_STATE:
            if length != U64_TRIPLE.size:
                raise malformed(segment, pos, rtype)
            replay.hard_state = HardState(*U64_TRIPLE.unpack_from(buf, start))
        else:
            if length != U64_PAIR.size:
                raise malformed(segment, pos, rtype)
            replay.snapshot_mark(SnapshotMark(*U64_PAIR.unpack_from(buf, start)))
        pos = end
    return pos


def malformed(segment: Segment, pos: int, rtype: int) -> WALCorruptError:
    return WALCorruptError(
        f"wal: malformed {RECORD_NAMES[rtype]} record in {segment.path} at offset {pos}")


def handle_damage(segment: Segment, buf: bytes, view: memoryview, pos: int, reason: str,
                   is_last: bool, fsync: bool) -> int:
    if not is_last:
        raise WALCorruptError(
            f"wal: corrupt record in {segment.path} at offset {pos} ({reason}); the segment was "
            "sealed before the next one was created, so this is not a torn write")
    valid_after = next_valid_record(buf, view, pos)
    if valid_after is not None:
        raise WALCorruptError(
            f"wal: corrupt record in {segment.path} at offset {pos} ({reason}), followed by a "
            f"valid record at offset {valid_after}: the log is damaged before its tail")
    dropped = len(buf) - pos
    fd = os.open(segment.path, os.O_WRONLY)
    try:
        os.ftruncate(fd, pos)
        if fsync:
            sync_data(fd)
    finally:
        os.close(fd)
    log.warning("wal: torn tail in %s at offset %d (%s): truncated, %d bytes dropped",
                segment.path, pos, reason, dropped)
    return pos


def lock_directory(directory: Path) -> int:
    dir_fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        fcntl.flock(dir_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(dir_fd)
        raise WALError(f"wal: {directory} is in use by another WAL (directory is locked)") from None
    return dir_fd
