"""TLS end to end: an aiohttp server on server_ssl_context, real handshakes, the real kubectl.

The server is a few lines: it authenticates every request with `Authenticator` from the peer
certificate the handshake produced and the Authorization header, and answers /version and
/whoami. What is under test is the PKI, the TLS context, the authenticator and the kubeconfig
— the pieces kube-apiserver's own secure port is made of.
"""
from __future__ import annotations

import asyncio
import json
import ssl
from pathlib import Path
from typing import AsyncIterator

import aiohttp
import pytest
from aiohttp import web

from pykube_plane.apiserver.auth.authn import Authenticator, UserInfo, unauthorized_status
from pykube_plane.apiserver.auth.pki import PKI, client_ssl_context, ensure_pki, server_ssl_context
from pykube_plane.controlplane.kubeconfig import write_kubeconfig

VERSION = {"major": "1", "minor": "37", "gitVersion": "v1.37.1-kplane", "platform": "linux/amd64"}


async def _serve(pki: PKI, authenticator: Authenticator) -> tuple[web.AppRunner, str]:
    async def handle(request: web.Request) -> web.Response:
        peer = request.transport.get_extra_info("peercert") if request.transport else None
        user = authenticator.authenticate(request.headers, peer)
        if user is None:
            return web.json_response(unauthorized_status(), status=401)
        if request.path == "/version":
            return web.json_response(VERSION)
        return web.json_response({"name": user.name, "groups": list(user.groups), "uid": user.uid,
                                  "peer_cert": bool(peer)})

    app = web.Application()
    app.router.add_get("/{tail:.*}", handle)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0, ssl_context=server_ssl_context(pki))
    await site.start()
    host, port = runner.addresses[0][:2]
    return runner, f"https://{host}:{port}"


@pytest.fixture
async def server(pki: PKI) -> AsyncIterator[str]:
    authenticator = Authenticator(client_ca_file=pki.ca_cert_path,
                                  tokens={"tok-1": UserInfo("token-user", ("readers",), "7")})
    runner, url = await _serve(pki, authenticator)
    try:
        yield url
    finally:
        await runner.cleanup()


async def _get(url: str, ctx: ssl.SSLContext, headers: dict | None = None) -> tuple[int, dict]:
    async with aiohttp.ClientSession() as session:
        async with session.get(url, ssl=ctx, headers=headers) as response:
            return response.status, await response.json()


async def test_admin_certificate_maps_to_system_masters(server: str, pki: PKI) -> None:
    ctx = client_ssl_context(pki.ca_cert_pem, pki.admin_cert_pem, pki.admin_key_pem)
    status, body = await _get(f"{server}/whoami", ctx)
    assert status == 200
    assert body == {"name": "kubernetes-admin", "groups": ["system:masters", "system:authenticated"],
                    "uid": "", "peer_cert": True}


async def test_issued_component_certificate_maps_cn_and_o(server: str, pki: PKI) -> None:
    cert, key = pki.issue_client_cert("system:node:n1", ["system:nodes"])
    status, body = await _get(f"{server}/whoami", client_ssl_context(pki.ca_cert_pem, cert, key))
    assert (status, body["name"], body["groups"]) == (200, "system:node:n1", ["system:nodes", "system:authenticated"])


async def test_no_certificate_then_the_token_decides(server: str, pki: PKI) -> None:
    ctx = client_ssl_context(pki.ca_cert_pem)
    status, body = await _get(f"{server}/whoami", ctx, {"Authorization": "Bearer tok-1"})
    assert status == 200
    assert body == {"name": "token-user", "groups": ["readers", "system:authenticated"], "uid": "7",
                    "peer_cert": False}
    status, body = await _get(f"{server}/whoami", ctx, {"Authorization": "Bearer wrong"})
    assert (status, body["reason"]) == (401, "Unauthorized")
    status, body = await _get(f"{server}/whoami", ctx)
    assert (status, body["code"]) == (401, 401)


