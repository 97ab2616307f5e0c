"""Endpoints following readiness, namespace deletion, cascading deletion (background, foreground,
orphan), Jobs, pod GC, the default ServiceAccount and kube-root-ca.crt — with the real kubectl."""
from __future__ import annotations

from tests.controllers.conftest import deployment, replicaset, wait_for
from tests.controllers.watchlog import WatchLog


def _endpoints(cluster, ns, name):
    result = cluster.kubectl("get", "endpoints", name, "-n", ns, "-o", "json", check=False)
    if result.returncode != 0:
        return None
    import json
    return json.loads(result.stdout)


def _addresses(ep, field):
    return sorted(a["ip"] for s in (ep or {}).get("subsets") or () for a in s.get(field) or ())


def test_service_endpoints_follow_readiness_and_named_ports(cluster, ns):
    cluster.apply(deployment("api", 3), ns)
    svc = {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "api"},
           "spec": {"selector": {"app": "api"}, "ports": [{"name": "web", "port": 80, "targetPort": "http"},
                                                           {"name": "admin", "port": 9000, "targetPort": 9001}]}}
    cluster.apply(svc, ns)
    ep = wait_for("3 ready addresses", lambda: len(_addresses(e := _endpoints(cluster, ns, "api"), "addresses")) == 3 and e)
    ports = sorted((p["name"], p["port"]) for p in ep["subsets"][0]["ports"])
    assert ports == [("admin", 9001), ("web", 8080)]
    pods = cluster.pods(ns, "app=api")
    assert _addresses(ep, "addresses") == sorted(p["status"]["podIP"] for p in pods)
    victim = pods[0]
    cluster.kubectl("patch", "pod", victim["metadata"]["name"], "-n", ns, "--subresource=status", "--type=json", "-p",
                    '[{"op":"replace","path":"/status/conditions/2/status","value":"False"}]')
    ep = wait_for("one not ready", lambda: _addresses(e := _endpoints(cluster, ns, "api"), "notReadyAddresses")
                  == [victim["status"]["podIP"]] and e)
    assert len(_addresses(ep, "addresses")) == 2
    cluster.kubectl("scale", "deployment/api", "-n", ns, "--replicas=0")
    wait_for("no addresses", lambda: not (_endpoints(cluster, ns, "api") or {}).get("subsets"))
    cluster.kubectl("delete", "service", "api", "-n", ns)
    wait_for("endpoints deleted with the service", lambda: _endpoints(cluster, ns, "api") is None)


def test_namespace_deletion_removes_everything(cluster):
    name = "doomed"
    cluster.kubectl("create", "namespace", name)
    cluster.apply(deployment("d", 2), name)
    cluster.kubectl("create", "configmap", "cm", "-n", name, "--from-literal=a=b")
    cluster.kubectl("create", "secret", "generic", "s", "-n", name, "--from-literal=a=b")
    cluster.kubectl("create", "service", "clusterip", "svc", "-n", name, "--tcp=80:80")
    wait_for("pods", lambda: len(cluster.pods(name)) == 2)
    # a finalizer nobody else removes holds the namespace until this test lifts it
    cluster.kubectl("patch", "configmap", "cm", "-n", name, "--type=merge", "-p",
                    '{"metadata":{"finalizers":["example.com/hold"]}}')
    cluster.kubectl("delete", "namespace", name, "--wait=false")
    conditions = wait_for("finalizers reported", lambda: {
        c["type"]: c for c in cluster.json("get", "namespace", name).get("status", {}).get("conditions", [])
        if c["type"] == "NamespaceFinalizersRemaining" and c["status"] == "True"})
    assert "example.com/hold in 1 resource instances" in conditions["NamespaceFinalizersRemaining"]["message"]
    status = cluster.json("get", "namespace", name)["status"]
    assert status["phase"] == "Terminating"
    types = {c["type"]: c for c in status["conditions"]}
    assert types["NamespaceDeletionDiscoveryFailure"]["status"] == "False"
    assert types["NamespaceContentRemaining"]["status"] == "True"
    assert cluster.pods(name) == []
    cluster.kubectl("patch", "configmap", "cm", "-n", name, "--type=merge", "-p", '{"metadata":{"finalizers":null}}')
    wait_for("namespace gone", lambda: cluster.kubectl("get", "namespace", name, check=False).returncode != 0)
    result = cluster.kubectl("get", "namespace", name, check=False)
    assert "NotFound" in result.stderr


