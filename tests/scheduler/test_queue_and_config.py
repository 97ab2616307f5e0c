"""The scheduling queue's order and moves, profiles from KubeSchedulerConfiguration, and
percentageOfNodesToScore with the rotating start index."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane import _sched
from pykube_plane.scheduler.config import ConfigError, Profile, SchedulerConfig
from pykube_plane.scheduler.queue import SchedulingQueue
from pykube_plane.scheduler.state import ClusterState


class FakeClock:
    """A clock the test moves (the queue takes its clock as a parameter)."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def pod(name: str, priority: int = 0, created: str = "2026-01-01T00:00:00Z", gates=None) -> dict:
    spec = {"priority": priority, "containers": [{"name": "c", "image": "x"}]}
    if gates:
        spec["schedulingGates"] = gates
    return {"metadata": {"name": name, "namespace": "default", "creationTimestamp": created}, "spec": spec}


async def test_active_queue_orders_by_priority_then_creation():
    q = SchedulingQueue()
    q.add(pod("late", 0, "2026-01-01T00:00:02Z"))
    q.add(pod("early", 0, "2026-01-01T00:00:01Z"))
    q.add(pod("important", 10, "2026-01-01T00:00:03Z"))
    order = [(await q.pop())["metadata"]["name"] for _ in range(3)]
    assert order == ["important", "early", "late"]


async def test_backoff_doubles_to_ten_seconds_and_cluster_events_move_unschedulable():
    clock = FakeClock()
    q = SchedulingQueue(clock=clock)
    q.add(pod("p"))
    seen = []
    for attempt in range(6):
        p = await q.pop()
        seen.append(q.backoff_seconds("default/p"))
        q.requeue_backoff("default/p")
        assert q.sizes()["backoff"] == 1
        clock.now += q.backoff_seconds("default/p")
    assert seen == [1, 2, 4, 8, 10, 10]
    p = await q.pop()
    q.requeue_unschedulable("default/p")
    assert q.sizes() == {"active": 0, "backoff": 0, "unschedulable": 1, "gated": 0}
    clock.now += 60
    q.move_all_to_active_or_backoff()           # e.g. a node was added
    assert q.sizes()["active"] == 1 and q.sizes()["unschedulable"] == 0
    await q.pop()
    q.requeue_unschedulable("default/p")
    clock.now += 299
    q.flush()
    assert q.sizes()["unschedulable"] == 1
    clock.now += 2
    q.flush()                                   # 5 minutes unschedulable: another try
    assert q.sizes()["active"] == 1


async def test_a_move_during_the_attempt_sends_the_pod_to_backoff_not_unschedulable():
    clock = FakeClock()
    q = SchedulingQueue(clock=clock)
    q.add(pod("p"))
    await q.pop()
    q.move_all_to_active_or_backoff()           # a pod was deleted while "p" was being scheduled
    q.requeue_unschedulable("default/p")
    assert q.sizes()["unschedulable"] == 0 and q.sizes()["backoff"] == 1


async def test_scheduling_gates_hold_a_pod_until_removed():
    q = SchedulingQueue()
    q.add(pod("gated", gates=[{"name": "example.com/wait"}]))
    assert q.sizes()["gated"] == 1
    with pytest.raises(asyncio.TimeoutError):
        await asyncio.wait_for(q.pop(), 0.05)
    q.update(pod("gated"))
    assert (await q.pop())["metadata"]["name"] == "gated"


def test_percentage_of_nodes_to_score():
    profile = Profile()
    assert profile.num_feasible_nodes_to_find(50) == 50              # fewer than 100: all
    assert profile.num_feasible_nodes_to_find(1000) == 420           # 50 - 1000/125 = 42%
    assert profile.num_feasible_nodes_to_find(5000) == 500           # 10%
    assert profile.num_feasible_nodes_to_find(10000) == 500          # floor of 5%
    assert profile.num_feasible_nodes_to_find(150) == 100            # at least 100
    assert Profile(percentage_of_nodes_to_score=100).num_feasible_nodes_to_find(5000) == 5000
    assert Profile(percentage_of_nodes_to_score=1).num_feasible_nodes_to_find(5000) == 100


