"""The real etcdctl 3.5.1 driving membership changes on kplane members (the etcd v3 Cluster API):
member add --learner, member promote, member update, member list, move-leader, and the errors
etcd gives for a bad request. Members run in this process (gRPC servers and peer transports on
127.0.0.1), which keeps the test quick; the multi-process test covers the same over processes."""
from __future__ import annotations

import asyncio
import json

import pytest

from pykube_plane.store.member import Member, MemberConfig
from tests.conftest import free_port

from .cluster import until
from .processes import etcdctl


def member_config(tmp_path, name: str, peers: dict[str, int], state: str = "new") -> MemberConfig:
    client = f"http://127.0.0.1:{free_port()}"
    peer = f"http://127.0.0.1:{peers[name]}"
    initial = {n: [f"http://127.0.0.1:{p}"] for n, p in peers.items()}
    return MemberConfig(name, tmp_path / name, [client], [client], [peer], [peer], initial,
                        initial_cluster_state=state, heartbeat_interval_ms=20,
                        election_timeout_ms=200, snapshot_count=50, catch_up_entries=10)


async def run_etcdctl(endpoints: list[str], *args: str):
    return await asyncio.to_thread(etcdctl, endpoints, *args)


@pytest.fixture
async def members(tmp_path):
    peers = {n: free_port() for n in ("a", "b", "c")}
    started = [Member(member_config(tmp_path, n, peers)) for n in peers]
    await asyncio.gather(*(m.start() for m in started))
    await until(lambda: sum(m.store.is_leader for m in started) == 1
                and all(m.store.leader_id for m in started))
    yield started, peers
    await asyncio.gather(*(m.stop() for m in started), return_exceptions=True)


def endpoints(members) -> list[str]:
    return [m.config.listen_client_urls[0] for m in members if m.store is not None]


async def test_learner_add_promote_update_and_move_leader_with_etcdctl(tmp_path, members):
    started, peers = members
    eps = endpoints(started)
    for i in range(80):  # enough for a snapshot and a compacted log
        out = await run_etcdctl(eps, "put", f"/k/{i}", "v")
        assert out.returncode == 0, out.stderr

    peers["d"] = free_port()
    out = await run_etcdctl(eps, "member", "add", "d", "--learner",
                            f"--peer-urls=http://127.0.0.1:{peers['d']}")
    assert out.returncode == 0, out.stderr
    assert "added to cluster" in out.stdout
    out = await run_etcdctl(eps, "member", "list", "-w", "json")
    listed = json.loads(out.stdout)["members"]
    learner = next(m for m in listed if m.get("isLearner"))
    assert "name" not in learner  # not started yet: etcdctl shows it as unstarted

    newcomer = Member(member_config(tmp_path, "d", peers, state="existing"))
    await newcomer.start()
    started.append(newcomer)
    await until(lambda: newcomer.store.revision == started[0].store.revision)
    assert newcomer.store._driver.snapshots_installed >= 1

    # A learner cannot lead.
    out = await run_etcdctl(eps, "move-leader", f"{newcomer.store.member_id:x}")
    assert out.returncode != 0 and "bad leader transferee" in out.stderr

    out = await run_etcdctl(eps, "member", "promote", f"{newcomer.store.member_id:x}")
    assert out.returncode == 0, out.stderr
    assert "promoted" in out.stdout
    out = await run_etcdctl(eps, "member", "promote", f"{newcomer.store.member_id:x}")
    assert out.returncode != 0 and "can only promote a learner member" in out.stderr

    # Once published, the newcomer has its name and client URL in everyone's member list.
    def published(m: Member) -> bool:
        record = m.store.membership.get(newcomer.store.member_id)
        return record is not None and record.name == "d"

    await until(lambda: all(published(m) for m in started))
    out = await run_etcdctl(endpoints(started), "member", "list", "-w", "json")
    listed = {m["ID"]: m for m in json.loads(out.stdout)["members"]}
    assert listed[newcomer.store.member_id]["name"] == "d"
    assert listed[newcomer.store.member_id]["clientURLs"] == newcomer.config.advertise_client_urls
    assert not listed[newcomer.store.member_id].get("isLearner")

    # member update replaces a member's peer URLs (here with the same address under a new
    # spelling, so that the member stays reachable).
    target = started[1].store.member_id
    new_url = f"http://localhost:{peers['b']}"
    out = await run_etcdctl(endpoints(started), "member", "update", f"{target:x}",
                            f"--peer-urls={new_url}")
    assert out.returncode == 0, out.stderr
    await until(lambda: all(m.store.membership.get(target).peer_urls == [new_url]
                            for m in started))

    out = await run_etcdctl(endpoints(started), "member", "remove", "123abc")
    assert out.returncode != 0 and "member not found" in out.stderr
    out = await run_etcdctl(endpoints(started), "member", "add", "x",
                            f"--peer-urls=http://127.0.0.1:{peers['a']}")
    assert out.returncode != 0 and "Peer URLs already exists" in out.stderr

    out = await run_etcdctl(endpoints(started), "move-leader", f"{newcomer.store.member_id:x}")
    assert out.returncode == 0, out.stderr
    await until(lambda: newcomer.store.is_leader)
    out = await run_etcdctl(endpoints(started), "put", "/after", "1")
    assert out.returncode == 0, out.stderr


