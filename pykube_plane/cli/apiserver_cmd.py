"""`kplane apiserver`: the Kubernetes API server as a process, with kube-apiserver's flags.

    kplane apiserver --data-dir /var/lib/kplane --secure-port 6443 --write-kubeconfig admin.kubeconfig

On the embedded store (DATA/store) by default, or on etcd / `kplane store` members with
--etcd-servers. Serves HTTPS: certificates come from --tls-cert-file/--tls-private-key-file, or a
CA and serving certificate generated once under --cert-dir (DATA/pki). Clients authenticate with
certificates signed by the client CA (--client-ca-file, default the generated CA) or with tokens
from --token-auth-file; RBAC authorizes. The kubeconfig written holds an admin certificate
(group system:masters) and is written once the server is listening.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from pykube_plane.controlplane import ControlPlaneOptions


def _port_range(text: str) -> tuple[int, int]:
    low, _, high = text.partition("-")
    try:
        lo, hi = int(low), int(high)
    except ValueError:
        raise click.BadParameter(f"{text!r} is not a port range like 30000-32767") from None
    if not 0 < lo <= hi < 65536:
        raise click.BadParameter(f"{text!r} is not a valid port range")
    return lo, hi


def _duration(text: str) -> float:
    """Go-style durations as kube-apiserver flags take them: 1h, 30m, 45s, 1h30m."""
    import re
    parts = re.fullmatch(r"(?:(\d+)h)?(?:(\d+)m)?(?:(\d+)s)?", text.strip())
    if not text.strip() or parts is None:
        raise click.BadParameter(f"{text!r} is not a duration like 1h or 30m")
    hours, minutes, seconds = (int(p) if p else 0 for p in parts.groups())
    return hours * 3600 + minutes * 60 + seconds


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--data-dir", default=None, help="Directory of the embedded store and generated certificates.")
@click.option("--etcd-servers", default="", help="Comma-separated etcd endpoints to use instead of the "
                                                 "embedded store.")
@click.option("--secure-port", type=int, default=6443, show_default=True,
              help="The port on which to serve HTTPS (0 picks a free port).")
@click.option("--bind-address", default="127.0.0.1", show_default=True, help="The IP address to listen on.")
@click.option("--advertise-address", default=None, help="The IP address the kubernetes Service's endpoints "
                                                        "point at (default: the bind address).")
@click.option("--write-kubeconfig", "kubeconfig_path", default=None,
              help="Write an admin kubeconfig for this server to this path.")
@click.option("--cert-dir", default=None, help="Where generated certificates live (default DATA/pki).")
@click.option("--tls-cert-file", default=None, help="Serving certificate (PEM).")
@click.option("--tls-private-key-file", default=None, help="Serving certificate key (PEM).")
@click.option("--client-ca-file", default=None, help="CA that signs client certificates (default: the "
                                                     "generated CA).")
@click.option("--token-auth-file", default=None, help="Static bearer tokens: token,user,uid,\"group1,group2\".")
@click.option("--service-cluster-ip-range", default="10.96.0.0/12", show_default=True,
              help="CIDR Services' cluster IPs are allocated from.")
@click.option("--service-node-port-range", default="30000-32767", show_default=True,
              help="Ports NodePort Services are allocated from.")
@click.option("--watch-cache-size", type=int, default=10_000, show_default=True,
              help="Changes each resource's watch cache keeps for watches that resume.")
@click.option("--max-requests-inflight", type=int, default=400, show_default=True,
              help="Non-mutating requests served at once; past it, 429 (0: no limit).")
@click.option("--max-mutating-requests-inflight", type=int, default=200, show_default=True,
              help="Mutating requests served at once; past it, 429 (0: no limit).")
@click.option("--event-ttl", default="1h", show_default=True, help="How long events are kept (e.g. 1h, 30m).")
@click.option("--unsafe-no-fsync", is_flag=True, help="Embedded store: skip fsync (data may be lost on a crash).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warn", "error"]), default="info",
              show_default=True)
def apiserver(data_dir, etcd_servers, secure_port, bind_address, advertise_address, kubeconfig_path, cert_dir,
              tls_cert_file, tls_private_key_file, client_ca_file, token_auth_file, service_cluster_ip_range,
              service_node_port_range, watch_cache_size, max_requests_inflight, max_mutating_requests_inflight,
              event_ttl, unsafe_no_fsync, log_level) -> None:
    """Run the Kubernetes API server."""
    configure_logging(log_level)
    if not data_dir and not etcd_servers:
        raise click.UsageError("give --data-dir (embedded store) or --etcd-servers")
    if bool(tls_cert_file) != bool(tls_private_key_file):
        raise click.UsageError("--tls-cert-file and --tls-private-key-file go together")
    from pykube_plane.controlplane import ControlPlaneOptions    # the server's modules load only to serve
    options = ControlPlaneOptions(
        data_dir=data_dir, etcd_servers=tuple(e.strip() for e in etcd_servers.split(",") if e.strip()),
        fsync=not unsafe_no_fsync, bind_address=bind_address, secure_port=secure_port,
        advertise_address=advertise_address, cert_dir=cert_dir, tls_cert_file=tls_cert_file,
        tls_private_key_file=tls_private_key_file, client_ca_file=client_ca_file,
        token_auth_file=token_auth_file, service_cluster_ip_range=service_cluster_ip_range,
        service_node_port_range=_port_range(service_node_port_range), watch_cache_size=watch_cache_size,
        max_requests_inflight=max_requests_inflight, max_mutating_requests_inflight=max_mutating_requests_inflight,
        event_ttl=_duration(event_ttl), kubeconfig_path=kubeconfig_path)
    run_until_signalled(options, "pykube_plane.apiserver")


def configure_logging(level: str) -> None:
    logging.basicConfig(level={"warn": "WARNING"}.get(level, level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)


def run_until_signalled(options: "ControlPlaneOptions", logger: str) -> None:
    """Run a control plane until SIGTERM or SIGINT; a failure is one line on stderr and exit 1."""
    from pykube_plane.controlplane import ControlPlane

    log = logging.getLogger(logger)

    async def run() -> None:
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        async with ControlPlane(options):
            await stop.wait()
            log.info("signal received; shutting down")

    try:
        import uvloop
        uvloop.run(run())
    except OSError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # a one-line error, never a traceback
        log.debug("fatal", exc_info=True)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        click.echo(f"Error: {message}", err=True)
        sys.exit(1)
