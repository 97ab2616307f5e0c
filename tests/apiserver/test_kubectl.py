"""The real kubectl v1.37 against a `kplane apiserver` process (TLS, admin client certificate).

Each test works in its own namespace and checks what the server stored, not just exit codes.
"""
from __future__ import annotations

import json
import os
import subprocess
import threading
import time

import pytest
import yaml

from tests.conftest import tool_path


def ns_yaml(name: str) -> str:
    return f"apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {name}\n"


@pytest.fixture(scope="module")
def k(apiserver_process):
    return apiserver_process


def make_ns(k, name: str) -> str:
    k.kubectl("create", "-f", "-", input=ns_yaml(name))
    return name


DEPLOYMENT = """
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  replicas: 2
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: nginx
        image: nginx:1.27
        ports: [{containerPort: 80}]
      - name: sidecar
        image: busybox:1.36
        command: [sleep, "3600"]
"""


def pod_yaml(name: str, labels: dict, node: str | None = None) -> str:
    spec = {"containers": [{"name": "c", "image": "busybox"}]}
    if node:
        spec["nodeName"] = node
    return yaml.safe_dump({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": labels},
                           "spec": spec})


def test_api_resources_and_versions(k):
    out = k.kubectl("api-resources", "--no-headers").stdout
    rows = {line.split()[0]: line.split() for line in out.splitlines()}
    assert rows["pods"][1] == "po" and rows["pods"][-1] == "Pod"
    assert "apps/v1" in rows["deployments"] and rows["deployments"][1] == "deploy"
    assert "rbac.authorization.k8s.io/v1" in rows["clusterrolebindings"]
    assert "scheduling.k8s.io/v1" in rows["priorityclasses"]
    versions = k.kubectl("api-versions").stdout.split()
    for gv in ("v1", "apps/v1", "batch/v1", "coordination.k8s.io/v1", "events.k8s.io/v1",
               "rbac.authorization.k8s.io/v1", "authorization.k8s.io/v1"):
        assert gv in versions


def test_create_apply_and_get_formats(k):
    ns = make_ns(k, "formats")
    k.kubectl("create", "-n", ns, "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: cfg\n"
                                                  "data:\n  a: '1'\n  b: two\n")
    out = k.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT).stdout
    assert "deployment.apps/web created" in out
    table = k.kubectl("get", "deployments", "-n", ns).stdout.splitlines()
    assert table[0].split() == ["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"]
    assert table[1].split()[:4] == ["web", "0/2", "0", "0"]
    wide = k.kubectl("get", "deployment", "web", "-n", ns, "-o", "wide").stdout.splitlines()
    assert wide[0].split()[-3:] == ["CONTAINERS", "IMAGES", "SELECTOR"]
    assert "nginx,sidecar" in wide[1] and "nginx:1.27,busybox:1.36" in wide[1] and "app=web" in wide[1]
    obj = json.loads(k.kubectl("get", "deployment", "web", "-n", ns, "-o", "json").stdout)
    assert obj["spec"]["replicas"] == 2 and obj["metadata"]["generation"] == 1
    assert obj["spec"]["strategy"]["type"] == "RollingUpdate"      # defaulted by the server
    as_yaml = yaml.safe_load(k.kubectl("get", "configmap", "cfg", "-n", ns, "-o", "yaml").stdout)
    assert as_yaml["data"] == {"a": "1", "b": "two"}
    cm_table = k.kubectl("get", "cm", "cfg", "-n", ns).stdout.splitlines()
    assert cm_table[0].split() == ["NAME", "DATA", "AGE"] and cm_table[1].split()[:2] == ["cfg", "2"]
    # apply again with a change: configured, generation bumped by the spec change only
    changed = DEPLOYMENT.replace("replicas: 2", "replicas: 3")
    assert "configured" in k.kubectl("apply", "-n", ns, "-f", "-", input=changed).stdout
    obj = k.kubectl_json("get", "deployment", "web", "-n", ns)
    assert obj["spec"]["replicas"] == 3 and obj["metadata"]["generation"] == 2
    assert "unchanged" in k.kubectl("apply", "-n", ns, "-f", "-", input=changed).stdout
    # create of an existing object: AlreadyExists, in kubectl's words
    again = k.kubectl("create", "-n", ns, "-f", "-", input=DEPLOYMENT, check=False)
    assert again.returncode != 0 and 'deployments.apps "web" already exists' in again.stderr


