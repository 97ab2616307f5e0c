"""Security of a real `kplane apiserver` process, seen through the real kubectl and raw HTTPS.

One server for the module, started with a --token-auth-file. The admin (client certificate,
system:masters) sets up two namespaces and a read-only Role bound to alice in team-a; then:
no credentials → 401, alice reads team-a only (403 everywhere else, on writes too), bob has no
grants at all, component certificates get exactly their bootstrap roles, TLS is required, and
`kubectl auth can-i` answers from the same RBAC.
"""
from __future__ import annotations

import json
import socket
import ssl
import subprocess
import time
import urllib.error
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest
import yaml

from pykube_plane.apiserver.auth.pki import PKI, client_ssl_context, ensure_pki
from pykube_plane.controlplane.kubeconfig import write_kubeconfig
from tests.apiserver.conftest import ServerProcess, start_server_process, stop_server_process
from tests.conftest import tool_path

TOKENS = 'alice-token,alice,1001,"devs"\nbob-token,bob,1002\ncarol-token,carol,1003\n'

SETUP = """
apiVersion: v1
kind: Namespace
metadata: {name: team-a}
---
apiVersion: v1
kind: Namespace
metadata: {name: team-b}
---
apiVersion: v1
kind: Pod
metadata: {name: web, namespace: team-a}
spec:
  containers: [{name: c, image: nginx}]
---
apiVersion: v1
kind: Pod
metadata: {name: db, namespace: team-b}
spec:
  containers: [{name: c, image: postgres}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: pod-reader, namespace: team-a}
rules:
- apiGroups: [""]
  resources: [pods]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: alice-reads-pods, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: alice}
"""


class Cluster:
    """The server plus a kubeconfig per identity."""

    def __init__(self, server: ServerProcess, pki: PKI, tmp: Path) -> None:
        self.server = server
        self.pki = pki
        self.tmp = tmp
        self.configs: dict[str, Path] = {"admin": server.kubeconfig}

    def add_token_user(self, name: str, token: str) -> None:
        self.configs[name] = write_kubeconfig(self.tmp / f"{name}.conf", self.server.url, self.pki.ca_cert_pem,
                                              token=token, user=name)

    def add_cert_user(self, name: str, user: str, groups: list[str]) -> None:
        cert, key = self.pki.issue_client_cert(user, groups)
        self.configs[name] = write_kubeconfig(self.tmp / f"{name}.conf", self.server.url, self.pki.ca_cert_pem,
                                              cert, key, user=name)

    def kubectl(self, who: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
        cmd = [tool_path("kubectl"), "--kubeconfig", str(self.configs[who]),
               "--cache-dir", str(self.tmp / f"cache-{who}"), *args]
        return subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=60)

    def ok(self, who: str, *args: str, input: str | None = None) -> str:
        result = self.kubectl(who, *args, input=input)
        assert result.returncode == 0, f"kubectl {args} as {who}: {result.stderr}"
        return result.stdout

    def refused(self, who: str, *args: str, input: str | None = None) -> str:
        result = self.kubectl(who, *args, input=input)
        assert result.returncode != 0, f"kubectl {args} as {who} unexpectedly succeeded: {result.stdout}"
        return result.stderr


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("secure-apiserver")
    tokens = tmp / "tokens.csv"
    tokens.write_text(TOKENS)
    server = start_server_process(tmp, "--token-auth-file", str(tokens))
    try:
        # The server generated its PKI under DATA/pki; ensure_pki reuses it to issue more certs.
        c = Cluster(server, ensure_pki(server.data_dir / "pki"), tmp)
        c.add_token_user("alice", "alice-token")
        c.add_token_user("bob", "bob-token")
        c.add_token_user("stranger", "not-a-token")
        c.ok("admin", "apply", "-f", "-", input=SETUP)
        yield c
    finally:
        stop_server_process(server)


def _https(cluster: Cluster, path: str, headers: dict | None = None,
           ctx: ssl.SSLContext | None = None, method: str = "GET", body: bytes | None = None) -> tuple[int, dict]:
    request = urllib.request.Request(cluster.server.url + path, headers=headers or {}, method=method, data=body)
    ctx = ctx or client_ssl_context(cluster.pki.ca_cert_pem)
    try:
        with urllib.request.urlopen(request, context=ctx, timeout=30) as response:
            return response.status, json.loads(response.read())
    except urllib.error.HTTPError as err:
        return err.code, json.loads(err.read())


