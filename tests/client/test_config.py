"""Kubeconfig resolution: contexts, embedded and file-referenced credentials, refusals."""
from __future__ import annotations

import base64
import ssl

import pytest

from pykube_plane.apiserver.auth.pki import ensure_pki
from pykube_plane.client import ClientConfig, ConfigError


@pytest.fixture(scope="module")
def pki(tmp_path_factory):
    return ensure_pki(tmp_path_factory.mktemp("pki"))


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def doc(cluster: dict, user: dict, namespace: str | None = None, name: str = "dev") -> dict:
    context = {"cluster": "c", "user": "u"}
    if namespace:
        context["namespace"] = namespace
    return {"apiVersion": "v1", "kind": "Config", "current-context": name,
            "clusters": [{"name": "c", "cluster": cluster}], "users": [{"name": "u", "user": user}],
            "contexts": [{"name": name, "context": context}, {"name": "other", "context": {"cluster": "c"}}]}


def test_embedded_credentials_make_a_tls_context(pki):
    config = ClientConfig.from_kubeconfig(doc(
        {"server": "https://127.0.0.1:6443", "certificate-authority-data": b64(pki.ca_cert_pem)},
        {"client-certificate-data": b64(pki.admin_cert_pem), "client-key-data": b64(pki.admin_key_pem)},
        namespace="team-a"))
    assert config.server_url == "https://127.0.0.1:6443"
    assert config.ca_pem == pki.ca_cert_pem and config.client_key_pem == pki.admin_key_pem
    assert config.namespace == "team-a" and config.context == "dev" and config.token is None
    ctx = config.ssl_context()
    assert isinstance(ctx, ssl.SSLContext) and ctx.verify_mode == ssl.CERT_REQUIRED and ctx.check_hostname
    assert ctx.get_ca_certs()[0]["subject"] == ((("commonName", "kubernetes-ca"),),)


def test_file_references_are_relative_to_the_kubeconfig(pki, tmp_path):
    (tmp_path / "certs").mkdir()
    (tmp_path / "certs" / "ca.crt").write_bytes(pki.ca_cert_pem)
    (tmp_path / "token").write_text("s3cret\n")
    path = tmp_path / "config"
    import yaml
    path.write_text(yaml.safe_dump(doc({"server": "https://k:6443", "certificate-authority": "certs/ca.crt",
                                        "tls-server-name": "kubernetes"}, {"tokenFile": "token"})))
    config = ClientConfig.from_kubeconfig(path)
    assert config.ca_pem == pki.ca_cert_pem and config.token == "s3cret"
    assert config.tls_server_name == "kubernetes" and config.namespace == "default"
    other = ClientConfig.from_kubeconfig(path, context="other")
    assert other.token is None and other.context == "other"


def test_insecure_skip_verify_and_plain_http():
    config = ClientConfig.from_kubeconfig(doc({"server": "https://h:1", "insecure-skip-tls-verify": True},
                                              {"token": "t"}))
    ctx = config.ssl_context()
    assert ctx is not None and ctx.verify_mode == ssl.CERT_NONE and not ctx.check_hostname
    assert ClientConfig(server="http://127.0.0.1:8080").ssl_context() is None


@pytest.mark.parametrize("document, message", [
    ({"apiVersion": "v1", "kind": "Config"}, "no current-context"),
    (doc({"server": "https://h"}, {}, name="dev") | {"current-context": "missing"}, "no context named 'missing'"),
    (doc({}, {}), "has no server"),
    (doc({"server": "https://h"}, {"exec": {"command": "aws"}}), "exec credential plugin"),
    (doc({"server": "https://h"}, {"username": "a", "password": "b"}), "basic auth"),
    (doc({"server": "https://h", "certificate-authority-data": "not base64!"}, {}), "not base64"),
    (doc({"server": "https://h"}, {"client-certificate-data": b64(b"x")}), "come together"),
    (doc({"server": "ftp://h"}, {}), "must start with http"),
])
def test_unusable_kubeconfigs_are_refused_with_a_reason(document, message):
    with pytest.raises(ConfigError, match=message):
        ClientConfig.from_kubeconfig(document)


def test_a_bad_ca_is_refused(tmp_path):
    config = ClientConfig.from_kubeconfig(doc({"server": "https://h", "certificate-authority-data": b64(b"junk")}, {}))
    with pytest.raises(ConfigError, match="not a PEM certificate"):
        config.ssl_context()
    with pytest.raises(ConfigError, match="cannot read"):
        ClientConfig.from_kubeconfig(doc({"server": "https://h", "certificate-authority": "nope.crt"}, {}))
    with pytest.raises(ConfigError, match="No such file"):
        ClientConfig.from_kubeconfig(tmp_path / "absent")
