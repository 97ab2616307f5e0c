"""ReplicaSets and ReplicationControllers through the real kubectl, reconciled by a real
`kplane controller-manager` process."""
from __future__ import annotations

from tests.controllers.conftest import replicaset, wait_for


def _owned_by(pod: dict, uid: str) -> bool:
    return any(r.get("uid") == uid and r.get("controller") for r in pod["metadata"].get("ownerReferences") or ())


def test_replicaset_scales_up_and_down_with_owned_ready_pods(cluster, ns):
    cluster.apply(replicaset("web", 3), ns)
    rs = cluster.json("get", "rs", "web", "-n", ns)
    wait_for("3 pods", lambda: len(cluster.pods(ns, "app=web")) == 3)
    assert all(_owned_by(p, rs["metadata"]["uid"]) for p in cluster.pods(ns, "app=web"))
    wait_for("status 3 ready", lambda: cluster.json("get", "rs", "web", "-n", ns).get("status", {}).get(
        "readyReplicas") == 3)
    cluster.kubectl("scale", "rs", "web", "-n", ns, "--replicas=7")
    wait_for("7 pods", lambda: len(cluster.pods(ns, "app=web")) == 7)
    cluster.kubectl("scale", "rs", "web", "-n", ns, "--replicas=2")
    wait_for("2 pods", lambda: len(cluster.pods(ns, "app=web")) == 2)
    status = wait_for("status of 2", lambda: (s := cluster.json("get", "rs", "web", "-n", ns)["status"])
                      .get("availableReplicas") == 2 and s.get("replicas") == 2 and s)
    assert status["fullyLabeledReplicas"] == 2
    assert status["observedGeneration"] == cluster.json("get", "rs", "web", "-n", ns)["metadata"]["generation"]


def test_replicaset_adopts_orphans_and_releases_relabelled_pods(cluster, ns):
    orphan = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "orphan", "labels": {"app": "adopt"}},
              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    cluster.apply(orphan, ns)
    cluster.apply(replicaset("adopt", 2), ns)
    uid = cluster.json("get", "rs", "adopt", "-n", ns)["metadata"]["uid"]
    wait_for("orphan adopted", lambda: _owned_by(cluster.json("get", "pod", "orphan", "-n", ns), uid))
    wait_for("2 pods in all", lambda: len(cluster.pods(ns, "app=adopt")) == 2)
    cluster.kubectl("label", "pod", "orphan", "-n", ns, "app=elsewhere", "--overwrite")
    wait_for("released", lambda: not _owned_by(cluster.json("get", "pod", "orphan", "-n", ns), uid))
    wait_for("a replacement", lambda: len(cluster.pods(ns, "app=adopt")) == 2)


def test_replicaset_available_waits_for_min_ready_seconds(cluster, ns):
    cluster.apply(replicaset("slow", 2, minReadySeconds=3), ns)
    wait_for("ready", lambda: cluster.json("get", "rs", "slow", "-n", ns).get("status", {}).get("readyReplicas") == 2)
    status = cluster.json("get", "rs", "slow", "-n", ns)["status"]
    # just ready: not yet available (3 s have not passed since the helper marked them)
    assert status.get("availableReplicas", 0) <= 2
    wait_for("available after minReadySeconds",
             lambda: cluster.json("get", "rs", "slow", "-n", ns)["status"].get("availableReplicas") == 2)


def test_replication_controller_keeps_its_replicas(cluster, ns):
    rc = {"apiVersion": "v1", "kind": "ReplicationController", "metadata": {"name": "legacy"},
          "spec": {"replicas": 3, "selector": {"app": "legacy"},
                   "template": {"metadata": {"labels": {"app": "legacy"}},
                                "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}
    cluster.apply(rc, ns)
    wait_for("3 pods", lambda: len(cluster.pods(ns, "app=legacy")) == 3)
    victim = cluster.pods(ns, "app=legacy")[0]["metadata"]["name"]
    cluster.kubectl("delete", "pod", victim, "-n", ns)
    wait_for("replaced", lambda: len(cluster.pods(ns, "app=legacy")) == 3
             and victim not in {p["metadata"]["name"] for p in cluster.pods(ns, "app=legacy")})
    cluster.kubectl("scale", "rc", "legacy", "-n", ns, "--replicas=1")
    wait_for("1 pod", lambda: len(cluster.pods(ns, "app=legacy")) == 1)
    wait_for("status", lambda: cluster.json("get", "rc", "legacy", "-n", ns)["status"].get("readyReplicas") == 1)


def test_scale_down_deletes_not_ready_pods_first(cluster, ns):
    cluster.apply(replicaset("rank", 3), ns)
    wait_for("3 ready", lambda: cluster.json("get", "rs", "rank", "-n", ns).get("status", {}).get("readyReplicas") == 3)
    pods = cluster.pods(ns, "app=rank")
    unready = pods[1]["metadata"]["name"]
    cluster.kubectl("patch", "pod", unready, "-n", ns, "--subresource=status", "--type=json", "-p",
                    '[{"op":"replace","path":"/status/conditions/2/status","value":"False"}]')
    wait_for("2 ready", lambda: cluster.json("get", "rs", "rank", "-n", ns)["status"].get("readyReplicas") == 2)
    cluster.kubectl("scale", "rs", "rank", "-n", ns, "--replicas=2")
    wait_for("2 pods", lambda: len(cluster.pods(ns, "app=rank")) == 2)
    assert unready not in {p["metadata"]["name"] for p in cluster.pods(ns, "app=rank")}


def test_terminating_pods_are_replaced_and_counted_apart(cluster, ns):
    cluster.apply(replicaset("term", 2), ns)
    wait_for("2 pods", lambda: len(cluster.pods(ns, "app=term")) == 2)
    held = cluster.pods(ns, "app=term")[0]["metadata"]["name"]
    cluster.kubectl("patch", "pod", held, "-n", ns, "--type=merge", "-p",
                    '{"metadata":{"finalizers":["example.com/hold"]}}')
    cluster.kubectl("delete", "pod", held, "-n", ns, "--wait=false")
    status = wait_for("one terminating, replaced", lambda: (s := cluster.json("get", "rs", "term", "-n", ns)["status"])
                      .get("terminatingReplicas") == 1 and s.get("readyReplicas") == 2 and s)
    assert status["replicas"] == 2
    assert len(cluster.pods(ns, "app=term")) == 3      # 2 active + the one held by its finalizer
    cluster.kubectl("patch", "pod", held, "-n", ns, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    wait_for("none terminating", lambda: not cluster.json("get", "rs", "term", "-n", ns)["status"].get(
        "terminatingReplicas"))