# -- authentication ------------------------------------------------------------------------


def test_no_credentials_is_401_status(cluster: Cluster) -> None:
    for path in ("/api/v1/namespaces/team-a/pods", "/version", "/api", "/healthz/nothing-special"):
        code, body = _https(cluster, path)
        assert code == 401, path
        assert (body["kind"], body["reason"], body["code"]) == ("Status", "Unauthorized", 401)


def test_a_bad_token_is_401_even_for_kubectl(cluster: Cluster) -> None:
    code, body = _https(cluster, "/api/v1/namespaces/team-a/pods", {"Authorization": "Bearer not-a-token"})
    assert (code, body["reason"]) == (401, "Unauthorized")
    assert "You must be logged in to the server" in cluster.refused("stranger", "get", "pods", "-n", "team-a")


def test_tokens_and_certificates_identify_users(cluster: Cluster) -> None:
    alice = json.loads(cluster.ok("alice", "auth", "whoami", "-o", "json"))["status"]["userInfo"]
    assert alice["username"] == "alice" and set(alice["groups"]) == {"devs", "system:authenticated"}
    admin = json.loads(cluster.ok("admin", "auth", "whoami", "-o", "json"))["status"]["userInfo"]
    assert admin["username"] == "kubernetes-admin" and "system:masters" in admin["groups"]


def test_tls_is_required_on_the_secure_port(cluster: Cluster) -> None:
    url = urlparse(cluster.server.url)
    with socket.create_connection((url.hostname, url.port), timeout=30) as sock:
        sock.sendall(b"GET /version HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer alice-token\r\n\r\n")
        reply = b""
        try:
            while chunk := sock.recv(4096):
                reply += chunk
        except (ConnectionResetError, socket.timeout):
            pass
    assert not reply.startswith(b"HTTP/"), reply[:80]
    plain = cluster.server.url.replace("https://", "http://")
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(plain + "/version", timeout=30)


def test_client_certificate_of_another_ca_is_refused(cluster: Cluster, tmp_path: Path) -> None:
    foreign = ensure_pki(tmp_path / "foreign")
    cert, key = foreign.issue_client_cert("mallory", ["system:masters"])
    ctx = client_ssl_context(cluster.pki.ca_cert_pem, cert, key)
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        _https(cluster, "/api/v1/namespaces", ctx=ctx)


# -- authorization ---------------------------------------------------------------------------


def test_read_only_role_allows_reads_in_its_namespace(cluster: Cluster) -> None:
    pods = json.loads(cluster.ok("alice", "get", "pods", "-n", "team-a", "-o", "json"))
    assert [p["metadata"]["name"] for p in pods["items"]] == ["web"]
    pod = json.loads(cluster.ok("alice", "get", "pod", "web", "-n", "team-a", "-o", "json"))
    assert pod["spec"]["containers"][0]["image"] == "nginx"


def test_read_only_role_forbids_writes(cluster: Cluster) -> None:
    err = cluster.refused("alice", "delete", "pod", "web", "-n", "team-a")
    assert 'pods "web" is forbidden: User "alice" cannot delete resource "pods" in API group "" ' \
           'in the namespace "team-a"' in err
    err = cluster.refused("alice", "create", "configmap", "c", "-n", "team-a", "--from-literal=a=b")
    assert 'User "alice" cannot create resource "configmaps" in API group "" in the namespace "team-a"' in err
    err = cluster.refused("alice", "label", "pod", "web", "-n", "team-a", "x=y")
    assert 'cannot patch resource "pods"' in err
    # Nothing changed behind the refusals.
    pod = json.loads(cluster.ok("admin", "get", "pod", "web", "-n", "team-a", "-o", "json"))
    assert "x" not in (pod["metadata"].get("labels") or {})
    assert "NotFound" in cluster.refused("admin", "get", "configmap", "c", "-n", "team-a")


