"""Writing files so that a crash leaves the old file or the whole new one, never half of one."""
from __future__ import annotations

import os
from pathlib import Path


# fdatasync skips the inode timestamps but still flushes the size a write changed.
sync_data = getattr(os, "fdatasync", os.fsync)


def fsync_dir(directory: Path) -> None:
    """Make the directory's entries (a new, renamed or removed file) survive a crash."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_file_atomic(path: Path, data: bytes) -> None:
    """Write `data` to `<path>.part`, fsync it, rename it over `path`, fsync the directory."""
    tmp = path.with_name(path.name + ".part")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)
    fsync_dir(path.parent)
