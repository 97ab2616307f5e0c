"""`kplane kv member list|add|remove|promote|update` and `move-leader`: etcd's Cluster service."""
from __future__ import annotations

import click

from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.remote import RemoteKV

from .printer import dumps, pb_to_json_dict, table, write
from .root import Settings, call_endpoint, command, fail, kv, run


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


def _change_member(ctx, target: int, method: str, request, done: str) -> None:
    """One Cluster call about member `target`, reported as etcdctl words it."""
    async def body(settings: Settings, client: RemoteKV) -> None:
        resp = await _cluster_call(client, method, request)
        write(f"Member {target:16x} {done} cluster {resp.header.cluster_id:16x}\n")

    run(ctx, body)


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
    _change_member(ctx, target, "MemberRemove", pb.MemberRemoveRequest(ID=target),
                   "removed from")


@member.command(name="promote")
@click.argument("member_id")
@command
def member_promote(ctx, member_id) -> None:
    """Promote a learner, once in sync with the leader, to a voting member."""
    target = _member_id(member_id)
    _change_member(ctx, target, "MemberPromote", pb.MemberPromoteRequest(ID=target),
                   "promoted in")


@member.command(name="update")
@click.argument("member_id")
@click.option("--peer-urls", required=True, help="Comma separated peer URLs for the member.")
@command
def member_update(ctx, member_id, peer_urls) -> None:
    """Update a member's peer URLs."""
    target = _member_id(member_id)
    _change_member(ctx, target, "MemberUpdate",
                   pb.MemberUpdateRequest(ID=target, peerURLs=_peer_urls(peer_urls)), "updated in")


@kv.command(name="move-leader")
@click.argument("transferee_id")
@command
def move_leader(ctx, transferee_id) -> None:
    """Transfer leadership to another member; one of the endpoints must be the leader."""
    target = _member_id(transferee_id)

    async def body(settings: Settings, client: RemoteKV) -> None:
        leader_endpoint, leader_id = None, 0
        for endpoint in client.conn.endpoints:
            st = await call_endpoint(settings, endpoint, lambda e: e.maintenance.Status,
                                     pb.StatusRequest(), retry_safe=True)
            if st.leader == st.header.member_id:
                leader_endpoint, leader_id = endpoint, st.header.member_id
                break
        if leader_endpoint is None:
            fail(f"no leader endpoint given at {client.conn.endpoints}")
        await call_endpoint(settings, leader_endpoint, lambda e: e.maintenance.MoveLeader,
                            pb.MoveLeaderRequest(targetID=target), retry_safe=False)
        write(f"Leadership transferred from {leader_id:x} to {target:x}\n")

    run(ctx, body)
