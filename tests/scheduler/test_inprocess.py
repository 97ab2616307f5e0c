"""The Scheduler object in-process over an InProcessClient on a real APIServer and Store: the
queue, assume/bind, preemption, profiles by schedulerName, Python plugins."""
from __future__ import annotations

import asyncio
import time

import pytest

from pykube_plane.client import InProcessClient, NotFound
from pykube_plane.scheduler import Scheduler, SchedulerConfig


@pytest.fixture
async def api_server(tmp_path):
    from pykube_plane.apiserver.server import APIServer
    from pykube_plane.store.store import Store
    store = await Store.open(tmp_path / "store", fsync=False)
    server = APIServer(store, port=0, bookmark_interval=0.2)
    await server.start()
    yield server
    await server.stop()
    await store.close()


@pytest.fixture
async def client(api_server):
    async with InProcessClient(api_server) as c:
        yield c


async def add_node(client, name: str, cpu: str = "4", labels: dict | None = None, taints=None) -> None:
    await client.create({"apiVersion": "v1", "kind": "Node",
                         "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
                         "spec": {"taints": taints or []}})
    node = await client.get("nodes", name)
    node["status"] = {"allocatable": {"cpu": cpu, "memory": "8Gi", "pods": "110"},
                      "capacity": {"cpu": cpu, "memory": "8Gi", "pods": "110"}}
    await client.update_status(node)


def pod(name: str, cpu: str = "100m", **spec) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "namespace": "default",
                                                            "labels": spec.pop("labels", {})},
            "spec": {"containers": [{"name": "c", "image": "nginx",
                                     "resources": {"requests": {"cpu": cpu}}}], **spec}}


async def eventually(check, timeout: float = 30.0):
    deadline = time.monotonic() + timeout
    while True:
        value = await check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out; last {value!r}")
        await asyncio.sleep(0.05)


async def node_of(client, name: str) -> str:
    return (await client.get("pods", name, namespace="default"))["spec"].get("nodeName", "")


async def events(client, name: str, reason: str) -> list[str]:
    items = (await client.list("events", namespace="default",
                               field_selector=f"involvedObject.name={name}"))["items"]
    return [e["message"] for e in items if e["reason"] == reason]


async def test_preemption_evicts_lower_priority(client):
    await client.create({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                         "metadata": {"name": "high"}, "value": 1000})
    await client.create({"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass",
                         "metadata": {"name": "polite"}, "value": 1000, "preemptionPolicy": "Never"})
    await add_node(client, "n1", cpu="1")
    scheduler = Scheduler(client)
    await scheduler.start()
    try:
        # No kubelet here: a victim with a grace period would stay Terminating for ever.
        await client.create(pod("low", cpu="800m", terminationGracePeriodSeconds=0))
        assert await eventually(lambda: node_of(client, "low")) == "n1"
        await client.create(pod("polite", cpu="800m", priorityClassName="polite"))
        message = (await eventually(lambda: events(client, "polite", "FailedScheduling")))[0]
        assert message == ("0/1 nodes are available: 1 Insufficient cpu. "
                           "preemption: not eligible due to preemptionPolicy=Never.")
        # Another attempt with the same outcome (a node update moves it back) counts on the
        # same event, as client-go's event correlator does.
        await client.patch("nodes", "n1", {"metadata": {"labels": {"touched": "yes"}}})

        async def counted():
            items = (await client.list("events", namespace="default",
                                       field_selector="involvedObject.name=polite"))["items"]
            failed = [e for e in items if e["reason"] == "FailedScheduling"]
            return len(failed) == 1 and failed[0]["count"] >= 2
        await eventually(counted)
        await client.create(pod("high", cpu="800m", priorityClassName="high"))

        async def low_gone():
            try:
                await client.get("pods", "low", namespace="default")
                return False
            except NotFound:
                return True
        await eventually(low_gone)
        assert await eventually(lambda: node_of(client, "high")) == "n1"
        high = await client.get("pods", "high", namespace="default")
        assert high["status"].get("nominatedNodeName") == "n1"
        preempted = (await client.list("events", namespace="default",
                                       field_selector="involvedObject.name=low"))["items"]
        assert [e["message"] for e in preempted if e["reason"] == "Preempted"] == [
            f"Preempted by pod {high['metadata']['uid']} on node n1"]
        assert (await client.get("pods", "polite", namespace="default"))["spec"].get("nodeName") is None
    finally:
        await scheduler.stop()


