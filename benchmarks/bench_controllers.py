"""Controller throughput: a ReplicaSet scaled 0 -> N pods (creates/s through the replicaset
controller, over HTTP against a `kplane apiserver` process and in-process over an InProcessClient),
a Deployment rolling N pods to a new template, and the controller manager's memory per cached pod.

- scale: the ReplicaSet exists with 0 replicas and the controller's caches are synced; the clock
  runs from the scale write until the controller's pod informer holds N pods of it (so the
  figure includes slow-start batches, expectations and the watch back into the cache).
- memory (HTTP run only: the API server lives in its own process): RSS of this process once its
  caches hold the N pods, minus RSS with the caches synced and empty, over N.
- rollout (in-process): a Deployment of M pods, all marked Ready by a stand-in kubelet (a pod
  handler writing pods/status), gets a new image; the clock runs until the Deployment reports
  M updated, available pods and no old ones. Default strategy (25% / 25%).

    .venv/bin/python benchmarks/bench_controllers.py [--pods 10000] [--rollout 1000]
"""
from __future__ import annotations

import argparse
import asyncio
import datetime
import gc
import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import uvloop

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pykube_plane.client import APIClient, Client, InProcessClient, NotFound  # noqa: E402
from pykube_plane.controllers import ControllerManager, ManagerOptions  # noqa: E402

RESULTS = Path(os.environ.get("BENCH_CONTROLLERS_OUT", ROOT / "benchmarks" / "results" / "controllers.json"))
NS = "bench"


def rss_bytes() -> int:
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _rs(replicas: int) -> dict:
    labels = {"app": "scale"}
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": "scale", "namespace": NS},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


async def _wait(check, timeout: float) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise TimeoutError("benchmark state not reached")
        await asyncio.sleep(0.02)


async def scale_run(client: APIClient, pods: int, measure_memory: bool) -> dict:
    await client.ensure_namespace(NS)
    manager = ControllerManager(client, ManagerOptions(controllers=["replicaset"], leader_elect=False))
    await manager.start()
    try:
        await _wait(lambda: "replicaset" in manager.controllers, 60)
        controller = manager.controllers["replicaset"]
        await asyncio.gather(*(i.wait_for_sync() for i in controller.informers))
        await client.create(_rs(0))
        await asyncio.sleep(0.5)
        gc.collect()
        before = rss_bytes()
        started = time.perf_counter()
        await client.scale("replicasets", "scale", pods, namespace=NS)
        await _wait(lambda: len(controller.pods.indexer) >= pods, 3600)
        elapsed = time.perf_counter() - started
        await asyncio.sleep(0.5)
        gc.collect()
        after = rss_bytes()
        out = {"pods": pods, "seconds": round(elapsed, 2), "creates_per_s": round(pods / elapsed, 1)}
        if measure_memory:
            out["rss_growth_bytes_per_cached_pod"] = round((after - before) / pods)
        return out
    finally:
        await manager.stop()


