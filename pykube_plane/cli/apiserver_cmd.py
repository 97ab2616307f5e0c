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
from pathlib import Path

import click


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
    logging.basicConfig(level={"warn": "WARNING"}.get(log_level, log_level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    log = logging.getLogger("pykube_plane.apiserver")
    if not data_dir and not etcd_servers:
        raise click.UsageError("give --data-dir (embedded store) or --etcd-servers")
    if bool(tls_cert_file) != bool(tls_private_key_file):
        raise click.UsageError("--tls-cert-file and --tls-private-key-file go together")
    node_ports = _port_range(service_node_port_range)
    ttl_seconds = _duration(event_ttl)

    async def run() -> None:
        from pykube_plane.apiserver import pki as pki_mod
        from pykube_plane.apiserver.authn import Authenticator
        from pykube_plane.apiserver.kubeconfig import write_kubeconfig
        from pykube_plane.apiserver.server import APIServer

        certs = Path(cert_dir) if cert_dir else (Path(data_dir) / "pki" if data_dir else Path("kplane-pki"))
        pki = await asyncio.to_thread(pki_mod.ensure_pki, certs)
        if tls_cert_file:
            ssl_context = pki_mod.serving_ssl_context(tls_cert_file, tls_private_key_file,
                                                      client_ca_file or pki.ca_cert_path)
        else:
            ssl_context = pki_mod.server_ssl_context(pki, client_ca_file)
        authenticator = Authenticator(token_file=token_auth_file,
                                      client_ca_file=client_ca_file or pki.ca_cert_path)
        if etcd_servers:
            from pykube_plane.store.remote import RemoteKV
            kv = await RemoteKV.connect([e.strip() for e in etcd_servers.split(",") if e.strip()])
        else:
            from pykube_plane.store.store import Store
            kv = await Store.open(Path(data_dir) / "store", fsync=not unsafe_no_fsync)
        server = APIServer(kv, host=bind_address, port=secure_port, ssl_context=ssl_context,
                           authenticator=authenticator, service_cidr=service_cluster_ip_range,
                           node_port_range=node_ports, watch_capacity=watch_cache_size,
                           advertise_address=advertise_address, max_requests_inflight=max_requests_inflight,
                           max_mutating_requests_inflight=max_mutating_requests_inflight, event_ttl=ttl_seconds)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        try:
            await server.start()
            log.info("serving on %s", server.url)
            if kubeconfig_path:
                host = "127.0.0.1" if bind_address in ("0.0.0.0", "::") else bind_address
                url = f"https://{f'[{host}]' if ':' in host else host}:{server.port}"
                await asyncio.to_thread(write_kubeconfig, kubeconfig_path, url, pki.ca_cert_pem,
                                        pki.admin_cert_pem, pki.admin_key_pem)
                log.info("wrote kubeconfig %s", kubeconfig_path)
            await stop.wait()
            log.info("signal received; shutting down")
        finally:
            await server.stop()
            await kv.close()

    try:
        import uvloop
        uvloop.run(run())
    except OSError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # a one-line error, never a traceback
        logging.getLogger("pykube_plane.apiserver").debug("fatal", exc_info=True)
        message = getattr(exc, "message", None) or f"{type(exc).__name__}: {exc}"
        click.echo(f"Error: {message}", err=True)
        sys.exit(1)
