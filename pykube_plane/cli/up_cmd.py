"""`kplane up`: the main job — the all-in-one control plane on its embedded store.

Today that is the API server (TLS, RBAC, admin kubeconfig) over the embedded etcd-style store in
one process; the scheduler, controller manager and simulated nodes join it as they land.
`kplane up --store-demo` instead walks through the store alone: open or recover a data dir, watch
a prefix, write through the durable path, restart, and show that everything came back.
"""
from __future__ import annotations

import asyncio
import time
from pathlib import Path

import click
from rich.console import Console
from rich.table import Table

from pykube_plane.store.kv import EVENT_PUT, prefix_end
from pykube_plane.store.store import Store

PREFIX = b"/registry/demo/"


async def demonstrate(data_dir: Path, writes: int, console: Console) -> None:
    store = await Store.open(data_dir)
    recovered = await store.range(PREFIX, prefix_end(PREFIX), count_only=True)
    console.print(f"[bold]store[/] opened at {data_dir} — revision {store.revision}, "
                  f"{recovered.count} demo keys recovered from earlier runs")

    watch = store.watch(PREFIX, prefix_end(PREFIX), prev_kv=True)
    started = time.perf_counter()
    revisions = await asyncio.gather(*(
        store.put(PREFIX + b"key-%04d" % i, b"value written at %d" % time.time_ns())
        for i in range(writes)))
    elapsed = time.perf_counter() - started
    console.print(f"wrote {writes} keys durably (fsync, group commit) in {elapsed * 1000:.1f} ms "
                  f"— revisions {min(revisions)}..{max(revisions)}, "
                  f"{store.wal_stats.get('fsyncs', '?')} fsyncs so far")

    seen = 0
    while seen < writes:
        resp = await asyncio.wait_for(watch.__anext__(), 5)
        seen += sum(1 for e in resp.events if e.type == EVENT_PUT)
    console.print(f"watch on {PREFIX.decode()} delivered all {seen} events in revision order")
    await watch.cancel()
    revision = store.revision
    await store.close()

    store = await Store.open(data_dir)
    res = await store.range(PREFIX, prefix_end(PREFIX), limit=5)
    table = Table(title=f"after restart: revision {store.revision} (was {revision}), "
                        f"{res.count} demo keys")
    for column in ("key", "create rev", "mod rev", "version"):
        table.add_column(column)
    for kv in res.kvs:
        table.add_row(kv.key.decode(), str(kv.create_revision), str(kv.mod_revision), str(kv.version))
    console.print(table)
    status = store.status()
    console.print(f"member {status.member_id:x} in cluster {status.cluster_id:x}, "
                  f"raft index {status.raft_index}, {status.keys} keys")
    await store.close()


@click.command("up")
@click.option("--data-dir", default="data/kplane", show_default=True, type=click.Path(path_type=Path),
              help="Where the embedded store, certificates and kubeconfig live.")
@click.option("--port", default=6443, show_default=True, help="HTTPS port of the API server (0: any free one).")
@click.option("--kubeconfig", "kubeconfig_path", default=None, type=click.Path(path_type=Path),
              help="Where to write the admin kubeconfig (default DATA/admin.kubeconfig).")
@click.option("--store-demo", is_flag=True, help="Only demonstrate the store (write, watch, restart, recover).")
@click.option("--writes", default=1000, show_default=True, help="Keys the store demonstration writes.")
def up(data_dir: Path, port: int, kubeconfig_path: Path | None, store_demo: bool,
       writes: int) -> None:
    """Run the control plane on its embedded store until interrupted."""
    if store_demo:
        asyncio.run(demonstrate(data_dir / "store-demo", writes, Console()))
        return
    from pykube_plane.cli.apiserver_cmd import configure_logging, run_until_signalled
    from pykube_plane.controlplane import ControlPlaneOptions

    kubeconfig_path = kubeconfig_path or data_dir / "admin.kubeconfig"
    kubectl = Path(".cache/bin/kubectl")
    Console(stderr=True).print(
        f"[bold]kplane up[/]: API server on the embedded store in {data_dir}; the admin kubeconfig "
        f"appears at {kubeconfig_path} once it listens.\n"
        f"  try: {kubectl if kubectl.exists() else 'kubectl'} --kubeconfig {kubeconfig_path} get namespaces\n"
        f"  Ctrl-C stops it; the state stays in {data_dir} for the next `kplane up`.")
    configure_logging("info")
    run_until_signalled(ControlPlaneOptions(data_dir=data_dir, secure_port=port, kubeconfig_path=kubeconfig_path),
                        "pykube_plane.cli.up")