def test_background_deletion_removes_dependents(cluster, ns):
    cluster.apply(replicaset("bg", 3), ns)
    wait_for("pods", lambda: len(cluster.pods(ns, "app=bg")) == 3)
    cluster.kubectl("delete", "rs", "bg", "-n", ns, "--cascade=background")
    wait_for("pods collected", lambda: cluster.pods(ns, "app=bg") == [])


def test_foreground_deletion_waits_for_dependents(cluster, ns):
    cluster.apply(deployment("fg", 2), ns)
    wait_for("pods", lambda: len(cluster.pods(ns, "app=fg")) == 2)
    with WatchLog(str(cluster.server.kubeconfig), ns) as pods, \
            WatchLog(str(cluster.server.kubeconfig), ns, "replicasets") as replicasets, \
            WatchLog(str(cluster.server.kubeconfig), ns, "deployments") as deployments:
        cluster.kubectl("delete", "deployment", "fg", "-n", ns, "--cascade=foreground", "--wait=false")
        wait_for("deployment gone", lambda: cluster.kubectl("get", "deployment", "fg", "-n", ns,
                                                            check=False).returncode != 0)
        wait_for("all deletions seen", lambda: _deleted_rv(deployments) and len(_deleted_rvs(pods)) == 2)

    # foreground: the owner is marked first, its dependents go, and only then the owner itself
    marked = [o for kind, o in deployments.events if kind == "MODIFIED"
              and "foregroundDeletion" in o["metadata"].get("finalizers", [])]
    assert marked
    assert max(_deleted_rvs(pods)) < _deleted_rv(replicasets) < _deleted_rv(deployments)


def _deleted_rvs(log):
    return [int(o["metadata"]["resourceVersion"]) for kind, o in log.events if kind == "DELETED"]


def _deleted_rv(log):
    rvs = _deleted_rvs(log)
    return rvs[0] if rvs else 0


def test_orphan_deletion_keeps_dependents_without_owner(cluster, ns):
    cluster.apply(replicaset("or", 2), ns)
    wait_for("pods", lambda: len(cluster.pods(ns, "app=or")) == 2)
    cluster.kubectl("delete", "rs", "or", "-n", ns, "--cascade=orphan")
    wait_for("rs gone", lambda: cluster.kubectl("get", "rs", "or", "-n", ns, check=False).returncode != 0)
    pods = wait_for("refs removed", lambda: (ps := cluster.pods(ns, "app=or")) and all(
        not p["metadata"].get("ownerReferences") for p in ps) and ps)
    assert len(pods) == 2


def test_dangling_owner_reference_is_collected(cluster, ns):
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": "dangling", "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet",
                                                                 "name": "never-was", "uid": "0000-never"}]},
           "spec": {"containers": [{"name": "c", "image": "nginx"}]}}
    cluster.apply(pod, ns)
    wait_for("dangling pod collected", lambda: cluster.kubectl("get", "pod", "dangling", "-n", ns,
                                                               check=False).returncode != 0)


