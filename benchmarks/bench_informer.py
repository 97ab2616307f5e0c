"""Informer throughput, API server to event handlers: over HTTP (`Client`) against the in-process
client (`InProcessClient`), on one API server, in one run.

Two paths, each timed from the first request to the last handler call:

- watch: N changes are already in the server's watch cache; an informer whose cache holds the
  state before them watches from that resourceVersion and receives all N as events
  (server fan-out -> transport -> reflector -> indexer -> handler queue -> handler);
- list: an informer starts on a namespace holding N objects and syncs: one (paged) list, N
  on_add calls.

Beside them, for scale, sequential GETs of one object: the fixed cost per request of each
transport (what HTTP adds, and what the in-process client saves, on a small call).

The server is an APIServer on the embedded Store (fsync off; the store is not what is measured)
serving plain HTTP on 127.0.0.1; both clients run in its event loop (uvloop), as an embedded
control plane does. Runs alternate between the clients so drift on a shared machine hits both.

    .venv/bin/python benchmarks/bench_informer.py [--events 20000] [--repeats 3]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pykube_plane.apiserver.server import APIServer  # noqa: E402
from pykube_plane.client import APIClient, Client, InProcessClient, SharedIndexInformer  # noqa: E402
from pykube_plane.store.store import Store  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "informer.json"


class Counter:
    """The handler: counts, and wakes the timer at the target."""

    def __init__(self, target: int) -> None:
        self.target = target
        self.seen = 0
        self.done = asyncio.Event()

    def _one(self) -> None:
        self.seen += 1
        if self.seen >= self.target:
            self.done.set()

    def on_add(self, obj: dict) -> None:
        self._one()

    def on_update(self, old: dict, new: dict) -> None:
        self._one()

    def on_delete(self, obj: dict) -> None:
        self._one()


async def fill(client: APIClient, namespace: str, count: int, prefix: str) -> None:
    await client.ensure_namespace(namespace)
    batch = 200
    for start in range(0, count, batch):
        await asyncio.gather(*(client.create({"apiVersion": "v1", "kind": "ConfigMap",
                                              "metadata": {"name": f"{prefix}-{i:06d}", "labels": {"bench": "yes"}},
                                              "data": {"value": "x" * 64}}, namespace=namespace)
                               for i in range(start, min(count, start + batch))))


async def time_watch(client: APIClient, namespace: str, from_rv: str, events: int) -> float:
    """Seconds for `events` changes after `from_rv` to reach a handler through an informer.
    The informer is primed with the (empty) state at from_rv and its reflector watches from
    there, as after a sync: that is the informer's live path."""
    informer = SharedIndexInformer(client, "configmaps", namespace=namespace)
    counter = Counter(events)
    reg = informer.add_event_handler(counter)
    reg._start()
    informer.replace([], from_rv)
    informer.reflector.last_sync_resource_version = from_rv
    started = time.perf_counter()
    watching = asyncio.ensure_future(informer.reflector._watch())
    await counter.done.wait()
    elapsed = time.perf_counter() - started
    watching.cancel()
    await asyncio.gather(watching, return_exceptions=True)
    await informer.stop()
    assert len(informer.indexer) == events
    return elapsed


async def time_list(client: APIClient, namespace: str, objects: int) -> float:
    informer = SharedIndexInformer(client, "configmaps", namespace=namespace)
    counter = Counter(objects)
    informer.add_event_handler(counter)
    started = time.perf_counter()
    informer.start()
    await counter.done.wait()
    elapsed = time.perf_counter() - started
    await informer.stop()
    return elapsed


async def time_gets(client: APIClient, namespace: str, name: str, count: int) -> float:
    """Seconds for `count` sequential GETs: the per-request cost each transport adds."""
    started = time.perf_counter()
    for _ in range(count):
        await client.get("configmaps", name, namespace=namespace)
    return time.perf_counter() - started


async def run(events: int, repeats: int) -> dict:
    data = tempfile.mkdtemp(prefix="bench-informer-")
    store = await Store.open(Path(data) / "store", fsync=False)
    # the window must hold both fills: the watch path replays the first
    server = APIServer(store, port=0, watch_capacity=2 * events + 1000, watcher_queue=events + 1000)
    await server.start()
    clients: dict[str, APIClient] = {"http": Client(server.url), "inprocess": InProcessClient(server)}
    writer = clients["inprocess"]
    try:
        # watch path: the N changes sit after from_rv in the watch cache
        await writer.ensure_namespace("watched")
        from_rv = (await writer.list("configmaps", namespace="watched"))["metadata"]["resourceVersion"]
        fill_started = time.perf_counter()
        await fill(writer, "watched", events, "w")
        fill_seconds = time.perf_counter() - fill_started
        await fill(writer, "listed", events, "l")
        runs: dict[str, dict[str, list[float]]] = {k: {"watch": [], "list": [], "get": []} for k in clients}
        gets = 2000
        for _ in range(repeats):
            for kind, client in clients.items():
                runs[kind]["watch"].append(events / await time_watch(client, "watched", from_rv, events))
                runs[kind]["list"].append(events / await time_list(client, "listed", events))
                runs[kind]["get"].append(gets / await time_gets(client, "listed", "l-000000", gets))
    finally:
        for client in clients.values():
            await client.close()
        await server.stop()
        await store.close()
    best = {kind: {path: round(max(rates)) for path, rates in paths.items()} for kind, paths in runs.items()}
    return {
        "benchmark": "informer events/s, API server -> handlers: HTTP Client vs InProcessClient",
        "command": "python benchmarks/bench_informer.py " + " ".join(sys.argv[1:]),
        "date": datetime.datetime.now(datetime.timezone.utc).replace(microsecond=0).isoformat(),
        "machine": {"platform": platform.platform(), "python": platform.python_version(), "cpus": os.cpu_count(),
                    "loop": "uvloop", "transport": "HTTP/1.1 plain on 127.0.0.1, same process as the server"},
        "events": events,
        "repeats": repeats,
        "watch_events_per_s": {k: v["watch"] for k, v in best.items()},
        "list_objects_per_s": {k: v["list"] for k, v in best.items()},
        "sequential_gets_per_s": {k: v["get"] for k, v in best.items()},
        "ratio_inprocess_over_http": {
            path: round(best["inprocess"][path] / best["http"][path], 2) for path in ("watch", "list", "get")
        },
        "writes_per_s_while_filling": round(events / fill_seconds),
        "runs": {k: {p: [round(r) for r in rates] for p, rates in v.items()} for k, v in runs.items()},
        "median": {k: {p: round(statistics.median(rates)) for p, rates in v.items()} for k, v in runs.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=20_000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    result = uvloop.run(run(args.events, args.repeats))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps({k: result[k] for k in ("watch_events_per_s", "list_objects_per_s", "sequential_gets_per_s",
                                              "ratio_inprocess_over_http")}, indent=2))


if __name__ == "__main__":
    main()
