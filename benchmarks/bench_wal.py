"""Durable WAL appends per second: one writer against 64 concurrent writers (group commit).

Every append is a 256-byte entry saved with must_sync (fsync on), on the filesystem of the data
directory. Alongside, the raw floor: a bare write + fdatasync loop in one thread, which is the
most a one-at-a-time writer could reach on this disk. Figures and ratios measured in one run are
written to benchmarks/results/wal.json.

    .venv/bin/python -m benchmarks.bench_wal [--seconds 3] [--repeats 3] [--dir PATH]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

import uvloop

from pykube_plane.store.wal import WAL, Entry

ROOT = Path(__file__).resolve().parent.parent

PAYLOAD = os.urandom(256)
RESULTS = ROOT / "benchmarks" / "results" / "wal.json"


def raw_fdatasync_rate(directory: Path, seconds: float) -> float:
    """write + fdatasync of one record-sized buffer, back to back: the disk's floor."""
    path = directory / "raw"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    record = bytes(9 + 16) + PAYLOAD
    count = 0
    start = time.perf_counter()
    try:
        while time.perf_counter() - start < seconds:
            os.write(fd, record)
            os.fdatasync(fd)
            count += 1
    finally:
        os.close(fd)
        path.unlink()
    return count / (time.perf_counter() - start)


async def wal_append_rate(directory: Path, writers: int, seconds: float) -> dict:
    wal = await WAL.open(directory)
    next_index = 1
    appended = 0
    deadline = time.perf_counter() + seconds

    async def writer() -> None:
        nonlocal next_index, appended
        while time.perf_counter() < deadline:
            index = next_index
            next_index += 1
            await wal.save([Entry(1, index, PAYLOAD)])
            appended += 1

    fsyncs_before = wal.stats["fsyncs"]
    start = time.perf_counter()
    await asyncio.gather(*(writer() for _ in range(writers)))
    elapsed = time.perf_counter() - start
    fsyncs = wal.stats["fsyncs"] - fsyncs_before
    await wal.close()
    return {"appends_per_s": appended / elapsed, "appends": appended, "fsyncs": fsyncs,
            "appends_per_fsync": appended / max(fsyncs, 1)}


def measure(base: Path, writers: int, seconds: float) -> dict:
    directory = Path(tempfile.mkdtemp(dir=base, prefix=f"wal-{writers}-"))
    try:
        return uvloop.run(wal_append_rate(directory, writers, seconds))
    finally:
        shutil.rmtree(directory)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=3.0, help="length of each measurement")
    parser.add_argument("--repeats", type=int, default=3, help="measurements per figure (median)")
    parser.add_argument("--dir", type=Path, default=ROOT / ".cache" / "bench-wal",
                        help="where the logs are written (must be on the disk under test)")
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)

    runs: dict[str, list] = {"raw_fdatasync_per_s": [], "single": [], "group64": []}
    for _ in range(args.repeats):  # interleaved, so drift on a shared machine hits all alike
        runs["raw_fdatasync_per_s"].append(raw_fdatasync_rate(args.dir, args.seconds))
        runs["single"].append(measure(args.dir, 1, args.seconds))
        runs["group64"].append(measure(args.dir, 64, args.seconds))

    raw = statistics.median(runs["raw_fdatasync_per_s"])
    single = statistics.median(r["appends_per_s"] for r in runs["single"])
    group = statistics.median(r["appends_per_s"] for r in runs["group64"])
    result = {
        "benchmark": "wal durable appends (fsync on, 256-byte payloads)",
        "command": "python -m benchmarks.bench_wal " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"platform": platform.platform(), "python": platform.python_version(),
                    "cpus": os.cpu_count(), "data_dir": str(args.dir)},
        "seconds_per_measurement": args.seconds,
        "repeats": args.repeats,
        "raw_fdatasync_per_s": round(raw),
        "single_writer_appends_per_s": round(single),
        "group_commit_64_writers_appends_per_s": round(group),
        "ratio_group_over_single": round(group / single, 2),
        "ratio_single_over_raw_fdatasync": round(single / raw, 2),
        "group_appends_per_fsync": round(statistics.median(
            r["appends_per_fsync"] for r in runs["group64"]), 1),
        "runs": runs,
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    for key in ("raw_fdatasync_per_s", "single_writer_appends_per_s",
                "group_commit_64_writers_appends_per_s", "ratio_group_over_single",
                "ratio_single_over_raw_fdatasync", "group_appends_per_fsync"):
        print(f"{key:40s} {result[key]}")
    print(f"written to {args.out}")


if __name__ == "__main__":
    main()
