"""Leader election on a Lease: one leader at a time, the standby takes over when the leader dies
(SIGKILL) or stalls (SIGSTOP), and no two contenders ever act at once — checked from the merged
log of their acts, each stamped on the machine's shared monotonic clock with its lease guard."""
from __future__ import annotations

import asyncio
import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pykube_plane.client import LeaderElector, NotFound
from pykube_plane.client.leaderelection import LeaderElectionRecord

from tests.conftest import ROOT

LEASE, RENEW, RETRY = 4.0, 3.0, 0.3


class Contender:
    def __init__(self, tmp: Path, kubeconfig: Path, identity: str, namespace: str) -> None:
        self.identity = identity
        self.log = tmp / f"{identity}.jsonl"
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "tests.client.contender", "--kubeconfig", str(kubeconfig), "--identity", identity,
             "--log", str(self.log), "--namespace", namespace, "--lease", str(LEASE), "--renew", str(RENEW),
             "--retry", str(RETRY)], cwd=ROOT, stderr=open(tmp / f"{identity}.stderr", "wb"))

    def records(self) -> list[dict]:
        if not self.log.exists():
            return []
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.endswith("}")]

    def events(self, name: str) -> list[dict]:
        return [r for r in self.records() if r["event"] == name]

    def signal(self, sig: int) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)

    def stop(self) -> None:
        self.signal(signal.SIGCONT)
        self.signal(signal.SIGTERM)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


async def until_true(check, timeout: float = 60.0, what: str = "") -> None:
    """Wait for `check()` (a hang guard, not a timing assertion)."""
    deadline = time.monotonic() + timeout
    while not check():
        if time.monotonic() > deadline:
            raise AssertionError(f"gave up waiting for {what}")
        await asyncio.sleep(0.05)


def check_acts(contenders: list[Contender]) -> tuple[list[dict], list[dict]]:
    """Acts done within their guard never overlap another contender's; answers (acts, overruns)."""
    acts = sorted((r for c in contenders for r in c.events("act")), key=lambda r: r["start"])
    valid = [a for a in acts if a["end"] < a["until"]]
    overruns = [a for a in acts if a["end"] >= a["until"]]
    for a, b in zip(valid, valid[1:]):
        if a["id"] != b["id"]:
            assert a["end"] < b["start"], f"two leaders acting at once: {a} and {b}"
    return valid, overruns


def leader_switches(acts: list[dict]) -> list[str]:
    order: list[str] = []
    for act in acts:
        if not order or order[-1] != act["id"]:
            order.append(act["id"])
    return order


@pytest.fixture
def contenders(tmp_path, server_process):
    started: list[Contender] = []

    def start(identity: str, namespace: str) -> Contender:
        c = Contender(tmp_path, server_process.kubeconfig, identity, namespace)
        started.append(c)
        return c

    yield start
    for c in started:
        c.stop()


async def _two_contenders(contenders, cluster_namespace: str) -> tuple[Contender, Contender]:
    a, b = contenders("alpha", cluster_namespace), contenders("beta", cluster_namespace)
    await until_true(lambda: a.events("leading") or b.events("leading"), what="a first leader")
    return (a, b) if a.events("leading") else (b, a)


async def test_leader_killed_standby_takes_over_within_the_lease(server_process, contenders):
    from pykube_plane.client import Client
    client = Client.from_kubeconfig(server_process.kubeconfig_dict())
    await client.ensure_namespace("election-kill")
    leader, standby = await _two_contenders(contenders, "election-kill")
    await until_true(lambda: len(leader.events("act")) >= 20, what="the leader acting")
    assert not standby.events("leading") and not standby.events("act")
    killed_at = time.monotonic()
    leader.signal(signal.SIGKILL)
    await until_true(lambda: len(standby.events("act")) >= 20, what="the standby taking over")
    took_over = standby.events("leading")[0]
    standby.stop()                                            # releases the lease
    acts, overruns = check_acts([leader, standby])
    assert leader_switches(acts) == [leader.identity, standby.identity]
    assert not overruns
    assert max(a["start"] for a in acts if a["id"] == leader.identity) < killed_at
    # It took the lease at its first attempt after the lease ran out on its own clock: that is,
    # within lease_duration (+ one retry period) of the leader's last renewal.
    assert took_over["attempts_after_expiry"] == 1
    lease = await client.get("leases", "contended", namespace="election-kill")
    record = LeaderElectionRecord.from_lease(lease)
    assert record.holder_identity == ""                       # released by the stopped standby
    assert record.leader_transitions == 1
    print(f"takeover: first act of the standby {took_over['t'] - killed_at:.2f}s after SIGKILL "
          f"(lease {LEASE}s)")
    await client.close()


async def test_stalled_leader_never_acts_beside_its_successor(server_process, contenders):
    from pykube_plane.client import Client
    client = Client.from_kubeconfig(server_process.kubeconfig_dict())
    await client.ensure_namespace("election-stall")
    leader, standby = await _two_contenders(contenders, "election-stall")
    await until_true(lambda: len(leader.events("act")) >= 10, what="the leader acting")
    leader.signal(signal.SIGSTOP)                               # a long GC pause, say
    await until_true(lambda: len(standby.events("act")) >= 10, what="the standby taking over")
    leader.signal(signal.SIGCONT)
    await until_true(lambda: leader.events("stopped"), what="the stalled leader stepping down")
    await until_true(lambda: len(standby.events("act")) >= 30, what="the new leader acting on")
    acts, overruns = check_acts([leader, standby])
    assert leader_switches(acts) == [leader.identity, standby.identity]
    # At most the one act the pause froze mid-way can end past its guard: the guard catches it.
    assert len(overruns) <= 1 and all(a["id"] == leader.identity for a in overruns)
    await client.close()


async def test_two_electors_in_one_process_hand_over_on_release(cluster):
    client = cluster.client
    ns = cluster.namespace
    log: list[tuple[str, str]] = []

    def elector(identity: str) -> LeaderElector:
        async def lead():
            log.append(("started", identity))
            await asyncio.Event().wait()

        return LeaderElector(client, ns, "pair", identity=identity, lease_duration=2, renew_deadline=1.5,
                             retry_period=0.1, on_started_leading=lead,
                             on_stopped_leading=lambda: log.append(("stopped", identity)))

    with pytest.raises(NotFound):
        await client.get("leases", "pair")
    one, two = elector("one"), elector("two")
    tasks = {"one": asyncio.ensure_future(one.run()), "two": asyncio.ensure_future(two.run())}
    await until_true(lambda: log, what="a leader")
    first = log[0][1]
    electors = {"one": one, "two": two}
    second = "two" if first == "one" else "one"
    assert electors[first].is_leader() and not electors[second].is_leader()
    lease = await client.get("leases", "pair")
    assert lease["spec"]["holderIdentity"] == first and lease["spec"]["leaseDurationSeconds"] == 2
    assert lease["spec"]["renewTime"].endswith("Z") and "." in lease["spec"]["renewTime"]
    tasks[first].cancel()                                       # release on cancel
    await until_true(lambda: len(log) >= 3, what="the hand-over")
    assert log == [("started", first), ("stopped", first), ("started", second)]
    assert electors[second].is_leader() and not electors[first].is_leader()
    lease = await client.get("leases", "pair")
    assert lease["spec"]["holderIdentity"] == second and lease["spec"]["leaseTransitions"] == 1
    tasks[second].cancel()
    await asyncio.gather(*tasks.values(), return_exceptions=True)
    assert (await client.get("leases", "pair"))["spec"]["holderIdentity"] == ""