def _job(name, **spec):
    body = {"apiVersion": "batch/v1", "kind": "Job", "metadata": {"name": name},
            "spec": {"template": {"metadata": {"labels": {"test.kplane/outcome": "succeed"}},
                                  "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}}}
    body["spec"].update(spec)
    return body


def test_job_runs_to_completion(cluster, ns):
    cluster.apply(_job("batch", completions=5, parallelism=2), ns)
    cluster.kubectl("wait", "--for=condition=complete", "job/batch", "-n", ns, "--timeout=90s")
    status = cluster.json("get", "job", "batch", "-n", ns)["status"]
    assert status["succeeded"] == 5
    assert status.get("failed", 0) == 0
    assert status.get("completionTime")
    pods = cluster.pods(ns, "batch.kubernetes.io/job-name=batch")
    assert len(pods) <= 5 and all("batch.kubernetes.io/job-tracking" not in p["metadata"].get("finalizers", [])
                                  for p in pods)


def test_indexed_job_completes_every_index(cluster, ns):
    cluster.apply(_job("idx", completions=3, parallelism=3, completionMode="Indexed"), ns)
    cluster.kubectl("wait", "--for=condition=complete", "job/idx", "-n", ns, "--timeout=90s")
    assert cluster.json("get", "job", "idx", "-n", ns)["status"]["completedIndexes"] == "0-2"


def test_job_fails_past_backoff_limit(cluster, ns):
    body = _job("doomed", backoffLimit=1)
    body["spec"]["template"]["metadata"]["labels"]["test.kplane/outcome"] = "fail"
    cluster.apply(body, ns)
    cluster.kubectl("wait", "--for=condition=failed", "job/doomed", "-n", ns, "--timeout=90s")
    status = cluster.json("get", "job", "doomed", "-n", ns)["status"]
    assert status["failed"] == 2
    assert any(c["reason"] == "BackoffLimitExceeded" for c in status["conditions"])


def test_pod_gc_deletes_terminated_pods_beyond_threshold(cluster, ns):
    # the module's controller-manager keeps at most 12 terminated pods in the cluster
    for i in range(16):
        cluster.apply({"apiVersion": "v1", "kind": "Pod",
                       "metadata": {"name": f"done-{i}", "labels": {"test.kplane/outcome": "succeed"}},
                       "spec": {"restartPolicy": "Never", "containers": [{"name": "c", "image": "busybox"}]}}, ns)

    def terminated():
        pods = cluster.json("get", "pods", "-A")["items"]
        return [p for p in pods if p.get("status", {}).get("phase") in ("Succeeded", "Failed")]
    wait_for("terminated pods <= 12", lambda: 0 < len(terminated()) <= 12)


def test_default_service_account_and_root_ca_in_new_namespace(cluster, ns):
    wait_for("default SA", lambda: cluster.kubectl("get", "sa", "default", "-n", ns, check=False).returncode == 0)
    cm = wait_for("kube-root-ca.crt", lambda: cluster.kubectl("get", "cm", "kube-root-ca.crt", "-n", ns,
                                                              check=False).returncode == 0)
    assert cm
    data = cluster.json("get", "cm", "kube-root-ca.crt", "-n", ns)["data"]
    assert data["ca.crt"].startswith("-----BEGIN CERTIFICATE-----")
    cluster.kubectl("delete", "sa", "default", "-n", ns)
    wait_for("default SA back", lambda: cluster.kubectl("get", "sa", "default", "-n", ns, check=False).returncode == 0)


def test_healthz_and_workqueue_metrics(cluster, ns):
    cluster.apply(replicaset("m", 1), ns)
    wait_for("pod", lambda: len(cluster.pods(ns, "app=m")) == 1)
    code, body = cluster.manager.get("/healthz")
    assert (code, body) == (200, "ok")
    code, text = cluster.manager.get("/metrics")
    assert code == 200
    for metric in ('workqueue_depth{name="replicaset"}', 'workqueue_adds_total{name="replicaset"}',
                   'workqueue_queue_duration_seconds_bucket{le="1e-08",name="replicaset"}',
                   'workqueue_work_duration_seconds_count{name="deployment"}',
                   'workqueue_unfinished_work_seconds{name="job"}',
                   'workqueue_longest_running_processor_seconds{name="garbagecollector"}',
                   'workqueue_retries_total{name="namespace"}',
                   'leader_election_master_status{name="kube-controller-manager"} 1.0'):
        assert metric in text, metric
    adds = next(line for line in text.splitlines() if line.startswith('workqueue_adds_total{name="replicaset"}'))
    assert float(adds.split()[-1]) >= 1


def test_job_past_active_deadline_fails_and_its_pods_go(cluster, ns):
    body = _job("late", activeDeadlineSeconds=2, parallelism=2, completions=2)
    body["spec"]["template"]["metadata"]["labels"]["test.kplane/outcome"] = "not-ready"    # runs forever
    cluster.apply(body, ns)
    wait_for("pods running", lambda: len(cluster.pods(ns, "batch.kubernetes.io/job-name=late")) == 2)
    cluster.kubectl("wait", "--for=condition=failed", "job/late", "-n", ns, "--timeout=90s")
    status = cluster.json("get", "job", "late", "-n", ns)["status"]
    assert any(c["reason"] == "DeadlineExceeded" for c in status["conditions"] if c["type"] == "Failed")
    wait_for("active pods deleted", lambda: cluster.pods(ns, "batch.kubernetes.io/job-name=late") == [])


def test_pod_gc_deletes_pods_bound_to_missing_nodes(cluster, ns):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "stray"},
           "spec": {"nodeName": "no-such-node", "containers": [{"name": "c", "image": "nginx"}]}}
    cluster.apply(pod, ns)
    wait_for("orphaned pod collected", lambda: cluster.kubectl("get", "pod", "stray", "-n", ns,
                                                               check=False).returncode != 0)


def test_bad_flags_are_usage_errors_not_tracebacks(cluster):
    import subprocess
    from tests.apiserver.conftest import KPLANE
    from tests.conftest import ROOT
    for args, words in ((["--controllers=*,-nope"], '"nope" is not in the list of known controllers'),
                        (["--leader-elect-lease-duration=5"], "not a duration"),
                        (["--leader-elect-lease-duration=5s", "--leader-elect-renew-deadline=6s"],
                         "must be greater than --leader-elect-renew-deadline")):
        result = subprocess.run(KPLANE + ["controller-manager", "--kubeconfig", str(cluster.server.kubeconfig), *args],
                                capture_output=True, text=True, cwd=ROOT, timeout=60)
        assert result.returncode == 2, result.stderr
        assert words in result.stderr and "Traceback" not in result.stderr


def test_finished_job_with_ttl_is_deleted_with_its_pods(cluster, ns):
    cluster.apply(_job("brief", ttlSecondsAfterFinished=1), ns)
    wait_for("job deleted", lambda: cluster.kubectl("get", "job", "brief", "-n", ns, check=False).returncode != 0)
    # it went because it finished, not before: the job controller recorded the completion
    events = cluster.json("get", "events", "-n", ns, "--field-selector", "involvedObject.name=brief")["items"]
    assert "Completed" in {e["reason"] for e in events}
    wait_for("its pods too", lambda: cluster.pods(ns, "batch.kubernetes.io/job-name=brief") == [])


def test_cluster_scoped_owner_deleted_collects_namespaced_dependents(cluster, ns):
    # a node's lease names the Node as owner (what kubelets do): the Node goes, so does its lease
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": f"gc-{ns}"}}
    cluster.apply(node, "default")
    uid = cluster.json("get", "node", f"gc-{ns}")["metadata"]["uid"]
    lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": f"gc-{ns}", "ownerReferences": [{"apiVersion": "v1", "kind": "Node",
                                                                   "name": f"gc-{ns}", "uid": uid}]},
             "spec": {"holderIdentity": f"gc-{ns}", "leaseDurationSeconds": 40}}
    cluster.apply(lease, ns)
    cluster.kubectl("delete", "node", f"gc-{ns}")
    wait_for("lease collected", lambda: cluster.kubectl("get", "lease", f"gc-{ns}", "-n", ns,
                                                        check=False).returncode != 0)


