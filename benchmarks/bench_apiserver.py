"""The API server under load, on its embedded store and on a real etcd 3.5.1, measured in one run.

For each backend a `kplane apiserver` process is started (HTTPS, admin client certificate, like
kubectl) and driven by an aiohttp client from this process:

- pod create/s and get/s (64 requests in flight) and their latency percentiles;
- LIST of all pods (10,000; 100,000 with --big) served from the watch cache, against the same
  list read from the store (resourceVersionMatch=Exact), and paged like kubectl (limit=500);
- watch fan-out: N watchers (1,000) on all pods, then pod creates; events delivered per second;
- mutating latency p50/p99 while those watchers are connected (Kubernetes' SLO: p99 <= 1 s);
- server memory (RSS) per stored pod.

Ratios (embedded / etcd, cache / store) are the figures to compare across machines; the absolute
numbers depend on this machine, shared by everyone (2 cores: client and server compete).

    .venv/bin/python benchmarks/bench_apiserver.py [--pods 10000] [--watchers 1000] [--big]
        [--backends embedded,etcd]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import signal
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import aiohttp
import orjson
import yaml

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "benchmarks" / "results" / "apiserver.json"
ETCD = ROOT / ".cache" / "bin" / "etcd"

POD = {"apiVersion": "v1", "kind": "Pod",
       "spec": {"containers": [{"name": "app", "image": "registry.k8s.io/pause:3.10",
                                "resources": {"requests": {"cpu": "100m", "memory": "64Mi"},
                                              "limits": {"cpu": "200m", "memory": "128Mi"}},
                                "ports": [{"containerPort": 8080, "name": "http"}],
                                "env": [{"name": "MODE", "value": "bench"}]}]}}


def pod_body(name: str) -> bytes:
    body = dict(POD)
    body["metadata"] = {"name": name, "labels": {"app": "bench", "shard": name[-1]}}
    return orjson.dumps(body)


def free_port() -> int:
    import socket
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    return 0


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q))]


class Backend:
    """A kplane apiserver process (and, for "etcd", the etcd it runs on)."""

    def __init__(self, kind: str, tmp: Path) -> None:
        self.kind = kind
        self.tmp = tmp / kind
        self.tmp.mkdir()
        self.etcd: subprocess.Popen | None = None
        args = [sys.executable, "-m", "pykube_plane.cli.main", "apiserver", "--data-dir", str(self.tmp / "data"),
                "--secure-port", "0", "--write-kubeconfig", str(self.tmp / "kubeconfig"),
                "--watch-cache-size", "100000"]
        if kind == "etcd":
            client, peer = free_port(), free_port()
            self.etcd = subprocess.Popen(
                [str(ETCD), "--data-dir", str(self.tmp / "etcd"), "--listen-client-urls", f"http://127.0.0.1:{client}",
                 "--advertise-client-urls", f"http://127.0.0.1:{client}", "--listen-peer-urls",
                 f"http://127.0.0.1:{peer}", "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                 "--initial-cluster", f"default=http://127.0.0.1:{peer}", "--quota-backend-bytes", str(8 << 30)],
                stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            args += ["--etcd-servers", f"http://127.0.0.1:{client}"]
        self.log = open(self.tmp / "apiserver.log", "wb")
        deadline = time.monotonic() + 60
        while True:
            self.proc = subprocess.Popen(args, stdout=self.log, stderr=subprocess.STDOUT, cwd=ROOT)
            while not (self.tmp / "kubeconfig").exists() and self.proc.poll() is None \
                    and time.monotonic() < deadline:
                time.sleep(0.05)
            if (self.tmp / "kubeconfig").exists() or time.monotonic() > deadline:
                break
            time.sleep(0.3)     # etcd not listening yet: start the server again
        config = yaml.safe_load((self.tmp / "kubeconfig").read_text())
        self.url = config["clusters"][0]["cluster"]["server"]
        pki = self.tmp / "data" / "pki"
        self.ssl = ssl.create_default_context(cafile=str(pki / "ca.crt"))
        self.ssl.load_cert_chain(str(pki / "admin.crt"), str(pki / "admin.key"))

    def session(self, limit: int = 100) -> aiohttp.ClientSession:
        return aiohttp.ClientSession(self.url, connector=aiohttp.TCPConnector(ssl=self.ssl, limit=limit),
                                     timeout=aiohttp.ClientTimeout(total=None, sock_read=600))

    def close(self) -> None:
        for proc in (self.proc, self.etcd):
            if proc is not None and proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
                try:
                    proc.wait(30)
                except subprocess.TimeoutExpired:
                    proc.kill()
        self.log.close()


async def run_requests(session: aiohttp.ClientSession, requests, concurrency: int) -> tuple[float, list[float]]:
    """(requests per second, latencies) of running `requests` (method, path, body) `concurrency` at a time."""
    latencies: list[float] = []
    queue = list(requests)
    queue.reverse()

    async def worker() -> None:
        while queue:
            method, path, body = queue.pop()
            content_type = "application/merge-patch+json" if method == "PATCH" else "application/json"
            start = time.perf_counter()
            async with session.request(method, path, data=body, headers={"Content-Type": content_type}) as resp:
                await resp.read()
                if resp.status >= 300:
                    raise RuntimeError(f"{method} {path}: {resp.status} {await resp.text()}")
            latencies.append(time.perf_counter() - start)

    start = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return len(latencies) / (time.perf_counter() - start), latencies


async def timed_get(session: aiohttp.ClientSession, path: str) -> tuple[float, int]:
    start = time.perf_counter()
    async with session.get(path) as resp:
        data = await resp.read()
        assert resp.status == 200, data[:300]
    return time.perf_counter() - start, len(data)


async def paged_list(session: aiohttp.ClientSession, path: str, limit: int) -> tuple[float, int]:
    start = time.perf_counter()
    count, token = 0, ""
    while True:
        url = f"{path}?limit={limit}" + (f"&continue={token}" if token else "")
        async with session.get(url) as resp:
            page = orjson.loads(await resp.read())
        count += len(page["items"])
        token = page["metadata"].get("continue", "")
        if not token:
            return time.perf_counter() - start, count


async def fill(session: aiohttp.ClientSession, prefix: str, n: int) -> None:
    base = "/api/v1/namespaces/default/pods"
    await run_requests(session, [("POST", base, pod_body(f"{prefix}{i}")) for i in range(n)], 64)


async def watch_fanout(backend: Backend, watchers: int, writes: int) -> dict:
    """`watchers` watches on all pods, then `writes` pod creates: events delivered per second."""
    received = [0] * watchers
    started = asyncio.Event()
    connected = [0]
    target = watchers * writes
    done = asyncio.Event()
    total = [0]

    async with backend.session(limit=0) as watch_session, backend.session() as write_session:
        async with write_session.get("/api/v1/pods?limit=1") as resp:
            rv = orjson.loads(await resp.read())["metadata"]["resourceVersion"]

        async def watcher(i: int) -> None:
            async with watch_session.get(f"/api/v1/pods?watch=1&resourceVersion={rv}&timeoutSeconds=600") as resp:
                connected[0] += 1
                if connected[0] == watchers:
                    started.set()
                async for chunk in resp.content.iter_any():
                    n = chunk.count(b"\n")
                    received[i] += n
                    total[0] += n
                    if total[0] >= target:
                        done.set()
                    if received[i] >= writes:
                        return

        tasks = [asyncio.get_running_loop().create_task(watcher(i)) for i in range(watchers)]
        await asyncio.wait_for(started.wait(), 300)
        base = "/api/v1/namespaces/default/pods"
        start = time.perf_counter()
        rate, latencies = await run_requests(write_session, [("POST", base, pod_body(f"fan{i}"))
                                                             for i in range(writes)], 16)
        await asyncio.wait_for(done.wait(), 600)
        elapsed = time.perf_counter() - start
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    return {"watchers": watchers, "writes": writes, "events_delivered": sum(received),
            "seconds": round(elapsed, 3), "events_per_second": round(sum(received) / elapsed),
            "creates_per_second_while_watched": round(rate),
            "create_p50_ms_while_watched": round(percentile(latencies, 0.5) * 1000, 2),
            "create_p99_ms_while_watched": round(percentile(latencies, 0.99) * 1000, 2)}


async def bench_backend(backend: Backend, pods: int, watchers: int, big: bool) -> dict:
    out: dict = {}
    base = "/api/v1/namespaces/default/pods"
    idle_rss = rss_bytes(backend.proc.pid)
    async with backend.session() as session:
        n = min(3000, pods)
        rate, lat = await run_requests(session, [("POST", base, pod_body(f"c{i}")) for i in range(n)], 64)
        out["create"] = {"requests": n, "per_second": round(rate), "p50_ms": round(percentile(lat, .5) * 1000, 2),
                         "p99_ms": round(percentile(lat, .99) * 1000, 2)}
        rate, lat = await run_requests(session, [("GET", f"{base}/c{i % n}", None) for i in range(2 * n)], 64)
        out["get"] = {"requests": 2 * n, "per_second": round(rate), "p50_ms": round(percentile(lat, .5) * 1000, 2),
                      "p99_ms": round(percentile(lat, .99) * 1000, 2)}
        patches = [("PATCH", f"{base}/c{i}", orjson.dumps({"metadata": {"labels": {"step": str(i)}}}))
                   for i in range(n)]
        rate, lat = await run_requests(session, patches, 64)
        out["update"] = {"requests": n, "per_second": round(rate), "p50_ms": round(percentile(lat, .5) * 1000, 2),
                         "p99_ms": round(percentile(lat, .99) * 1000, 2)}
        await fill(session, "l", pods - n)
        await asyncio.sleep(1)
        full_rss = rss_bytes(backend.proc.pid)
        out["memory_per_pod_bytes"] = round((full_rss - idle_rss) / pods)
        cache_s, size = min([await timed_get(session, "/api/v1/pods") for _ in range(3)])
        async with session.get("/api/v1/pods?limit=1") as resp:
            rv = orjson.loads(await resp.read())["metadata"]["resourceVersion"]
        store_s, _ = min([await timed_get(session, f"/api/v1/pods?resourceVersion={rv}&resourceVersionMatch=Exact")
                          for _ in range(3)])
        paged_s, count = await paged_list(session, "/api/v1/pods", 500)
        assert count == pods, count
        out["list"] = {"pods": pods, "bytes": size, "from_cache_s": round(cache_s, 4),
                       "from_store_s": round(store_s, 4), "paged_500_s": round(paged_s, 4),
                       "cache_speedup": round(store_s / cache_s, 2)}
        if big:
            await fill(session, "b", 100_000 - pods)
            big_s, big_size = min([await timed_get(session, "/api/v1/pods") for _ in range(2)])
            out["list_100k"] = {"pods": 100_000, "bytes": big_size, "from_cache_s": round(big_s, 3),
                                "memory_per_pod_bytes": round((rss_bytes(backend.proc.pid) - idle_rss) / 100_000)}
    out["watch_fanout"] = await watch_fanout(backend, watchers, 200)
    return out


async def bench_in_process(tmp: Path, n: int = 3000, concurrency: int = 64) -> dict:
    """The same pod creates through the handlers in this process (no HTTP, no TLS, no JSON on
    the wire): what an embedding or the in-process client sees."""
    from pykube_plane.apiserver.handlers import APIRequest
    from pykube_plane.apiserver.server import APIServer
    from pykube_plane.store.store import Store
    store = await Store.open(tmp / "inproc")
    server = APIServer(store, port=0)
    await server.start()
    try:
        pods = server.registry.table.lookup("", "v1", "pods")
        bodies = [orjson.loads(pod_body(f"i{i}")) for i in range(n)]
        latencies: list[float] = []

        async def worker() -> None:
            while bodies:
                body = bodies.pop()
                start = time.perf_counter()
                await server.handlers.handle(APIRequest("create", pods, "default", body=body))
                latencies.append(time.perf_counter() - start)

        start = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        rate = n / (time.perf_counter() - start)
    finally:
        await server.stop()
        await store.close()
    return {"requests": n, "per_second": round(rate), "p50_ms": round(percentile(latencies, .5) * 1000, 2),
            "p99_ms": round(percentile(latencies, .99) * 1000, 2)}


async def main_async(args) -> dict:
    results: dict = {}
    with tempfile.TemporaryDirectory(prefix="bench-apiserver-") as tmp:
        results["in_process_create"] = await bench_in_process(Path(tmp))
        for kind in args.backends.split(","):
            if kind == "etcd" and not ETCD.exists():
                raise SystemExit(f"{ETCD} missing: run `make tools`")
            backend = Backend(kind, Path(tmp))
            try:
                results[kind] = await bench_backend(backend, args.pods, args.watchers, args.big)
            finally:
                backend.close()
            print(kind, json.dumps(results[kind], indent=1), file=sys.stderr)
    return results


def run(args: argparse.Namespace) -> dict:
    """Measure, write results/apiserver.json, and answer the report."""
    import uvloop
    results = uvloop.run(main_async(args))
    ratios = {}
    if "embedded" in results:
        ratios["create_per_second_in_process_over_https"] = round(
            results["in_process_create"]["per_second"] / results["embedded"]["create"]["per_second"], 2)
    if "embedded" in results and "etcd" in results:
        e, d = results["embedded"], results["etcd"]
        ratios = {f"{op}_per_second_embedded_over_etcd": round(e[op]["per_second"] / d[op]["per_second"], 2)
                  for op in ("create", "get", "update")}
        ratios["watch_events_per_second_embedded_over_etcd"] = round(
            e["watch_fanout"]["events_per_second"] / d["watch_fanout"]["events_per_second"], 2)
    report = {
        "benchmark": "apiserver",
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": {"cpus": os.cpu_count(), "platform": platform.platform(), "python": platform.python_version()},
        "command": (f"python benchmarks/bench_apiserver.py --pods {args.pods} --watchers {args.watchers} "
                    f"--backends {args.backends}" + (" --big" if args.big else "")),
        "notes": "client and server share the machine's cores; latencies are client-observed over HTTPS",
        "results": results, "ratios": ratios,
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    return report


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--watchers", type=int, default=1_000)
    parser.add_argument("--big", action="store_true", help="also list 100,000 pods")
    parser.add_argument("--backends", default="embedded,etcd")
    return parser.parse_args(argv)


def test_apiserver_under_load(benchmark):
    """`make bench`: the default run (10,000 pods, 1,000 watchers, embedded store and etcd)."""
    report = benchmark.pedantic(run, args=(parse_args([]),), rounds=1, iterations=1)
    assert report["results"]["embedded"]["list"]["pods"] == 10_000


def main() -> None:
    print(json.dumps(run(parse_args())["ratios"], indent=2))


if __name__ == "__main__":
    main()
