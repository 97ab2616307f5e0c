"""Kubeconfig round trips through the one reader (client.ClientConfig), and the real kubectl reads
what write_kubeconfig writes."""
from __future__ import annotations

import base64
import json
import stat
import subprocess
from pathlib import Path

import pytest
import yaml

from pykube_plane.apiserver.auth.pki import PKI
from pykube_plane.client import ClientConfig, ConfigError
from pykube_plane.controlplane.kubeconfig import write_kubeconfig


def test_round_trip_with_client_certificate(pki: PKI, tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "admin.conf", "https://127.0.0.1:6443", pki.ca_cert_pem,
                            pki.admin_cert_pem, pki.admin_key_pem)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    config = ClientConfig.from_kubeconfig(path)
    assert config.server == "https://127.0.0.1:6443"
    assert (config.ca_pem, config.client_cert_pem, config.client_key_pem) == (
        pki.ca_cert_pem, pki.admin_cert_pem, pki.admin_key_pem)
    assert config.token is None
    assert (config.context, config.namespace) == ("kplane", "default")
    raw = yaml.safe_load(path.read_text())
    assert (raw["clusters"][0]["name"], raw["users"][0]["name"]) == ("kplane", "admin")


def test_round_trip_with_token_and_custom_names(pki: PKI, tmp_path: Path) -> None:
    path = write_kubeconfig(tmp_path / "dev.conf", "https://localhost:1234", pki.ca_cert_pem,
                            token="s3cret", user="dev", cluster="c1", context="ctx1")
    raw = yaml.safe_load(path.read_text())
    assert raw["current-context"] == "ctx1"
    assert raw["users"] == [{"name": "dev", "user": {"token": "s3cret"}}]
    assert base64.b64decode(raw["clusters"][0]["cluster"]["certificate-authority-data"]) == pki.ca_cert_pem
    assert (raw["clusters"][0]["name"], raw["contexts"][0]["context"]) == ("c1", {"cluster": "c1", "user": "dev"})
    config = ClientConfig.from_kubeconfig(path)
    assert (config.token, config.context, config.client_cert_pem) == ("s3cret", "ctx1", None)


def test_cert_without_key_is_refused(pki: PKI, tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        write_kubeconfig(tmp_path / "x", "https://127.0.0.1:1", pki.ca_cert_pem, client_cert_pem=pki.admin_cert_pem)


def test_file_references_resolve_relative_to_the_kubeconfig(pki: PKI, tmp_path: Path) -> None:
    (tmp_path / "ca.crt").write_bytes(pki.ca_cert_pem)
    (tmp_path / "c.crt").write_bytes(pki.admin_cert_pem)
    (tmp_path / "c.key").write_bytes(pki.admin_key_pem)
    (tmp_path / "kubeconfig").write_text(yaml.safe_dump({
        "apiVersion": "v1", "kind": "Config", "current-context": "one",
        "clusters": [{"name": "c", "cluster": {"server": "https://127.0.0.1:9", "certificate-authority": "ca.crt"}}],
        "users": [{"name": "u", "user": {"client-certificate": "c.crt", "client-key": "c.key"}}],
        "contexts": [{"name": "one", "context": {"cluster": "c", "user": "u", "namespace": "team"}},
                     {"name": "two", "context": {"cluster": "c"}}],
    }))
    config = ClientConfig.from_kubeconfig(tmp_path / "kubeconfig")
    assert (config.ca_pem, config.client_cert_pem, config.namespace) == (pki.ca_cert_pem, pki.admin_cert_pem, "team")
    other = ClientConfig.from_kubeconfig(tmp_path / "kubeconfig", context="two")
    assert other.client_cert_pem is None and other.token is None


@pytest.mark.parametrize("text, message", [
    ("- just a list", "not a kubeconfig"),
    ("apiVersion: v1\nkind: Config\n", "no current-context"),
    ("current-context: x\ncontexts: []\n", "no context named 'x'"),
    ("current-context: x\ncontexts: [{name: x, context: {cluster: c}}]\nclusters: [{name: c, cluster: {}}]\n",
     "has no server"),
    ("current-context: [unclosed", "not valid YAML"),
])
def test_broken_kubeconfigs_are_reported(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad"
    path.write_text(text)
    with pytest.raises(ConfigError, match=message):
        ClientConfig.from_kubeconfig(path)


def test_real_kubectl_reads_the_kubeconfig(pki: PKI, tmp_path: Path, kubectl_bin: str) -> None:
    path = write_kubeconfig(tmp_path / "admin.conf", "https://127.0.0.1:6443", pki.ca_cert_pem,
                            pki.admin_cert_pem, pki.admin_key_pem)
    out = subprocess.run([kubectl_bin, "--kubeconfig", str(path), "config", "view", "--raw", "-o", "json"],
                         check=True, capture_output=True, text=True, timeout=60).stdout
    view = json.loads(out)
    assert view["current-context"] == "kplane"
    assert view["clusters"][0]["cluster"]["server"] == "https://127.0.0.1:6443"
    user = view["users"][0]["user"]
    assert base64.b64decode(user["client-certificate-data"]) == pki.admin_cert_pem
