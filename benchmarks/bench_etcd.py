"""kplane store vs real etcd 3.5.1: the same load, the same client code, one run, fsync on for both.

Both servers run as their own processes on 127.0.0.1 (started exactly as the tests start them);
the load comes from this process through the raw etcd v3 gRPC stubs (requests built once, no
conversion), so the client costs the same against either server. Figures per server:

- puts/s and p50/p99 latency: CONCURRENCY writers, distinct keys, 256-byte values;
- range/s and p50/p99: CONCURRENCY readers, single-key linearizable reads;
- watch events/s: WATCHERS watchers on one prefix (spread over several streams), events delivered
  per second while CONCURRENCY writers put WATCH_PUTS keys under it.

The ratio kplane/etcd (>1 = kplane faster; for latencies <1 = kplane faster) goes to
benchmarks/results/etcd.json, with the rate of a do-nothing grpc.aio server measured in the same
run: that is the ceiling any Python gRPC server reaches here, and the unary figures sit near it.

    pytest benchmarks/bench_etcd.py --benchmark-only      # as `make bench` runs it
    python -m benchmarks.bench_etcd [--quick]               # the same, printed (from the repo root)
"""
from __future__ import annotations

import asyncio
import itertools
import sys
import tempfile
import time
from pathlib import Path

import grpc

from pykube_plane.store.etcdpb import rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from tests.store.etcdserver.servers import start_server

ROOT = Path(__file__).resolve().parent.parent

CONCURRENCY = 64
CHANNELS = 4          # client connections, requests spread round-robin
PUTS = 20_000
RANGES = 20_000
WATCHERS = 200
WATCH_STREAMS = 10
WATCH_PUTS = 2_000
VALUE = b"v" * 256


def percentile(sorted_values: list[float], q: float) -> float:
    return sorted_values[min(len(sorted_values) - 1, int(len(sorted_values) * q))]


async def _closed_loop(stubs: list, make_call, total: int, concurrency: int) -> dict:
    """`concurrency` workers issue `total` calls; per-call latency and overall rate."""
    latencies: list[float] = []
    counter = itertools.count()

    async def worker(w: int) -> None:
        stub = stubs[w % len(stubs)]
        while True:
            i = next(counter)
            if i >= total:
                return
            t0 = time.perf_counter()
            await make_call(stub, i)
            latencies.append(time.perf_counter() - t0)

    t0 = time.perf_counter()
    await asyncio.gather(*(worker(w) for w in range(concurrency)))
    elapsed = time.perf_counter() - t0
    latencies.sort()
    return {"per_s": total / elapsed, "p50_ms": percentile(latencies, 0.50) * 1000,
            "p99_ms": percentile(latencies, 0.99) * 1000, "count": total}


async def load(endpoint: str, puts: int, ranges: int, watchers: int, watch_puts: int) -> dict:
    channels = [grpc.aio.insecure_channel(endpoint) for _ in range(CHANNELS)]
    kv = [pb_grpc.KVStub(c) for c in channels]
    try:
        put_requests = [pb.PutRequest(key=b"/bench/put/%08d" % i, value=VALUE) for i in range(puts)]

        async def put(stub, i):
            await stub.Put(put_requests[i])

        put_res = await _closed_loop(kv, put, puts, CONCURRENCY)

        n_keys = min(puts, 1000)
        range_requests = [pb.RangeRequest(key=b"/bench/put/%08d" % (i % n_keys)) for i in range(ranges)]

        async def get(stub, i):
            resp = await stub.Range(range_requests[i])
            assert resp.kvs

        range_res = await _closed_loop(kv, get, ranges, CONCURRENCY)
        watch_res = await _watch_load(channels, kv, watchers, watch_puts)
    finally:
        for c in channels:
            await c.close()
    return {"put": put_res, "range": range_res, "watch": watch_res}


async def _watch_load(channels, kv, watchers: int, watch_puts: int) -> dict:
    prefix = b"/bench/watch/"
    start = (await kv[0].Range(pb.RangeRequest(key=b"/bench/none"))).header.revision + 1
    streams = []
    per_stream = watchers // WATCH_STREAMS
    expected = per_stream * WATCH_STREAMS * watch_puts
    received = 0
    done = asyncio.get_running_loop().create_future()
    first_event_time: list[float] = []

    async def requests(n: int):
        for _ in range(n):
            yield pb.WatchRequest(create_request=pb.WatchCreateRequest(
                key=prefix, range_end=b"/bench/watch0", start_revision=start))
        await asyncio.Future()  # keep the stream open

    async def consume(call, n_created: asyncio.Event, n: int) -> None:
        nonlocal received
        created = 0
        async for resp in call:
            if resp.created:
                created += 1
                if created == n:
                    n_created.set()
                continue
            if resp.events and not first_event_time:
                first_event_time.append(time.perf_counter())
            received += len(resp.events)
            if received >= expected and not done.done():
                done.set_result(time.perf_counter())

    tasks = []
    for s in range(WATCH_STREAMS):
        stub = pb_grpc.WatchStub(channels[s % len(channels)])
        call = stub.Watch(requests(per_stream))
        ready = asyncio.Event()
        streams.append(call)
        tasks.append(asyncio.get_running_loop().create_task(consume(call, ready, per_stream)))
        await ready.wait()

    put_requests = [pb.PutRequest(key=prefix + b"%08d" % i, value=VALUE) for i in range(watch_puts)]

    async def put(stub, i):
        await stub.Put(put_requests[i])

    t0 = time.perf_counter()
    await _closed_loop(kv, put, watch_puts, CONCURRENCY)
    t_end = await asyncio.wait_for(done, 300)
    for call in streams:
        call.cancel()
    for t in tasks:
        t.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    elapsed = t_end - t0
    return {"events_per_s": expected / elapsed, "events": expected, "watchers": per_stream * WATCH_STREAMS,
            "puts": watch_puts}


