"""`kplane store`: run one store member, with etcd's flags, until SIGTERM / SIGINT.

    kplane store --name s1 --data-dir /var/lib/kplane \\
        --listen-client-urls http://127.0.0.1:2379 --advertise-client-urls http://127.0.0.1:2379 \\
        --listen-metrics-urls http://127.0.0.1:2381

A cluster of three on one machine (each member its own process):

    kplane store --name a --data-dir a --listen-client-urls http://127.0.0.1:2379 \
        --listen-peer-urls http://127.0.0.1:2380 \
        --initial-cluster a=http://127.0.0.1:2380,b=http://127.0.0.1:2390,c=http://127.0.0.1:2400
    (and b, c alike); then `etcdctl member add d --peer-urls=...` and start d with
    --initial-cluster-state existing.

Flags and defaults follow etcd 3.5 so that an etcd command line carries over.
"""
from __future__ import annotations

import asyncio
import logging
import signal
import sys

import click

from pykube_plane.aio import cancel_and_wait


@click.command(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.option("--name", default="default", show_default=True, help="Human-readable name for this member.")
@click.option("--data-dir", default=None, help="Path to the data directory (default: ${name}.etcd).")
@click.option("--listen-client-urls", default="http://localhost:2379", show_default=True,
              help="URLs to listen on for client (gRPC) traffic.")
@click.option("--advertise-client-urls", default=None,
              help="Client URLs to advertise to the cluster (default: the listen URLs).")
@click.option("--listen-peer-urls", default="http://localhost:2380", show_default=True,
              help="URLs to listen on for peer traffic.")
@click.option("--initial-advertise-peer-urls", default=None,
              help="Peer URLs to advertise to the cluster (default: the listen peer URLs).")
@click.option("--initial-cluster", default=None,
              help="Initial cluster configuration, name=peer-url,... (default: ${name}=peer URLs).")
@click.option("--initial-cluster-state", type=click.Choice(["new", "existing"]), default="new",
              show_default=True)
@click.option("--initial-cluster-token", default="etcd-cluster", show_default=True,
              help="Initial cluster token: part of the member and cluster ids, as in etcd.")
@click.option("--heartbeat-interval", type=int, default=100, show_default=True,
              help="Time (in milliseconds) of a heartbeat interval (one Raft tick).")
@click.option("--election-timeout", type=int, default=1000, show_default=True,
              help="Time (in milliseconds) for an election to timeout.")
@click.option("--experimental-peer-fault-injection", is_flag=True,
              help="Test aid: serve POST /debug/peer-fault/isolate|heal on the metrics URLs to "
                   "cut this member's peer traffic. Never in production.")
@click.option("--listen-metrics-urls", default="", help="URLs to serve /metrics and /health on.")
@click.option("--quota-backend-bytes", type=int, default=0, show_default=True,
              help="Raise the NOSPACE alarm when the store exceeds this size (0 = 2 GiB default).")
@click.option("--auto-compaction-mode", type=click.Choice(["periodic", "revision"]), default="periodic",
              show_default=True)
@click.option("--auto-compaction-retention", default="0", show_default=True,
              help="periodic: hours (or 30m, 10s); revision: revisions to keep. 0 = off.")
@click.option("--max-request-bytes", type=int, default=1536 * 1024, show_default=True,
              help="Maximum client request size in bytes.")
@click.option("--snapshot-count", type=int, default=10_000, show_default=True,
              help="Applied entries between snapshots of the store.")
@click.option("--experimental-snapshot-catchup-entries", type=int, default=5000, show_default=True,
              help="Entries kept in the log after a snapshot, for slow followers to catch up.")
@click.option("--unsafe-no-fsync", is_flag=True, help="Skip fsync (data may be lost on a crash).")
@click.option("--log-level", type=click.Choice(["debug", "info", "warn", "error"]), default="info",
              show_default=True)
def store(name, data_dir, listen_client_urls, advertise_client_urls, listen_peer_urls,
          initial_advertise_peer_urls, initial_cluster, initial_cluster_state, initial_cluster_token,
          heartbeat_interval, election_timeout, experimental_peer_fault_injection, listen_metrics_urls,
          quota_backend_bytes, auto_compaction_mode, auto_compaction_retention,
          max_request_bytes, snapshot_count, experimental_snapshot_catchup_entries, unsafe_no_fsync,
          log_level) -> None:
    """Run one store member (etcd v3 API)."""
    from pathlib import Path

    from pykube_plane.store.member import (
        ConfigError, Member, MemberConfig, parse_initial_cluster, parse_retention, parse_urls,
    )

    logging.basicConfig(level={"warn": "WARNING"}.get(log_level, log_level.upper()),
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    try:
        listen_clients = parse_urls(listen_client_urls)
        peers = parse_urls(listen_peer_urls)
        advertised_peers = parse_urls(initial_advertise_peer_urls) if initial_advertise_peer_urls else peers
        config = MemberConfig(
            name=name,
            data_dir=Path(data_dir or f"{name}.etcd"),
            listen_client_urls=listen_clients,
            advertise_client_urls=parse_urls(advertise_client_urls) if advertise_client_urls else listen_clients,
            listen_peer_urls=peers,
            initial_advertise_peer_urls=advertised_peers,
            initial_cluster=(parse_initial_cluster(initial_cluster) if initial_cluster
                             else {name: list(advertised_peers)}),
            initial_cluster_state=initial_cluster_state,
            listen_metrics_urls=parse_urls(listen_metrics_urls) if listen_metrics_urls else [],
            quota_backend_bytes=quota_backend_bytes,
            auto_compaction_mode=auto_compaction_mode,
            auto_compaction_retention=parse_retention(auto_compaction_retention, auto_compaction_mode),
            max_request_bytes=max_request_bytes,
            snapshot_count=snapshot_count,
            catch_up_entries=experimental_snapshot_catchup_entries,
            fsync=not unsafe_no_fsync,
            initial_cluster_token=initial_cluster_token,
            heartbeat_interval_ms=heartbeat_interval,
            election_timeout_ms=election_timeout,
            fault_injection=experimental_peer_fault_injection,
        )
        config.validate()
    except ConfigError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)

    async def run() -> None:
        member = Member(config)
        loop = asyncio.get_running_loop()
        stop = asyncio.Event()
        for sig in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(sig, stop.set)
        await member.start()
        stopped = loop.create_task(member.wait_stopped())
        signalled = loop.create_task(stop.wait())
        try:
            await asyncio.wait([stopped, signalled], return_when=asyncio.FIRST_COMPLETED)
            if signalled.done():
                logging.getLogger("pykube_plane.store.member").info("signal received; shutting down")
        finally:
            await cancel_and_wait((stopped, signalled), ignore_errors=True)
            await member.stop()
        return member.removed

    try:
        import uvloop
        removed = uvloop.run(run())
    except OSError as exc:
        click.echo(f"Error: {exc}", err=True)
        sys.exit(1)
    except Exception as exc:  # etcd-style one-line error, never a traceback
        from pykube_plane.store.kv import StoreError
        message = exc.message if isinstance(exc, StoreError) else f"{type(exc).__name__}: {exc}"
        logging.getLogger("pykube_plane.store.member").debug("fatal", exc_info=True)
        click.echo(f"Error: {message}", err=True)
        sys.exit(1)
    if removed:
        # etcd exits this way too: a removed member must not come back on its own
        click.echo("Error: the member has been permanently removed from the cluster", err=True)
        sys.exit(1)