def test_label_and_field_selectors(k):
    ns = make_ns(k, "selectors")
    for name, labels, node in (("a1", {"app": "a", "tier": "front"}, "node-1"), ("a2", {"app": "a"}, None),
                               ("b1", {"app": "b"}, "node-2")):
        k.kubectl("create", "-n", ns, "-f", "-", input=pod_yaml(name, labels, node))

    def names(*args: str) -> list[str]:
        return sorted(k.kubectl("get", "pods", "-n", ns, "-o", "name", *args).stdout.split())

    assert names("-l", "app=a") == ["pod/a1", "pod/a2"]
    assert names("-l", "app in (a,b),tier!=front") == ["pod/a2", "pod/b1"]
    assert names("-l", "!tier") == ["pod/a2", "pod/b1"]
    assert names("--field-selector", "spec.nodeName=node-2") == ["pod/b1"]
    assert names("--field-selector", "metadata.name=a2") == ["pod/a2"]
    assert names("--field-selector", "status.phase=Pending,spec.nodeName!=node-1") == ["pod/a2", "pod/b1"]
    bad = k.kubectl("get", "pods", "-n", ns, "--field-selector", "spec.image=x", check=False)
    assert bad.returncode != 0 and "field label not supported: spec.image" in bad.stderr
    # across all namespaces, with the namespace column
    rows = k.kubectl("get", "pods", "-A", "-l", "app=b").stdout.splitlines()
    assert rows[0].split()[:2] == ["NAMESPACE", "NAME"] and rows[1].split()[:2] == [ns, "b1"]


def test_get_watch_sees_a_later_change(k):
    ns = make_ns(k, "watching")
    cmd = [tool_path("kubectl"), "--kubeconfig", str(k.kubeconfig), "--cache-dir", str(k.cache_dir),
           "get", "configmaps", "-n", ns, "-w", "-o", "name"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    try:
        # the watch starts with the existing objects (kube-root-ca.crt is not created here)
        k.kubectl("create", "-n", ns, "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: late\n")
        deadline = time.monotonic() + 30
        while "configmap/late\n" not in lines and time.monotonic() < deadline and proc.poll() is None:
            time.sleep(0.05)
    finally:
        proc.terminate()
        proc.wait(timeout=10)
    assert "configmap/late\n" in lines, (lines, proc.stderr.read() if proc.stderr else "")


def test_patch_types(k):
    ns = make_ns(k, "patching")
    k.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    k.kubectl("patch", "deployment", "web", "-n", ns, "--type=merge", "-p", '{"metadata":{"labels":{"m":"1"}}}')
    k.kubectl("patch", "deployment", "web", "-n", ns, "--type=json",
              "-p", '[{"op":"replace","path":"/spec/replicas","value":5}]')
    # strategic merge: the container list merges by name, the sidecar stays
    k.kubectl("patch", "deployment", "web", "-n", ns,
              "-p", '{"spec":{"template":{"spec":{"containers":[{"name":"nginx","image":"nginx:1.28"}]}}}}')
    obj = k.kubectl_json("get", "deployment", "web", "-n", ns)
    assert obj["metadata"]["labels"]["m"] == "1"
    assert obj["spec"]["replicas"] == 5
    images = {c["name"]: c["image"] for c in obj["spec"]["template"]["spec"]["containers"]}
    assert images == {"nginx": "nginx:1.28", "sidecar": "busybox:1.36"}
    assert obj["metadata"]["generation"] == 3      # two spec changes; the label patch did not count
    bad = k.kubectl("patch", "deployment", "web", "-n", ns, "--type=json",
                    "-p", '[{"op":"test","path":"/spec/replicas","value":1}]', check=False)
    assert bad.returncode != 0
    assert k.kubectl_json("get", "deployment", "web", "-n", ns)["spec"]["replicas"] == 5


def test_edit_style_patch(k, tmp_path):
    ns = make_ns(k, "editing")
    k.kubectl("create", "-n", ns, "-f", "-", input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: ed\n"
                                                  "data:\n  color: blue\n")
    editor = tmp_path / "editor.sh"
    editor.write_text("#!/bin/sh\nsed -i 's/color: blue/color: green/' \"$1\"\n")
    editor.chmod(0o755)
    env = dict(os.environ, KUBE_EDITOR=str(editor))
    cmd = [tool_path("kubectl"), "--kubeconfig", str(k.kubeconfig), "--cache-dir", str(k.cache_dir),
           "edit", "configmap", "ed", "-n", ns]
    result = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "configmap/ed edited" in result.stdout
    assert k.kubectl_json("get", "configmap", "ed", "-n", ns)["data"] == {"color": "green"}


def test_scale(k):
    ns = make_ns(k, "scaling")
    k.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT)
    assert "scaled" in k.kubectl("scale", "deployment", "web", "-n", ns, "--replicas=4").stdout
    obj = k.kubectl_json("get", "deployment", "web", "-n", ns)
    assert obj["spec"]["replicas"] == 4 and obj["metadata"]["generation"] == 2
    stale = k.kubectl("scale", "deployment", "web", "-n", ns, "--replicas=1", "--current-replicas=3", check=False)
    assert stale.returncode != 0
    assert k.kubectl_json("get", "deployment", "web", "-n", ns)["spec"]["replicas"] == 4
    scale = json.loads(k.kubectl("get", "--raw", f"/apis/apps/v1/namespaces/{ns}/deployments/web/scale").stdout)
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 4 and scale["status"]["selector"] == "app=web"


