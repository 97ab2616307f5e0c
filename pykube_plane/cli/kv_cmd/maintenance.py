"""`kplane kv alarm list|disarm` and `defrag`: etcd's Maintenance calls that change nothing in the keys."""
from __future__ import annotations


from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.remote import RemoteKV

from .printer import write
from .root import Settings, command, kv, run


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
