"""`kplane kv put`, `get`, `del`, `compaction`: the keys themselves (etcdctl's KV commands)."""
from __future__ import annotations

import sys

import click

from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.remote import RemoteKV

from .printer import dumps, pb_to_json_dict, write
from .root import (
    EXIT_BAD_ARGS, Settings, command, encode, fail, format_kv,
    kv, parse_lease_id, range_end_of, run,
)


@kv.command()
@click.argument("key")
@click.argument("value", required=False)
@click.option("--lease", "lease_hex_id", default="0", help="Lease ID (in hexadecimal) to attach.")
@click.option("--prev-kv", is_flag=True, help="Return the previous key-value pair.")
@click.option("--ignore-value", is_flag=True, help="Update the key using its current value.")
@click.option("--ignore-lease", is_flag=True, help="Update the key using its current lease.")
@command
def put(ctx, key, value, lease_hex_id, prev_kv, ignore_value, ignore_lease) -> None:
    """Put the given key into the store (value from stdin when omitted)."""
    if value is None and not ignore_value:
        value = sys.stdin.read()
        if not value:
            fail("put command needs 1 argument and input from stdin or 2 arguments", EXIT_BAD_ARGS)
    req = pb.PutRequest(key=encode(key), value=encode(value or ""), lease=parse_lease_id(lease_hex_id),
                        prev_kv=prev_kv, ignore_value=ignore_value, ignore_lease=ignore_lease)

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await client.conn.call(lambda e: e.kv.Put, req, retry_safe=False)
        if settings.write_out == "json":
            write(dumps(pb_to_json_dict(resp)) + "\n")
            return
        out = "OK\n"
        if prev_kv and resp.HasField("prev_kv"):
            out += format_kv(settings, resp.prev_kv)
        write(out)

    run(ctx, body)


@kv.command()
@click.argument("key")
@click.argument("range_end", required=False)
@click.option("--prefix", is_flag=True, help="Get keys with matching prefix.")
@click.option("--from-key", is_flag=True, help="Get keys that are greater than or equal to the given key.")
@click.option("--rev", type=int, default=0, help="Specify the kv revision.")
@click.option("--limit", type=int, default=0, help="Maximum number of results.")
@click.option("--keys-only", is_flag=True, help="Get only the keys.")
@click.option("--count-only", is_flag=True, help="Get only the count.")
@click.option("--print-value-only", is_flag=True, help="Only write values when using the simple format.")
@click.option("--consistency", type=click.Choice(["l", "s"]), default="l",
              help="Linearizable (l) or serializable (s).")
@click.option("--order", type=click.Choice(["", "ASCEND", "DESCEND"], case_sensitive=False), default="")
@click.option("--sort-by", type=click.Choice(["", "CREATE", "KEY", "MODIFY", "VALUE", "VERSION"],
                                             case_sensitive=False), default="")
@command
def get(ctx, key, range_end, prefix, from_key, rev, limit, keys_only, count_only, print_value_only,
        consistency, order, sort_by) -> None:
    """Get the key or a range of keys."""
    if prefix and from_key:
        fail("`--prefix` and `--from-key` cannot be set at the same time, choose one", EXIT_BAD_ARGS)
    if count_only and ctx.obj.write_out != "json":
        fail("--count-only is only for `--write-out=fields`", EXIT_BAD_ARGS)
    req = pb.RangeRequest(key=encode(key) or b"\0", range_end=range_end_of(key, range_end, prefix, from_key),
                          revision=rev, limit=limit, keys_only=keys_only, count_only=count_only,
                          serializable=consistency == "s")
    targets = {"": pb.RangeRequest.KEY, "KEY": pb.RangeRequest.KEY, "CREATE": pb.RangeRequest.CREATE,
               "MODIFY": pb.RangeRequest.MOD, "VALUE": pb.RangeRequest.VALUE,
               "VERSION": pb.RangeRequest.VERSION}
    orders = {"": pb.RangeRequest.NONE, "ASCEND": pb.RangeRequest.ASCEND,
              "DESCEND": pb.RangeRequest.DESCEND}
    req.sort_target = targets[sort_by.upper()]
    req.sort_order = orders[order.upper()]
    if sort_by and not order:
        req.sort_order = pb.RangeRequest.ASCEND

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await client.conn.call(lambda e: e.kv.Range, req, retry_safe=True)
        if settings.write_out == "json":
            write(dumps(pb_to_json_dict(resp)) + "\n")
            return
        write("".join(format_kv(settings, m, print_value_only) for m in resp.kvs))

    run(ctx, body)


@kv.command(name="del")
@click.argument("key")
@click.argument("range_end", required=False)
@click.option("--prefix", is_flag=True, help="Delete keys with matching prefix.")
@click.option("--from-key", is_flag=True, help="Delete keys that are greater than or equal to the given key.")
@click.option("--prev-kv", is_flag=True, help="Return deleted key-value pairs.")
@command
def delete(ctx, key, range_end, prefix, from_key, prev_kv) -> None:
    """Remove the key or a range of keys."""
    req = pb.DeleteRangeRequest(key=encode(key) or b"\0",
                                range_end=range_end_of(key, range_end, prefix, from_key), prev_kv=prev_kv)

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await client.conn.call(lambda e: e.kv.DeleteRange, req, retry_safe=False)
        if settings.write_out == "json":
            write(dumps(pb_to_json_dict(resp)) + "\n")
            return
        write(f"{resp.deleted}\n" + "".join(format_kv(settings, m) for m in resp.prev_kvs))

    run(ctx, body)



# --- compaction ----------------------------------------------------------------------------------


@kv.command()
@click.argument("revision", type=int)
@click.option("--physical", is_flag=True, help="Wait for the compaction to be physically applied.")
@command
def compaction(ctx, revision, physical) -> None:
    """Compact the event history up to the given revision."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        await client.compact(revision, physical)
        write(f"compacted revision {revision}\n")

    run(ctx, body)
