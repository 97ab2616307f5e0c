"""The ControllerManager in-process, over an InProcessClient on a real store and API server: the
embedding path (no HTTP), and the base Controller's promise that a failing sync is retried with
backoff, reported as an Event, and never stops the workers."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane.client import InProcessClient
from pykube_plane.controllers import Controller, ControllerManager, ManagerOptions
from pykube_plane.controllers.controller import ControllerContext
from pykube_plane.controllers.events import EventRecorder
from pykube_plane.controllers.metrics import WorkqueueMetrics


async def _poll(what, check, timeout=60.0):
    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        result = await check()
        if result:
            return result
        await asyncio.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


def _deployment(name, replicas):
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": "default"},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


async def test_in_process_manager_with_leader_election_runs_a_deployment(api_server):
    client = InProcessClient(api_server)
    options = ManagerOptions(lease_duration=4, renew_deadline=3, retry_period=1, identity="embedded", port=0)
    async with ControllerManager(client, options) as manager:
        assert await manager.wait_for_leading(30)
        lease = await client.get("leases", "kube-controller-manager", namespace="kube-system")
        assert lease["spec"]["holderIdentity"] == "embedded"
        await client.create(_deployment("web", 4))

        async def four_pods():
            return len((await client.list("pods", namespace="default", label_selector="app=web"))["items"]) == 4
        await _poll("4 pods", four_pods)
        d = await client.get("deployments", "web", namespace="default")
        assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "1"
        assert manager.port


class _Flaky(Controller):
    name = "flaky"

    def __init__(self, ctx):
        super().__init__(ctx)
        self.configmaps = self.watch("configmaps")
        self.attempts: dict[str, int] = {}
        self.done: set[str] = set()

    async def sync(self, key):
        self.attempts[key] = self.attempts.get(key, 0) + 1
        cm = self.configmaps.indexer.get(key)
        if cm is not None and (cm.get("data") or {}).get("odd") == "yes" and self.attempts[key] < 4:
            raise ValueError("cannot handle an odd object")
        self.done.add(key)


async def test_failing_sync_is_retried_with_backoff_and_reported_without_stopping_workers(api_server):
    from pykube_plane.client import SharedInformerFactory
    client = InProcessClient(api_server)
    factory = SharedInformerFactory(client)
    ctx = ControllerContext(client, factory, WorkqueueMetrics(), EventRecorder(client, "test"), {"flaky": 1})
    controller = _Flaky(ctx)
    factory.start()
    task = asyncio.get_running_loop().create_task(controller.run())
    try:
        await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "odd", "namespace": "default"},
                             "data": {"odd": "yes"}})
        await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "plain", "namespace": "default"},
                             "data": {}})

        async def both_done():
            return {"default/odd", "default/plain"} <= controller.done
        await _poll("both reconciled", both_done)
        assert controller.attempts["default/odd"] == 4       # three failures, retried, then success
        assert controller.errors == 3
        assert controller.queue.num_requeues("default/odd") == 0     # forgotten after success

        async def event():
            items = (await client.list("events", namespace="default"))["items"]
            return [e for e in items if e["reason"] == "SyncFailed" and e["involvedObject"]["name"] == "odd"]
        events = await _poll("a SyncFailed event", event)
        assert "cannot handle an odd object" in events[0]["message"]
        assert events[0]["type"] == "Warning"
    finally:
        task.cancel()
        await asyncio.gather(task, return_exceptions=True)
        await factory.shutdown()


@pytest.fixture
async def api_server(store):
    from pykube_plane.apiserver.server import APIServer
    server = APIServer(store, port=0, bookmark_interval=0.2)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def store(tmp_path):
    from pykube_plane.store.store import Store
    s = await Store.open(tmp_path / "store", fsync=False)
    yield s
    await s.close()
