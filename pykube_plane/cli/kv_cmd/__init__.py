"""`kplane kv`: an etcdctl-like client for a kplane store or any etcd v3 endpoint.

Commands, flags and output follow etcdctl 3.5 (`-w simple|json|table`), so scripts carry over:
put, get, del, watch, lease grant|revoke|keep-alive|timetolive|list, compaction,
endpoint health|status|hashkv, member list|add|remove|promote|update, move-leader,
alarm list|disarm, defrag,
snapshot save|restore|status. Errors print as `Error: <etcd message>` with etcdctl's exit codes.
"""
from __future__ import annotations

import asyncio
import contextlib
import os
import sys
import tempfile
import time
from typing import Any, Awaitable, Callable

import click
import grpc

from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.kv import StoreError, prefix_end
from pykube_plane.store.remote import EndpointsUnavailableError, RemoteKV

from .printer import dumps, humanize_bytes, kv_lines, pb_to_json_dict, table, write

# etcdctl's exit codes (etcdctl/ctlv3/command/error.go)
EXIT_ERROR = 1
EXIT_BAD_CONNECTION = 2
EXIT_INVALID_INPUT = 3
EXIT_INTERRUPTED = 5
EXIT_IO = 6
EXIT_BAD_ARGS = 128

OUTPUT_FORMATS = ("simple", "json", "table")


class Settings:
    def __init__(self, endpoints: list[str], write_out: str, command_timeout: float,
                 dial_timeout: float, hex_output: bool) -> None:
        self.endpoints = endpoints
        self.write_out = write_out
        self.command_timeout = command_timeout
        self.dial_timeout = dial_timeout
        self.hex = hex_output

    def client(self, endpoints: list[str] | None = None) -> RemoteKV:
        return RemoteKV(endpoints or self.endpoints, request_timeout=self.command_timeout,
                        retry_budget=self.dial_timeout)


def fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def run(ctx: click.Context, body: Callable[[Settings, RemoteKV], Awaitable[Any]]) -> Any:
    """Run one command's coroutine with a client; etcd errors become `Error: ...` + exit code."""
    settings: Settings = ctx.obj

    async def main() -> Any:
        client = settings.client()
        try:
            return await body(settings, client)
        finally:
            await client.close()

    try:
        return asyncio.run(main())
    except EndpointsUnavailableError:
        fail(EndpointsUnavailableError.message)  # etcdctl says just this, with exit code 1
    except StoreError as exc:
        fail(exc.message)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


def command(fn: Callable) -> Callable:
    """Decorator: pass the click context first, the rest as click gives it."""
    return click.pass_context(fn)


def parse_lease_id(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise click.BadParameter(f"bad lease ID arg ({text!r}), expecting ID in Hex") from None


def encode(text: str) -> bytes:
    return text.encode()


def lease_hex(lease_id: int) -> str:
    return f"{lease_id & 0xFFFFFFFFFFFFFFFF:016x}"


# =================================================================================================
# Global flags. etcdctl (cobra) accepts them before or after the subcommand: `etcdctl get k -w json`.
# Every command here carries them too; a value given after the subcommand wins.


def _global_options() -> list[click.Option]:
    return [
        click.Option(["--endpoints"], help="Comma-separated gRPC endpoints "
                     "(default 127.0.0.1:2379 or $ETCDCTL_ENDPOINTS)."),
        click.Option(["-w", "--write-out"], type=click.Choice(OUTPUT_FORMATS), help="Output format."),
        click.Option(["--command-timeout"], type=float, help="Seconds before a request times out (5)."),
        click.Option(["--dial-timeout"], type=float, help="Seconds to keep trying an endpoint (2)."),
        click.Option(["--hex", "hex_output"], is_flag=True, default=None,
                     help="Print keys and values as hex."),
    ]


_GLOBAL_NAMES = ("endpoints", "write_out", "command_timeout", "dial_timeout", "hex_output")


def _apply_globals(ctx: click.Context) -> None:
    """Move the global flags given to this (sub)command into the shared Settings."""
    settings = ctx.find_object(Settings)
    if settings is None:
        return  # the top-level group: its callback builds Settings from these params
    _merge(settings, {name: ctx.params.pop(name, None) for name in _GLOBAL_NAMES})


def _merge(settings: "Settings", values: dict[str, Any]) -> None:
    if values.get("endpoints"):
        settings.endpoints = [e.strip() for e in values["endpoints"].split(",") if e.strip()]
    if values.get("write_out"):
        settings.write_out = values["write_out"]
    if values.get("command_timeout"):
        settings.command_timeout = values["command_timeout"]
    if values.get("dial_timeout"):
        settings.dial_timeout = values["dial_timeout"]
    if values.get("hex_output"):
        settings.hex = True


class KvCommand(click.Command):
    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options())

    def invoke(self, ctx: click.Context) -> Any:
        _apply_globals(ctx)
        return super().invoke(ctx)


