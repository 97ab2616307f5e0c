"""The Raft driver with in-process members over real loopback sockets: election, replication,
forwarding, ReadIndex, snapshot install, restart from the WAL, leader loss, membership."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane.store.kv import StoreError, prefix_end
from pykube_plane.store.raft_driver import LeaderChangedError, NoLeaderError
from pykube_plane.store.store import Store

from .cluster import LocalCluster, until


@pytest.fixture
async def cluster(tmp_path):
    c = await LocalCluster(tmp_path, 3).start()
    yield c
    await c.close_all()


async def test_one_leader_is_elected_and_writes_replicate(cluster):
    leader = await cluster.leader()
    assert len({s.member_id for s in cluster.stores.values()}) == 3
    assert {s.cluster_id for s in cluster.stores.values()} == {leader.cluster_id}
    revs = await asyncio.gather(*(leader.put(b"/r/%d" % i, b"v%d" % i) for i in range(50)))
    assert sorted(revs) == list(range(min(revs), min(revs) + 50))  # one revision each, no gap
    await cluster.converged()
    for store in cluster.stores.values():
        res = await store.range(b"/r/", prefix_end(b"/r/"), serializable=True)
        assert res.count == 50
    names = sorted(m.name for m in leader.members())
    assert names == ["m0", "m1", "m2"]


async def test_a_follower_forwards_writes_and_reads_linearizably(cluster):
    follower, other = await cluster.followers()
    rev = await follower.put(b"/fwd", b"from-follower")
    leader = await cluster.leader()
    assert (await leader.range(b"/fwd")).kvs[0].mod_revision == rev
    # Written through the leader, read at once through another follower: ReadIndex makes the
    # follower wait until it has applied the write, so the read cannot miss it.
    for i in range(20):
        rev = await leader.put(b"/ri", b"%d" % i)
        res = await other.range(b"/ri")
        assert res.kvs[0].value == b"%d" % i and res.revision >= rev


async def test_a_partitioned_follower_catches_up_by_snapshot(tmp_path):
    cluster = await LocalCluster(tmp_path, 3, snapshot_count=40, catch_up_entries=5).start()
    try:
        leader = await cluster.leader()
        lagging = (await cluster.followers())[0]
        watch = lagging.watch(b"/snap/", prefix_end(b"/snap/"))
        lagging.transport.isolate()
        for i in range(200):
            await leader.put(b"/snap/%03d" % i, b"v%d" % i)
        await until(lambda: leader._driver.snapshot_index > 0
                    and leader._driver.storage.first_index() > lagging._driver.applied_index + 1)
        lagging.transport.heal()
        await cluster.converged()
        assert lagging._driver.snapshots_installed >= 1
        res = await lagging.range(b"/snap/", prefix_end(b"/snap/"), serializable=True)
        assert res.count == 200
        # The watcher created before the partition sees every event, re-read from the new MVCC.
        seen = []
        while len(seen) < 200:
            resp = await asyncio.wait_for(watch.__anext__(), 10)
            seen.extend(ev.kv.key for ev in resp.events)
        assert seen == [b"/snap/%03d" % i for i in range(200)]
    finally:
        await cluster.close_all()


async def test_a_restarted_member_rejoins_from_its_wal(cluster):
    leader = await cluster.leader()
    follower_name = next(n for n, s in cluster.stores.items() if s is not leader)
    await leader.put(b"/before", b"1")
    await cluster.converged()
    member_id = cluster.stores[follower_name].member_id
    await cluster.close(follower_name)
    for i in range(30):
        await leader.put(b"/while-down/%d" % i, b"x")
    restarted = await cluster.open(follower_name)
    assert restarted.member_id == member_id
    assert (await restarted.range(b"/before", serializable=True)).kvs[0].value == b"1"
    await cluster.converged()
    assert (await restarted.range(b"/while-down/", prefix_end(b"/while-down/"))).count == 30


async def test_leader_loss_fails_requests_with_etcd_errors_then_a_new_leader_serves(cluster):
    leader = await cluster.leader()
    followers = await cluster.followers()
    old_id = leader.member_id
    leader.transport.isolate()  # the old leader can no longer reach anyone
    outcome = await asyncio.gather(*(leader.put(b"/lost/%d" % i, b"x") for i in range(5)),
                                   return_exceptions=True)
    assert all(isinstance(r, StoreError) for r in outcome)
    assert {r.message for r in outcome} <= {LeaderChangedError.message, NoLeaderError.message,
                                            "etcdserver: request timed out"}
    await until(lambda: any(f.is_leader for f in followers))
    new_leader = next(f for f in followers if f.is_leader)
    assert new_leader.member_id != old_id
    await new_leader.put(b"/after", b"1")
    leader.transport.heal()
    await cluster.converged()
    assert (await leader.range(b"/after")).kvs[0].value == b"1"


async def test_membership_add_learner_promote_and_remove(tmp_path):
    cluster = await LocalCluster(tmp_path, 3, snapshot_count=30, catch_up_entries=5).start()
    try:
        leader = await cluster.leader()
        for i in range(100):
            await leader.put(b"/m/%d" % i, b"v")
        newcomer = await cluster.add_member("m3", learner=True)
        await cluster.converged()
        assert newcomer._driver.snapshots_installed >= 1  # the log it needed was compacted
        record = (await cluster.leader()).membership.get(newcomer.member_id)
        assert record.is_learner
        await until(lambda: newcomer.membership.get(newcomer.member_id) is not None)
        leader = await cluster.leader()
        await leader.member_promote(newcomer.member_id)
        assert newcomer.member_id in leader._driver.node.voters
        # Remove one of the founders; the rest go on.
        victim_name = next(n for n, s in cluster.stores.items()
                           if s is not leader and s is not newcomer)
        victim = cluster.stores[victim_name]
        await leader.member_remove(victim.member_id)
        await asyncio.wait_for(victim.wait_removed(), 10)
        with pytest.raises(StoreError, match="removed"):
            await victim.put(b"/m/x", b"1")
        await cluster.close(victim_name)
        leader = await cluster.leader()
        assert victim.member_id not in {m.id for m in leader.members()}
        await leader.put(b"/m/after", b"1")
        await cluster.converged()
        assert len(leader.members()) == 3
    finally:
        await cluster.close_all()


async def test_leadership_moves_on_request(cluster):
    leader = await cluster.leader()
    target = (await cluster.followers())[0]
    await leader.move_leader(target.member_id)
    assert (await cluster.leader()) is target
    with pytest.raises(StoreError, match="not leader"):
        await leader.move_leader(leader.member_id)


async def test_single_member_store_is_a_cluster_of_one(tmp_path):
    store = await Store.open(tmp_path / "solo")
    assert store.is_leader and [m.id for m in store.members()] == [store.member_id]
    with pytest.raises(StoreError, match="not capable"):
        await store.member_add(["http://127.0.0.1:1"])
    await store.close()


async def test_leases_expire_on_the_leader_and_keepalives_via_a_follower_reach_it(cluster):
    leader = await cluster.leader()
    follower = (await cluster.followers())[0]
    kept = await follower.lease_grant(2)
    dropped = await follower.lease_grant(2)
    await follower.put(b"/lease/kept", b"1", lease=kept.id)
    await follower.put(b"/lease/dropped", b"1", lease=dropped.id)
    # Keep one lease alive through the follower (forwarded to the leader's lessor) for longer
    # than its TTL; the other expires: the leader revokes it, and every member deletes its key.
    loop = asyncio.get_running_loop()
    deadline = loop.time() + 3.5
    while loop.time() < deadline:
        assert await follower.lease_keepalive(kept.id) == 2
        await asyncio.sleep(0.3)
    await until(lambda: all(dropped.id not in s._sm.lessor for s in cluster.stores.values()))
    await cluster.converged()
    for store in cluster.stores.values():
        assert (await store.range(b"/lease/dropped", serializable=True)).count == 0
        assert (await store.range(b"/lease/kept", serializable=True)).count == 1
    status = await follower.lease_time_to_live(kept.id, keys=True)
    assert status.granted_ttl == 2 and status.keys == [b"/lease/kept"]
    with pytest.raises(StoreError, match="requested lease not found"):
        await follower.lease_keepalive(dropped.id)
    assert leader.is_leader


async def test_a_partitioned_leader_never_serves_a_stale_linearizable_read(cluster):
    old = await cluster.leader()
    await old.put(b"/stale", b"before")
    await cluster.converged()
    old.transport.isolate()
    others = [s for s in cluster.stores.values() if s is not old]
    await until(lambda: any(s.is_leader for s in others))
    new_leader = next(s for s in others if s.is_leader)
    await new_leader.put(b"/stale", b"after")
    # The old leader cannot confirm its leadership with a quorum: its linearizable read fails
    # (never returns "before"); a serializable read may, by definition, be stale.
    with pytest.raises(StoreError):
        await old.range(b"/stale")
    assert (await old.range(b"/stale", serializable=True)).kvs[0].value == b"before"
    old.transport.heal()
    await cluster.converged()
    assert (await old.range(b"/stale")).kvs[0].value == b"after"


async def test_the_whole_cluster_restarts_from_its_data_dirs(cluster):
    leader = await cluster.leader()
    for i in range(20):
        await leader.put(b"/restart/%d" % i, b"v%d" % i)
    await cluster.converged()
    ids = {name: s.member_id for name, s in cluster.stores.items()}
    revision = leader.revision
    names = list(cluster.stores)
    for name in names:
        await cluster.close(name)
    await asyncio.gather(*(cluster.open(name) for name in names))
    assert {name: s.member_id for name, s in cluster.stores.items()} == ids
    leader = await cluster.leader()
    assert leader.revision == revision
    assert await leader.put(b"/restart/after", b"1") == revision + 1
    await cluster.converged()


async def test_the_last_voter_cannot_be_removed(tmp_path):
    cluster = await LocalCluster(tmp_path, 1).start()
    try:
        alone = await cluster.leader()
        with pytest.raises(StoreError, match="not enough started members"):
            await alone.member_remove(alone.member_id)
        assert await alone.put(b"/still", b"here") > 0
    finally:
        await cluster.close_all()
