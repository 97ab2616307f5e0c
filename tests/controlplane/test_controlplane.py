"""`ControlPlane` assembles a plane from options: certificates, store, authenticator, API server,
kubeconfig, then further components. Real store, real TLS socket on 127.0.0.1, the real kubectl."""
from __future__ import annotations

import asyncio
import json
import subprocess

import pytest

from pykube_plane.client import Client, ClientConfig, Forbidden, InProcessClient, NotFound, UserInfo
from pykube_plane.controlplane import ControlPlane, ControlPlaneOptions
from tests.conftest import tool_path


def kubectl(kubeconfig, *args: str) -> str:
    out = subprocess.run([tool_path("kubectl"), "--kubeconfig", str(kubeconfig), *args],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 0, out.stderr
    return out.stdout


async def test_options_need_a_store_and_whole_tls_pairs(tmp_path):
    with pytest.raises(ValueError, match="data_dir"):
        ControlPlaneOptions()
    with pytest.raises(ValueError, match="go together"):
        ControlPlaneOptions(data_dir=tmp_path, tls_cert_file="x.crt")


async def test_plane_serves_kubectl_and_keeps_state_across_restarts(tmp_path):
    kubeconfig = tmp_path / "admin.kubeconfig"
    options = ControlPlaneOptions(data_dir=tmp_path / "data", secure_port=0, fsync=False,
                                  kubeconfig_path=kubeconfig)
    async with ControlPlane(options) as cp:
        assert cp.server is not None and cp.server.port != 0
        assert cp.url == f"https://127.0.0.1:{cp.server.port}"
        assert (tmp_path / "data" / "pki" / "ca.crt").exists()
        names = await asyncio.to_thread(kubectl, kubeconfig, "get", "namespaces", "-o", "name")
        assert "namespace/default" in names.split()
        await cp.client.create({"apiVersion": "v1", "kind": "ConfigMap",
                                "metadata": {"name": "survivor", "namespace": "default"}, "data": {"k": "v"}})
        # the kubeconfig mapping is the one written: an HTTP client from it sees the same object
        async with Client(ClientConfig.from_kubeconfig(cp.kubeconfig)) as http:
            assert (await http.get("configmaps", "survivor"))["data"] == {"k": "v"}
    kubeconfig.unlink()
    async with ControlPlane(options) as cp:
        out = await asyncio.to_thread(kubectl, kubeconfig, "get", "configmap", "survivor", "-o", "json")
        assert json.loads(out)["data"] == {"k": "v"}


async def test_plane_without_a_socket_serves_in_process_clients(tmp_path):
    options = ControlPlaneOptions(data_dir=tmp_path, listen=False, fsync=False,
                                  kubeconfig_path=tmp_path / "admin.kubeconfig")
    async with ControlPlane(options) as cp:
        assert cp.server is not None and cp.server._runner is None
        assert not (tmp_path / "admin.kubeconfig").exists()     # nothing to connect to
        namespaces = await cp.client.list("namespaces")
        assert "kube-system" in [n["metadata"]["name"] for n in namespaces["items"]]
        # authorization is the same as over HTTP: a user without roles is refused
        nobody = InProcessClient(cp.server, user=UserInfo("nobody", ("system:authenticated",)))
        with pytest.raises(Forbidden):
            await nobody.get("configmaps", "x", namespace="default")


class ConfigMapWriter:
    """A component in the shape the scheduler, controller manager and kubelets will take: built
    from the running plane, talks to it only through a client, started and stopped with it."""

    def __init__(self, cp: ControlPlane, events: list[str]) -> None:
        self.client = cp.client
        self.events = events

    async def start(self) -> None:
        await self.client.create({"apiVersion": "v1", "kind": "ConfigMap",
                                  "metadata": {"name": "from-component", "namespace": "default"}})
        self.events.append("start")

    async def stop(self) -> None:
        # the API server still serves while components stop
        await self.client.delete("configmaps", "from-component", namespace="default")
        self.events.append("stop")


async def test_components_start_after_the_api_server_and_stop_before_it(tmp_path):
    events: list[str] = []
    options = ControlPlaneOptions(data_dir=tmp_path, secure_port=0, fsync=False)
    cp = ControlPlane(options, components=[lambda cp: ConfigMapWriter(cp, events)])
    async with cp:
        assert events == ["start"]
        assert (await cp.client.get("configmaps", "from-component"))["metadata"]["name"] == "from-component"
    assert events == ["start", "stop"]
    async with ControlPlane(options) as again:
        with pytest.raises(NotFound):
            await again.client.get("configmaps", "from-component")


async def test_a_failed_start_releases_what_it_opened(tmp_path):
    busy = ControlPlaneOptions(data_dir=tmp_path / "a", secure_port=0, fsync=False)
    async with ControlPlane(busy) as first:
        assert first.server is not None
        taken = ControlPlaneOptions(data_dir=tmp_path / "b", secure_port=first.server.port, fsync=False)
        second = ControlPlane(taken)
        with pytest.raises(OSError):
            await second.start()
        assert second.server is None and second.kv is None
    # the store of the failed plane was closed: it opens again
    async with ControlPlane(ControlPlaneOptions(data_dir=tmp_path / "b", secure_port=0, fsync=False)) as third:
        assert third.server is not None