def test_label_and_annotate(k):
    ns = make_ns(k, "labeling")
    k.kubectl("create", "-n", ns, "-f", "-", input=pod_yaml("p", {"app": "x"}))
    k.kubectl("label", "pod", "p", "-n", ns, "tier=db")
    clash = k.kubectl("label", "pod", "p", "-n", ns, "tier=web", check=False)
    assert clash.returncode != 0 and "already has a value" in clash.stderr
    k.kubectl("label", "pod", "p", "-n", ns, "tier=web", "--overwrite")
    k.kubectl("label", "pod", "p", "-n", ns, "app-")
    k.kubectl("annotate", "pod", "p", "-n", ns, "owner=team-a", "note=hello world")
    meta = k.kubectl_json("get", "pod", "p", "-n", ns)["metadata"]
    assert meta["labels"] == {"tier": "web"}
    assert meta["annotations"]["owner"] == "team-a" and meta["annotations"]["note"] == "hello world"


def test_delete_cascade(k):
    ns = make_ns(k, "deleting")
    for name in ("bg", "orphaned", "fg"):
        k.kubectl("apply", "-n", ns, "-f", "-", input=DEPLOYMENT.replace("name: web\n", f"name: {name}\n", 1))
    out = k.kubectl("delete", "deployment", "bg", "-n", ns, "--cascade=background").stdout
    assert 'deployment.apps "bg" deleted' in out
    assert k.kubectl("get", "deployment", "bg", "-n", ns, check=False).returncode != 0
    k.kubectl("delete", "deployment", "orphaned", "-n", ns, "--cascade=orphan", "--wait=false")
    k.kubectl("delete", "deployment", "fg", "-n", ns, "--cascade=foreground", "--wait=false")
    # no garbage collector runs here: the finalizers that ask for one stay, the objects with them
    orphaned = k.kubectl_json("get", "deployment", "orphaned", "-n", ns)["metadata"]
    assert orphaned["finalizers"] == ["orphan"] and orphaned["deletionTimestamp"]
    fg = k.kubectl_json("get", "deployment", "fg", "-n", ns)["metadata"]
    assert fg["finalizers"] == ["foregroundDeletion"] and fg["deletionTimestamp"]
    # removing the last finalizer completes the deletion
    k.kubectl("patch", "deployment", "fg", "-n", ns, "--type=json",
              "-p", '[{"op":"remove","path":"/metadata/finalizers"}]')
    assert "NotFound" in k.kubectl("get", "deployment", "fg", "-n", ns, check=False).stderr


def test_explain(k):
    out = k.kubectl("explain", "deployment.spec.replicas").stdout
    assert "KIND:       Deployment" in out and "GROUP:      apps" in out
    assert "FIELD: replicas <integer>" in out and "desired pods" in out
    pods = k.kubectl("explain", "pods.spec").stdout
    assert "containers\t<[]Container> -required-" in pods
    recursive = k.kubectl("explain", "priorityclass", "--recursive").stdout
    assert "preemptionPolicy\t<string>" in recursive


