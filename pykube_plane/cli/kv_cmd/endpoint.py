"""`kplane kv endpoint health|status|hashkv`, for the given endpoints or the whole cluster."""
from __future__ import annotations

import asyncio
import time

import click

from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.kv import StoreError
from pykube_plane.store.remote import RemoteKV

from .printer import dumps, humanize_bytes, pb_to_json_dict, table, write
from .root import Settings, call_endpoint, command, fail, kv, run


@kv.group()
def endpoint() -> None:
    """Endpoint related commands."""


cluster_option = click.option("--cluster", is_flag=True,
                              help="Use all endpoints from the cluster member list.")


async def _endpoints_of(settings: Settings, client: RemoteKV, cluster: bool) -> list[str]:
    if not cluster:
        return list(client.conn.endpoints)
    members = await client.member_list()
    return [url for m in members.members for url in m.clientURLs]


@endpoint.command()
@cluster_option
@command
def health(ctx, cluster) -> None:
    """Check the health of each endpoint (a linearizable read and the alarm list)."""
    async def check(settings: Settings, target: str) -> dict:
        client = settings.client([target])
        start = time.monotonic()
        error = ""
        try:
            await client.conn.call(lambda e: e.kv.Range, pb.RangeRequest(key=b"health"),
                                   retry_safe=True)
            alarms = await client.alarms()
            if alarms.alarms:
                names = ", ".join(pb.AlarmType.Name(a.alarm) for a in alarms.alarms)
                error = f"Active Alarm(s): {names}"
        except StoreError as exc:
            error = exc.message
        finally:
            await client.close()
        took = time.monotonic() - start
        return {"endpoint": target, "health": not error, "took": _go_duration(took), "error": error}

    async def body(settings: Settings, client: RemoteKV) -> bool:
        targets = await _endpoints_of(settings, client, cluster)
        results = await asyncio.gather(*(check(settings, t) for t in targets))
        if settings.write_out == "json":
            write(dumps([{k: v for k, v in r.items() if v != ""} for r in results]) + "\n")
        elif settings.write_out == "table":
            write(table(["endpoint", "health", "took", "error"],
                        [[r["endpoint"], str(r["health"]).lower(), r["took"], r["error"]]
                         for r in results]) + "\n")
        else:
            for r in results:
                if r["health"]:
                    write(f"{r['endpoint']} is healthy: successfully committed proposal: took = {r['took']}\n")
                else:
                    click.echo(f"{r['endpoint']} is unhealthy: failed to commit proposal: {r['error']}",
                               err=True)
        return all(r["health"] for r in results)

    if not run(ctx, body):
        fail("unhealthy cluster")


def _go_duration(seconds: float) -> str:
    """Go's time.Duration String() for sub-minute values, as etcdctl prints `took`."""
    if seconds < 1e-3:
        return f"{seconds * 1e6:.3f}".rstrip("0").rstrip(".") + "µs"
    if seconds < 1:
        return f"{seconds * 1e3:.6f}".rstrip("0").rstrip(".") + "ms"
    return f"{seconds:.9f}".rstrip("0").rstrip(".") + "s"


@endpoint.command()
@cluster_option
@command
def status(ctx, cluster) -> None:
    """Print the status of each endpoint."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        targets = await _endpoints_of(settings, client, cluster)
        results = []
        for target in targets:
            resp = await call_endpoint(settings, target, lambda e: e.maintenance.Status,
                                       pb.StatusRequest(), retry_safe=True)
            results.append((target, resp))
        if settings.write_out == "json":
            write(dumps([{"Endpoint": t, "Status": pb_to_json_dict(r)} for t, r in results]) + "\n")
            return
        rows = [[t, f"{r.header.member_id:x}", r.version, humanize_bytes(r.dbSize),
                 str(r.leader == r.header.member_id).lower(), str(r.isLearner).lower(),
                 str(r.raftTerm), str(r.raftIndex), str(r.raftAppliedIndex), ", ".join(r.errors)]
                for t, r in results]
        header = ["endpoint", "ID", "version", "db size", "is leader", "is learner", "raft term",
                  "raft index", "raft applied index", "errors"]
        if settings.write_out == "table":
            write(table(header, rows) + "\n")
        else:
            write("".join(", ".join(r) + "\n" for r in rows))

    run(ctx, body)


@endpoint.command()
@click.option("--rev", type=int, default=0, help="Maximum revision to hash (0 = latest).")
@cluster_option
@command
def hashkv(ctx, rev, cluster) -> None:
    """Print the KV history hash of each endpoint."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        targets = await _endpoints_of(settings, client, cluster)
        results = []
        for target in targets:
            resp = await call_endpoint(settings, target, lambda e: e.maintenance.HashKV,
                                       pb.HashKVRequest(revision=rev), retry_safe=True)
            results.append((target, resp))
        if settings.write_out == "json":
            write(dumps([{"Endpoint": t, "HashKV": pb_to_json_dict(r)} for t, r in results]) + "\n")
        elif settings.write_out == "table":
            write(table(["endpoint", "hash"], [[t, str(r.hash)] for t, r in results]) + "\n")
        else:
            write("".join(f"{t}, {r.hash}\n" for t, r in results))

    run(ctx, body)
