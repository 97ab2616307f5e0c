"""Kubeconfig files the real kubectl accepts: every credential embedded as base64 `*-data`
fields, one self-contained file, mode 0600. The one reader is `pykube_plane.client.ClientConfig`.
"""
from __future__ import annotations

import base64
import os
from pathlib import Path
from typing import Any

import yaml

from pykube_plane.apiserver.auth.pki import write_file_atomic


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def kubeconfig_dict(server: str, ca_pem: bytes, client_cert_pem: bytes | None = None,
                    client_key_pem: bytes | None = None, token: str | None = None,
                    user: str = "admin", cluster: str = "kplane", context: str = "kplane") -> dict[str, Any]:
    """The kubeconfig as a mapping (what `write_kubeconfig` serializes)."""
    if (client_cert_pem is None) != (client_key_pem is None):
        raise ValueError("client_cert_pem and client_key_pem come together")
    credentials: dict[str, str] = {}
    if client_cert_pem is not None and client_key_pem is not None:
        credentials["client-certificate-data"] = _b64(client_cert_pem)
        credentials["client-key-data"] = _b64(client_key_pem)
    if token is not None:
        credentials["token"] = token
    return {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": cluster,
                      "cluster": {"server": server, "certificate-authority-data": _b64(ca_pem)}}],
        "users": [{"name": user, "user": credentials}],
        "contexts": [{"name": context, "context": {"cluster": cluster, "user": user}}],
        "current-context": context,
        "preferences": {},
    }


def write_kubeconfig(path: str | os.PathLike[str], server: str, ca_pem: bytes,
                     client_cert_pem: bytes | None = None, client_key_pem: bytes | None = None,
                     token: str | None = None, user: str = "admin", cluster: str = "kplane",
                     context: str = "kplane") -> Path:
    """Write a self-contained kubeconfig for `server` (e.g. "https://127.0.0.1:6443")."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    doc = kubeconfig_dict(server, ca_pem, client_cert_pem, client_key_pem, token, user, cluster, context)
    write_file_atomic(target, yaml.safe_dump(doc, sort_keys=False).encode("utf-8"), 0o600)
    return target