class OnlyEvenNodes:
    """A Python plugin: filters out nodes whose name ends in an odd digit, prefers higher digits."""
    name = "OnlyEvenNodes"

    def filter(self, pod, node):
        return None if int(node["metadata"]["name"][-1]) % 2 == 0 else "node(s) were odd"

    def score(self, pod, node):
        return int(node["metadata"]["name"][-1]) * 10


async def test_profiles_and_python_plugins(client):
    config = SchedulerConfig.from_yaml("""
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
profiles:
- schedulerName: default-scheduler
- schedulerName: even-scheduler
  plugins:
    multiPoint:
      enabled:
      - name: OnlyEvenNodes
        weight: 100
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
""", python_plugins={"OnlyEvenNodes": OnlyEvenNodes()})
    for i in range(1, 6):
        await add_node(client, f"node-{i}")
    scheduler = Scheduler(client, config, plugins={"OnlyEvenNodes": OnlyEvenNodes()})
    await scheduler.start()
    try:
        await client.create(pod("even", schedulerName="even-scheduler"))
        assert await eventually(lambda: node_of(client, "even")) == "node-4"
        await client.create(pod("other", schedulerName="someone-else"))
        await client.create(pod("gated", schedulingGates=[{"name": "wait"}]))
        await client.create(pod("normal"))
        assert await eventually(lambda: node_of(client, "normal"))
        await asyncio.sleep(0.5)
        assert await node_of(client, "other") == ""         # not ours: left alone
        assert await node_of(client, "gated") == ""         # gated: held back
        assert scheduler.queue.sizes()["gated"] == 1
        gated = await client.get("pods", "gated", namespace="default")
        gated["spec"]["schedulingGates"] = []
        await client.update(gated)
        assert await eventually(lambda: node_of(client, "gated"))
        # Everything unfit for the even profile: the plugin's reason shows in the message.
        await client.create(pod("odd-only", schedulerName="even-scheduler",
                                nodeSelector={"kubernetes.io/hostname": "node-3"}))
        message = (await eventually(lambda: events(client, "odd-only", "FailedScheduling")))[0]
        assert message == ("0/5 nodes are available: 1 node(s) were odd, 4 node(s) didn't match Pod's node "
                           "affinity/selector. preemption: 0/5 nodes are available: 5 Preemption is not helpful "
                           "for scheduling."), message
    finally:
        await scheduler.stop()


async def test_disruption_budgets_are_not_served_here_and_the_scheduler_runs_without_them(client):
    """This API server does not serve policy/v1 PodDisruptionBudgets: the scheduler notices and
    preempts without them (no informer left retrying a 404)."""
    scheduler = Scheduler(client)
    await scheduler.start()
    try:
        assert scheduler.pdbs is None and scheduler.disruption_budgets() == []
    finally:
        await scheduler.stop()


async def test_a_long_kernel_call_leaves_the_event_loop_free(client):
    """A kernel call expected to take longer than the threshold (from the cost measured per node)
    runs in a worker thread without the GIL: other coroutines run meanwhile. Short ones run inline."""
    scheduler = Scheduler(client)
    for i in range(600):
        scheduler.state.set_node({"metadata": {"name": f"n{i}", "labels": {"zone": f"z{i % 7}"}},
                                  "status": {"allocatable": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
    spread = pod("spread", labels={"app": "s"}, topologySpreadConstraints=[
        {"maxSkew": 1, "topologyKey": "zone", "whenUnsatisfiable": "DoNotSchedule",
         "labelSelector": {"matchLabels": {"app": "s"}}}])
    ticks = 0

    async def ticker():
        nonlocal ticks
        while True:
            ticks += 1
            await asyncio.sleep(0)
    task = asyncio.create_task(ticker())
    await asyncio.sleep(0)
    profile = scheduler.profiles["default-scheduler"]
    try:
        before = ticks
        node, _, _, _ = await scheduler.find_node(pod("plain"), profile)    # microseconds: inline
        assert node and ticks == before and scheduler.kernel_cost[False] > 0
        node, _, _, _ = await scheduler.find_node(spread, profile)          # first: measured inline
        assert node and scheduler.kernel_cost[True] > 0
        scheduler.thread_threshold = 0.0        # as if this cluster made every spread pod slow
        before = ticks
        node, _, _, _ = await scheduler.find_node(spread, profile)          # offloaded
        assert node and ticks > before
    finally:
        task.cancel()