def test_auth_can_i_and_whoami(k):
    assert k.kubectl("auth", "can-i", "create", "deployments").stdout.strip() == "yes"
    assert k.kubectl("auth", "can-i", "delete", "nodes").stdout.strip() == "yes"
    who = k.kubectl("auth", "whoami", "-o", "json").stdout
    info = json.loads(who)["status"]["userInfo"]
    assert info["username"] == "kubernetes-admin" and "system:masters" in info["groups"]


def test_server_side_apply_is_refused_clearly(k):
    ns = make_ns(k, "ssa")
    result = k.kubectl("apply", "--server-side", "-n", ns, "-f", "-", input=DEPLOYMENT, check=False)
    assert result.returncode != 0 and "Server-side apply not available on the server" in result.stderr
    assert k.kubectl("get", "deployment", "web", "-n", ns, check=False).returncode != 0


def test_create_generators_send_protobuf(k):
    """`kubectl create <kind>` posts protobuf through its typed clients; what lands is what JSON gives."""
    ns = "generated"
    k.kubectl("create", "namespace", ns)
    k.kubectl("create", "configmap", "cfg", "-n", ns, "--from-literal=a=1", "--from-literal=b=two")
    k.kubectl("create", "secret", "generic", "sec", "-n", ns, "--from-literal=pw=s3cr3t")
    k.kubectl("create", "service", "nodeport", "np", "--tcp=81:8081", "-n", ns)
    k.kubectl("create", "deployment", "dep", "--image=nginx:1.27", "--replicas=0", "--port=80", "-n", ns)
    k.kubectl("create", "job", "jb", "--image=busybox", "-n", ns, "--", "echo", "hi")
    k.kubectl("create", "role", "reader", "--verb=get,list", "--resource=pods", "-n", ns)
    k.kubectl("create", "rolebinding", "bob-reads", "--role=reader", "--user=bob", "-n", ns)
    k.kubectl("create", "priorityclass", "gen-high", "--value=1000", "--description=high")
    k.kubectl("create", "quota", "q", "--hard=cpu=2,pods=10", "-n", ns)
    assert k.kubectl_json("get", "namespace", ns)["status"]["phase"] == "Active"
    assert k.kubectl_json("get", "configmap", "cfg", "-n", ns)["data"] == {"a": "1", "b": "two"}
    assert k.kubectl_json("get", "secret", "sec", "-n", ns)["data"] == {"pw": "czNjcjN0"}
    svc = k.kubectl_json("get", "service", "np", "-n", ns)["spec"]
    assert svc["type"] == "NodePort" and svc["ports"][0]["targetPort"] == 8081 and svc["ports"][0]["nodePort"]
    dep = k.kubectl_json("get", "deployment", "dep", "-n", ns)["spec"]
    assert dep["replicas"] == 0 and dep["template"]["spec"]["containers"][0]["ports"] == [
        {"containerPort": 80, "protocol": "TCP"}]
    job = k.kubectl_json("get", "job", "jb", "-n", ns)["spec"]["template"]["spec"]
    assert job["containers"][0]["command"] == ["echo", "hi"] and job["restartPolicy"] == "Never"
    rules = k.kubectl_json("get", "role", "reader", "-n", ns)["rules"]
    assert rules == [{"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list"]}]
    binding = k.kubectl_json("get", "rolebinding", "bob-reads", "-n", ns)
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": "reader"}
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": "bob"}]
    assert k.kubectl_json("get", "priorityclass", "gen-high")["value"] == 1000
    assert k.kubectl_json("get", "quota", "q", "-n", ns)["spec"]["hard"] == {"cpu": "2", "pods": "10"}
    # impersonation: the admin may act as bob, who may read pods there and nothing more
    assert k.kubectl("auth", "can-i", "list", "pods", "-n", ns, "--as=bob").stdout.strip() == "yes"
    assert k.kubectl("auth", "can-i", "delete", "pods", "-n", ns, "--as=bob", check=False).stdout.strip() == "no"
    denied = k.kubectl("get", "configmaps", "-n", ns, "--as=bob", check=False)
    assert denied.returncode != 0 and 'User "bob" cannot list resource "configmaps"' in denied.stderr