def test_suspended_job_runs_nothing_until_resumed(cluster, ns):
    body = _job("pausable", parallelism=2, completions=2)
    body["spec"]["template"]["metadata"]["labels"]["test.kplane/outcome"] = "not-ready"   # runs until stopped
    cluster.apply(body, ns)
    wait_for("2 pods", lambda: len(cluster.pods(ns, "batch.kubernetes.io/job-name=pausable")) == 2)
    cluster.kubectl("patch", "job", "pausable", "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":true}}')
    cluster.kubectl("wait", "--for=condition=suspended", "job/pausable", "-n", ns, "--timeout=90s")
    wait_for("pods gone", lambda: cluster.pods(ns, "batch.kubernetes.io/job-name=pausable") == [])
    cluster.kubectl("patch", "job", "pausable", "-n", ns, "--type=merge", "-p", '{"spec":{"suspend":false}}')
    wait_for("running again", lambda: len(cluster.pods(ns, "batch.kubernetes.io/job-name=pausable")) == 2)
    conditions = {c["type"]: c for c in cluster.json("get", "job", "pausable", "-n", ns)["status"]["conditions"]}
    assert conditions["Suspended"]["status"] == "False" and conditions["Suspended"]["reason"] == "JobResumed"
    assert cluster.json("get", "job", "pausable", "-n", ns)["status"].get("failed", 0) == 0    # stopped, not failed


def test_events_of_deleted_pods_are_collected(cluster, ns):
    cluster.apply({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "gone"},
                   "spec": {"containers": [{"name": "c", "image": "nginx"}]}}, ns)
    pod_uid = cluster.json("get", "pod", "gone", "-n", ns)["metadata"]["uid"]
    sa_uid = wait_for("default SA", lambda: cluster.json("get", "sa", "-n", ns)["items"])[0]["metadata"]["uid"]
    for name, kind, obj, uid in (("of-gone", "Pod", "gone", pod_uid), ("of-live", "ServiceAccount", "default", sa_uid)):
        cluster.apply({"apiVersion": "v1", "kind": "Event", "metadata": {"name": name},
                       "involvedObject": {"kind": kind, "name": obj, "namespace": ns, "uid": uid},
                       "reason": "Test", "message": "m", "type": "Normal",
                       "firstTimestamp": "2026-01-01T00:00:00Z", "lastTimestamp": "2026-01-01T00:00:00Z"}, ns)
    cluster.kubectl("delete", "pod", "gone", "-n", ns)
    wait_for("event of the deleted pod collected", lambda: cluster.kubectl("get", "event", "of-gone", "-n", ns,
                                                                           check=False).returncode != 0)
    assert cluster.kubectl("get", "event", "of-live", "-n", ns, check=False).returncode == 0
