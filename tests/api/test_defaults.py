"""Defaulting as kube-apiserver's v1 defaulters and create strategies do it, and the QoS class.
Expected objects are what `kubectl get -o yaml` shows for the same input on a real cluster."""
from __future__ import annotations

import copy

import pytest

from pykube_plane.api.defaults import apply_defaults, image_tag, prepare_for_create, qos_class


def defaulted(kind: str, obj: dict) -> dict:
    obj = copy.deepcopy(obj)
    apply_defaults(kind, obj)
    return obj


def test_pod_defaults_like_kubectl_run_nginx():
    pod = defaulted("Pod", {"metadata": {"name": "nginx"}, "spec": {"containers": [{"name": "nginx", "image": "nginx"}]}})
    assert pod["spec"] == {
        "containers": [{"image": "nginx", "imagePullPolicy": "Always", "name": "nginx", "resources": {},
                        "terminationMessagePath": "/dev/termination-log", "terminationMessagePolicy": "File"}],
        "dnsPolicy": "ClusterFirst", "enableServiceLinks": True, "preemptionPolicy": "PreemptLowerPriority",
        "priority": 0, "restartPolicy": "Always", "schedulerName": "default-scheduler", "securityContext": {},
        "terminationGracePeriodSeconds": 30}


def test_pod_create_sets_pending_and_qos():
    pod = defaulted("Pod", {"metadata": {"name": "p"}, "spec": {"containers": [{"name": "c", "image": "i"}]}})
    prepare_for_create("Pod", pod)
    assert pod["status"] == {"phase": "Pending", "qosClass": "BestEffort"}


@pytest.mark.parametrize("image,tag,policy", [
    ("nginx", "latest", "Always"), ("nginx:latest", "latest", "Always"), ("nginx:1.25", "1.25", "IfNotPresent"),
    ("registry.k8s.io/pause:3.9", "3.9", "IfNotPresent"), ("localhost:5000/app", "latest", "Always"),
    ("localhost:5000/app:v1", "v1", "IfNotPresent"),
    ("busybox@sha256:" + "a" * 64, "", "IfNotPresent"),
    ("busybox:1.36@sha256:" + "b" * 64, "1.36", "IfNotPresent"),
    ("Not A Valid Image", "", "IfNotPresent"),
])
def test_image_pull_policy_follows_the_tag(image, tag, policy):
    assert image_tag(image) == tag
    pod = defaulted("Pod", {"spec": {"containers": [{"name": "c", "image": image}]}})
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == policy


def test_explicit_values_are_kept():
    spec = {"containers": [{"name": "c", "image": "nginx", "imagePullPolicy": "Never"}], "restartPolicy": "Never",
            "dnsPolicy": "Default", "terminationGracePeriodSeconds": 0, "schedulerName": "mine",
            "enableServiceLinks": False}
    pod = defaulted("Pod", {"spec": spec})
    for key, value in spec.items():
        if key != "containers":
            assert pod["spec"][key] == value
    assert pod["spec"]["containers"][0]["imagePullPolicy"] == "Never"


