"""Deployments through the real kubectl: rolling updates whose bounds hold at every change the
server made (from a watch log), rollout status/history/undo/pause/resume/restart, Recreate."""
from __future__ import annotations

import json

from pykube_plane.controllers.podutil import is_ready
from tests.controllers.conftest import deployment, wait_for
from tests.controllers.watchlog import WatchLog


def _images(cluster, ns, selector):
    return sorted(p["spec"]["containers"][0]["image"] for p in cluster.pods(ns, selector))


def _rollout_done(cluster, ns, name, replicas, timeout="120s"):
    out = cluster.kubectl("rollout", "status", f"deployment/{name}", "-n", ns, f"--timeout={timeout}").stdout
    assert "successfully rolled out" in out
    wait_for("old pods gone", lambda: len(cluster.pods(ns, f"app={name}")) == replicas)


def test_rolling_update_never_breaks_surge_or_unavailable(cluster, ns):
    replicas, surge, unavailable = 6, 2, 1
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": surge, "maxUnavailable": unavailable}}
    cluster.apply(deployment("web", replicas, strategy=strategy), ns)
    _rollout_done(cluster, ns, "web", replicas)
    with WatchLog(str(cluster.server.kubeconfig), ns) as log:
        cluster.kubectl("set", "image", "deployment/web", "-n", ns, "app=nginx:2.0")
        _rollout_done(cluster, ns, "web", replicas)
    assert _images(cluster, ns, "app=web") == ["nginx:2.0"] * replicas
    seen = {"max_pods": 0, "min_ready": replicas}

    def bounds(live: dict) -> None:
        pods = [p for p in live.values() if not p["metadata"].get("deletionTimestamp")]
        ready = sum(1 for p in pods if is_ready(p))
        seen["max_pods"] = max(seen["max_pods"], len(pods))
        seen["min_ready"] = min(seen["min_ready"], ready)
        assert len(pods) <= replicas + surge, f"{len(pods)} pods > {replicas} + {surge}"
        assert ready >= replicas - unavailable, f"{ready} ready < {replicas} - {unavailable}"
    checked = log.replay(bounds)
    assert checked > 2 * replicas        # every old pod went, every new one came: all in the log
    assert seen["max_pods"] > replicas   # the surge was used


def test_rollout_history_undo_and_status(cluster, ns):
    cluster.apply(deployment("app", 3), ns)
    _rollout_done(cluster, ns, "app", 3)
    cluster.kubectl("set", "image", "deployment/app", "-n", ns, "app=nginx:2.0")
    _rollout_done(cluster, ns, "app", 3)
    history = cluster.kubectl("rollout", "history", "deployment/app", "-n", ns).stdout
    revisions = [line.split()[0] for line in history.splitlines()[2:] if line.strip()]
    assert revisions == ["1", "2"], history
    cluster.kubectl("rollout", "undo", "deployment/app", "-n", ns)
    _rollout_done(cluster, ns, "app", 3)
    assert _images(cluster, ns, "app=app") == ["nginx:1.0"] * 3
    d = cluster.json("get", "deployment", "app", "-n", ns)
    assert d["metadata"]["annotations"]["deployment.kubernetes.io/revision"] == "3"
    conditions = {c["type"]: c for c in d["status"]["conditions"]}
    assert conditions["Available"]["status"] == "True"
    assert conditions["Progressing"]["reason"] == "NewReplicaSetAvailable"
    assert len(cluster.json("get", "rs", "-n", ns, "-l", "app=app")["items"]) == 2   # revision 1 became 3


def test_pause_resume_restart(cluster, ns):
    cluster.apply(deployment("p", 2), ns)
    _rollout_done(cluster, ns, "p", 2)
    cluster.kubectl("rollout", "pause", "deployment/p", "-n", ns)
    cluster.kubectl("set", "image", "deployment/p", "-n", ns, "app=nginx:9")
    wait_for("paused condition", lambda: any(
        c.get("reason") == "DeploymentPaused"
        for c in cluster.json("get", "deployment", "p", "-n", ns)["status"].get("conditions", [])))
    assert len(cluster.json("get", "rs", "-n", ns, "-l", "app=p")["items"]) == 1
    cluster.kubectl("scale", "deployment/p", "-n", ns, "--replicas=3")
    wait_for("scaled while paused", lambda: len(cluster.pods(ns, "app=p")) == 3)
    assert _images(cluster, ns, "app=p") == ["nginx:1.0"] * 3
    cluster.kubectl("rollout", "resume", "deployment/p", "-n", ns)
    _rollout_done(cluster, ns, "p", 3)
    assert _images(cluster, ns, "app=p") == ["nginx:9"] * 3
    before = {p["metadata"]["name"] for p in cluster.pods(ns, "app=p")}
    cluster.kubectl("rollout", "restart", "deployment/p", "-n", ns)
    wait_for("new pods", lambda: not before & {p["metadata"]["name"] for p in cluster.pods(ns, "app=p")})
    _rollout_done(cluster, ns, "p", 3)


