"""The WAL's on-disk format: its data types, records and segment names (see store/wal.py for the
format, the recovery rules and durability)."""
from __future__ import annotations

import re
import struct
import zlib
from dataclasses import dataclass
from pathlib import Path

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
RECORD_NAMES = {RECORD_ENTRY: "entry", RECORD_HARD_STATE: "hard state",
                 RECORD_SNAPSHOT_MARK: "snapshot mark", RECORD_TYPED_ENTRY: "entry"}

FRAME = struct.Struct("<II")            # length, crc
TYPED_ENTRY_HEAD = struct.Struct("<BQQB")  # record type, term, index, entry type
TYPED_HARD_STATE = struct.Struct("<BQQQ")  # type, term, vote, commit
TYPED_MARK = struct.Struct("<BQQ")      # type, index, term
U64_PAIR = struct.Struct("<QQ")
U64_TRIPLE = struct.Struct("<QQQ")
RECORD_HEADER = struct.Struct("<IIB")   # length, crc, type: what a reader sees first
HEADER_BYTES = RECORD_HEADER.size       # 9
ENTRY_HEAD_BYTES = U64_PAIR.size + 1   # 17: term, index, entry type
UNTYPED_ENTRY_HEAD_BYTES = U64_PAIR.size  # 16: format 1 entries had no type
MAX_U64 = (1 << 64) - 1
MAX_PAYLOAD = (1 << 32) - 1
TYPE_BYTE = {t: bytes([t]) for t in RECORD_NAMES}
# Bytes that can be a record's type field; resynchronising only tries offsets where one sits.
TYPE_BYTE_PATTERN = re.compile(b"[\x01-\x04]")

SEGMENT_NAME = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16})\.wal$")
TMP_SUFFIX = ".tmp"


def segment_name(seq: int, first_index: int) -> str:
    return f"{seq:016x}-{first_index:016x}.wal"


def append_entry(out: bytearray, entry: Entry) -> None:
    typed_head = TYPED_ENTRY_HEAD.pack(RECORD_TYPED_ENTRY, entry.term, entry.index, entry.type)
    data = entry.data
    crc = zlib.crc32(data, zlib.crc32(typed_head))
    out += FRAME.pack(ENTRY_HEAD_BYTES + len(data), crc)
    out += typed_head
    out += data


def append_fixed(out: bytearray, typed_payload: bytes) -> None:
    out += FRAME.pack(len(typed_payload) - 1, zlib.crc32(typed_payload))
    out += typed_payload


def append_hard_state(out: bytearray, hs: HardState) -> None:
    append_fixed(out, TYPED_HARD_STATE.pack(RECORD_HARD_STATE, hs.term, hs.vote, hs.commit))


def append_mark(out: bytearray, mark: SnapshotMark) -> None:
    append_fixed(out, TYPED_MARK.pack(RECORD_SNAPSHOT_MARK, mark.index, mark.term))


def record_at(buf: bytes, view: memoryview, pos: int) -> tuple[int, int, int] | str:
    """The valid record starting at `pos` as (type, payload_start, payload_end), or why not."""
    if pos + HEADER_BYTES > len(buf):
        return "incomplete record header"
    length, crc, rtype = RECORD_HEADER.unpack_from(buf, pos)
    start = pos + HEADER_BYTES
    end = start + length
    if end > len(buf):
        return f"record of {length} bytes runs past the end of the file"
    type_byte = TYPE_BYTE.get(rtype)
    if type_byte is None:
        return f"unknown record type {rtype}"
    if zlib.crc32(view[start:end], zlib.crc32(type_byte)) != crc:
        return "crc mismatch"
    return rtype, start, end


def next_valid_record(buf: bytes, view: memoryview, damaged_at: int) -> int | None:
    """Offset of the first valid record starting anywhere after `damaged_at`, if there is one."""
    for match in TYPE_BYTE_PATTERN.finditer(buf, damaged_at + 1 + HEADER_BYTES - 1):
        pos = match.start() - (HEADER_BYTES - 1)
        if not isinstance(record_at(buf, view, pos), str):
            return pos
    return None


@dataclass(slots=True)
class Segment:
    seq: int
    first_index: int
    path: Path
    max_index: int | None = None  # largest entry index held; None: holds no entry
