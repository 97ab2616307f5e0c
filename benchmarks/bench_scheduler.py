"""Scheduler throughput in the shape of Kubernetes' scheduler_perf: nodes are created, then
`init` pods are scheduled, then `measure` pods are created and the time from the first create to
the last binding the API server accepted gives pods/s (created -> bound, end to end). Everything
runs in one process and one event loop (uvloop): an APIServer on the embedded Store (fsync off),
an InProcessClient, and the Scheduler, as `kplane up` runs them.

In the same run, the compiled kernels against the plain-Python reference
(tests/scheduler/reference.py) on the same random cluster and pods: pods filtered and scored per
second each way, and the ratio.

    .venv/bin/python benchmarks/bench_scheduler.py [--basic-nodes 5000 --basic-pods 10000] [--quick]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import json
import os
import platform
import random
import sys
import tempfile
import time
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pykube_plane import _sched  # noqa: E402
from pykube_plane.apiserver.server import APIServer  # noqa: E402
from pykube_plane.client import (  # noqa: E402
    AlreadyExists, InProcessClient, InternalError, ServerTimeout, ServiceUnavailable,
)
from pykube_plane.scheduler import Profile, Scheduler  # noqa: E402
from pykube_plane.scheduler.state import ClusterState  # noqa: E402
from pykube_plane.store.store import Store  # noqa: E402
from tests.scheduler.clusters import make_node, make_pod  # noqa: E402
from tests.scheduler.reference import Reference  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "scheduler.json"
ZONES = ["moon-1", "moon-2", "moon-3"]


def node(name: str, zone: str) -> dict:
    """scheduler_perf's node-default: 4 cpu, 32Gi, 110 pods."""
    return {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name,
                                                  "topology.kubernetes.io/zone": zone}}}


def pod(name: str, namespace: str, cpu: str = "100m", memory: str = "500Mi", labels=None, **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": namespace, "labels": labels or {}},
            "spec": {"containers": [{"name": "pause", "image": "registry.k8s.io/pause:3.10",
                                     "resources": {"requests": {"cpu": cpu, "memory": memory}}}],
                     "terminationGracePeriodSeconds": 0, **spec}}


def basic(i, ns):
    return pod(f"p-{i}", ns)


def node_affinity(i, ns):
    return pod(f"p-{i}", ns, affinity={"nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {
        "nodeSelectorTerms": [{"matchExpressions": [
            {"key": "topology.kubernetes.io/zone", "operator": "In", "values": ["moon-1"]}]}]}}})