class _EmptyKV(pb_grpc.KVServicer):
    """Answers Range with a constant: the cost of grpc.aio itself, with no store behind it."""
    RESPONSE = pb.RangeResponse()

    async def Range(self, request, context):
        return self.RESPONSE


def serve_floor(port: int) -> None:
    import uvloop

    async def main() -> None:
        server = grpc.aio.server()
        pb_grpc.add_KVServicer_to_server(_EmptyKV(), server)
        server.add_insecure_port(f"127.0.0.1:{port}")
        await server.start()
        await server.wait_for_termination()

    uvloop.run(main())


def grpc_floor(ranges: int) -> dict:
    """Ranges/s against a do-nothing grpc.aio server in its own process: the ceiling of any
    Python gRPC server on this machine, so the store's own cost shows as the gap to it."""
    import subprocess

    from tests.conftest import free_port

    port = free_port()
    floor = [sys.executable, "-m", "benchmarks.bench_etcd", "--floor-server", str(port)]
    proc = subprocess.Popen(floor, cwd=ROOT)
    try:
        with grpc.insecure_channel(f"127.0.0.1:{port}") as ch:
            grpc.channel_ready_future(ch).result(timeout=30)

        async def run() -> dict:
            channels = [grpc.aio.insecure_channel(f"127.0.0.1:{port}") for _ in range(CHANNELS)]
            kv = [pb_grpc.KVStub(c) for c in channels]
            req = pb.RangeRequest(key=b"/k")

            async def get(stub, i):
                await stub.Range(req)

            try:
                return await _closed_loop(kv, get, ranges, CONCURRENCY)
            finally:
                for c in channels:
                    await c.close()

        return asyncio.run(run())
    finally:
        proc.terminate()
        proc.wait(10)


def run_one(kind: str, base: Path, sizes: dict) -> dict:
    server = start_server(kind, base / kind)
    try:
        return asyncio.run(load(server.endpoint, **sizes))
    finally:
        server.stop()


def compare(quick: bool = False) -> dict:
    sizes = dict(puts=PUTS, ranges=RANGES, watchers=WATCHERS, watch_puts=WATCH_PUTS)
    if quick:
        sizes = dict(puts=2000, ranges=2000, watchers=50, watch_puts=200)
    with tempfile.TemporaryDirectory(prefix="bench-etcd-") as tmp:
        results = {kind: run_one(kind, Path(tmp), sizes) for kind in ("etcd", "kplane")}
    floor = grpc_floor(sizes["ranges"])
    e, k = results["etcd"], results["kplane"]
    ratio = {
        "puts_per_s": k["put"]["per_s"] / e["put"]["per_s"],
        "put_p50": k["put"]["p50_ms"] / e["put"]["p50_ms"],
        "put_p99": k["put"]["p99_ms"] / e["put"]["p99_ms"],
        "range_per_s": k["range"]["per_s"] / e["range"]["per_s"],
        "range_p50": k["range"]["p50_ms"] / e["range"]["p50_ms"],
        "range_p99": k["range"]["p99_ms"] / e["range"]["p99_ms"],
        "watch_events_per_s": k["watch"]["events_per_s"] / e["watch"]["events_per_s"],
    }
    return {"etcd_3_5_1": e, "kplane_store": k, "ratio_kplane_over_etcd": ratio,
            "grpc_aio_empty_server_range": floor,
            "kplane_range_over_grpc_aio_floor": k["range"]["per_s"] / floor["per_s"],
            "load": {**sizes, "concurrency": CONCURRENCY, "channels": CHANNELS,
                     "watch_streams": WATCH_STREAMS, "value_bytes": len(VALUE), "fsync": True},
            "note": "ratios >1 mean kplane is faster for rates, slower for latencies; "
                    "pytest benchmarks/bench_etcd.py --benchmark-only"}


def test_kplane_store_vs_etcd(benchmark, result_writer):
    figures = benchmark.pedantic(compare, rounds=1, iterations=1)
    result_writer("etcd", figures)


if __name__ == "__main__":
    import json

    if "--floor-server" in sys.argv:
        serve_floor(int(sys.argv[sys.argv.index("--floor-server") + 1]))
    else:
        print(json.dumps(compare(quick="--quick" in sys.argv), indent=2))
