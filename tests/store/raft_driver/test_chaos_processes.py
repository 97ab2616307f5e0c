"""Three real `kplane store` processes under faults while clients keep writing.

Schedule (each step waits for the cluster to serve again before the next):
  SIGKILL the leader, restart it from its data dir; partition the (new) leader's peer traffic
  through its fault hook, heal; `etcdctl member add` a fourth member that joins and catches up
  by snapshot; `etcdctl member remove` one of the founders (it stops itself);
  `etcdctl move-leader` to the newcomer.

Clients during all of it: writers putting unique keys (each acknowledged key must end up on every
member), and register clients doing put / get on a few keys whose history, with every call and
return on one logical clock, must check as linearizable (tests/raft/linearizability.py). A write
that failed or timed out counts as "may have happened" (etcd's errors are ambiguous), a failed
read as never having happened. Afterwards every member holds the same data, and
`etcdctl endpoint status --cluster` shows exactly one leader.
"""
from __future__ import annotations

import asyncio
import itertools
import json
import random
import re

from pykube_plane.store.kv import StoreError, prefix_end
from pykube_plane.store.remote import RemoteKV
from tests.raft.linearizability import Operation, check

from .processes import MemberProcess, etcdctl, initial_cluster

REGISTER_KEYS = ["r0", "r1", "r2"]
# Snapshots every 300 entries, keeping 100 behind: a member added later cannot catch up from the
# log alone and must be sent a snapshot.
STORE_FLAGS = ["--snapshot-count", "300", "--experimental-snapshot-catchup-entries", "100"]


class Workload:
    def __init__(self, endpoints: list[str]) -> None:
        self.endpoints = endpoints
        self.clock = itertools.count(1)
        self.history: list[Operation] = []
        self.acked: dict[int, list[int]] = {}
        self.stop = asyncio.Event()
        self.failures = 0

    async def writer(self, w: int) -> None:
        kv = RemoteKV(self.endpoints, request_timeout=5.0, retry_budget=5.0)
        acked = self.acked.setdefault(w, [])
        try:
            for seq in itertools.count():
                if self.stop.is_set():
                    return
                try:
                    await kv.put(b"/chaos/acked/%d/%08d" % (w, seq), b"%d" % seq)
                    acked.append(seq)
                except StoreError:
                    self.failures += 1
                    await asyncio.sleep(0.05)
        finally:
            await kv.close()

    async def register_client(self, c: int, seed: int) -> None:
        rng = random.Random(seed)
        kv = RemoteKV(self.endpoints, request_timeout=5.0, retry_budget=5.0)
        try:
            for seq in itertools.count():
                if self.stop.is_set():
                    return
                key = rng.choice(REGISTER_KEYS)
                if rng.random() < 0.5:
                    value = f"{c}-{seq}"
                    call = next(self.clock)
                    try:
                        await kv.put(b"/chaos/reg/" + key.encode(), value.encode())
                        self.history.append(Operation(c, call, next(self.clock), "put", key,
                                                      value, output="ok"))
                    except StoreError:
                        self.failures += 1
                        self.history.append(Operation(c, call, None, "put", key, value))
                        await asyncio.sleep(0.05)
                else:
                    call = next(self.clock)
                    try:
                        res = await kv.range(b"/chaos/reg/" + key.encode())
                    except StoreError:
                        self.failures += 1
                        await asyncio.sleep(0.05)
                        continue
                    value = res.kvs[0].value.decode() if res.kvs else None
                    self.history.append(Operation(c, call, next(self.clock), "get", key,
                                                  output=value))
        finally:
            await kv.close()


def leader_of(members: list[MemberProcess]) -> MemberProcess:
    """The member that all live members name as leader (polled, bounded)."""
    import time
    deadline = time.monotonic() + 30
    while True:
        leaders = set()
        for m in members:
            try:
                leaders.add(m.status().leader)
            except Exception:  # noqa: BLE001 - a member restarting
                leaders.add(None)
        if len(leaders) == 1 and None not in leaders and 0 not in leaders:
            lead = leaders.pop()
            for m in members:
                if m.status().header.member_id == lead:
                    return m
        if time.monotonic() > deadline:
            raise AssertionError(f"no agreed leader: {leaders}")
        time.sleep(0.1)


def member_id(m: MemberProcess) -> int:
    return m.status().header.member_id


def wait_converged(members: list[MemberProcess]) -> None:
    import time
    deadline = time.monotonic() + 60
    while True:
        statuses = [m.status() for m in members]
        applied = {s.raftAppliedIndex for s in statuses}
        revisions = {s.header.revision for s in statuses}
        if len(applied) == 1 and len(revisions) == 1:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"members did not converge: {applied} {revisions}")
        time.sleep(0.2)


