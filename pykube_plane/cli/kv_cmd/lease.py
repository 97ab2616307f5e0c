"""`kplane kv lease grant|revoke|timetolive|list|keep-alive`."""
from __future__ import annotations

import asyncio

import click

from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.kv import StoreError
from pykube_plane.store.remote import RemoteKV

from .printer import dumps, pb_to_json_dict, write
from .root import Settings, command, fail, kv, lease_hex, parse_lease_id, run


@kv.group()
def lease() -> None:
    """Lease related commands."""


@lease.command()
@click.argument("ttl", type=int)
@command
def grant(ctx, ttl) -> None:
    """Create a lease with the given TTL (seconds)."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await client.conn.call(lambda e: e.lease.LeaseGrant, pb.LeaseGrantRequest(TTL=ttl),
                                      retry_safe=False)
        if resp.error:
            fail(f"failed to grant lease ({resp.error})")
        if settings.write_out == "json":
            write(dumps({**pb_to_json_dict(resp.header), "ID": resp.ID, "TTL": resp.TTL,
                         "Error": resp.error}) + "\n")
            return
        write(f"lease {lease_hex(resp.ID)} granted with TTL({resp.TTL}s)\n")

    run(ctx, body)


@lease.command()
@click.argument("lease_id")
@command
def revoke(ctx, lease_id) -> None:
    """Revoke a lease (deletes its keys)."""
    lid = parse_lease_id(lease_id)

    async def body(settings: Settings, client: RemoteKV) -> None:
        await client.lease_revoke(lid)
        write(f"lease {lease_hex(lid)} revoked\n")

    run(ctx, body)


@lease.command()
@click.argument("lease_id")
@click.option("--keys", is_flag=True, help="Get keys attached to this lease.")
@command
def timetolive(ctx, lease_id, keys) -> None:
    """Get lease information."""
    lid = parse_lease_id(lease_id)

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await client.conn.call(lambda e: e.lease.LeaseTimeToLive,
                                      pb.LeaseTimeToLiveRequest(ID=lid, keys=keys), retry_safe=True)
        if settings.write_out == "json":
            write(dumps({**pb_to_json_dict(resp.header), "id": resp.ID, "ttl": resp.TTL,
                         "granted-ttl": resp.grantedTTL,
                         "keys": [k.decode(errors="replace") for k in resp.keys] or None}) + "\n")
            return
        if resp.grantedTTL == 0 and resp.TTL == -1:
            write(f"lease {lease_hex(lid)} already expired\n")
            return
        text = f"lease {lease_hex(lid)} granted with TTL({resp.grantedTTL}s), remaining({resp.TTL}s)"
        if keys:
            attached = " ".join(k.decode(errors="replace") for k in resp.keys)
            text += f", attached keys([{attached}])"
        write(text + "\n")

    run(ctx, body)


@lease.command(name="list")
@command
def lease_list(ctx) -> None:
    """List all active leases."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        ids = await client.leases()
        write(f"found {len(ids)} leases\n" + "".join(f"{lease_hex(i)}\n" for i in ids))

    run(ctx, body)


@lease.command(name="keep-alive")
@click.argument("lease_id")
@click.option("--once", is_flag=True, help="Resets the keep-alive time to its original value once.")
@command
def keep_alive(ctx, lease_id, once) -> None:
    """Keep a lease alive, printing each renewal."""
    lid = parse_lease_id(lease_id)

    async def body(settings: Settings, client: RemoteKV) -> None:
        while True:
            try:
                ttl = await client.lease_keepalive(lid)
            except StoreError:
                if once:
                    raise
                write(f"lease {lease_hex(lid)} expired or revoked.\n")
                return
            write(f"lease {lease_hex(lid)} keepalived with TTL({ttl})\n")
            if once:
                return
            await asyncio.sleep(max(ttl / 3, 0.5))

    run(ctx, body)