def spreading(i, ns):
    return pod(f"p-{i}", ns, labels={"color": "blue"}, topologySpreadConstraints=[
        {"maxSkew": 5, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": {"matchLabels": {"color": "blue"}}}])


def anti_affinity(i, ns):
    return pod(f"p-{i}", ns, labels={"color": "green"}, affinity={"podAntiAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": [
            {"labelSelector": {"matchLabels": {"color": "green"}}, "topologyKey": "kubernetes.io/hostname"}]}})


def low_priority(i, ns):
    return pod(f"p-{i}", ns, cpu="900m", priorityClassName="low")


def high_priority(i, ns):
    return pod(f"p-{i}", ns, cpu="3000m", priorityClassName="high")


# name, nodes, init pods (template), measured pods (template), threshold (pods/s) or None
WORKLOADS = {
    "SchedulingBasic": (5000, 0, basic, 10000, basic, 680),
    "SchedulingNodeAffinity": (1000, 500, basic, 1000, node_affinity, None),
    "TopologySpreading": (1000, 1000, basic, 1000, spreading, None),
    "SchedulingPodAntiAffinity": (500, 100, anti_affinity, 400, anti_affinity, None),
    "PreemptionBasic": (500, 2000, low_priority, 500, high_priority, None),
}


async def create_all(client, bodies, concurrency: int = 64) -> None:
    it = iter(bodies)

    async def create(body) -> None:
        # On a loaded 2-core machine a store proposal can time out; the create may still have
        # happened, so a retry that finds the object is a success.
        for attempt in range(5):
            try:
                await client.create(body)
                return
            except AlreadyExists:
                if attempt:
                    return
                raise
            except (InternalError, ServerTimeout, ServiceUnavailable):
                if attempt == 4:
                    raise
                await asyncio.sleep(0.5)

    async def worker():
        for body in it:
            await create(body)
    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def bounded(fn, items, concurrency: int = 64) -> None:
    it = iter(items)

    async def worker():
        for item in it:
            await fn(item)
    await asyncio.gather(*(worker() for _ in range(concurrency)))


async def wait_bound(client, namespace: str, count: int, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while True:
        items = (await client.list("pods", namespace=namespace))["items"]
        if sum(1 for p in items if (p.get("spec") or {}).get("nodeName")) >= count:
            return
        if time.monotonic() > deadline:
            raise TimeoutError(f"only {sum(1 for p in items if p['spec'].get('nodeName'))}/{count} bound")
        await asyncio.sleep(0.05)


async def run_workload(name: str, n_nodes: int, n_init: int, init_t, n_measure: int, measure_t,
                       threshold, pending_first: bool = False) -> dict:
    """pending_first: the measured pods are all created before the scheduler starts, and the
    time runs from its informers being synced to the last binding (the scheduler's own rate,
    without sharing the loop with the creates)."""
    with tempfile.TemporaryDirectory() as data:
        store = await Store.open(Path(data) / "store", fsync=False)
        server = APIServer(store, port=0, watch_capacity=4 * (n_nodes + n_init + n_measure) + 1000,
                           watcher_queue=2 * (n_init + n_measure + n_nodes) + 1000)
        await server.start()
        client = InProcessClient(server)
        try:
            for pc, value in (("low", 100), ("high", 1000)):
                await client.create({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                                     "metadata": {"name": pc}, "value": value})
            await create_all(client, (node(f"node-{i}", ZONES[i % 3]) for i in range(n_nodes)))

            async def set_status(i):
                body = await client.get("nodes", f"node-{i}")
                body["status"] = {"allocatable": {"cpu": "4", "memory": "32Gi", "pods": "110"},
                                  "capacity": {"cpu": "4", "memory": "32Gi", "pods": "110"}}
                await client.update_status(body)
            await bounded(set_status, range(n_nodes))
            for ns in ("init", "measure"):
                await client.ensure_namespace(ns)
            if pending_first:
                await create_all(client, (measure_t(i, "measure") for i in range(n_measure)))
            scheduler = Scheduler(client)
            await scheduler.start()
            try:
                t0 = time.perf_counter()
                await create_all(client, (init_t(i, "init") for i in range(n_init)))
                if n_init:
                    await wait_bound(client, "init", n_init, timeout=600)
                init_seconds = time.perf_counter() - t0
                bound_before = scheduler.scheduled
                t0 = time.perf_counter()
                if not pending_first:
                    await create_all(client, (measure_t(i, "measure") for i in range(n_measure)))
                created = time.perf_counter() - t0
                while scheduler.scheduled - bound_before < n_measure:
                    await asyncio.sleep(0.01)
                    if time.perf_counter() - t0 > 900:
                        raise TimeoutError(f"{name}: {scheduler.scheduled - bound_before}/{n_measure} bound")
                seconds = time.perf_counter() - t0
                await wait_bound(client, "measure", n_measure, timeout=60)   # the API server agrees
                remaining_init = len((await client.list("pods", namespace="init"))["items"])
                events_dropped = scheduler.events.dropped
            finally:
                await scheduler.stop()
        finally:
            await client.close()
            await server.stop()
            await store.close()
    out = {"nodes": n_nodes, "init_pods": n_init, "measured_pods": n_measure,
           "pods_per_s": round(n_measure / seconds, 1), "seconds": round(seconds, 2),
           "init_seconds": round(init_seconds, 2), "preempted": n_init - remaining_init,
           "events_dropped": events_dropped,
           "upstream_threshold_pods_per_s": threshold}
    if pending_first:
        out["measured"] = "pods pending before the scheduler started: synced -> last binding"
    else:
        out["measured"] = "first create -> last binding (creates and scheduler share the loop)"
        out["create_seconds"] = round(created, 2)
    return out


def kernel_vs_reference(n_nodes: int, n_pods: int, n_queries: int, seed: int = 7, plain: bool = False) -> dict:
    """plain: SchedulingBasic's pods (requests only) on the default sample of nodes
    (percentageOfNodesToScore); else random pods using every plugin, over all nodes."""
    rng = random.Random(seed)
    state = ClusterState()
    nodes = [make_node(rng, f"node-{i}") for i in range(n_nodes)]
    for n in nodes:
        n["status"]["allocatable"].update({"cpu": "64", "memory": "256Gi", "pods": "110"})
        state.set_node(n)
    names = [n["metadata"]["name"] for n in nodes]
    pods_on: dict[str, list] = {}
    for i in range(n_pods):
        p = make_pod(rng, f"e{i}", names, rich=not plain)
        target = rng.choice(names)
        p["spec"]["nodeName"] = target
        state.add_pod(p, target)
        pods_on.setdefault(target, []).append(p)
    queries = [make_pod(rng, f"q{i}", names, rich=not plain) for i in range(n_queries)]
    to_find = Profile().num_feasible_nodes_to_find(n_nodes) if plain else n_nodes
    for q in queries:
        q["spec"].pop("nodeName", None)
    weights = [3, 2, 1, 1, 1, 2, 2]
    reference = Reference(nodes, pods_on)
    kernel = ref = 0.0
    # Alternate per pod, so that load from elsewhere on a shared machine hits both the same.
    for q in queries:
        t0 = time.perf_counter()
        state.table.run(state.query(q), 0, to_find, _sched.F_ALL, weights)
        t1 = time.perf_counter()
        feasible, _, _ = reference.run(q, 0, to_find)
        reference.scores(q, feasible)
        t2 = time.perf_counter()
        kernel += t1 - t0
        ref += t2 - t1
    return {"nodes": n_nodes, "existing_pods": n_pods, "pods": n_queries,
            "kernel_pods_per_s": round(n_queries / kernel, 1), "reference_pods_per_s": round(n_queries / ref, 2),
            "ratio": round(ref / kernel, 1),
            "nodes_to_find": to_find, "pod_kind": "plain (requests only)" if plain else "random, every plugin",
            "note": "kernel time includes building the PodQuery (spread/inter-pod counts) in Python"}


async def run_all(args) -> dict:
    results = {}
    workloads = dict(WORKLOADS)
    sb = workloads["SchedulingBasic"]
    workloads["SchedulingBasic"] = (args.basic_nodes, sb[1], sb[2], args.basic_pods, sb[4], sb[5])
    for name, spec in workloads.items():
        if args.only and name not in args.only:
            continue
        if args.quick:
            spec = (min(spec[0], 500), min(spec[1], 500), spec[2], min(spec[3], 500), spec[4], spec[5])
        results[name] = await run_workload(name, *spec)
        print(name, json.dumps(results[name]), flush=True)
        if name == "SchedulingBasic":
            results[name + "/pending"] = await run_workload(name, *spec, pending_first=True)
            print(name + "/pending", json.dumps(results[name + "/pending"]), flush=True)
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--basic-nodes", type=int, default=5000)
    parser.add_argument("--basic-pods", type=int, default=10000)
    parser.add_argument("--quick", action="store_true", help="500 nodes / 500 pods at most per workload")
    parser.add_argument("--only", nargs="*", default=None)
    parser.add_argument("--kernel-nodes", type=int, default=500)
    parser.add_argument("--kernel-pods", type=int, default=2000)
    parser.add_argument("--kernel-queries", type=int, default=100)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    kernel = kernel_vs_reference(args.kernel_nodes, args.kernel_pods, args.kernel_queries)
    print("kernel_vs_reference", json.dumps(kernel), flush=True)
    kernel_plain = kernel_vs_reference(5000, 10000, 50, plain=True)
    print("kernel_vs_reference_plain", json.dumps(kernel_plain), flush=True)
    workloads = uvloop.run(run_all(args))
    result = {"date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
              "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "loop": "uvloop"},
              "command": " ".join(["benchmarks/bench_scheduler.py", *sys.argv[1:]]),
              "workloads": workloads, "kernel_vs_reference": kernel, "kernel_vs_reference_plain": kernel_plain}
    args.out.parent.mkdir(exist_ok=True)
    args.out.write_text(json.dumps(result, indent=2) + "\n")


if __name__ == "__main__":
    main()