async def test_cluster_survives_kill_partition_and_membership_changes(tmp_path):
    founders = [MemberProcess(n, tmp_path, extra_args=STORE_FLAGS)
                for n in ("a", "b", "c")]
    cluster_flag = initial_cluster(founders)
    for m in founders:
        m.start(cluster_flag, wait=False)
    live = list(founders)
    newcomer = MemberProcess("d", tmp_path, extra_args=STORE_FLAGS)
    try:
        for m in founders:
            await asyncio.to_thread(m.wait_serving)
        await asyncio.to_thread(leader_of, live)
        endpoints = [m.endpoint for m in founders] + [newcomer.endpoint]
        work = Workload(endpoints)
        tasks = [asyncio.create_task(work.writer(w)) for w in range(2)]
        tasks += [asyncio.create_task(work.register_client(c, 1000 + c)) for c in range(4)]
        await asyncio.sleep(1.5)

        # 1. SIGKILL the leader, let the rest elect, restart it from its data dir.
        victim = await asyncio.to_thread(leader_of, live)
        await asyncio.to_thread(victim.kill)
        others = [m for m in live if m is not victim]
        await asyncio.to_thread(leader_of, others)
        await asyncio.sleep(1.0)
        await asyncio.to_thread(victim.start, cluster_flag)
        await asyncio.to_thread(leader_of, live)
        await asyncio.sleep(1.5)

        # 2. Partition the leader (its peer traffic only; clients still reach it), then heal.
        isolated = await asyncio.to_thread(leader_of, live)
        await asyncio.to_thread(isolated.fault, "isolate")
        await asyncio.sleep(3.0)
        await asyncio.to_thread(isolated.fault, "heal")
        await asyncio.to_thread(leader_of, live)
        await asyncio.sleep(1.0)

        # 3. Add a fourth member; it joins and catches up (by snapshot: the log was compacted).
        out = await asyncio.to_thread(etcdctl, [m.endpoint for m in live], "member", "add", "d",
                                      f"--peer-urls={newcomer.peer_url}")
        assert out.returncode == 0, out.stderr
        assert "ETCD_INITIAL_CLUSTER_STATE=\"existing\"" in out.stdout
        await asyncio.to_thread(newcomer.start, initial_cluster(founders + [newcomer]), "existing")
        live.append(newcomer)
        await asyncio.to_thread(leader_of, live)
        await asyncio.sleep(1.5)

        # 4. Remove a founder that does not lead; it stops itself.
        leader = await asyncio.to_thread(leader_of, live)
        removed = next(m for m in founders if m is not leader)
        removed_id = await asyncio.to_thread(member_id, removed)
        out = await asyncio.to_thread(etcdctl, [m.endpoint for m in live], "member", "remove",
                                      f"{removed_id:x}")
        assert out.returncode == 0, out.stderr
        assert re.search(rf"Member +{removed_id:x} removed", out.stdout), out.stdout
        exit_code = await asyncio.to_thread(removed.proc.wait, 30)
        assert exit_code == 1 and "permanently removed" in removed.log_tail()
        removed.proc = None
        live.remove(removed)
        await asyncio.sleep(1.0)

        # 5. Move leadership to the newcomer.
        new_id = await asyncio.to_thread(member_id, newcomer)
        out = await asyncio.to_thread(etcdctl, [m.endpoint for m in live], "move-leader",
                                      f"{new_id:x}")
        assert out.returncode == 0, out.stderr
        assert (await asyncio.to_thread(leader_of, live)) is newcomer
        await asyncio.sleep(1.0)

        work.stop.set()
        await asyncio.gather(*tasks)

        # Every member holds the same data, with every acknowledged write.
        await asyncio.to_thread(wait_converged, live)
        acked = {b"/chaos/acked/%d/%08d" % (w, s) for w, seqs in work.acked.items() for s in seqs}
        assert len(acked) > 50
        hashes = set()
        for m in live:
            kv = RemoteKV([m.endpoint])
            try:
                res = await kv.range(b"/chaos/acked/", prefix_end(b"/chaos/acked/"),
                                     serializable=True, keys_only=True)
                missing = acked - {kv_.key for kv_ in res.kvs}
                assert not missing, f"{m.name} lacks {len(missing)} acknowledged writes"
                hashes.add((await kv.hash_kv(endpoint=0)).hash)
            finally:
                await kv.close()
        assert len(hashes) == 1
        # The newcomer could only have caught up through a snapshot (its log was compacted).
        assert "installed a snapshot" in newcomer.log_tail(1 << 20)

        # The register history is linearizable.
        answered = [op for op in work.history if op.ret is not None]
        assert len(answered) > 100
        assert check(work.history) == []

        # One leader, seen by etcdctl across the cluster; the member list is what we made it.
        out = await asyncio.to_thread(etcdctl, [live[0].endpoint], "endpoint", "status",
                                      "--cluster", "-w", "json")
        assert out.returncode == 0, out.stderr
        statuses = json.loads(out.stdout)
        assert len(statuses) == len(live)
        leaders = [s for s in statuses if s["Status"]["leader"] == s["Status"]["header"]["member_id"]]
        assert len(leaders) == 1 and len({s["Status"]["leader"] for s in statuses}) == 1
        out = await asyncio.to_thread(etcdctl, [live[0].endpoint], "member", "list")
        assert out.returncode == 0, out.stderr
        names = sorted(line.split(", ")[2] for line in out.stdout.strip().splitlines())
        assert names == sorted(m.name for m in live)
    finally:
        for m in live + [newcomer]:
            await asyncio.to_thread(m.stop)
