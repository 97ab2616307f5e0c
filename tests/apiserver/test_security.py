"""Authentication, authorization and TLS end to end: a `kplane apiserver` process with a token file,
the real kubectl with tokens and client certificates."""
from __future__ import annotations

import json
import ssl
import subprocess
import urllib.error
import urllib.request

import pytest
import yaml

from pykube_plane.apiserver.auth.pki import ensure_pki
from tests.conftest import tool_path

from .conftest import start_server_process, stop_server_process

TOKENS = 'alice-token,alice,1001,"devs"\nbob-token,bob,1002\n'

READ_ONLY = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team-a}
rules:
- apiGroups: [""]
  resources: [pods, configmaps]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads, namespace: team-a}
subjects:
- {kind: User, name: alice, apiGroup: rbac.authorization.k8s.io}
roleRef: {kind: Role, name: pod-reader, apiGroup: rbac.authorization.k8s.io}
"""


@pytest.fixture(scope="module")
def secured(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("secured")
    token_file = tmp / "tokens.csv"
    token_file.write_text(TOKENS)
    server = start_server_process(tmp, "--token-auth-file", str(token_file))
    try:
        namespaces = "".join(f"---\napiVersion: v1\nkind: Namespace\nmetadata:\n  name: {n}\n"
                             for n in ("team-a", "team-b"))
        server.kubectl("create", "-f", "-", input=namespaces)
        server.kubectl("create", "-f", "-", input=READ_ONLY)
        server.kubectl("create", "-n", "team-a", "-f", "-",
                       input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: visible\n")
        yield server
    finally:
        stop_server_process(server)


def ca_file(server) -> str:
    return str(server.data_dir / "pki" / "ca.crt")


def as_user(server, token: str, *args: str, check: bool = False) -> subprocess.CompletedProcess:
    cmd = [tool_path("kubectl"), "--kubeconfig", "/dev/null", "--server", server.url,
           "--certificate-authority", ca_file(server), "--token", token, "--cache-dir", str(server.cache_dir), *args]
    result = subprocess.run(cmd, capture_output=True, text=True, timeout=60)
    if check:
        assert result.returncode == 0, result.stderr
    return result


def raw_get(server, path: str, context: ssl.SSLContext, headers: dict | None = None) -> tuple[int, dict]:
    req = urllib.request.Request(server.url + path, headers=headers or {})
    try:
        with urllib.request.urlopen(req, context=context, timeout=30) as resp:
            return resp.status, json.loads(resp.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_no_credentials_is_401(secured):
    ctx = ssl.create_default_context(cafile=ca_file(secured))
    code, status = raw_get(secured, "/api/v1/namespaces", ctx)
    assert code == 401 and status["kind"] == "Status" and status["reason"] == "Unauthorized"
    code, _ = raw_get(secured, "/api/v1/namespaces", ctx, {"Authorization": "Bearer wrong-token"})
    assert code == 401
    result = as_user(secured, "wrong-token", "get", "pods")
    assert result.returncode != 0 and "Unauthorized" in result.stderr


def test_tls_is_required(secured):
    plain = secured.url.replace("https://", "http://")
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(plain + "/version", timeout=10).read()
    # and the certificate is checked: a client that does not trust the CA refuses the server
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(secured.url + "/version", context=ssl.create_default_context(), timeout=10)


def test_namespaced_read_only_role(secured):
    assert "visible" in as_user(secured, "alice-token", "get", "configmaps", "-n", "team-a", check=True).stdout
    cmd = [tool_path("kubectl"), "--kubeconfig", "/dev/null", "--server", secured.url, "--certificate-authority",
           ca_file(secured), "--token", "alice-token", "--cache-dir", str(secured.cache_dir),
           "create", "-n", "team-a", "-f", "-"]
    denied = subprocess.run(cmd, input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: new\n",
                            capture_output=True, text=True, timeout=60)
    assert denied.returncode != 0
    assert 'User "alice" cannot create resource "configmaps" in API group "" in the namespace "team-a"' \
        in denied.stderr
    other_ns = as_user(secured, "alice-token", "get", "configmaps", "-n", "team-b")
    assert other_ns.returncode != 0
    assert 'User "alice" cannot list resource "configmaps" in API group "" in the namespace "team-b"' \
        in other_ns.stderr
    delete = as_user(secured, "alice-token", "delete", "configmap", "visible", "-n", "team-a")
    assert delete.returncode != 0 and "forbidden" in delete.stderr
    assert secured.kubectl_json("get", "configmap", "visible", "-n", "team-a")["metadata"]["name"] == "visible"
    assert as_user(secured, "alice-token", "auth", "can-i", "list", "pods", "-n", "team-a").stdout.strip() == "yes"
    assert as_user(secured, "alice-token", "auth", "can-i", "create", "pods", "-n", "team-a").stdout.strip() == "no"
    assert as_user(secured, "alice-token", "auth", "can-i", "list", "pods", "-n", "team-b").stdout.strip() == "no"
    who = json.loads(as_user(secured, "alice-token", "auth", "whoami", "-o", "json", check=True).stdout)
    assert who["status"]["userInfo"]["username"] == "alice" and "devs" in who["status"]["userInfo"]["groups"]
    # bob is authenticated but bound to nothing: discovery yes, resources no
    assert as_user(secured, "bob-token", "get", "pods", "-n", "team-a").returncode != 0
    assert as_user(secured, "bob-token", "version", check=True).returncode == 0


def test_client_certificate_user(secured, tmp_path):
    pki = ensure_pki(secured.data_dir / "pki")
    cert, key = pki.issue_client_cert("carol", ["team-b-admins"])
    (tmp_path / "carol.crt").write_bytes(cert)
    (tmp_path / "carol.key").write_bytes(key)
    secured.kubectl("create", "-f", "-", input=yaml.safe_dump({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding",
        "metadata": {"name": "team-b-admins", "namespace": "team-b"},
        "subjects": [{"kind": "Group", "name": "team-b-admins", "apiGroup": "rbac.authorization.k8s.io"}],
        "roleRef": {"kind": "ClusterRole", "name": "admin", "apiGroup": "rbac.authorization.k8s.io"}}))
    base = [tool_path("kubectl"), "--kubeconfig", "/dev/null", "--server", secured.url,
            "--certificate-authority", ca_file(secured), "--client-certificate", str(tmp_path / "carol.crt"),
            "--client-key", str(tmp_path / "carol.key"), "--cache-dir", str(secured.cache_dir)]
    created = subprocess.run(base + ["create", "-n", "team-b", "-f", "-"], capture_output=True, text=True,
                             input="apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: carols\n", timeout=60)
    assert created.returncode == 0, created.stderr
    nodes = subprocess.run(base + ["get", "nodes"], capture_output=True, text=True, timeout=60)
    assert nodes.returncode != 0 and 'User "carol" cannot list resource "nodes"' in nodes.stderr


def test_impersonation_needs_the_impersonate_verb(secured):
    refused = as_user(secured, "alice-token", "get", "configmaps", "-n", "team-a", "--as=kubernetes-admin")
    assert refused.returncode != 0
    assert 'User "alice" cannot impersonate resource "users" in API group "" at the cluster scope' in refused.stderr
    allowed = secured.kubectl("get", "configmaps", "-n", "team-a", "--as=alice", "-o", "name")
    assert allowed.stdout.split() == ["configmap/visible"]
    denied = secured.kubectl("get", "configmaps", "-n", "team-b", "--as=alice", check=False)
    assert denied.returncode != 0 and 'User "alice" cannot list' in denied.stderr
