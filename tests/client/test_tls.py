"""The REST client's TLS and credentials against a real `kplane apiserver` process: the kubeconfig
file it wrote (CA + client certificate), bearer tokens, insecure-skip-tls-verify, tls-server-name,
and the failures a wrong trust setting must produce."""
from __future__ import annotations

import dataclasses

import pytest

from pykube_plane.client import Client, ClientConfig, ConnectionFailed, Forbidden, RetryPolicy, Unauthorized

ONCE = RetryPolicy(max_retries=0)


async def whoami(config: ClientConfig) -> dict:
    async with Client(config, retry=ONCE) as client:
        review = await client.create({"apiVersion": "authentication.k8s.io/v1", "kind": "SelfSubjectReview"})
        return review["status"]["userInfo"]


async def test_kubeconfig_file_with_client_certificate(server_process):
    async with Client.from_kubeconfig(server_process.kubeconfig) as client:
        assert (await client.get("namespaces", "default"))["metadata"]["name"] == "default"
    user = await whoami(ClientConfig.from_kubeconfig(server_process.kubeconfig))
    assert user["username"] == "kubernetes-admin" and "system:masters" in user["groups"]


async def test_bearer_tokens(server_process):
    base = ClientConfig.from_kubeconfig(server_process.kubeconfig)
    bob = ClientConfig(server=base.server, ca_pem=base.ca_pem, token="bob-token")
    assert (await whoami(bob))["username"] == "bob"
    async with Client(bob, retry=ONCE) as client:
        with pytest.raises(Forbidden):
            await client.list("secrets")
    with pytest.raises(Unauthorized):
        await whoami(dataclasses.replace(bob, token="wrong"))


async def test_insecure_skip_tls_verify_and_tls_server_name(server_process):
    base = ClientConfig.from_kubeconfig(server_process.kubeconfig)
    insecure = ClientConfig(server=base.server, insecure_skip_tls_verify=True, token="admin-token")
    assert (await whoami(insecure))["username"] == "admin"
    # The serving certificate names kubernetes.default but not example.com.
    named = ClientConfig(server=base.server, ca_pem=base.ca_pem, token="admin-token",
                         tls_server_name="kubernetes.default")
    assert (await whoami(named))["username"] == "admin"
    with pytest.raises(ConnectionFailed, match="certificate"):
        await whoami(dataclasses.replace(named, tls_server_name="example.com"))


async def test_an_untrusted_server_is_refused(server_process, tmp_path):
    from pykube_plane.apiserver.auth.pki import ensure_pki
    other_ca = ensure_pki(tmp_path / "other").ca_cert_pem
    base = ClientConfig.from_kubeconfig(server_process.kubeconfig)
    with pytest.raises(ConnectionFailed, match="certificate") as caught:  # at once: not transient
        await whoami(ClientConfig(server=base.server, ca_pem=other_ca, token="admin-token"))
    assert caught.value.code == 503 and caught.value.status["kind"] == "Status"
    assert not caught.value.transient


async def test_resources_resolve_through_discovery_alone(server_process):
    from pykube_plane.client import NotFound, ResourceResolver
    async with Client.from_kubeconfig(server_process.kubeconfig) as client:
        client.resources = ResourceResolver(client._discover, builtin=())   # no built-in table
        assert client.resources.lookup("deploy") is None                     # unknown until asked
        listed = await client.list("deploy", namespace="default")
        assert listed["kind"] == "DeploymentList"
        lease = client.resources.lookup("leases")
        assert (lease.group, lease.version, lease.namespaced) == ("coordination.k8s.io", "v1", True)
        assert client.resources.lookup(("rbac.authorization.k8s.io/v1", "ClusterRole")).namespaced is False
        with pytest.raises(NotFound, match="doesn't have a resource type"):
            await client.get("widgets.example.com", "w")
