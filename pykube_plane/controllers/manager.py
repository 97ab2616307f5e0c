"""`ControllerManager`: every enabled controller on one SharedInformerFactory, led by one Lease.

    manager = ControllerManager(client, ManagerOptions(controllers=["*"], leader_elect=True))
    await manager.start()          # serves /healthz and /metrics when a port is given
    ...
    await manager.stop()

With leader election the controllers run only while this process holds the Lease
kube-system/kube-controller-manager; losing it stops them and sets `lost_leadership` (the
command exits then, as kube-controller-manager does, so a restart starts from fresh caches).
"""
from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from pykube_plane.client import APIClient, LeaderElector, SharedInformerFactory

from . import registry
from .controller import Controller, ControllerContext
from .events import EventRecorder
from .metrics import WorkqueueMetrics

log = logging.getLogger(__name__)

COMPONENT = "kube-controller-manager"


@dataclass
class ManagerOptions:
    controllers: list[str] = field(default_factory=lambda: ["*"])
    concurrency: dict[str, int] = field(default_factory=dict)     # controller name -> workers
    leader_elect: bool = True
    lease_namespace: str = "kube-system"
    lease_name: str = "kube-controller-manager"
    lease_duration: float = 15.0
    renew_deadline: float = 10.0
    retry_period: float = 2.0
    identity: str | None = None
    resync_period: float = 0.0
    bind_address: str = "127.0.0.1"
    port: int | None = None                     # /healthz + /metrics; None: not served
    extra: dict[str, Any] = field(default_factory=dict)   # per-controller flags (terminated_pod_gc_threshold, ...)


class ControllerManager:
    def __init__(self, client: APIClient, options: ManagerOptions | None = None) -> None:
        self.client = client
        self.options = options or ManagerOptions()
        self.names = registry.enabled_controllers(self.options.controllers)
        self.metrics = WorkqueueMetrics()
        self.recorder = EventRecorder(client, COMPONENT)
        self.factory: SharedInformerFactory | None = None
        self.controllers: dict[str, Controller] = {}
        self.leading = asyncio.Event()
        self.lost_leadership = asyncio.Event()
        self.elector: LeaderElector | None = None
        self._task: asyncio.Task | None = None
        self._runner: web.AppRunner | None = None
        self._stopping = False
        self.port: int | None = None

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        if self.options.port is not None:
            await self._serve()
        o = self.options
        loop = asyncio.get_running_loop()
        if o.leader_elect:
            self.metrics.leader.labels(COMPONENT).set(0)      # a follower until the lease is ours
            self.elector = LeaderElector(
                self.client, o.lease_namespace, o.lease_name, identity=o.identity,
                lease_duration=o.lease_duration, renew_deadline=o.renew_deadline, retry_period=o.retry_period,
                on_started_leading=self._run_controllers, on_stopped_leading=self._stopped_leading)
            self._task = loop.create_task(self._elect(), name="controller-manager election")
        else:
            self._task = loop.create_task(self._run_controllers(), name="controller-manager")

    async def _elect(self) -> None:
        assert self.elector is not None
        await self.client.ensure_namespace(self.options.lease_namespace)
        await self.elector.run()

    def _stopped_leading(self) -> None:
        self.metrics.leader.labels(COMPONENT).set(0)
        self.leading.clear()
        if not self._stopping:      # a stop releases the lease on purpose: not a loss
            log.warning("leaderelection lost")
            self.lost_leadership.set()

    async def _run_controllers(self) -> None:
        self.factory = SharedInformerFactory(self.client, resync_period=self.options.resync_period)
        ctx = ControllerContext(self.client, self.factory, self.metrics, self.recorder,
                                dict(self.options.concurrency), dict(self.options.extra))
        for name in self.names:
            try:
                self.controllers[name] = registry.factory(name)(ctx)
            except Exception:
                log.exception("controller %s could not start", name)
        self.factory.start()
        self.leading.set()
        self.metrics.leader.labels(COMPONENT).set(1)
        log.info("started controllers: %s", ", ".join(self.controllers))
        tasks = [asyncio.get_running_loop().create_task(c.run(), name=f"controller {n}")
                 for n, c in self.controllers.items()]
        try:
            # controllers may ask for informers late (the garbage collector discovers them)
            await asyncio.sleep(0)
            self.factory.start()
            await asyncio.gather(*tasks)
        finally:
            for t in tasks:
                t.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
            await self.factory.shutdown()

    async def wait_for_leading(self, timeout: float | None = None) -> bool:
        try:
            await asyncio.wait_for(self.leading.wait(), timeout)
            return True
        except asyncio.TimeoutError:
            return False

    async def stop(self) -> None:
        self._stopping = True
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except (asyncio.CancelledError, Exception):
                pass
            self._task = None
        await self.recorder.flush()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None

    async def __aenter__(self) -> "ControllerManager":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # -- /healthz, /metrics ----------------------------------------------------------------------

    async def _serve(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/readyz", self._healthz)
        app.router.add_get("/livez", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.options.bind_address, self.options.port)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]     # type: ignore[union-attr]

    async def _healthz(self, request: web.Request) -> web.Response:
        if self._task is None or self._task.done() and not self.lost_leadership.is_set():
            return web.Response(status=500, text="[-]controller-manager stopped\nhealthz check failed\n")
        if self.lost_leadership.is_set():
            return web.Response(status=500, text="[-]leaderElection failed: lost the lease\nhealthz check failed\n")
        return web.Response(text="ok")

    async def _metrics(self, request: web.Request) -> web.Response:
        body = generate_latest(self.metrics.registry)
        return web.Response(body=body, headers={"Content-Type": CONTENT_TYPE_LATEST})
