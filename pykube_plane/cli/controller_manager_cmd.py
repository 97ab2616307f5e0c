"""`kplane controller-manager`: the control loops as a process, with kube-controller-manager's flags.

    kplane controller-manager --kubeconfig admin.kubeconfig --controllers='*,-podgc'

Leader election (Lease kube-system/kube-controller-manager) is on by default: of several
processes one runs the controllers; when it loses the lease it exits (as kube-controller-manager
does) and another takes over. /healthz and /metrics are served on --bind-address:--port (plain
HTTP; --port 0 picks a free port, logged at start).
"""
from __future__ import annotations

import asyncio
import logging
import re
import signal
import sys

import click

# flag -> controller name (kube-controller-manager's --concurrent-*-syncs)
CONCURRENCY_FLAGS = {
    "concurrent_replicaset_syncs": "replicaset",
    "concurrent_rc_syncs": "replicationcontroller",
    "concurrent_deployment_syncs": "deployment",
    "concurrent_endpoint_syncs": "endpoint",
    "concurrent_namespace_syncs": "namespace",
    "concurrent_serviceaccount_syncs": "serviceaccount",
    "concurrent_gc_syncs": "garbagecollector",
    "concurrent_job_syncs": "job",
}


def go_duration(text: str) -> float:
    """Go durations as the flags take them: 15s, 1m30s, 500ms, 2h."""
    units = {"h": 3600.0, "m": 60.0, "s": 1.0, "ms": 0.001}
    parts = re.findall(r"(\d+(?:\.\d+)?)(ms|h|m|s)", text.strip())
    if not parts or "".join(n + u for n, u in parts) != text.strip():
        raise click.BadParameter(f"{text!r} is not a duration like 15s or 1m30s")
    return sum(float(n) * units[u] for n, u in parts)


class Duration(click.ParamType):
    name = "duration"

    def convert(self, value, param, ctx):  # type: ignore[override]
        return value if isinstance(value, float) else go_duration(str(value))


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--kubeconfig", required=True, help="Kubeconfig of the API server to reconcile.")
@click.option("--controllers", default="*", show_default=True,
              help="Controllers to enable: '*' all on by default, 'name' on, '-name' off (comma-separated).")
@click.option("--leader-elect", type=bool, default=True, show_default=True,
              help="Run the controllers only while holding the leader lease.")
@click.option("--leader-elect-lease-duration", type=Duration(), default="15s", show_default=True)
@click.option("--leader-elect-renew-deadline", type=Duration(), default="10s", show_default=True)
@click.option("--leader-elect-retry-period", type=Duration(), default="2s", show_default=True)
@click.option("--leader-elect-resource-lock", type=click.Choice(["leases"]), default="leases", show_default=True)
@click.option("--leader-elect-resource-namespace", default="kube-system", show_default=True)
@click.option("--leader-elect-resource-name", default="kube-controller-manager", show_default=True)
@click.option("--leader-elect-identity", default=None, help="Identity in the lease (default host_uuid).")
@click.option("--concurrent-replicaset-syncs", type=int, default=5, show_default=True)
@click.option("--concurrent-rc-syncs", type=int, default=5, show_default=True)
@click.option("--concurrent-deployment-syncs", type=int, default=5, show_default=True)
@click.option("--concurrent-endpoint-syncs", type=int, default=5, show_default=True)
@click.option("--concurrent-namespace-syncs", type=int, default=10, show_default=True)
@click.option("--concurrent-serviceaccount-syncs", type=int, default=5, show_default=True)
@click.option("--concurrent-gc-syncs", type=int, default=20, show_default=True)
@click.option("--concurrent-job-syncs", type=int, default=5, show_default=True)
@click.option("--terminated-pod-gc-threshold", type=int, default=12500, show_default=True,
              help="Terminated pods kept before pod GC deletes the oldest (<= 0: never).")
@click.option("--pod-gc-period", type=Duration(), default="20s", show_default=True,
              help="How often pod GC looks.")
@click.option("--deleted-pod-event-age", type=Duration(), default="5m", show_default=True,
              help="Pod GC deletes events of pods that no longer exist once this old (0s: never).")
@click.option("--root-ca-file", default=None, help="CA published as kube-root-ca.crt (default: the "
                                                   "kubeconfig's certificate-authority).")
@click.option("--bind-address", default="127.0.0.1", show_default=True, help="Where /healthz and /metrics listen.")
@click.option("--port", type=int, default=10257, show_default=True, help="Port of /healthz and /metrics "
                                                                          "(0: any free port).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warn", "error"]), default="info",
              show_default=True)
def controller_manager(kubeconfig, controllers, leader_elect, leader_elect_lease_duration,
                       leader_elect_renew_deadline, leader_elect_retry_period, leader_elect_resource_lock,
                       leader_elect_resource_namespace, leader_elect_resource_name, leader_elect_identity,
                       terminated_pod_gc_threshold, pod_gc_period, deleted_pod_event_age, root_ca_file,
                       bind_address, port, log_level, **concurrency) -> None:
    """Run the controller manager."""
    logging.basicConfig(level={"warn": "WARNING"}.get(log_level, log_level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    log = logging.getLogger("pykube_plane.controllers")
    from pykube_plane.client import Client, ConfigError
    from pykube_plane.controllers import ControllerManager, ManagerOptions
    from pykube_plane.controllers.registry import UnknownController, enabled_controllers

    try:
        enabled_controllers(controllers.split(","))
    except UnknownController as e:
        raise click.BadParameter(str(e), param_hint="--controllers") from None
    if leader_elect and not leader_elect_lease_duration > leader_elect_renew_deadline:
        raise click.BadParameter("must be greater than --leader-elect-renew-deadline",
                                 param_hint="--leader-elect-lease-duration")
    try:
        client = Client.from_kubeconfig(kubeconfig)
    except (ConfigError, OSError) as e:
        raise click.BadParameter(str(e), param_hint="--kubeconfig") from None
    root_ca = None
    if root_ca_file:
        with open(root_ca_file, "rb") as f:
            root_ca = f.read()
    elif client.config.ca_pem:
        root_ca = client.config.ca_pem
    options = ManagerOptions(
        controllers=controllers.split(","),
        concurrency={CONCURRENCY_FLAGS[k]: v for k, v in concurrency.items() if k in CONCURRENCY_FLAGS},
        leader_elect=leader_elect, lease_namespace=leader_elect_resource_namespace,
        lease_name=leader_elect_resource_name, lease_duration=leader_elect_lease_duration,
        renew_deadline=leader_elect_renew_deadline, retry_period=leader_elect_retry_period,
        identity=leader_elect_identity, bind_address=bind_address, port=port,
        extra={"terminated_pod_gc_threshold": terminated_pod_gc_threshold, "pod_gc_period": pod_gc_period,
               "deleted_pod_event_age": deleted_pod_event_age, "root_ca": root_ca})

    async def run() -> int:
        manager = ControllerManager(client, options)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await manager.start()
            log.info("serving /healthz and /metrics on http://%s:%s; controllers: %s", bind_address, manager.port,
                     ", ".join(manager.names))
            stopping = loop.create_task(stop.wait())
            lost = loop.create_task(manager.lost_leadership.wait())
            await asyncio.wait([stopping, lost], return_when=asyncio.FIRST_COMPLETED)
            for t in (stopping, lost):
                t.cancel()
            if manager.lost_leadership.is_set():
                log.error("leaderelection lost")
                return 1
            log.info("signal received; shutting down")
            return 0
        finally:
            await manager.stop()
            await client.close()

    try:
        import uvloop
        code = uvloop.run(run())
    except OSError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    sys.exit(code)
