"""The real kubectl against a real `kplane apiserver` and real `kplane scheduler` processes: pods
land where Kubernetes would put them, unschedulable pods say why in Kubernetes' words."""
from __future__ import annotations

import json

from tests.scheduler.conftest import SchedulerProcess, make_node, wait_for


def pod_manifest(name: str, cpu: str = "100m", **spec) -> str:
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": spec.pop("labels", {})},
           "spec": {"containers": [{"name": "c", "image": "nginx",
                                    "resources": {"requests": {"cpu": cpu, "memory": "64Mi"}},
                                    **({"ports": spec.pop("ports")} if "ports" in spec else {})}], **spec}}
    return json.dumps(pod)


def node_of(server, name: str) -> str:
    return server.kubectl("get", "pod", name, "-o", "jsonpath={.spec.nodeName}").stdout


def scheduled_to(server, name: str) -> str:
    return wait_for(lambda: node_of(server, name), what=f"{name} bound")


def failed_scheduling(server, name: str) -> str:
    def message():
        out = server.kubectl("get", "events", "--field-selector", f"involvedObject.name={name},reason=FailedScheduling",
                             "-o", "jsonpath={.items[*].message}").stdout
        return out
    return wait_for(message, what=f"FailedScheduling for {name}")


def test_scheduling_behaviour(cluster):
    server, schedulers, tmp = cluster
    # Five nodes: a small one, a big one, a tainted one, a cordoned one, a labelled one.
    make_node(server, "small", cpu="1", labels={"topology.kubernetes.io/zone": "a"})
    make_node(server, "big", cpu="16", labels={"topology.kubernetes.io/zone": "b"})
    make_node(server, "gpu", cpu="16", labels={"topology.kubernetes.io/zone": "a", "accel": "gpu"},
              taints=[{"key": "dedicated", "value": "gpu", "effect": "NoSchedule"}])
    make_node(server, "cordoned", cpu="16", labels={"topology.kubernetes.io/zone": "b"}, unschedulable=True)
    make_node(server, "disk", cpu="2", labels={"topology.kubernetes.io/zone": "c", "disktype": "ssd"})

    # Resources: 4 cpu fits only the 16-cpu nodes that are neither tainted nor cordoned.
    server.kubectl("apply", "-f", "-", input=pod_manifest("needs-4", cpu="4"))
    assert scheduled_to(server, "needs-4") == "big"
    pod = server.kubectl_json("get", "pod", "needs-4")
    assert pod["status"]["qosClass"] == "Burstable"
    assert any(c["type"] == "PodScheduled" and c["status"] == "True" for c in pod["status"]["conditions"])
    scheduled = wait_for(lambda: server.kubectl(
        "get", "events", "--field-selector", "involvedObject.name=needs-4,reason=Scheduled",
        "-o", "jsonpath={.items[*].message}").stdout, what="the Scheduled event")
    assert scheduled == "Successfully assigned default/needs-4 to big"

    # Too big for everyone: Kubernetes' FailedScheduling text with per-reason counts.
    server.kubectl("apply", "-f", "-", input=pod_manifest("huge", cpu="64"))
    message = failed_scheduling(server, "huge")
    assert message.startswith("0/5 nodes are available: "), message
    assert "3 Insufficient cpu" in message, message
    assert "1 node(s) had untolerated taint {dedicated: gpu}" in message, message
    assert "1 node(s) were unschedulable" in message, message
    assert "preemption: 0/5 nodes are available:" in message, message
    cond = wait_for(lambda: [c for c in (server.kubectl_json("get", "pod", "huge").get("status") or {})
                             .get("conditions", []) if c["type"] == "PodScheduled"], what="PodScheduled")
    assert cond[0]["status"] == "False" and cond[0]["reason"] == "Unschedulable"
    described = server.kubectl("describe", "pod", "huge").stdout
    assert "FailedScheduling" in described and "Insufficient cpu" in described

    # Requeue when a node is added: a node big enough appears, the pending pod lands on it.
    make_node(server, "giant", cpu="128")
    assert scheduled_to(server, "huge") == "giant"

    # Taints and tolerations, nodeSelector, node affinity.
    server.kubectl("apply", "-f", "-", input=pod_manifest(
        "tolerant", nodeSelector={"accel": "gpu"},
        tolerations=[{"key": "dedicated", "operator": "Equal", "value": "gpu", "effect": "NoSchedule"}]))
    assert scheduled_to(server, "tolerant") == "gpu"
    server.kubectl("apply", "-f", "-", input=pod_manifest("intolerant", nodeSelector={"accel": "gpu"}))
    message = failed_scheduling(server, "intolerant")
    assert "1 node(s) had untolerated taint {dedicated: gpu}" in message
    assert "4 node(s) didn't match Pod's node affinity/selector" in message  # cordoned, gpu fail earlier
    server.kubectl("apply", "-f", "-", input=pod_manifest("ssd", affinity={"nodeAffinity": {
        "requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": [{"matchExpressions": [
            {"key": "disktype", "operator": "In", "values": ["ssd"]}]}]}}}))
    assert scheduled_to(server, "ssd") == "disk"

    # nodeName set by the user: the scheduler leaves it alone and the API server keeps it.
    server.kubectl("apply", "-f", "-", input=pod_manifest("pinned", nodeName="small"))
    assert node_of(server, "pinned") == "small"

    # Host ports: two pods asking for the same host port on a one-node selection cannot share it.
    ports = [{"containerPort": 80, "hostPort": 8080}]
    server.kubectl("apply", "-f", "-", input=pod_manifest("port-1", ports=list(ports), nodeSelector={"disktype": "ssd"}))
    assert scheduled_to(server, "port-1") == "disk"
    server.kubectl("apply", "-f", "-", input=pod_manifest("port-2", ports=list(ports), nodeSelector={"disktype": "ssd"}))
    assert "1 node(s) didn't have free ports for the requested pod ports" in failed_scheduling(server, "port-2")

    # Pod anti-affinity by hostname keeps two replicas apart; affinity puts a third beside one.
    anti = {"podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "spread"}}, "topologyKey": "topology.kubernetes.io/zone"}]}}
    server.kubectl("apply", "-f", "-", input=pod_manifest("anti-1", labels={"app": "spread"}, affinity=anti))
    server.kubectl("apply", "-f", "-", input=pod_manifest("anti-2", labels={"app": "spread"}, affinity=anti))
    zone = lambda node: server.kubectl("get", "node", node, "-o",
                                       "jsonpath={.metadata.labels.topology\\.kubernetes\\.io/zone}").stdout
    z1, z2 = zone(scheduled_to(server, "anti-1")), zone(scheduled_to(server, "anti-2"))
    assert z1 != z2
    with_ = {"podAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [
        {"labelSelector": {"matchLabels": {"app": "spread"}}, "topologyKey": "kubernetes.io/hostname"}]}}
    server.kubectl("apply", "-f", "-", input=pod_manifest("friend", affinity=with_))
    assert scheduled_to(server, "friend") in {node_of(server, "anti-1"), node_of(server, "anti-2")}

    # Topology spread: 3 pods with maxSkew 1 over zones a/b/c (the zone-less node is left out).
    spread = [{"maxSkew": 1, "topologyKey": "topology.kubernetes.io/zone", "whenUnsatisfiable": "DoNotSchedule",
               "labelSelector": {"matchLabels": {"app": "even"}}}]
    for i in range(3):
        server.kubectl("apply", "-f", "-", input=pod_manifest(f"even-{i}", labels={"app": "even"},
                                                               topologySpreadConstraints=spread))
    zones = sorted(zone(scheduled_to(server, f"even-{i}")) for i in range(3))
    assert zones == ["a", "b", "c"], zones

    # Cordoned node: nothing lands on it even when it is the only match.
    server.kubectl("apply", "-f", "-", input=pod_manifest("to-cordoned", nodeSelector={"kubernetes.io/hostname": "cordoned"}))
    assert "1 node(s) were unschedulable" in failed_scheduling(server, "to-cordoned")
    server.kubectl("uncordon", "cordoned")
    assert scheduled_to(server, "to-cordoned") == "cordoned"

    assert schedulers[0].get("/healthz") == "ok"
    metrics = schedulers[0].metrics()
    assert 'scheduler_schedule_attempts_total{profile="default-scheduler",result="scheduled"}' in metrics
    assert 'scheduler_pending_pods{queue="active"}' in metrics


