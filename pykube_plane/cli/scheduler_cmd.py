"""`kplane scheduler`: the scheduler as a process, with kube-scheduler's flags.

    kplane scheduler --kubeconfig admin.kubeconfig --leader-elect --secure-port 10259

Leader election on the Lease kube-system/kube-scheduler (--leader-elect-resource-namespace/-name);
only the leader schedules. /healthz and /metrics (Prometheus) are served over plain HTTP on
--bind-address:--secure-port (127.0.0.1 by default; kube-scheduler serves HTTPS there).
"""
from __future__ import annotations

import asyncio
import logging
import signal
import socket
import uuid

import click

from pykube_plane.cli.apiserver_cmd import _duration

log = logging.getLogger("pykube_plane.scheduler")


async def _serve_health(scheduler_box: dict, metrics, host: str, port: int, port_file: str | None):
    from aiohttp import web

    async def healthz(_request):
        return web.Response(text="ok")

    async def metrics_handler(_request):
        return web.Response(body=metrics.exposition(), content_type="text/plain", charset="utf-8")

    app = web.Application()
    app.router.add_get("/healthz", healthz)
    app.router.add_get("/livez", healthz)
    app.router.add_get("/readyz", healthz)
    app.router.add_get("/metrics", metrics_handler)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, host, port)
    await site.start()
    bound = site._server.sockets[0].getsockname()[1]       # port 0 picks one
    log.info("serving /healthz and /metrics on http://%s:%d", host, bound)
    if port_file:
        with open(port_file, "w") as f:
            f.write(str(bound))
    return runner


async def _main(opts: dict) -> None:
    from pykube_plane.client import Client, LeaderElector
    from pykube_plane.scheduler import Scheduler, SchedulerConfig
    from pykube_plane.scheduler.metrics import SchedulerMetrics

    config = SchedulerConfig()
    if opts["config"]:
        with open(opts["config"]) as f:
            config = SchedulerConfig.from_yaml(f.read())
    metrics = SchedulerMetrics()
    identity = f"{socket.gethostname()}_{uuid.uuid4()}"
    client = Client.from_kubeconfig(opts["kubeconfig"])
    runner = await _serve_health({}, metrics, opts["bind_address"], opts["secure_port"], opts["port_file"])
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)

    async def lead() -> None:
        scheduler = Scheduler(client, config, identity=identity, metrics=metrics)
        metrics.leader.labels(opts["lease_name"]).set(1)
        await scheduler.start()
        log.info("scheduling as %s", identity)
        try:
            await asyncio.Event().wait()
        finally:
            metrics.leader.labels(opts["lease_name"]).set(0)
            await scheduler.stop()

    try:
        if opts["leader_elect"]:
            elector = LeaderElector(client, opts["lease_namespace"], opts["lease_name"], identity=identity,
                                    lease_duration=opts["lease_duration"], renew_deadline=opts["renew_deadline"],
                                    retry_period=opts["retry_period"], on_started_leading=lead,
                                    on_new_leader=lambda who: log.info("leader is %s", who))
            work = asyncio.create_task(elector.run())
        else:
            work = asyncio.create_task(lead())
        waiter = asyncio.create_task(stop.wait())
        done, _ = await asyncio.wait({work, waiter}, return_when=asyncio.FIRST_COMPLETED)
        if work in done and not waiter.done():
            work.result()
            log.error("lost leadership; exiting")      # like kube-scheduler: exit and be restarted
        work.cancel()
        waiter.cancel()
        await asyncio.gather(work, waiter, return_exceptions=True)
    finally:
        await runner.cleanup()
        await client.close()


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--kubeconfig", required=True, help="Kubeconfig of the API server to schedule for.")
@click.option("--config", default=None, help="A KubeSchedulerConfiguration YAML file (profiles, plugins, "
                                             "weights, percentageOfNodesToScore).")
@click.option("--leader-elect", type=click.BOOL, default=True, is_flag=False, flag_value=True, show_default=True,
              help="Take a Lease before scheduling; only the leader schedules (--leader-elect=false: never).")
@click.option("--leader-elect-lease-duration", "lease_duration", default="15s", show_default=True)
@click.option("--leader-elect-renew-deadline", "renew_deadline", default="10s", show_default=True)
@click.option("--leader-elect-retry-period", "retry_period", default="2s", show_default=True)
@click.option("--leader-elect-resource-name", "lease_name", default="kube-scheduler", show_default=True)
@click.option("--leader-elect-resource-namespace", "lease_namespace", default="kube-system", show_default=True)
@click.option("--secure-port", type=int, default=10259, show_default=True,
              help="Port of /healthz and /metrics (plain HTTP here; 0 picks a free port).")
@click.option("--bind-address", default="127.0.0.1", show_default=True)
@click.option("--write-port-file", "port_file", default=None, help="Write the /healthz port here once serving.")
@click.option("--log-level", type=click.Choice(["debug", "info", "warn", "error"]), default="info",
              show_default=True)
def scheduler(kubeconfig, config, leader_elect, lease_duration, renew_deadline, retry_period, lease_name,
              lease_namespace, secure_port, bind_address, port_file, log_level) -> None:
    """Run the scheduler: bind pending pods to nodes."""
    logging.basicConfig(level={"warn": "WARNING"}.get(log_level, log_level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    from pykube_plane.client import ConfigError as KubeconfigError
    from pykube_plane.scheduler.config import ConfigError
    opts = dict(kubeconfig=kubeconfig, config=config, leader_elect=leader_elect,
                lease_duration=_duration(lease_duration), renew_deadline=_duration(renew_deadline),
                retry_period=_duration(retry_period), lease_name=lease_name, lease_namespace=lease_namespace,
                secure_port=secure_port, bind_address=bind_address, port_file=port_file)
    try:
        asyncio.run(_main(opts))
    except ConfigError as e:
        raise click.ClickException(f"invalid --config: {e}") from None
    except KubeconfigError as e:
        raise click.ClickException(f"invalid --kubeconfig: {e}") from None
    except OSError as e:
        raise click.ClickException(str(e)) from None