def test_rotating_start_index_visits_every_node_in_turn():
    state = ClusterState()
    for i in range(400):
        state.set_node({"metadata": {"name": f"n{i}", "labels": {}},
                        "status": {"allocatable": {"cpu": "4", "memory": "4Gi", "pods": "10"}}})
    query = state.query(pod("p"))
    profile = Profile(percentage_of_nodes_to_score=25)
    start, seen = 0, []
    for _ in range(4):
        result = state.table.run(query, start, profile.num_feasible_nodes_to_find(400), _sched.F_ALL, profile.weights)
        seen.append([state.table.name_at(i) for i in result.feasible])
        start = (start + result.processed) % 400
    assert [len(s) for s in seen] == [100, 100, 100, 100]
    assert sorted(sum(seen, [])) == sorted(f"n{i}" for i in range(400))


def test_config_profiles_weights_and_errors():
    config = SchedulerConfig.from_yaml("""
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
percentageOfNodesToScore: 30
profiles:
- schedulerName: default-scheduler
  plugins:
    score:
      disabled: [{name: ImageLocality}]
      enabled: [{name: NodeAffinity, weight: 7}]
    filter:
      disabled: [{name: TaintToleration}]
- schedulerName: packer
  percentageOfNodesToScore: 100
  pluginConfig:
  - name: NodeResourcesFit
    args: {scoringStrategy: {type: MostAllocated}}
""")
    default, packer = config.profiles["default-scheduler"], config.profiles["packer"]
    assert default.weights == [3, 7, 1, 1, 0, 2, 2]
    assert default.filters == _sched.F_ALL & ~_sched.F_TAINT
    assert default.percentage_of_nodes_to_score == 30
    assert packer.most_allocated and packer.percentage_of_nodes_to_score == 100
    with pytest.raises(ConfigError, match="unknown plugin 'Nope'"):
        SchedulerConfig.from_yaml("profiles: [{plugins: {score: {enabled: [{name: Nope}]}}}]")
    with pytest.raises(ConfigError, match="distinct schedulerName"):
        SchedulerConfig.from_yaml("profiles: [{schedulerName: a}, {schedulerName: a}]")
    with pytest.raises(ConfigError, match="kind must be"):
        SchedulerConfig.from_yaml("kind: Pod")


def test_victims_a_disruption_budget_protects_are_told_apart():
    from pykube_plane.api.labels import selector_from_label_selector
    from pykube_plane.scheduler.preemption import _split_by_pdb
    state = ClusterState()
    state.set_node({"metadata": {"name": "n", "labels": {}},
                    "status": {"allocatable": {"cpu": "4", "memory": "4Gi", "pods": "10"}}})
    records = []
    for name, app, prio in (("a", "db", 5), ("b", "db", 7), ("c", "web", 1), ("d", "db", 1)):
        p = pod(name, prio)
        p["metadata"]["labels"] = {"app": app}
        records.append(state.add_pod(p, "n"))
    budget = {"metadata": {"namespace": "default"}, "status": {"disruptionsAllowed": 1}}
    other_ns = {"metadata": {"namespace": "other"}, "status": {"disruptionsAllowed": 0}}
    pdbs = [(budget, selector_from_label_selector({"matchLabels": {"app": "db"}})),
            (other_ns, selector_from_label_selector({}))]
    violating, fine = _split_by_pdb(records, pdbs)
    # Most important first: "b" uses the one disruption allowed; "a" and "d" would break the budget.
    assert [r.pod["metadata"]["name"] for r in violating] == ["a", "d"]
    assert [r.pod["metadata"]["name"] for r in fine] == ["b", "c"]
