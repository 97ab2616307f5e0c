"""Two controller-manager processes on one API server: one leads (Lease
kube-system/kube-controller-manager); SIGKILL it and the other takes over — and no pod is
created twice (every pod ADDED in a watch log is one the ReplicaSets asked for)."""
from __future__ import annotations

import signal

import pytest

from tests.apiserver.conftest import start_server_process, stop_server_process
from tests.controllers.conftest import CM_FLAGS, replicaset, start_manager, start_pod_helper, wait_for
from tests.controllers.watchlog import WatchLog


@pytest.fixture
def server(tmp_path):
    s = start_server_process(tmp_path)
    helper = start_pod_helper(s, tmp_path)
    try:
        yield s
    finally:
        helper.terminate()
        helper.wait(timeout=20)
        stop_server_process(s)


def _holder(server) -> str:
    lease = server.kubectl_json("get", "lease", "kube-controller-manager", "-n", "kube-system")
    return lease["spec"].get("holderIdentity", "")


def test_leader_killed_other_takes_over_without_duplicate_pods(server, tmp_path):
    a = start_manager(server, tmp_path, *CM_FLAGS, identity="cm-a")
    wait_for("cm-a leads", lambda: _holder(server) == "cm-a")
    b = start_manager(server, tmp_path, *CM_FLAGS, identity="cm-b")
    try:
        server.kubectl("create", "namespace", "fo")
        with WatchLog(str(server.kubeconfig), "fo") as log:
            server.kubectl("apply", "-n", "fo", "-f", "-", input=__import__("json").dumps(replicaset("web", 20)))
            wait_for("20 pods", lambda: len(server.kubectl_json("get", "pods", "-n", "fo")["items"]) == 20)
            assert b.get("/metrics")[1].count('leader_election_master_status{name="kube-controller-manager"} 0.0') == 1
            a.stop(signal.SIGKILL)
            wait_for("cm-b leads", lambda: _holder(server) == "cm-b")
            server.kubectl("scale", "rs", "web", "-n", "fo", "--replicas=30")
            wait_for("30 pods", lambda: len(server.kubectl_json("get", "pods", "-n", "fo")["items"]) == 30)
            wait_for("status from the new leader", lambda: server.kubectl_json("get", "rs", "web", "-n", "fo")
                     .get("status", {}).get("readyReplicas") == 30)
        added = {pod["metadata"]["uid"] for kind, pod in log.events if kind == "ADDED"}
        deleted = [pod for kind, pod in log.events if kind == "DELETED"]
        assert len(added) == 30 and deleted == []
        assert len(server.kubectl_json("get", "pods", "-n", "fo")["items"]) == 30
    finally:
        b.stop()
        a.stop()


def test_second_manager_waits_and_stays_healthy_as_follower(server, tmp_path):
    a = start_manager(server, tmp_path, *CM_FLAGS, identity="one")
    b = start_manager(server, tmp_path, *CM_FLAGS, identity="two")
    try:
        wait_for("one leads", lambda: _holder(server) == "one")
        assert b.get("/healthz")[0] == 200
        a.stop()       # a clean stop releases the lease: the follower takes it at once
        wait_for("two leads", lambda: _holder(server) == "two")
    finally:
        b.stop()
        a.stop()


def test_restarted_manager_resumes_from_its_informers_without_new_pods(server, tmp_path):
    import json
    a = start_manager(server, tmp_path, *CM_FLAGS, identity="first")
    try:
        server.kubectl("create", "namespace", "rs")
        server.kubectl("apply", "-n", "rs", "-f", "-", input=json.dumps(replicaset("web", 8)))
        wait_for("8 pods", lambda: len(server.kubectl_json("get", "pods", "-n", "rs")["items"]) == 8)
        uids = {p["metadata"]["uid"] for p in server.kubectl_json("get", "pods", "-n", "rs")["items"]}
    finally:
        a.stop()
    with WatchLog(str(server.kubeconfig), "rs") as log:
        b = start_manager(server, tmp_path, *CM_FLAGS, identity="second")
        try:
            wait_for("second leads", lambda: _holder(server) == "second")
            # a change after the restart proves the new process is reconciling this ReplicaSet
            server.kubectl("scale", "rs", "web", "-n", "rs", "--replicas=9")
            wait_for("9 pods", lambda: len(server.kubectl_json("get", "pods", "-n", "rs")["items"]) == 9)
        finally:
            b.stop()
    now = {p["metadata"]["uid"] for p in server.kubectl_json("get", "pods", "-n", "rs")["items"]}
    assert uids < now and len(now - uids) == 1
    assert [kind for kind, _ in log.events[log.initial:]].count("ADDED") == 1


def test_api_server_restart_resumes_without_duplicate_pods(tmp_path):
    import json

    from tests.conftest import free_port
    port = free_port()
    server = start_server_process(tmp_path, "--secure-port", str(port))
    helper = start_pod_helper(server, tmp_path)
    # a lease that outlives the restart: losing it would (rightly) end the process
    manager = start_manager(server, tmp_path, *CM_FLAGS, "--leader-elect-lease-duration", "60s",
                            "--leader-elect-renew-deadline", "45s", identity="survivor")
    try:
        server.kubectl("create", "namespace", "rs")
        server.kubectl("apply", "-n", "rs", "-f", "-", input=json.dumps(replicaset("web", 5)))
        wait_for("5 pods", lambda: len(server.kubectl_json("get", "pods", "-n", "rs")["items"]) == 5)
        before = {p["metadata"]["uid"] for p in server.kubectl_json("get", "pods", "-n", "rs")["items"]}
        stop_server_process(server)
        server.kubeconfig.unlink()      # written again once the new process listens
        server = start_server_process(tmp_path, "--secure-port", str(port))     # same data, same address
        server.kubectl("scale", "rs", "web", "-n", "rs", "--replicas=7")
        wait_for("7 pods", lambda: len(server.kubectl_json("get", "pods", "-n", "rs")["items"]) == 7)
        wait_for("status from the same manager", lambda: server.kubectl_json("get", "rs", "web", "-n", "rs")
                 .get("status", {}).get("replicas") == 7)
        after = {p["metadata"]["uid"] for p in server.kubectl_json("get", "pods", "-n", "rs")["items"]}
        assert before < after and len(after) == 7
        assert manager.proc.poll() is None
    finally:
        manager.stop()
        helper.terminate()
        helper.wait(timeout=20)
        stop_server_process(server)
