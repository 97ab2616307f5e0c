"""Kubeconfig files: write one the real kubectl accepts, read one back for our own clients.

Written files embed every credential as base64 `*-data` fields (one self-contained file, mode
0600). Reading also follows file references (`certificate-authority: ca.crt`, relative to the
kubeconfig's directory) since hand-written kubeconfigs use them.
"""
from __future__ import annotations

import base64
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from pykube_plane.apiserver.pki import write_file_atomic


class KubeconfigError(ValueError):
    """The file is not a usable kubeconfig (missing context, cluster or user)."""


@dataclass(frozen=True)
class Kubeconfig:
    """What a client needs to reach the cluster named by one context."""

    server: str
    ca_pem: bytes | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    token: str | None = None
    insecure_skip_tls_verify: bool = False
    namespace: str = "default"
    context: str = ""
    cluster: str = ""
    user: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)


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


def load_kubeconfig(path: str | os.PathLike[str], context: str | None = None) -> Kubeconfig:
    """Resolve `context` (default: current-context) of the kubeconfig at `path`."""
    source = Path(path)
    try:
        raw = yaml.load(source.read_text(encoding="utf-8"), Loader=_Loader)
    except yaml.YAMLError as err:
        raise KubeconfigError(f"{source}: not valid YAML: {err}") from err
    if not isinstance(raw, dict):
        raise KubeconfigError(f"{source}: not a kubeconfig")
    name = context or raw.get("current-context") or ""
    if not name:
        raise KubeconfigError(f"{source}: no current-context and no context given")
    ctx = _named(raw, "contexts", "context", name, source)
    cluster_name = ctx.get("cluster", "")
    user_name = ctx.get("user", "")
    cluster = _named(raw, "clusters", "cluster", cluster_name, source)
    user = _named(raw, "users", "user", user_name, source) if user_name else {}
    if not cluster.get("server"):
        raise KubeconfigError(f"{source}: cluster {cluster_name!r} has no server")
    base = source.parent
    return Kubeconfig(
        server=cluster["server"],
        ca_pem=_data_or_file(cluster, "certificate-authority", base),
        client_cert_pem=_data_or_file(user, "client-certificate", base),
        client_key_pem=_data_or_file(user, "client-key", base),
        token=user.get("token") or _token_file(user, base),
        insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
        namespace=ctx.get("namespace") or "default",
        context=name, cluster=cluster_name, user=user_name, raw=raw,
    )


# YAML's C loader when PyYAML has it (DESIGN.md: PyYAML with its C loader).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def _named(raw: dict[str, Any], section: str, inner: str, name: str, source: Path) -> dict[str, Any]:
    for entry in raw.get(section) or ():
        if isinstance(entry, dict) and entry.get("name") == name:
            return entry.get(inner) or {}
    raise KubeconfigError(f"{source}: no {inner} named {name!r}")


def _data_or_file(section: dict[str, Any], key: str, base: Path) -> bytes | None:
    data = section.get(f"{key}-data")
    if data:
        return base64.b64decode(data)
    file = section.get(key)
    if file:
        return (base / file).read_bytes()
    return None


def _token_file(user: dict[str, Any], base: Path) -> str | None:
    file = user.get("tokenFile")
    if file:
        return (base / file).read_text(encoding="utf-8").strip()
    return None
