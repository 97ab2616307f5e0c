"""Snapshot files: round trips, damage falls back to an older snapshot, crashes leave no half file."""
from __future__ import annotations

import logging
import os
import random
import signal
import struct
import subprocess
import sys
import zlib
from pathlib import Path

import pytest

from pykube_plane.store.snapfile import (
    prune_snapshots, read_latest_snapshot, snapshot_name, write_snapshot,
)

ROOT = Path(__file__).resolve().parents[2]
LOGGER = "pykube_plane.store.snapfile"


def image(index: int) -> bytes:
    """A store image that differs per index, big enough to span many pages."""
    return (b"image %d|" % index) * (20000 + index % 7 * 3000)


def warnings_of(caplog) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.name == LOGGER and r.levelno >= logging.WARNING]


def test_round_trip_and_file_layout(tmp_path):
    path = write_snapshot(tmp_path, 42, 3, b"state")
    assert path == tmp_path / snapshot_name(42, 3) == tmp_path / "0000000000000003-000000000000002a.snap"
    assert read_latest_snapshot(tmp_path) == (42, 3, b"state")
    blob = path.read_bytes()
    magic, index, term, length, crc = struct.unpack_from("<8sQQQI", blob)
    assert (magic, index, term, length) == (b"PKPSNAP1", 42, 3, 5)
    assert crc == zlib.crc32(blob[36:], zlib.crc32(blob[:32]))
    assert not list(tmp_path.glob("*.tmp"))


def test_empty_snapshot_data(tmp_path):
    write_snapshot(tmp_path, 1, 1, b"")
    assert read_latest_snapshot(tmp_path) == (1, 1, b"")


def test_no_snapshot(tmp_path):
    assert read_latest_snapshot(tmp_path) is None
    assert read_latest_snapshot(tmp_path / "missing") is None


def test_newest_by_index_wins(tmp_path):
    write_snapshot(tmp_path, 9, 2, b"nine")
    write_snapshot(tmp_path, 120, 3, b"hundred twenty")  # sorts by index, not by file name text
    write_snapshot(tmp_path, 30, 3, b"thirty")
    assert read_latest_snapshot(tmp_path) == (120, 3, b"hundred twenty")


@pytest.mark.parametrize("damage", ["flip-data", "flip-header", "truncate", "extend", "bad-magic",
                                    "empty", "renamed"])
def test_damaged_newest_falls_back_to_the_older_one(tmp_path, caplog, damage):
    write_snapshot(tmp_path, 10, 1, image(10))
    newest = write_snapshot(tmp_path, 20, 2, image(20))
    blob = bytearray(newest.read_bytes())
    if damage == "flip-data":
        blob[len(blob) // 2] ^= 0x10
    elif damage == "flip-header":
        blob[9] ^= 0x01
    elif damage == "truncate":
        del blob[-100:]
    elif damage == "extend":
        blob += b"\0" * 10
    elif damage == "bad-magic":
        blob[0:8] = b"NOTSNAP!"
    elif damage == "empty":
        blob = bytearray()
    newest.write_bytes(blob)
    if damage == "renamed":  # a whole valid file under a name that claims another index
        newest.rename(tmp_path / snapshot_name(25, 2))
    with caplog.at_level(logging.WARNING, logger=LOGGER):
        assert read_latest_snapshot(tmp_path) == (10, 1, image(10))
    [warning] = warnings_of(caplog)
    assert "skipping corrupt snapshot" in warning


def test_all_damaged_means_none(tmp_path, caplog):
    path = write_snapshot(tmp_path, 10, 1, b"only")
    path.write_bytes(path.read_bytes()[:-1])
    assert read_latest_snapshot(tmp_path) is None
    assert len(warnings_of(caplog)) == 1


def test_partial_temporary_file_is_never_read(tmp_path):
    write_snapshot(tmp_path, 10, 1, b"good")
    # what a crash mid-write leaves: a temporary file with a newer index, cut short
    full = write_snapshot(tmp_path / "other", 99, 9, image(99)).read_bytes()
    (tmp_path / (snapshot_name(99, 9) + ".tmp")).write_bytes(full[: len(full) // 2])
    assert read_latest_snapshot(tmp_path) == (10, 1, b"good")


def test_prune_keeps_the_newest(tmp_path):
    for index in (5, 10, 15, 20):
        write_snapshot(tmp_path, index, 1, b"%d" % index)
    (tmp_path / (snapshot_name(25, 1) + ".tmp")).write_bytes(b"leftover")
    (tmp_path / "unrelated.txt").write_bytes(b"not ours")
    prune_snapshots(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(
        [snapshot_name(15, 1), snapshot_name(20, 1), "unrelated.txt"])
    prune_snapshots(tmp_path, keep=1)
    assert read_latest_snapshot(tmp_path) == (20, 1, b"20")
    assert len(list(tmp_path.glob("*.snap"))) == 1
    with pytest.raises(ValueError):
        prune_snapshots(tmp_path, keep=0)


def test_prune_never_deletes_the_newest_valid_snapshot(tmp_path):
    write_snapshot(tmp_path, 5, 1, b"old")
    write_snapshot(tmp_path, 10, 1, b"valid")
    for index in (15, 20):
        path = write_snapshot(tmp_path, index, 1, b"soon corrupt")
        path.write_bytes(path.read_bytes()[:-2])
    prune_snapshots(tmp_path, keep=2)
    assert sorted(p.name for p in tmp_path.glob("*.snap")) == sorted(
        [snapshot_name(10, 1), snapshot_name(15, 1), snapshot_name(20, 1)])
    assert read_latest_snapshot(tmp_path) == (10, 1, b"valid")


CHILD = r"""
import sys
from pykube_plane.store.snapfile import write_snapshot, prune_snapshots, read_latest_snapshot

def image(index):
    return (b"image %d|" % index) * (20000 + index % 7 * 3000)

directory = sys.argv[1]
latest = read_latest_snapshot(directory)
index = latest[0] + 1 if latest else 1
while True:
    write_snapshot(directory, index, 1, image(index))
    sys.stdout.write(f"{index}\n")  # one write: the line reaches the pipe whole or not at all
    sys.stdout.flush()
    prune_snapshots(directory, keep=2)
    index += 1
"""


def test_sigkill_while_writing_never_leaves_a_partial_snapshot(tmp_path, caplog):
    directory = tmp_path / "snap"
    rng = random.Random(11)
    acked = 0
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    for round_ in range(10):
        child = subprocess.Popen([sys.executable, "-c", CHILD, str(directory)],
                                 stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
        try:
            for _ in range(rng.randint(1, 25)):
                line = child.stdout.readline()
                assert line, child.stderr.read().decode()
                acked = max(acked, int(line))
            child.send_signal(signal.SIGKILL)
            for line in child.stdout.readlines():
                if line.endswith(b"\n"):
                    acked = max(acked, int(line))
        finally:
            if child.poll() is None:
                child.kill()
            child.wait()
            child.stdout.close()
            child.stderr.close()
        assert child.returncode == -signal.SIGKILL
        caplog.clear()
        latest = read_latest_snapshot(directory)
        assert latest is not None
        index, term, data = latest
        assert index >= acked, f"round {round_}"
        assert (term, data) == (1, image(index)), f"round {round_}"
        assert warnings_of(caplog) == [], f"round {round_}"  # no damaged file was ever in place
        acked = index
