"""`kplane kv watch`: etcdctl's watch output, simple or JSON."""
from __future__ import annotations

import asyncio

import click
import grpc

from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.remote import RemoteKV

from .printer import dumps, pb_to_json_dict, write
from .root import (
    EXIT_BAD_CONNECTION, Settings, command, encode, fail, format_kv,
    kv, range_end_of, run,
)


@kv.command()
@click.argument("key")
@click.argument("range_end", required=False)
@click.option("--prefix", is_flag=True, help="Watch on a prefix.")
@click.option("--rev", type=int, default=0, help="Revision to start watching from.")
@click.option("--prev-kv", is_flag=True, help="Get the previous key-value pair before the event happens.")
@click.option("--progress-notify", is_flag=True, help="Get periodic watch progress notifications.")
@command
def watch(ctx, key, range_end, prefix, rev, prev_kv, progress_notify) -> None:
    """Watch a key or a range of keys; print events until interrupted."""
    req = pb.WatchCreateRequest(key=encode(key), range_end=range_end_of(key, range_end, prefix, False),
                                start_revision=rev, prev_kv=prev_kv, progress_notify=progress_notify)

    async def body(settings: Settings, client: RemoteKV) -> None:
        ep = client.conn.endpoint()
        outbox: asyncio.Queue = asyncio.Queue()
        outbox.put_nowait(pb.WatchRequest(create_request=req))

        async def requests():
            while True:
                yield await outbox.get()

        call = ep.watch.Watch(requests())
        try:
            async for resp in call:
                if settings.write_out == "json":
                    write(dumps(_watch_json(resp)) + "\n")
                elif resp.events:
                    out = []
                    for ev in resp.events:
                        out.append("DELETE\n" if ev.type == 1 else "PUT\n")
                        if ev.HasField("prev_kv"):
                            out.append(format_kv(settings, ev.prev_kv))
                        out.append(format_kv(settings, ev.kv))
                    write("".join(out))
                elif progress_notify and not resp.created and not resp.canceled:
                    write(f"progress notify: {resp.header.revision}\n")
                if resp.canceled:
                    reason = resp.cancel_reason or (
                        "etcdserver: mvcc: required revision has been compacted"
                        if resp.compact_revision else "")
                    write(f"watch was canceled ({reason})\n")
                    fail("watch is canceled by the server")
        except grpc.aio.AioRpcError as exc:
            fail(exc.details() or str(exc.code()), EXIT_BAD_CONNECTION)

    run(ctx, body)


def _watch_json(resp: pb.WatchResponse) -> dict:
    """clientv3.WatchResponse as etcdctl -w json prints it."""
    return {"Header": pb_to_json_dict(resp.header),
            "Events": [pb_to_json_dict(e) for e in resp.events] or None,
            "CompactRevision": resp.compact_revision, "Canceled": resp.canceled,
            "Created": resp.created}