def test_read_only_role_forbids_other_namespaces_and_cluster_scope(cluster: Cluster) -> None:
    err = cluster.refused("alice", "get", "pods", "-n", "team-b")
    assert 'pods is forbidden: User "alice" cannot list resource "pods" in API group "" ' \
           'in the namespace "team-b"' in err
    err = cluster.refused("alice", "get", "pods", "--all-namespaces")
    assert 'cannot list resource "pods" in API group "" at the cluster scope' in err
    err = cluster.refused("alice", "get", "secrets", "-n", "team-a")
    assert 'cannot list resource "secrets"' in err
    code, body = _https(cluster, "/api/v1/namespaces/team-b/pods/db", {"Authorization": "Bearer alice-token"})
    assert code == 403
    assert body["reason"] == "Forbidden" and body["details"] == {"name": "db", "kind": "pods"}


def test_user_without_bindings_can_only_discover(cluster: Cluster) -> None:
    assert "forbidden" in cluster.refused("bob", "get", "pods", "-n", "team-a")
    code, body = _https(cluster, "/version", {"Authorization": "Bearer bob-token"})
    assert code == 200 and body["major"] == "1"
    code, _ = _https(cluster, "/api/v1", {"Authorization": "Bearer bob-token"})
    assert code == 200
    code, body = _https(cluster, "/metrics", {"Authorization": "Bearer bob-token"})
    assert code == 403 and body["message"] == 'forbidden: User "bob" cannot get path "/metrics"'