def test_container_nested_defaults():
    pod = defaulted("Pod", {"spec": {"hostNetwork": True, "containers": [{
        "name": "c", "image": "i:1",
        "ports": [{"containerPort": 80}],
        "env": [{"name": "N", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "M", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory"}}}],
        "livenessProbe": {"httpGet": {"port": 80}},
        "readinessProbe": {"grpc": {"port": 9000}},
        "lifecycle": {"preStop": {"httpGet": {"port": 8080, "path": "/stop"}}},
        "resources": {"limits": {"cpu": "0.5", "memory": "1.5Gi"}}}]}})
    container = pod["spec"]["containers"][0]
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP", "hostPort": 80}]
    assert container["env"][0]["valueFrom"]["fieldRef"] == {"fieldPath": "metadata.name", "apiVersion": "v1"}
    assert container["env"][1]["valueFrom"]["resourceFieldRef"]["divisor"] == "0"
    assert container["livenessProbe"] == {"httpGet": {"port": 80, "path": "/", "scheme": "HTTP"}, "timeoutSeconds": 1,
                                          "periodSeconds": 10, "successThreshold": 1, "failureThreshold": 3}
    assert container["readinessProbe"]["grpc"] == {"port": 9000, "service": ""}
    assert container["lifecycle"]["preStop"]["httpGet"] == {"port": 8080, "path": "/stop", "scheme": "HTTP"}
    # canonical quantities, and a limit alone implies the request (pods only)
    assert container["resources"] == {"limits": {"cpu": "500m", "memory": "1536Mi"},
                                      "requests": {"cpu": "500m", "memory": "1536Mi"}}


def test_resource_lists_round_up_to_milli():
    pod = defaulted("Pod", {"spec": {"containers": [{"name": "c", "image": "i", "resources": {
        "requests": {"cpu": "100n", "memory": "1.0001", "example.com/gpu": "2"}}}]}})
    assert pod["spec"]["containers"][0]["resources"]["requests"] == {"cpu": "1m", "memory": "1001m",
                                                                     "example.com/gpu": "2"}


def test_template_defaults_do_not_copy_limits_or_host_ports():
    deployment = defaulted("Deployment", {"spec": {"template": {"spec": {"hostNetwork": True, "containers": [{
        "name": "c", "image": "i", "ports": [{"containerPort": 80}],
        "resources": {"limits": {"cpu": "1"}}}]}}}})
    container = deployment["spec"]["template"]["spec"]["containers"][0]
    assert container["resources"] == {"limits": {"cpu": "1"}}
    assert container["ports"] == [{"containerPort": 80, "protocol": "TCP"}]
    assert "enableServiceLinks" not in deployment["spec"]["template"]["spec"]


def test_volume_defaults():
    pod = defaulted("Pod", {"spec": {"containers": [], "volumes": [
        {"name": "a"}, {"name": "b", "secret": {"secretName": "s"}}, {"name": "c", "configMap": {"name": "x"}},
        {"name": "d", "hostPath": {"path": "/x"}},
        {"name": "e", "projected": {"sources": [{"serviceAccountToken": {"path": "token"}}]}},
        {"name": "f", "emptyDir": {"sizeLimit": "0.5Gi"}}]}})
    volumes = {v["name"]: v for v in pod["spec"]["volumes"]}
    assert volumes["a"] == {"name": "a", "emptyDir": {}}
    assert volumes["b"]["secret"]["defaultMode"] == 420
    assert volumes["c"]["configMap"]["defaultMode"] == 420
    assert volumes["d"]["hostPath"] == {"path": "/x", "type": ""}
    assert volumes["e"]["projected"]["sources"][0]["serviceAccountToken"]["expirationSeconds"] == 3600
    assert volumes["e"]["projected"]["defaultMode"] == 420
    assert volumes["f"]["emptyDir"]["sizeLimit"] == "512Mi"


def test_priority_from_system_classes():
    pod = defaulted("Pod", {"spec": {"containers": [], "priorityClassName": "system-node-critical"}})
    assert pod["spec"]["priority"] == 2000001000
    pod = defaulted("Pod", {"spec": {"containers": [], "priorityClassName": "high"}})
    assert "priority" not in pod["spec"]


def test_deployment_defaults():
    deployment = defaulted("Deployment", {"spec": {"template": {"spec": {"containers": []}}}})
    spec = deployment["spec"]
    assert spec["replicas"] == 1
    assert spec["strategy"] == {"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "25%", "maxSurge": "25%"}}
    assert spec["revisionHistoryLimit"] == 10
    assert spec["progressDeadlineSeconds"] == 600
    assert spec["template"]["spec"]["restartPolicy"] == "Always"
    recreate = defaulted("Deployment", {"spec": {"replicas": 0, "strategy": {"type": "Recreate"}}})
    assert recreate["spec"]["strategy"] == {"type": "Recreate"}
    assert recreate["spec"]["replicas"] == 0


def test_replica_set_and_replication_controller_defaults():
    assert defaulted("ReplicaSet", {"spec": {}})["spec"]["replicas"] == 1
    rc = defaulted("ReplicationController", {"metadata": {"name": "rc"}, "spec": {
        "template": {"metadata": {"labels": {"app": "nginx"}}, "spec": {"containers": []}}}})
    assert rc["spec"]["selector"] == {"app": "nginx"}
    assert rc["metadata"]["labels"] == {"app": "nginx"}
    assert rc["spec"]["replicas"] == 1
    kept = defaulted("ReplicationController", {"metadata": {"labels": {"own": "x"}}, "spec": {
        "selector": {"app": "a"}, "template": {"metadata": {"labels": {"app": "a", "b": "c"}}}}})
    assert kept["spec"]["selector"] == {"app": "a"}
    assert kept["metadata"]["labels"] == {"own": "x"}


def test_job_defaults_and_generated_selector():
    job = defaulted("Job", {"metadata": {"name": "pi", "uid": "1234"}, "spec": {
        "template": {"spec": {"containers": [{"name": "pi", "image": "perl"}], "restartPolicy": "Never"}}}})
    spec = job["spec"]
    assert (spec["completions"], spec["parallelism"], spec["backoffLimit"]) == (1, 1, 6)
    assert (spec["completionMode"], spec["suspend"], spec["podReplacementPolicy"]) == \
        ("NonIndexed", False, "TerminatingOrFailed")
    assert "manualSelector" not in spec
    prepare_for_create("Job", job)
    assert job["spec"]["selector"] == {"matchLabels": {"batch.kubernetes.io/controller-uid": "1234"}}
    assert job["spec"]["template"]["metadata"]["labels"] == {
        "job-name": "pi", "batch.kubernetes.io/job-name": "pi", "controller-uid": "1234",
        "batch.kubernetes.io/controller-uid": "1234"}
    assert job["metadata"]["labels"] == job["spec"]["template"]["metadata"]["labels"]
    parallel = defaulted("Job", {"spec": {"parallelism": 3, "backoffLimitPerIndex": 1,
                                          "podFailurePolicy": {"rules": [{"onPodConditions": [{"type": "X"}]}]}}})
    assert "completions" not in parallel["spec"]
    assert parallel["spec"]["backoffLimit"] == 2 ** 31 - 1
    assert parallel["spec"]["podFailurePolicy"]["rules"][0]["onPodConditions"][0]["status"] == "True"
    assert parallel["spec"]["podReplacementPolicy"] == "Failed"
    manual = defaulted("Job", {"metadata": {"name": "m", "uid": "9"}, "spec": {"manualSelector": True,
                                                                              "template": {}}})
    prepare_for_create("Job", manual)
    assert "selector" not in manual["spec"]


def test_service_defaults():
    svc = defaulted("Service", {"spec": {"selector": {"app": "x"}, "ports": [{"port": 80}, {"port": 53,
                                                                                            "protocol": "UDP",
                                                                                            "targetPort": "dns"}]}})
    assert svc["spec"] == {"selector": {"app": "x"},
                           "ports": [{"port": 80, "protocol": "TCP", "targetPort": 80},
                                     {"port": 53, "protocol": "UDP", "targetPort": "dns"}],
                           "sessionAffinity": "None", "type": "ClusterIP", "internalTrafficPolicy": "Cluster",
                           "ipFamilyPolicy": "SingleStack", "ipFamilies": ["IPv4"]}
    assert svc["status"] == {"loadBalancer": {}}
    lb = defaulted("Service", {"spec": {"type": "LoadBalancer", "sessionAffinity": "ClientIP", "ports": []}})
    assert lb["spec"]["externalTrafficPolicy"] == "Cluster"
    assert lb["spec"]["allocateLoadBalancerNodePorts"] is True
    assert lb["spec"]["sessionAffinityConfig"] == {"clientIP": {"timeoutSeconds": 10800}}
    headless = defaulted("Service", {"spec": {"clusterIP": "None"}})
    assert headless["spec"]["ipFamilyPolicy"] == "RequireDualStack"
    external = defaulted("Service", {"spec": {"type": "ExternalName", "externalName": "db.example.com"}})
    assert "ipFamilyPolicy" not in external["spec"] and "internalTrafficPolicy" not in external["spec"]


def test_secret_namespace_node_and_other_kinds():
    secret = defaulted("Secret", {"data": {"a": "YQ=="}, "stringData": {"b": "hello"}})
    assert secret == {"data": {"a": "YQ==", "b": "aGVsbG8="}, "type": "Opaque"}
    namespace = defaulted("Namespace", {"metadata": {"name": "dev"}})
    assert namespace["metadata"]["labels"] == {"kubernetes.io/metadata.name": "dev"}
    assert namespace["status"] == {"phase": "Active"}
    assert "spec" not in namespace                             # the finalizer is a create-time matter
    prepare_for_create("Namespace", namespace)
    assert namespace["spec"] == {"finalizers": ["kubernetes"]}
    node = defaulted("Node", {"status": {"capacity": {"cpu": "4", "memory": "8Gi", "pods": "110"}}})
    assert node["status"]["allocatable"] == {"cpu": "4", "memory": "8Gi", "pods": "110"}
    limits = defaulted("LimitRange", {"spec": {"limits": [{"type": "Container", "max": {"cpu": "800m"},
                                                           "min": {"memory": "100Mi"}},
                                                          {"type": "Pod", "max": {"cpu": "2"}}]}})
    container, pod = limits["spec"]["limits"]
    assert container["default"] == {"cpu": "800m"}
    assert container["defaultRequest"] == {"cpu": "800m", "memory": "100Mi"}
    assert "default" not in pod
    binding = defaulted("RoleBinding", {"roleRef": {"kind": "Role", "name": "r"},
                                        "subjects": [{"kind": "User", "name": "u"},
                                                     {"kind": "ServiceAccount", "name": "s"}]})
    assert binding["roleRef"]["apiGroup"] == "rbac.authorization.k8s.io"
    assert binding["subjects"] == [{"kind": "User", "name": "u", "apiGroup": "rbac.authorization.k8s.io"},
                                   {"kind": "ServiceAccount", "name": "s"}]
    assert defaulted("PriorityClass", {"value": 5})["preemptionPolicy"] == "PreemptLowerPriority"
    assert defaulted("Endpoints", {"subsets": [{"ports": [{"port": 80}]}]})["subsets"][0]["ports"][0]["protocol"] == \
        "TCP"
    assert defaulted("ConfigMap", {"data": {"a": "b"}}) == {"data": {"a": "b"}}
    quota = defaulted("ResourceQuota", {"spec": {"hard": {"requests.cpu": "1.5", "pods": "10"}}})
    assert quota["spec"]["hard"] == {"requests.cpu": "1500m", "pods": "10"}


def test_defaults_tolerate_garbage():
    for kind in ("Pod", "Deployment", "Service", "Job", "Secret", "Namespace", "Node", "LimitRange"):
        for junk in ({"spec": []}, {"spec": {"containers": "x", "template": 3, "ports": [1, None]}},
                     {"metadata": 1, "status": "x"}, []):
            apply_defaults(kind, copy.deepcopy(junk))
            prepare_for_create(kind, copy.deepcopy(junk))


# -- QoS (pkg/apis/core/helper/qos tests and the docs' qos-pod examples) -----------------------------

def pod_with(*containers: dict, init: tuple = (), pod_resources: dict | None = None) -> dict:
    spec: dict = {"containers": [{"name": f"c{i}", "image": "i", "resources": r} for i, r in enumerate(containers)]}
    if init:
        spec["initContainers"] = [{"name": f"i{i}", "image": "i", "resources": r} for i, r in enumerate(init)]
    if pod_resources is not None:
        spec["resources"] = pod_resources
    return defaulted("Pod", {"spec": spec})


GUARANTEED = {"limits": {"cpu": "100m", "memory": "100Mi"}}
BURSTABLE = {"requests": {"cpu": "100m"}}


@pytest.mark.parametrize("pod,expected", [
    (pod_with({}), "BestEffort"),
    (pod_with({}, {}), "BestEffort"),
    (pod_with({"requests": {"cpu": "0", "memory": "0"}}), "BestEffort"),
    (pod_with({"requests": {"ephemeral-storage": "1Gi", "example.com/gpu": "1"},
               "limits": {"example.com/gpu": "1"}}), "BestEffort"),
    (pod_with(GUARANTEED), "Guaranteed"),
    (pod_with(GUARANTEED, GUARANTEED), "Guaranteed"),
    (pod_with({"limits": {"cpu": "1", "memory": "1Gi"}, "requests": {"cpu": "1000m", "memory": "1024Mi"}}),
     "Guaranteed"),
    (pod_with(GUARANTEED, {}), "Burstable"),
    (pod_with(BURSTABLE), "Burstable"),
    (pod_with({"limits": {"cpu": "100m"}}), "Burstable"),
    (pod_with({"requests": {"cpu": "50m", "memory": "100Mi"}, "limits": {"cpu": "100m", "memory": "100Mi"}}),
     "Burstable"),
    (pod_with(GUARANTEED, init=({},)), "Burstable"),
    (pod_with(GUARANTEED, init=(GUARANTEED,)), "Guaranteed"),
    (pod_with({}, pod_resources={"limits": {"cpu": "1", "memory": "1Gi"}}), "Guaranteed"),
    (pod_with(GUARANTEED, pod_resources={"requests": {"cpu": "1"}}), "Burstable"),
    (pod_with(GUARANTEED, pod_resources={}), "BestEffort"),
])
def test_qos_class(pod, expected):
    assert qos_class(pod) == expected


def test_defaulting_is_idempotent_on_examples():
    pod = pod_with(GUARANTEED, init=(BURSTABLE,))
    again = copy.deepcopy(pod)
    apply_defaults("Pod", again)
    assert again == pod
