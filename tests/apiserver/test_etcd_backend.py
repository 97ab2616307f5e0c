"""The API server on a real etcd 3.5.1 (--etcd-servers) instead of its embedded store: same
behaviour through the real kubectl, and the objects are in etcd under Kubernetes' keys."""
from __future__ import annotations

import json
import subprocess
import time

import pytest

from tests.conftest import free_port

from .conftest import start_server_process, stop_server_process


@pytest.fixture(scope="module")
def etcd(tmp_path_factory, etcd_bin):
    data = tmp_path_factory.mktemp("etcd")
    client, peer = free_port(), free_port()
    url = f"http://127.0.0.1:{client}"
    proc = subprocess.Popen([etcd_bin, "--data-dir", str(data / "member"), "--listen-client-urls", url,
                             "--advertise-client-urls", url, "--listen-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-advertise-peer-urls", f"http://127.0.0.1:{peer}",
                             "--initial-cluster", f"default=http://127.0.0.1:{peer}"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    yield url
    proc.terminate()
    proc.wait(20)


@pytest.fixture(scope="module")
def on_etcd(tmp_path_factory, etcd):
    tmp = tmp_path_factory.mktemp("apiserver-on-etcd")
    server = None
    deadline = time.monotonic() + 30
    while server is None:
        try:
            server = start_server_process(tmp, "--etcd-servers", etcd)
        except AssertionError:
            if time.monotonic() > deadline:     # etcd takes a moment to listen
                raise
            time.sleep(0.3)
    yield server
    stop_server_process(server)


def test_kubectl_on_etcd(on_etcd, etcd, etcdctl_bin):
    k = on_etcd
    k.kubectl("apply", "-f", "-", input="""
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: nginx}]}
""")
    k.kubectl("scale", "deployment", "web", "--replicas=3")
    obj = k.kubectl_json("get", "deployment", "web")
    assert obj["spec"]["replicas"] == 3 and obj["metadata"]["generation"] == 2
    rows = k.kubectl("get", "deployments").stdout.splitlines()
    assert rows[1].split()[:2] == ["web", "0/3"]
    # stored in etcd under kube-apiserver's key, resourceVersion = etcd's mod_revision
    out = subprocess.run([etcdctl_bin, "--endpoints", etcd, "get", "/registry/deployments/default/web",
                          "-w", "json"], capture_output=True, text=True, timeout=30, check=True).stdout
    kv = json.loads(out)["kvs"][0]
    assert str(kv["mod_revision"]) == obj["metadata"]["resourceVersion"]
    services = subprocess.run([etcdctl_bin, "--endpoints", etcd, "get", "/registry/services/specs/default/kubernetes",
                               "--keys-only"], capture_output=True, text=True, timeout=30, check=True).stdout
    assert "/registry/services/specs/default/kubernetes" in services
    k.kubectl("delete", "deployment", "web")
    assert k.kubectl("get", "deployment", "web", check=False).returncode != 0