class KvGroup(click.Group):
    command_class = KvCommand

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options())

    def invoke(self, ctx: click.Context) -> Any:
        _apply_globals(ctx)
        return super().invoke(ctx)


KvGroup.group_class = KvGroup


@click.group(cls=KvGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def kv(ctx: click.Context, **global_flags: Any) -> None:
    """etcdctl-like client for a kplane store or an etcd cluster."""
    eps = os.environ.get("ETCDCTL_ENDPOINTS", "127.0.0.1:2379")
    ctx.obj = Settings([e.strip() for e in eps.split(",") if e.strip()], "simple", 5.0, 2.0, False)
    _merge(ctx.obj, global_flags)


def _range_end(key: str, range_end: str | None, prefix: bool, from_key: bool) -> bytes:
    if prefix:
        return prefix_end(encode(key)) if key else b"\0"
    if from_key:
        return b"\0"
    return encode(range_end) if range_end else b""


def _print_kv(settings: Settings, kv_msg, value_only: bool = False) -> str:
    if settings.hex:
        key, value = kv_msg.key.hex(), kv_msg.value.hex()
        return f"{value}\n" if value_only else f"{key}\n{value}\n"
    return kv_lines(kv_msg, value_only)


# --- put / get / del -----------------------------------------------------------------------------


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
            out += _print_kv(settings, resp.prev_kv)
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
    req = pb.RangeRequest(key=encode(key) or b"\0", range_end=_range_end(key, range_end, prefix, from_key),
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
        write("".join(_print_kv(settings, m, print_value_only) for m in resp.kvs))

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
                                range_end=_range_end(key, range_end, prefix, from_key), prev_kv=prev_kv)

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await client.conn.call(lambda e: e.kv.DeleteRange, req, retry_safe=False)
        if settings.write_out == "json":
            write(dumps(pb_to_json_dict(resp)) + "\n")
            return
        write(f"{resp.deleted}\n" + "".join(_print_kv(settings, m) for m in resp.prev_kvs))

    run(ctx, body)


# --- watch ---------------------------------------------------------------------------------------


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
    req = pb.WatchCreateRequest(key=encode(key), range_end=_range_end(key, range_end, prefix, False),
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
                            out.append(_print_kv(settings, ev.prev_kv))
                        out.append(_print_kv(settings, ev.kv))
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


# --- lease ---------------------------------------------------------------------------------------


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


# --- endpoint ------------------------------------------------------------------------------------


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
            one = settings.client([target])
            try:
                resp = await one.conn.call(lambda e: e.maintenance.Status, pb.StatusRequest(),
                                           retry_safe=True)
            finally:
                await one.close()
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
            one = settings.client([target])
            try:
                results.append((target, await one.hash_kv(rev)))
            finally:
                await one.close()
        if settings.write_out == "json":
            write(dumps([{"Endpoint": t, "HashKV": pb_to_json_dict(r)} for t, r in results]) + "\n")
        elif settings.write_out == "table":
            write(table(["endpoint", "hash"], [[t, str(r.hash)] for t, r in results]) + "\n")
        else:
            write("".join(f"{t}, {r.hash}\n" for t, r in results))

    run(ctx, body)


# --- member / alarm / defrag ---------------------------------------------------------------------


@kv.group()
def member() -> None:
    """Membership related commands."""


@member.command(name="list")
@command
def member_list(ctx) -> None:
    """List all members in the cluster."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await client.member_list()
        if settings.write_out == "json":
            write(dumps(pb_to_json_dict(resp)) + "\n")
            return
        rows = [[f"{m.ID:x}", "started" if m.name else "unstarted", m.name, ",".join(m.peerURLs),
                 ",".join(m.clientURLs), str(m.isLearner).lower()] for m in resp.members]
        if settings.write_out == "table":
            write(table(["ID", "status", "name", "peer addrs", "client addrs", "is learner"], rows) + "\n")
        else:
            write("".join(", ".join(r) + "\n" for r in rows))

    run(ctx, body)


def _member_id(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise click.BadParameter(f"bad member ID arg ({text!r}), expecting ID in Hex") from None


def _peer_urls(text: str) -> list[str]:
    urls = [u.strip() for u in text.split(",") if u.strip()]
    if not urls:
        raise click.BadParameter("member peer urls not provided")
    return urls


async def _cluster_call(client: RemoteKV, method: str, request):
    # Never retried on another endpoint once sent: a membership change must not happen twice.
    return await client.conn.call(lambda e: getattr(e.cluster, method), request, retry_safe=False)


@member.command(name="add")
@click.argument("name")
@click.option("--peer-urls", required=True, help="Comma separated peer URLs for the new member.")
@click.option("--learner", is_flag=True, help="Indicates if the new member is raft learner.")
@command
def member_add(ctx, name, peer_urls, learner) -> None:
    """Add a member into the cluster; prints the flags the new member starts with."""
    urls = _peer_urls(peer_urls)

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await _cluster_call(client, "MemberAdd",
                                   pb.MemberAddRequest(peerURLs=urls, isLearner=learner))
        if settings.write_out == "json":
            write(dumps(pb_to_json_dict(resp)) + "\n")
            return
        new_id = resp.member.ID
        write(f"Member {new_id:16x} added to cluster {resp.header.cluster_id:16x}\n\n")
        initial = []
        for m in resp.members:
            label = name if m.ID == new_id else m.name
            if label:
                initial.extend(f"{label}={u}" for u in m.peerURLs)
        write(f'ETCD_NAME="{name}"\nETCD_INITIAL_CLUSTER="{",".join(initial)}"\n'
              f'ETCD_INITIAL_ADVERTISE_PEER_URLS="{",".join(urls)}"\n'
              'ETCD_INITIAL_CLUSTER_STATE="existing"\n')

    run(ctx, body)


@member.command(name="remove")
@click.argument("member_id")
@command
def member_remove(ctx, member_id) -> None:
    """Remove a member from the cluster (it stops itself)."""
    target = _member_id(member_id)

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await _cluster_call(client, "MemberRemove", pb.MemberRemoveRequest(ID=target))
        write(f"Member {target:16x} removed from cluster {resp.header.cluster_id:16x}\n")

    run(ctx, body)


@member.command(name="promote")
@click.argument("member_id")
@command
def member_promote(ctx, member_id) -> None:
    """Promote a learner, once in sync with the leader, to a voting member."""
    target = _member_id(member_id)

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await _cluster_call(client, "MemberPromote", pb.MemberPromoteRequest(ID=target))
        write(f"Member {target:16x} promoted in cluster {resp.header.cluster_id:16x}\n")

    run(ctx, body)


@member.command(name="update")
@click.argument("member_id")
@click.option("--peer-urls", required=True, help="Comma separated peer URLs for the member.")
@command
def member_update(ctx, member_id, peer_urls) -> None:
    """Update a member's peer URLs."""
    target = _member_id(member_id)
    urls = _peer_urls(peer_urls)

    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await _cluster_call(client, "MemberUpdate",
                                   pb.MemberUpdateRequest(ID=target, peerURLs=urls))
        write(f"Member {target:16x} updated in cluster {resp.header.cluster_id:16x}\n")

    run(ctx, body)


@kv.command(name="move-leader")
@click.argument("transferee_id")
@command
def move_leader(ctx, transferee_id) -> None:
    """Transfer leadership to another member; one of the endpoints must be the leader."""
    target = _member_id(transferee_id)

    async def body(settings: Settings, client: RemoteKV) -> None:
        leader_endpoint, leader_id = None, 0
        for endpoint in client.conn.endpoints:
            one = settings.client([endpoint])
            try:
                st = await one.conn.call(lambda e: e.maintenance.Status, pb.StatusRequest(),
                                         retry_safe=True)
            finally:
                await one.close()
            if st.leader == st.header.member_id:
                leader_endpoint, leader_id = endpoint, st.header.member_id
                break
        if leader_endpoint is None:
            fail(f"no leader endpoint given at {client.conn.endpoints}")
        one = settings.client([leader_endpoint])
        try:
            await one.conn.call(lambda e: e.maintenance.MoveLeader,
                                pb.MoveLeaderRequest(targetID=target), retry_safe=False)
        finally:
            await one.close()
        write(f"Leadership transferred from {leader_id:x} to {target:x}\n")

    run(ctx, body)


@kv.group()
def alarm() -> None:
    """Alarm related commands."""


def _print_alarms(resp: pb.AlarmResponse) -> None:
    write("".join(f"memberID:{a.memberID} alarm:{pb.AlarmType.Name(a.alarm)} \n" for a in resp.alarms))


@alarm.command(name="list")
@command
def alarm_list(ctx) -> None:
    """List all alarms."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        _print_alarms(await client.alarms())

    run(ctx, body)


@alarm.command()
@command
def disarm(ctx) -> None:
    """Disarm all alarms."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        # like etcdctl: list, then disarm each (member, alarm) pair
        active = await client.alarms()
        disarmed = pb.AlarmResponse()
        for a in active.alarms:
            resp = await client.alarms(pb.AlarmRequest.DEACTIVATE, a.alarm, a.memberID)
            disarmed.alarms.extend(resp.alarms)
        _print_alarms(disarmed)

    run(ctx, body)


@kv.command()
@command
def defrag(ctx) -> None:
    """Defragment the storage of each endpoint."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        for i, target in enumerate(client.conn.endpoints):
            await client.defragment(i)
            write(f"Finished defragmenting etcd member[{target}]\n")

    run(ctx, body)


# --- snapshot ------------------------------------------------------------------------------------


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
    from pykube_plane.store.store import Store

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
    from pykube_plane.store.store import Store

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


__all__ = ["kv"]