def test_recreate_stops_old_pods_before_new_ones(cluster, ns):
    cluster.apply(deployment("re", 3, strategy={"type": "Recreate"}), ns)
    _rollout_done(cluster, ns, "re", 3)
    with WatchLog(str(cluster.server.kubeconfig), ns) as log:
        cluster.kubectl("set", "image", "deployment/re", "-n", ns, "app=nginx:2.0")
        _rollout_done(cluster, ns, "re", 3)

    def never_mixed(live: dict) -> None:
        images = {p["spec"]["containers"][0]["image"] for p in live.values()}
        assert len(images) <= 1, images
    log.replay(never_mixed)
    assert _images(cluster, ns, "app=re") == ["nginx:2.0"] * 3


def test_progress_deadline_exceeded_fails_rollout_status(cluster, ns):
    body = deployment("stuck", 2, progressDeadlineSeconds=3)
    body["spec"]["template"]["metadata"]["labels"]["test.kplane/outcome"] = "not-ready"
    cluster.apply(body, ns)
    wait_for("ProgressDeadlineExceeded", lambda: any(
        c.get("reason") == "ProgressDeadlineExceeded"
        for c in cluster.json("get", "deployment", "stuck", "-n", ns).get("status", {}).get("conditions", [])))
    result = cluster.kubectl("rollout", "status", "deployment/stuck", "-n", ns, "--timeout=30s", check=False)
    assert result.returncode != 0
    assert "exceeded its progress deadline" in result.stderr, json.dumps(result.stderr)


def test_scaling_mid_rollout_spreads_replicas_proportionally(cluster, ns):
    strategy = {"type": "RollingUpdate", "rollingUpdate": {"maxSurge": 2, "maxUnavailable": 1}}
    cluster.apply(deployment("prop", 4, strategy=strategy), ns)
    _rollout_done(cluster, ns, "prop", 4)
    # the new template's pods never become ready: the rollout stays half-way, both RSs active
    cluster.kubectl("patch", "deployment", "prop", "-n", ns, "--type=merge", "-p",
                    '{"spec":{"template":{"metadata":{"labels":{"test.kplane/outcome":"not-ready"}}}}}')

    def sizes():
        items = cluster.json("get", "rs", "-n", ns, "-l", "app=prop")["items"]
        return sorted(rs["spec"]["replicas"] for rs in items)
    wait_for("stuck half-way", lambda: len(sizes()) == 2 and sum(sizes()) == 6 and min(sizes()) > 0)
    cluster.kubectl("scale", "deployment/prop", "-n", ns, "--replicas=8")
    final = wait_for("both grown, within 8 + 2", lambda: (s := sizes()) and sum(s) == 10 and s)
    assert min(final) > 2 and max(final) > 3, final
    assert len(cluster.pods(ns, "app=prop")) <= 10


def test_revision_history_limit_and_undo_to_revision(cluster, ns):
    cluster.apply(deployment("hist", 1, revisionHistoryLimit=2), ns)
    _rollout_done(cluster, ns, "hist", 1)
    for image in ("nginx:2.0", "nginx:3.0", "nginx:4.0"):
        cluster.kubectl("set", "image", "deployment/hist", "-n", ns, f"app={image}")
        _rollout_done(cluster, ns, "hist", 1)
    # the current ReplicaSet and 2 old ones are kept; revision 1 is gone
    revisions = wait_for("history trimmed", lambda: (r := sorted(
        int(rs["metadata"]["annotations"]["deployment.kubernetes.io/revision"])
        for rs in cluster.json("get", "rs", "-n", ns, "-l", "app=hist")["items"])) == [2, 3, 4] and r)
    assert revisions == [2, 3, 4]
    cluster.kubectl("rollout", "undo", "deployment/hist", "-n", ns, "--to-revision=2")
    _rollout_done(cluster, ns, "hist", 1)
    assert _images(cluster, ns, "app=hist") == ["nginx:2.0"]
    history = cluster.kubectl("rollout", "history", "deployment/hist", "-n", ns).stdout
    assert [line.split()[0] for line in history.splitlines()[2:] if line.strip()] == ["3", "4", "5"], history