async def run_http(pods: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        kubeconfig = Path(tmp) / "admin.kubeconfig"
        proc = subprocess.Popen([sys.executable, "-m", "pykube_plane.cli.main", "apiserver", "--data-dir",
                                 str(Path(tmp) / "data"), "--secure-port", "0", "--write-kubeconfig", str(kubeconfig),
                                 "--unsafe-no-fsync", "--log-level", "warn"], cwd=ROOT)
        try:
            deadline = time.monotonic() + 60
            while not kubeconfig.exists():
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("kplane apiserver did not start")
                await asyncio.sleep(0.05)
            async with Client.from_kubeconfig(kubeconfig) as client:
                return await scale_run(client, pods, measure_memory=True)
        finally:
            proc.terminate()
            proc.wait(timeout=60)


async def _in_process(fn, *args):
    from pykube_plane.apiserver.server import APIServer
    from pykube_plane.store.store import Store
    with tempfile.TemporaryDirectory() as tmp:
        store = await Store.open(Path(tmp) / "store", fsync=False)
        server = APIServer(store, port=0)
        await server.start()
        try:
            return await fn(InProcessClient(server), *args)
        finally:
            await server.stop()
            await store.close()


async def rollout_run(client: APIClient, replicas: int) -> dict:
    from pykube_plane.controllers.podutil import is_ready
    await client.ensure_namespace(NS)
    manager = ControllerManager(client, ManagerOptions(controllers=["replicaset", "deployment"], leader_elect=False))
    await manager.start()
    marked: set[str] = set()
    tasks: set[asyncio.Task] = set()

    async def mark(pod: dict) -> None:
        now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        status = {"phase": "Running", "podIP": "10.1.0.1", "conditions": [
            {"type": "Ready", "status": "True", "lastTransitionTime": now}]}
        try:
            await client.patch("pods", pod["metadata"]["name"], {"status": status}, namespace=NS, subresource="status")
        except NotFound:
            pass

    def on_pod(pod: dict) -> None:      # the stand-in kubelet: every new pod starts Ready
        uid = pod["metadata"]["uid"]
        if uid in marked or is_ready(pod) or pod["metadata"].get("deletionTimestamp"):
            return
        marked.add(uid)
        t = asyncio.get_running_loop().create_task(mark(pod))
        tasks.add(t)
        t.add_done_callback(tasks.discard)
    try:
        await _wait(lambda: "deployment" in manager.controllers, 60)
        pods = manager.controllers["deployment"].pods
        pods.add_event_handler(on_add=on_pod, on_update=lambda old, new: on_pod(new))
        labels = {"app": "roll"}
        body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "roll", "namespace": NS},
                "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                         "template": {"metadata": {"labels": labels},
                                      "spec": {"containers": [{"name": "c", "image": "nginx:1"}]}}}}
        await client.create(body)
        deployments = manager.controllers["deployment"].deployments

        def complete(generation: int) -> bool:
            d = deployments.indexer.get(f"{NS}/roll") or {}
            s = d.get("status") or {}
            return (s.get("observedGeneration", 0) >= generation and s.get("updatedReplicas") == replicas
                    and s.get("availableReplicas") == replicas and s.get("replicas") == replicas)
        started = time.perf_counter()
        await _wait(lambda: complete(1), 3600)
        first = time.perf_counter() - started
        started = time.perf_counter()
        updated = await client.patch("deployments", "roll", {"spec": {"template": {"spec": {"containers": [
            {"name": "c", "image": "nginx:2"}]}}}}, namespace=NS, patch_type="strategic")
        await _wait(lambda: complete(updated["metadata"]["generation"]), 3600)
        rollout = time.perf_counter() - started
        return {"replicas": replicas, "first_rollout_seconds": round(first, 2),
                "update_rollout_seconds": round(rollout, 2),
                "pods_replaced_per_s": round(replicas / rollout, 1)}
    finally:
        await manager.stop()
        for t in list(tasks):
            t.cancel()


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--pods", type=int, default=10_000)
    parser.add_argument("--rollout", type=int, default=1_000)
    args = parser.parse_args()
    result = {
        "benchmark": "controller manager: ReplicaSet 0 -> N creates/s (HTTP vs in-process), Deployment rollout, "
                     "memory per cached pod",
        "command": f"python benchmarks/bench_controllers.py --pods {args.pods} --rollout {args.rollout}",
        "date": datetime.datetime.now(datetime.timezone.utc).isoformat(timespec="seconds"),
        "machine": {"python": platform.python_version(), "cpus": os.cpu_count(), "platform": platform.platform()},
    }
    result["scale_http"] = uvloop.run(run_http(args.pods))
    print("http", result["scale_http"], flush=True)
    result["scale_in_process"] = uvloop.run(_in_process(scale_run, args.pods, False))
    print("in-process", result["scale_in_process"], flush=True)
    result["rollout_in_process"] = uvloop.run(_in_process(rollout_run, args.rollout))
    print("rollout", result["rollout_in_process"], flush=True)
    result["ratio_in_process_over_http"] = round(
        result["scale_in_process"]["creates_per_s"] / result["scale_http"]["creates_per_s"], 2)
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(result, indent=2) + "\n")
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
