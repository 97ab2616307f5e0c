"""`kplane kv snapshot save|restore|status`: etcdctl save over the wire, etcdutl restore/status on files."""
from __future__ import annotations

import contextlib
import os
import tempfile

import click

from pykube_plane.store.kv import StoreError
from pykube_plane.store.remote import RemoteKV

from .printer import dumps, humanize_bytes, table, write
from .root import EXIT_BAD_ARGS, EXIT_IO, Settings, command, fail, kv, run


@kv.group()
def snapshot() -> None:
    """Save, restore and inspect snapshots in etcd's format (bbolt database + sha256)."""


@snapshot.command()
@click.argument("path", type=click.Path(dir_okay=False))
@command
def save(ctx, path) -> None:
    """Stream a snapshot of the first endpoint into PATH."""
    settings: Settings = ctx.obj
    if len(settings.endpoints) != 1:
        fail(f"snapshot must be requested to one selected node, not multiple {settings.endpoints}",
             EXIT_BAD_ARGS)

    async def body(settings: Settings, client: RemoteKV) -> None:
        part = path + ".part"
        try:
            with open(part, "wb") as f:
                async for chunk in client.snapshot(0):
                    f.write(chunk)
                f.flush()
                os.fsync(f.fileno())
            os.replace(part, path)
        except OSError as exc:
            fail(f"could not write {path}: {exc}", EXIT_IO)
        write(f"Snapshot saved at {path}\n")

    run(ctx, body)


@contextlib.contextmanager
def _store_snapshot_file(path: str):
    """The snapshot as the store writes it: etcdctl-saved files are unwrapped into a temp file."""
    from pykube_plane.store.etcdserver import snapshot_envelope

    with open(path, "rb") as f:
        data = f.read()
    inner = snapshot_envelope.unwrap(data)
    if inner is data:
        yield path
        return
    with tempfile.NamedTemporaryFile(prefix="kplane-snapshot-", suffix=".db") as tmp:
        tmp.write(inner)
        tmp.flush()
        yield tmp.name


@snapshot.command()
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@click.option("--data-dir", required=True, help="Path to the new data directory.")
@click.option("--name", default="default", show_default=True,
              help="Human-readable name for the restored member.")
@click.option("--initial-advertise-peer-urls", default="http://localhost:2380", show_default=True,
              help="The restored member's peer URLs (comma-separated), as the member list shows them.")
@click.option("--skip-hash-check", is_flag=True,
              help="Restore a database without its sha256 (e.g. a copy of member/snap/db).")
@command
def restore(ctx, path, data_dir, name, initial_advertise_peer_urls, skip_hash_check) -> None:
    """Restore a snapshot (from etcdctl, etcd's member/snap/db, or kplane kv snapshot save)
    into a new data directory, as etcdutl snapshot restore does."""
    from pykube_plane.store import Store

    peer_urls = [u.strip() for u in initial_advertise_peer_urls.split(",") if u.strip()]
    try:
        with _store_snapshot_file(path) as store_file:
            Store.snapshot_restore(store_file, data_dir, name=name, peer_urls=peer_urls,
                                   skip_hash_check=skip_hash_check)
    except StoreError as exc:
        fail(exc.message)
    except OSError as exc:
        fail(str(exc), EXIT_IO)
    write(f"restored snapshot {path} into {data_dir}\n")


@snapshot.command(name="status")
@click.argument("path", type=click.Path(exists=True, dir_okay=False))
@command
def snapshot_status(ctx, path) -> None:
    """Print hash, revision, total keys and size of a snapshot file (offline)."""
    from pykube_plane.store import Store

    try:
        with _store_snapshot_file(path) as store_file:
            st = Store.snapshot_status(store_file)
    except StoreError as exc:
        fail(exc.message)
        return
    settings: Settings = ctx.obj
    if settings.write_out == "json":
        write(dumps(st) + "\n")
        return
    row = [f"{st['hash']:x}", str(st["revision"]), str(st["totalKey"]), humanize_bytes(st["totalSize"])]
    if settings.write_out == "table":
        write(table(["hash", "revision", "total keys", "total size"], [row]) + "\n")
    else:
        write(", ".join(row) + "\n")