def test_components_get_their_bootstrap_roles(cluster: Cluster) -> None:
    cluster.add_cert_user("scheduler", "system:kube-scheduler", [])
    cluster.add_cert_user("node", "system:node:n1", ["system:nodes"])
    assert cluster.ok("scheduler", "get", "nodes", "-o", "name") == ""
    assert "forbidden" in cluster.refused("scheduler", "get", "secrets", "-A")
    node = yaml.safe_dump({"apiVersion": "v1", "kind": "Node", "metadata": {"name": "n1"}})
    cluster.ok("node", "create", "-f", "-", input=node)
    # Status is patched blind, as the kubelet does (the node role has no "get nodes/status",
    # which `kubectl patch --subresource` would need first).
    cert, key = cluster.pki.issue_client_cert("system:node:n1", ["system:nodes"])
    status = {"status": {"conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                         "message": "ok"}]}}
    code, body = _https(cluster, "/api/v1/nodes/n1/status", {"Content-Type": "application/merge-patch+json"},
                        client_ssl_context(cluster.pki.ca_cert_pem, cert, key), "PATCH",
                        json.dumps(status).encode())
    assert code == 200, body
    stored = json.loads(cluster.ok("admin", "get", "node", "n1", "-o", "json"))
    assert stored["status"]["conditions"][0]["reason"] == "KubeletReady"
    assert "forbidden" in cluster.refused("node", "delete", "node", "n1")
    assert "forbidden" in cluster.refused("node", "create", "deployment", "d", "--image=x", "-n", "team-a")


def test_rbac_changes_apply_without_restart(cluster: Cluster) -> None:
    cluster.ok("admin", "create", "rolebinding", "bob-views", "-n", "team-b", "--clusterrole=view", "--user=bob")
    _eventually(lambda: cluster.kubectl("bob", "get", "pods", "-n", "team-b").returncode == 0)
    assert "db" in cluster.ok("bob", "get", "pods", "-n", "team-b")
    assert "forbidden" in cluster.refused("bob", "delete", "pod", "db", "-n", "team-b")
    cluster.ok("admin", "delete", "rolebinding", "bob-views", "-n", "team-b")
    _eventually(lambda: cluster.kubectl("bob", "get", "pods", "-n", "team-b").returncode != 0)


ONE_POD_READER = """
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: web-only, namespace: team-a}
rules:
- apiGroups: [""]
  resources: [pods]
  resourceNames: [web]
  verbs: [get, list, watch]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: carol-reads-web, namespace: team-a}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: web-only}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: carol}
"""


def test_resource_names_cover_a_list_or_watch_pinned_to_that_name(cluster: Cluster) -> None:
    """`kubectl get pod web -w` lists and watches with fieldSelector=metadata.name=web; Kubernetes
    authorizes that as a request on `web`, so a Role limited to resourceNames [web] allows it."""
    cluster.ok("admin", "apply", "-f", "-", input=ONE_POD_READER)
    carol = {"Authorization": "Bearer carol-token"}
    pods = "/api/v1/namespaces/team-a/pods"
    _eventually(lambda: _https(cluster, pods + "/web", carol)[0] == 200)
    code, body = _https(cluster, pods + "?fieldSelector=metadata.name%3Dweb", carol)
    assert code == 200 and [p["metadata"]["name"] for p in body["items"]] == ["web"]
    assert _https(cluster, pods, carol)[0] == 403                      # the whole collection: no
    assert _https(cluster, pods + "?fieldSelector=metadata.name%3Ddb", carol)[0] == 403
    # Any watch value but false/0 is a watch; this one is pinned to `web` and allowed.
    request = urllib.request.Request(
        cluster.server.url + pods + "?watch=yes&timeoutSeconds=1&fieldSelector=metadata.name%3Dweb",
        headers=carol)
    with urllib.request.urlopen(request, context=client_ssl_context(cluster.pki.ca_cert_pem),
                                timeout=30) as response:
        first = json.loads(response.readline())
    assert first["type"] == "ADDED" and first["object"]["metadata"]["name"] == "web"


def _eventually(check, deadline_s: float = 30.0) -> None:
    """The authorizer follows the RBAC watch; wait for it without asserting how long it takes."""
    deadline = time.monotonic() + deadline_s
    while not check():
        assert time.monotonic() < deadline, "condition never held"
        time.sleep(0.1)


# -- kubectl auth can-i ----------------------------------------------------------------------


@pytest.mark.parametrize("who, args, answer", [
    ("alice", ["list", "pods", "-n", "team-a"], "yes"),
    ("alice", ["get", "pods/web", "-n", "team-a"], "yes"),
    ("alice", ["watch", "pods", "-n", "team-a"], "yes"),
    ("alice", ["create", "pods", "-n", "team-a"], "no"),
    ("alice", ["delete", "pods", "-n", "team-a"], "no"),
    ("alice", ["list", "pods", "-n", "team-b"], "no"),
    ("alice", ["list", "pods", "--all-namespaces"], "no"),
    ("alice", ["get", "/version"], "yes"),
    ("alice", ["get", "/metrics"], "no"),
    ("bob", ["list", "pods", "-n", "team-a"], "no"),
    ("admin", ["*", "*"], "yes"),
    ("admin", ["delete", "nodes"], "yes"),
])
def test_kubectl_auth_can_i(cluster: Cluster, who: str, args: list[str], answer: str) -> None:
    result = cluster.kubectl(who, "auth", "can-i", *args)
    assert result.stdout.strip() == answer, result.stderr
    assert result.returncode == (0 if answer == "yes" else 1)


def test_kubectl_auth_can_i_as_another_user_via_subject_access_review(cluster: Cluster) -> None:
    # The admin asks about alice directly, as `kubectl auth can-i --as` would through impersonation.
    review = {"apiVersion": "authorization.k8s.io/v1", "kind": "SubjectAccessReview",
              "spec": {"user": "alice", "groups": ["devs"],
                       "resourceAttributes": {"namespace": "team-a", "verb": "list", "resource": "pods"}}}
    out = json.loads(cluster.ok("admin", "create", "-f", "-", "-o", "json", input=json.dumps(review)))
    assert out["status"]["allowed"] is True
    assert "RoleBinding" in out["status"]["reason"]


def test_kubectl_auth_can_i_list(cluster: Cluster) -> None:
    out = cluster.ok("alice", "auth", "can-i", "--list", "-n", "team-a")
    rows = {line.split()[0]: line for line in out.splitlines()[1:] if line.strip()}
    assert "pods" in rows and "[get list watch]" in rows["pods"]
    assert "selfsubjectaccessreviews.authorization.k8s.io" in rows
    other = cluster.ok("alice", "auth", "can-i", "--list", "-n", "team-b")
    assert not any(line.split()[0] == "pods" for line in other.splitlines()[1:] if line.strip())


# -- admission through the server ------------------------------------------------------------


def test_namespace_lifecycle_through_kubectl(cluster: Cluster) -> None:
    err = cluster.refused("admin", "create", "configmap", "c", "-n", "ghost", "--from-literal=a=b")
    assert 'namespaces "ghost" not found' in err
    err = cluster.refused("admin", "delete", "namespace", "kube-system")
    assert 'namespaces "kube-system" is forbidden: this namespace may not be deleted' in err