async def test_certificate_of_a_foreign_ca_fails_the_handshake(server: str, pki: PKI, tmp_path: Path) -> None:
    # Same CA name "kubernetes-ca", different key: only the TLS chain check can tell.
    foreign = ensure_pki(tmp_path / "foreign")
    cert, key = foreign.issue_client_cert("mallory", ["system:masters"])
    with pytest.raises(aiohttp.ClientError):
        await _get(f"{server}/whoami", client_ssl_context(pki.ca_cert_pem, cert, key))


async def test_server_only_certificate_is_not_accepted_as_a_client(server: str, pki: PKI) -> None:
    ctx = client_ssl_context(pki.ca_cert_pem, pki.serving_cert_pem, pki.serving_key_pem)
    with pytest.raises(aiohttp.ClientError):
        await _get(f"{server}/whoami", ctx)


async def test_client_refuses_a_server_it_does_not_trust(server: str, tmp_path: Path) -> None:
    other = ensure_pki(tmp_path / "other")
    with pytest.raises(aiohttp.ClientError):
        await _get(f"{server}/version", client_ssl_context(other.ca_cert_pem))


async def test_plain_http_to_the_tls_port_fails(server: str) -> None:
    with pytest.raises(aiohttp.ClientError):
        async with aiohttp.ClientSession() as session:
            async with session.get(server.replace("https://", "http://") + "/version") as response:
                await response.read()


async def test_tls_below_1_2_is_not_offered(pki: PKI) -> None:
    ctx = server_ssl_context(pki)
    assert ctx.minimum_version == ssl.TLSVersion.TLSv1_2
    assert ctx.verify_mode == ssl.CERT_OPTIONAL


async def _kubectl(kubectl_bin: str, kubeconfig: Path, *args: str) -> tuple[int, str, str]:
    proc = await asyncio.create_subprocess_exec(
        kubectl_bin, "--kubeconfig", str(kubeconfig), *args,
        stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
    out, err = await asyncio.wait_for(proc.communicate(), timeout=60)
    return proc.returncode, out.decode(), err.decode()


async def test_real_kubectl_accepts_kubeconfig_and_certificates(server: str, pki: PKI, tmp_path: Path,
                                                                kubectl_bin: str) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "admin.conf", server, pki.ca_cert_pem,
                                  pki.admin_cert_pem, pki.admin_key_pem)
    code, out, err = await _kubectl(kubectl_bin, kubeconfig, "get", "--raw", "/version")
    assert code == 0, err
    assert json.loads(out) == VERSION
    code, out, err = await _kubectl(kubectl_bin, kubeconfig, "get", "--raw", "/whoami")
    assert code == 0, err
    assert json.loads(out)["name"] == "kubernetes-admin" and json.loads(out)["peer_cert"] is True


async def test_real_kubectl_with_a_token_kubeconfig(server: str, pki: PKI, tmp_path: Path, kubectl_bin: str) -> None:
    kubeconfig = write_kubeconfig(tmp_path / "tok.conf", server, pki.ca_cert_pem, token="tok-1", user="t")
    code, out, err = await _kubectl(kubectl_bin, kubeconfig, "get", "--raw", "/whoami")
    assert code == 0, err
    assert json.loads(out)["name"] == "token-user"
    bad = write_kubeconfig(tmp_path / "bad.conf", server, pki.ca_cert_pem, token="nope", user="t")
    code, out, err = await _kubectl(kubectl_bin, bad, "get", "--raw", "/whoami")
    assert code != 0 and "Unauthorized" in err


async def test_real_kubectl_refuses_a_server_signed_by_another_ca(server: str, tmp_path: Path,
                                                                  kubectl_bin: str) -> None:
    other = ensure_pki(tmp_path / "other")
    kubeconfig = write_kubeconfig(tmp_path / "wrong-ca.conf", server, other.ca_cert_pem,
                                  other.admin_cert_pem, other.admin_key_pem)
    code, _, err = await _kubectl(kubectl_bin, kubeconfig, "get", "--raw", "/version")
    assert code != 0 and "certificate" in err
