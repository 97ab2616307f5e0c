"""Unit tests of the pure parts: owner graph, rollout arithmetic, expectations, registry,
endpoint subsets, job indexes, pod ranking, slow start, flag durations."""
from __future__ import annotations

import asyncio

import click
import pytest

from pykube_plane.cli.controller_manager_cmd import go_duration
from pykube_plane.controllers import registry
from pykube_plane.controllers import rollout as R
from pykube_plane.controllers.endpoints import build_subsets, resolve_target_port
from pykube_plane.controllers.expectations import Expectations
from pykube_plane.controllers.garbagecollector.graph import Graph, Identity
from pykube_plane.controllers.job import format_indexes, parse_indexes
from pykube_plane.controllers.podutil import deletion_rank
from pykube_plane.controllers.replicaset import BatchFailed, slow_start


def ident(uid, kind="Pod"):
    return Identity("v1", kind, "ns", uid, uid)


def ref(uid, block=False):
    return {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": uid, "uid": uid, "blockOwnerDeletion": block}


# -- owner graph -------------------------------------------------------------------------------------

def test_graph_owner_deleted_queues_its_dependents():
    g = Graph()
    assert not g.observe(ident("rs", "ReplicaSet"), [], False, [])
    assert not g.observe(ident("p1"), [ref("rs")], False, [])
    g.observe(ident("p2"), [ref("rs")], False, [])
    assert g.get("rs").dependents == {"p1", "p2"}
    actions = g.forget("rs")
    assert actions.attempt_to_delete == ["p1", "p2"]
    assert g.get("rs").virtual          # kept: the pods still point at it


def test_graph_unknown_owner_is_virtual_and_verified():
    g = Graph()
    actions = g.observe(ident("p"), [ref("ghost")], False, [])
    assert actions.attempt_to_delete == ["ghost"]
    assert g.get("ghost").virtual
    g.forget("p")
    assert g.get("ghost") is None       # a virtual node with no dependents goes


def test_graph_foreground_and_orphan_transitions():
    g = Graph()
    g.observe(ident("d", "Deployment"), [], False, [])
    g.observe(ident("rs", "ReplicaSet"), [ref("d", block=True)], False, [])
    g.observe(ident("x", "ReplicaSet"), [ref("d", block=False)], False, [])
    actions = g.observe(ident("d", "Deployment"), [], True, ["foregroundDeletion"])
    assert actions.attempt_to_delete == ["d", "rs", "x"]
    assert g.blocking_dependents("d") == ["rs"]
    assert g.forget("rs").attempt_to_delete == ["d"]        # the waiting owner looks again
    assert g.blocking_dependents("d") == []
    orphan = g.observe(ident("o", "ReplicaSet"), [], True, ["orphan"])
    assert orphan.attempt_to_orphan == ["o"]
    assert not g.observe(ident("o", "ReplicaSet"), [], True, ["orphan"])      # once per transition


def test_graph_owner_reference_removed_updates_edges():
    g = Graph()
    g.observe(ident("a", "ReplicaSet"), [], False, [])
    g.observe(ident("p"), [ref("a")], False, [])
    g.observe(ident("p"), [], False, [])
    assert g.get("a").dependents == set()


# -- rollout arithmetic ----------------------------------------------------------------------------

def _d(replicas, surge="25%", unavailable="25%", strategy="RollingUpdate"):
    return {"spec": {"replicas": replicas, "strategy": {"type": strategy, "rollingUpdate": {
        "maxSurge": surge, "maxUnavailable": unavailable}}}}


def _rs(spec, available=0, replicas=None):
    return {"spec": {"replicas": spec}, "status": {"availableReplicas": available,
                                                   "replicas": spec if replicas is None else replicas}}


def test_surge_rounds_up_unavailable_down_and_never_both_zero():
    assert R.surge_and_unavailable(_d(10)) == (3, 2)
    assert R.surge_and_unavailable(_d(10, 0, 0)) == (0, 1)
    assert R.surge_and_unavailable(_d(5, "10%", "10%")) == (1, 0)
    assert R.max_unavailable(_d(3, strategy="Recreate")) == 0


def test_rolling_update_arithmetic_keeps_bounds():
    d = _d(10)
    old, new = _rs(10, 10), _rs(0)
    assert R.new_rs_replicas(d, [old, new], new) == 3                       # 13 pods at most
    assert R.old_rs_scale_down_budget(d, [old, _rs(3, 0)], _rs(3, 0)) == 2    # only maxUnavailable may go
    assert R.available_scale_down(d, [old, new]) == 2                        # 10 available, 8 needed
    new_ok = _rs(3, 3)
    assert R.old_rs_scale_down_budget(d, [old, new_ok], new_ok) == 5


def test_template_hash_is_stable_and_ignores_its_own_label():
    t = {"metadata": {"labels": {"app": "x"}}, "spec": {"containers": [{"name": "c", "image": "a"}]}}
    h = R.template_hash(t)
    assert h == R.template_hash({"spec": t["spec"], "metadata": {"labels": {"app": "x"}}})
    assert h != R.template_hash(t, collision_count=1)
    labelled = {"metadata": {"labels": {"app": "x", R.POD_TEMPLATE_HASH: h}}, "spec": t["spec"]}
    assert R.same_template(labelled, t)
    assert set(h) <= set("bcdfghjklmnpqrstvwxz2456789")


# -- expectations ----------------------------------------------------------------------------------

def test_expectations_wait_for_observations_or_expire():
    now = [0.0]
    e = Expectations(ttl=10, clock=lambda: now[0])
    assert e.satisfied("k")
    e.expect_creations("k", 2)
    assert not e.satisfied("k")
    e.creation_observed("k")
    e.creation_observed("k")
    assert e.satisfied("k")
    e.expect_deletions("k", ["ns/a"])
    assert not e.satisfied("k")
    now[0] = 11
    assert e.satisfied("k")             # a lost event never wedges the controller


# -- registry --------------------------------------------------------------------------------------

def test_registry_star_minus_and_aliases():
    everything = registry.enabled_controllers(["*"])
    assert "deployment" in everything and "garbagecollector" in everything
    assert "statefulset" not in everything and "ttl-after-finished" in everything    # kinds served or not
    assert "podgc" not in registry.enabled_controllers(["*", "-podgc"])
    assert registry.enabled_controllers(["deployment-controller", "replicaset"]) == ["replicaset", "deployment"]
    with pytest.raises(registry.UnknownController):
        registry.enabled_controllers(["nope"])
    assert "nodelifecycle" in registry.CONTROLLERS


# -- endpoints ---------------------------------------------------------------------------------------

def _pod(name, ip, ready=True, port_name="http", port=8080):
    return {"metadata": {"name": name, "namespace": "ns", "uid": name},
            "spec": {"containers": [{"name": "c", "ports": [{"name": port_name, "containerPort": port}]}]},
            "status": {"podIP": ip, "phase": "Running",
                       "conditions": [{"type": "Ready", "status": "True" if ready else "False"}]}}


def test_subsets_split_ready_and_group_by_resolved_ports():
    svc = {"metadata": {"name": "s"}, "spec": {"ports": [{"name": "web", "port": 80, "targetPort": "http"}]}}
    pods = [_pod("a", "10.0.0.2"), _pod("b", "10.0.0.1", ready=False), _pod("c", "10.0.0.3", port=9090),
            _pod("d", "10.0.0.4", port_name="other"), _pod("e", "")]
    subsets = build_subsets(svc, pods)
    assert [(s["ports"][0]["port"], [a["ip"] for a in s.get("addresses", [])],
             [a["ip"] for a in s.get("notReadyAddresses", [])]) for s in subsets] == [
        (8080, ["10.0.0.2"], ["10.0.0.1"]), (9090, ["10.0.0.3"], [])]
    assert resolve_target_port({"port": 80}, pods[0]) == 80
    assert resolve_target_port({"port": 80, "targetPort": 81}, pods[0]) == 81


# -- jobs, ranking, slow start, flags ----------------------------------------------------------------

def test_completed_indexes_round_trip():
    assert format_indexes({0, 1, 2, 4, 6, 7}) == "0-2,4,6-7"
    assert parse_indexes("0-2,4,6-7") == {0, 1, 2, 4, 6, 7}
    assert format_indexes(set()) == "" and parse_indexes("") == set()


def test_deletion_rank_prefers_unscheduled_pending_not_ready_newest():
    def pod(node="", phase="Running", ready=True, created="2026-01-01T00:00:00Z"):
        return {"metadata": {"creationTimestamp": created}, "spec": {"nodeName": node},
                "status": {"phase": phase, "conditions": [{"type": "Ready", "status": "True" if ready else "False",
                                                           "lastTransitionTime": created}]}}
    unscheduled, pending = pod(node=""), pod(node="n", phase="Pending", ready=False)
    not_ready, old_ready = pod(node="n", ready=False), pod(node="n")
    new_ready = pod(node="n", created="2026-02-01T00:00:00Z")
    ranked = sorted([old_ready, new_ready, not_ready, pending, unscheduled], key=deletion_rank)
    assert ranked == [unscheduled, pending, not_ready, new_ready, old_ready]


async def test_slow_start_batches_double_and_stop_at_a_failure():
    calls = [0]

    async def create():
        calls[0] += 1
        await asyncio.sleep(0)
    assert await slow_start(10, create) == 10
    calls[0] = 0

    async def fail_on_fourth():
        calls[0] += 1
        if calls[0] == 4:
            raise RuntimeError("quota")
    with pytest.raises(BatchFailed) as info:
        await slow_start(100, fail_on_fourth)
    assert info.value.done == 6 and calls[0] == 7      # batches 1, 2, then 4 with one failure: stop
    assert info.value.skipped == 100 - 7


def test_go_durations():
    assert go_duration("15s") == 15 and go_duration("1m30s") == 90 and go_duration("500ms") == 0.5
    with pytest.raises(click.BadParameter):
        go_duration("15")


def test_proportional_scaling_mid_rollout():
    d = _d(15, surge=3, unavailable=0)
    new = {"metadata": {"annotations": {R.MAX_REPLICAS: "13", R.DESIRED_REPLICAS: "10"}}, "spec": {"replicas": 7}}
    old = {"metadata": {"annotations": {R.MAX_REPLICAS: "13", R.DESIRED_REPLICAS: "10"}}, "spec": {"replicas": 6}}
    assert R.is_scaling_event(d, [new, old])
    sizes = R.proportional_sizes(d, [new, old], rolling=True)
    assert sum(sizes) == 18 and sizes[0] > 7 and sizes[1] > 6
    down = R.proportional_sizes(_d(5, surge=1, unavailable=0), [new, old], rolling=True)
    assert sum(down) == 6 and all(s >= 0 for s in down)
    assert R.proportional_sizes(_d(0), [new, old], rolling=True) == [0, 0]
    assert not R.is_scaling_event(_d(10), [new, old])


def test_endpoints_truncate_past_capacity_keeping_ready_first():
    from pykube_plane.controllers.endpoints import truncate
    subsets = [{"addresses": [{"ip": f"10.0.0.{i}"} for i in range(3)],
                "notReadyAddresses": [{"ip": "10.0.1.1"}], "ports": [{"port": 80}]},
               {"addresses": [{"ip": "10.0.2.1"}], "ports": [{"port": 81}]}]
    same, cut = truncate(subsets, limit=5)
    assert same == subsets and not cut
    out, cut = truncate(subsets, limit=4)
    assert cut
    assert sum(len(s.get("addresses", [])) for s in out) == 4
    assert all("notReadyAddresses" not in s for s in out)


def test_replicaset_status_reports_replica_failure_and_clears_it():
    from pykube_plane.controllers.replicaset import ReplicaSetController
    owner = {"metadata": {"generation": 3}, "spec": {"replicas": 3, "template": {"metadata": {"labels": {"a": "b"}}}},
             "status": {}}
    pod = {"metadata": {"labels": {"a": "b"}}, "status": {"conditions": [{"type": "Ready", "status": "True"}]}}
    failed = ReplicaSetController._status(None, owner, [pod], RuntimeError("quota exceeded"), 0)
    assert failed["replicas"] == 1 and failed["readyReplicas"] == 1 and failed["observedGeneration"] == 3
    (condition,) = failed["conditions"]
    assert (condition["type"], condition["status"], condition["reason"]) == ("ReplicaFailure", "True", "FailedCreate")
    owner["status"] = failed
    healed = ReplicaSetController._status(None, owner, [pod, pod, pod], None, 0)
    assert "conditions" not in healed and healed["fullyLabeledReplicas"] == 3