def kplane_kv(endpoints: list[str], *args: str):
    import subprocess
    import sys

    from tests.conftest import ROOT
    return subprocess.run([sys.executable, "-m", "pykube_plane.cli.main", "kv", "--endpoints",
                           ",".join(endpoints), *args], capture_output=True, text=True, cwd=ROOT,
                          timeout=60)


async def test_kplane_kv_membership_commands_print_what_etcdctl_prints(tmp_path, members):
    started, peers = members
    eps = endpoints(started)
    peers["d"] = free_port()
    url = f"http://127.0.0.1:{peers['d']}"
    out = await asyncio.to_thread(kplane_kv, eps, "member", "add", "d", "--learner",
                                  f"--peer-urls={url}")
    assert out.returncode == 0, out.stderr
    cluster_id = started[0].store.cluster_id
    record = next(m for m in started[0].store.members() if m.peer_urls == [url])
    initial = ",".join(f"{m.name or 'd'}={m.peer_urls[0]}" for m in started[0].store.members())
    assert out.stdout == (f"Member {record.id:16x} added to cluster {cluster_id:16x}\n\n"
                          f'ETCD_NAME="d"\nETCD_INITIAL_CLUSTER="{initial}"\n'
                          f'ETCD_INITIAL_ADVERTISE_PEER_URLS="{url}"\n'
                          'ETCD_INITIAL_CLUSTER_STATE="existing"\n')
    newcomer = Member(member_config(tmp_path, "d", peers, state="existing"))
    await newcomer.start()
    started.append(newcomer)
    await until(lambda: newcomer.store.revision == started[0].store.revision)
    out = await asyncio.to_thread(kplane_kv, eps, "member", "promote", f"{record.id:x}")
    assert out.stdout == f"Member {record.id:16x} promoted in cluster {cluster_id:16x}\n", out.stderr
    out = await asyncio.to_thread(kplane_kv, eps, "move-leader", f"{record.id:x}")
    assert out.returncode == 0, out.stderr
    assert out.stdout.startswith("Leadership transferred from ") and out.stdout.endswith(
        f" to {record.id:x}\n")
    await until(lambda: newcomer.store.is_leader)
    victim = started[1]
    victim_id = victim.store.member_id
    out = await asyncio.to_thread(kplane_kv, endpoints(started), "member", "remove",
                                  f"{victim_id:x}")
    assert out.stdout == f"Member {victim_id:16x} removed from cluster {cluster_id:16x}\n", \
        out.stderr
    await until(lambda: victim.removed)
    out = await asyncio.to_thread(kplane_kv, endpoints(started), "member", "remove", "abc")
    assert out.returncode == 1 and out.stderr == "Error: etcdserver: member not found\n"


async def test_health_says_raft_no_leader_when_the_cluster_has_lost_its_quorum(members):
    import aiohttp

    started, _ = members
    lone = started[0]
    for m in started[1:]:
        await m.stop()
    await until(lambda: not lone.store.leader_id, timeout=10)
    url = f"http://127.0.0.1:{free_port()}"
    lone.config.listen_metrics_urls = [url]
    await lone._start_http()
    async with aiohttp.ClientSession() as http:
        async with http.get(url + "/health") as resp:
            assert resp.status == 503
            assert await resp.json(content_type=None) == {"health": "false",
                                                          "reason": "RAFT NO LEADER"}
