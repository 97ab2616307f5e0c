"""Durable puts through the whole Store (encode -> WAL with fsync -> apply -> ack).

One writer waits for each fsync; 64 concurrent writers share them (group commit). Both in one run,
fsync on, 256-byte values; the ratio is what group commit buys. Medians of several rounds.
"""
from __future__ import annotations

import asyncio
import statistics
import tempfile
import time

from pykube_plane.store.store import Store

VALUE = b"v" * 256


async def durable_puts(writers: int, total: int, fsync: bool = True) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(tmp, fsync=fsync)
        per_writer = total // writers
        latencies: list[float] = []

        async def writer(w: int) -> None:
            for i in range(per_writer):
                t0 = time.perf_counter()
                await store.put(b"/bench/%02d/%08d" % (w, i), VALUE)
                latencies.append(time.perf_counter() - t0)

        fsyncs_before = store.wal_stats.get("fsyncs", 0)
        t0 = time.perf_counter()
        await asyncio.gather(*(writer(w) for w in range(writers)))
        elapsed = time.perf_counter() - t0
        fsyncs = store.wal_stats.get("fsyncs", 0) - fsyncs_before
        await store.close()
    latencies.sort()
    n = len(latencies)
    return {"puts_per_s": n / elapsed, "p50_ms": latencies[n // 2] * 1000,
            "p99_ms": latencies[int(n * 0.99)] * 1000, "puts": n, "fsyncs": fsyncs}


def median_of(rounds: list[dict]) -> dict:
    return {k: statistics.median(r[k] for r in rounds) for k in rounds[0]}


def test_durable_put_group_commit(benchmark, result_writer):
    def run():
        single = median_of([asyncio.run(durable_puts(1, 300)) for _ in range(3)])
        group = median_of([asyncio.run(durable_puts(64, 6400)) for _ in range(3)])
        return single, group

    single, group = benchmark.pedantic(run, rounds=1, iterations=1)
    result_writer("store", {
        "durable_put_1_writer": single,
        "durable_put_64_writers": group,
        "group_commit_speedup": group["puts_per_s"] / single["puts_per_s"],
        "note": "fsync on; 256 B values; medians of 3 rounds; "
                "pytest benchmarks/bench_store.py --benchmark-only",
    })
