"""Snapshot files: one whole store image per file, written atomically, verified on read.

A file is named like etcd's snapshotter names them, ``{term:016x}-{index:016x}.snap``, and holds::

    magic "PKPSNAP1" | index u64 | term u64 | length u64 | crc u32 | data (length bytes)
    crc = crc32(magic + index + term + length + data), little-endian throughout

Writing goes to ``<name>.tmp``, is fsynced, renamed into place and the directory fsynced, so a
crash leaves either no file or a whole one. A file that fails its checks anyway (disk damage,
a copy cut short) is logged and skipped: snapshots are whole files, so an older valid one is
still a correct starting point, with the WAL replaying the rest.

These functions are synchronous; the store calls them through `asyncio.to_thread`. They assume
one writer per directory (the store's), so `prune_snapshots` may remove stale ``.tmp`` files.
"""
from __future__ import annotations

import logging
import os
import re
import struct
import zlib
from pathlib import Path

from .durable_file import fsync_dir

__all__ = ["write_snapshot", "read_latest_snapshot", "read_snapshot", "prune_snapshots",
           "snapshot_name"]

log = logging.getLogger("pykube_plane.store.snapfile")

_MAGIC = b"PKPSNAP1"
_HEADER_FIELDS = struct.Struct("<8sQQQ")  # magic, index, term, length: what the crc starts with
_CRC = struct.Struct("<I")
HEADER_BYTES = _HEADER_FIELDS.size + _CRC.size
_SNAP_NAME = re.compile(r"^([0-9a-f]{16})-([0-9a-f]{16})\.snap$")
_TMP_SUFFIX = ".tmp"


def snapshot_name(index: int, term: int) -> str:
    return f"{term:016x}-{index:016x}.snap"


def write_snapshot(dir: str | Path, index: int, term: int, data: bytes) -> Path:
    """Write a snapshot at index/term atomically; returns the final path."""
    directory = Path(dir)
    if not directory.is_dir():
        directory.mkdir(parents=True)
        fsync_dir(directory.parent)  # the new directory's own entry must survive a crash too
    fields = _HEADER_FIELDS.pack(_MAGIC, index, term, len(data))
    crc = zlib.crc32(data, zlib.crc32(fields))
    final = directory / snapshot_name(index, term)
    tmp = final.with_name(final.name + _TMP_SUFFIX)
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        try:
            for chunk in (fields, _CRC.pack(crc), data):
                view = memoryview(chunk)
                while view:
                    view = view[os.write(fd, view):]
            os.fsync(fd)
        finally:
            os.close(fd)
        os.replace(tmp, final)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    fsync_dir(directory)
    return final


def _snapshot_files(directory: Path) -> list[tuple[int, int, Path]]:
    """(index, term, path) of every snapshot file, newest first."""
    found = []
    for path in directory.iterdir():
        match = _SNAP_NAME.match(path.name)
        if match:
            found.append((int(match[2], 16), int(match[1], 16), path))
    found.sort(reverse=True)
    return found


def _read_verified(path: Path, index: int, term: int) -> bytes | str:
    """The snapshot data in `path`, or why it cannot be trusted."""
    try:
        blob = path.read_bytes()
    except OSError as exc:
        return f"unreadable: {exc.strerror or exc}"
    if len(blob) < HEADER_BYTES:
        return f"file of {len(blob)} bytes is shorter than the {HEADER_BYTES}-byte header"
    magic, file_index, file_term, length = _HEADER_FIELDS.unpack_from(blob)
    if magic != _MAGIC:
        return "not a snapshot file (bad magic)"
    if (file_index, file_term) != (index, term):
        return f"header says index {file_index} term {file_term}, the name disagrees"
    if len(blob) != HEADER_BYTES + length:
        return f"header says {length} data bytes, file holds {len(blob) - HEADER_BYTES}"
    (crc,) = _CRC.unpack_from(blob, _HEADER_FIELDS.size)
    data = memoryview(blob)[HEADER_BYTES:]
    if zlib.crc32(data, zlib.crc32(memoryview(blob)[:_HEADER_FIELDS.size])) != crc:
        return "crc mismatch"
    return bytes(data)


def read_latest_snapshot(dir: str | Path) -> tuple[int, int, bytes] | None:
    """(index, term, data) of the newest valid snapshot in `dir`; None when there is none."""
    directory = Path(dir)
    if not directory.is_dir():
        return None
    for index, term, path in _snapshot_files(directory):
        data = _read_verified(path, index, term)
        if isinstance(data, bytes):
            return index, term, data
        log.warning("snap: skipping corrupt snapshot %s: %s", path, data)
    return None


def read_snapshot(dir: str | Path, index: int, term: int) -> bytes | None:
    """The data of the snapshot at exactly index/term; None if it is gone or fails its checks."""
    path = Path(dir) / snapshot_name(index, term)
    if not path.exists():
        return None
    data = _read_verified(path, index, term)
    if isinstance(data, bytes):
        return data
    log.warning("snap: snapshot %s cannot be used: %s", path, data)
    return None


def prune_snapshots(dir: str | Path, keep: int = 2) -> None:
    """Delete all but the `keep` newest snapshot files, and leftovers of interrupted writes.

    The newest *valid* snapshot is never deleted: if none of the `keep` newest verifies, the
    newest older one that does is kept as well.
    """
    if keep < 1:
        raise ValueError("snap: keep must be at least 1")
    directory = Path(dir)
    if not directory.is_dir():
        return
    files = _snapshot_files(directory)
    kept, doomed = files[:keep], files[keep:]
    if doomed and not any(isinstance(_read_verified(p, i, t), bytes) for i, t, p in kept):
        for position, (index, term, path) in enumerate(doomed):
            if isinstance(_read_verified(path, index, term), bytes):
                del doomed[position]
                break
    removed = [path for _, _, path in doomed] + list(directory.glob("*.snap" + _TMP_SUFFIX))
    for path in removed:
        path.unlink(missing_ok=True)
    if removed:
        fsync_dir(directory)