def test_preemption(cluster):
    server, _, _ = cluster
    server.kubectl("apply", "-f", "-", input=json.dumps(
        {"apiVersion": "scheduling.k8s.io/v1", "kind": "PriorityClass", "metadata": {"name": "high"},
         "value": 1000}))
    make_node(server, "tiny", cpu="1", labels={"pool": "tiny"})
    server.kubectl("apply", "-f", "-", input=pod_manifest("low", cpu="800m", nodeSelector={"pool": "tiny"},
                                                         terminationGracePeriodSeconds=0))
    assert scheduled_to(server, "low") == "tiny"
    server.kubectl("apply", "-f", "-", input=pod_manifest("high", cpu="800m", nodeSelector={"pool": "tiny"},
                                                         priorityClassName="high"))
    wait_for(lambda: server.kubectl("get", "pod", "low", check=False).returncode != 0, what="low preempted")
    assert scheduled_to(server, "high") == "tiny"


def test_failover_between_two_schedulers(cluster):
    server, schedulers, tmp = cluster
    standby = SchedulerProcess(tmp, server.kubeconfig, "scheduler-1")
    schedulers.append(standby)
    make_node(server, "failover", cpu="4", labels={"pool": "failover"})
    server.kubectl("apply", "-f", "-", input=pod_manifest("before", nodeSelector={"pool": "failover"}))
    assert scheduled_to(server, "before") == "failover"
    holder = lambda: server.kubectl("get", "lease", "-n", "kube-system", "kube-scheduler", "-o",
                                    "jsonpath={.spec.holderIdentity}").stdout
    first = wait_for(holder, what="a lease holder")
    schedulers[0].stop()
    wait_for(lambda: holder() not in ("", first), what="the standby takes the lease")
    server.kubectl("apply", "-f", "-", input=pod_manifest("after", nodeSelector={"pool": "failover"}))
    assert scheduled_to(server, "after") == "failover"


def test_a_bad_config_is_refused_with_a_message(tmp_path):
    import subprocess
    from tests.apiserver.conftest import KPLANE
    from tests.conftest import ROOT
    config = tmp_path / "sched.yaml"
    config.write_text("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n"
                      "profiles:\n- plugins: {score: {enabled: [{name: NoSuchPlugin}]}}\n")
    kubeconfig = tmp_path / "kubeconfig"
    kubeconfig.write_text("apiVersion: v1\nkind: Config\nclusters: []\ncontexts: []\nusers: []\n")
    result = subprocess.run(KPLANE + ["scheduler", "--kubeconfig", str(kubeconfig), "--config", str(config)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1
    assert "invalid --config: unknown plugin 'NoSuchPlugin'" in result.stderr
    assert "Traceback" not in result.stderr
    result = subprocess.run(KPLANE + ["scheduler", "--kubeconfig", str(kubeconfig)],
                            capture_output=True, text=True, cwd=ROOT, timeout=60)
    assert result.returncode == 1 and "invalid --kubeconfig" in result.stderr, result.stderr
    assert "Traceback" not in result.stderr
