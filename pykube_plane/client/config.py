"""Where the API server is and how to prove who we are: a kubeconfig context, resolved.

    config = ClientConfig.from_kubeconfig("~/.kube/config")            # current-context
    config = ClientConfig.from_kubeconfig(doc_dict, context="kind-dev")
    config = ClientConfig(server="http://127.0.0.1:8080")              # plain, no credentials

Supported: `certificate-authority(-data)`, `insecure-skip-tls-verify`, `tls-server-name`,
`client-certificate(-data)` + `client-key(-data)`, `token` / `tokenFile`, the context's
namespace. File references are relative to the kubeconfig's directory, as kubectl reads them.
Credential plugins (`exec`, `auth-provider`) are refused with a clear error rather than ignored.
"""
from __future__ import annotations

import base64
import os
import ssl
import tempfile
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Mapping

import yaml

_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class ConfigError(ValueError):
    """The kubeconfig cannot be used (missing context, cluster, user, or unsupported auth)."""


@dataclass(frozen=True)
class ClientConfig:
    server: str
    ca_pem: bytes | None = None
    client_cert_pem: bytes | None = None
    client_key_pem: bytes | None = None
    token: str | None = None
    insecure_skip_tls_verify: bool = False
    tls_server_name: str | None = None
    namespace: str = "default"
    context: str = ""
    user_agent: str = "pykube-plane/0.1"
    extra: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    def __post_init__(self) -> None:
        if (self.client_cert_pem is None) != (self.client_key_pem is None):
            raise ConfigError("a client certificate and its key come together")
        if not self.server.startswith(("http://", "https://")):
            raise ConfigError(f"server {self.server!r} must start with http:// or https://")

    @property
    def server_url(self) -> str:
        return self.server.rstrip("/")

    def with_namespace(self, namespace: str) -> "ClientConfig":
        return replace(self, namespace=namespace)

    # -- kubeconfig -----------------------------------------------------------------------------

    @classmethod
    def from_kubeconfig(cls, source: str | os.PathLike[str] | Mapping[str, Any],
                        context: str | None = None) -> "ClientConfig":
        """Resolve `context` (default: current-context) of a kubeconfig file path or mapping."""
        if isinstance(source, Mapping):
            raw: Any = source
            base = Path.cwd()
            where = "<kubeconfig>"
        else:
            path = Path(os.path.expanduser(os.fspath(source)))
            try:
                raw = yaml.load(path.read_text(encoding="utf-8"), Loader=_Loader)
            except OSError as e:
                raise ConfigError(f"{path}: {e.strerror or e}") from None
            except yaml.YAMLError as e:
                raise ConfigError(f"{path}: not valid YAML: {e}") from None
            base = path.parent
            where = str(path)
        if not isinstance(raw, Mapping):
            raise ConfigError(f"{where}: not a kubeconfig")
        name = context or raw.get("current-context") or ""
        if not name:
            raise ConfigError(f"{where}: no current-context and no context given")
        ctx = _named(raw, "contexts", "context", name, where)
        cluster_name = ctx.get("cluster") or ""
        user_name = ctx.get("user") or ""
        cluster = _named(raw, "clusters", "cluster", cluster_name, where)
        user = _named(raw, "users", "user", user_name, where) if user_name else {}
        if not cluster.get("server"):
            raise ConfigError(f"{where}: cluster {cluster_name!r} has no server")
        for plugin in ("exec", "auth-provider"):
            if user.get(plugin):
                raise ConfigError(f"{where}: user {user_name!r} uses an {plugin} credential plugin, "
                                  "which this client does not run; use a token or a client certificate")
        if user.get("username") or user.get("password"):
            raise ConfigError(f"{where}: user {user_name!r} uses basic auth, which Kubernetes removed")
        token = user.get("token") or None
        if token is None and user.get("tokenFile"):
            token = _read(base, user["tokenFile"], where).decode("utf-8").strip()
        return cls(
            server=str(cluster["server"]),
            ca_pem=_data_or_file(cluster, "certificate-authority", base, where),
            client_cert_pem=_data_or_file(user, "client-certificate", base, where),
            client_key_pem=_data_or_file(user, "client-key", base, where),
            token=token,
            insecure_skip_tls_verify=bool(cluster.get("insecure-skip-tls-verify", False)),
            tls_server_name=cluster.get("tls-server-name") or None,
            namespace=ctx.get("namespace") or "default",
            context=name,
        )

    # -- TLS ------------------------------------------------------------------------------------

    def ssl_context(self) -> ssl.SSLContext | None:
        """The client TLS context for an https server (None for http)."""
        if not self.server.startswith("https://"):
            return None
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.minimum_version = ssl.TLSVersion.TLSv1_2
        if self.insecure_skip_tls_verify:
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
        elif self.ca_pem is not None:
            try:
                ctx.load_verify_locations(cadata=self.ca_pem.decode("ascii"))
            except (ssl.SSLError, UnicodeDecodeError) as e:
                raise ConfigError(f"certificate-authority: not a PEM certificate ({e})") from None
        else:
            ctx.load_default_certs()
        if self.client_cert_pem is not None and self.client_key_pem is not None:
            _load_key_pair(ctx, self.client_cert_pem, self.client_key_pem)
        return ctx


def _load_key_pair(ctx: ssl.SSLContext, cert_pem: bytes, key_pem: bytes) -> None:
    # Python's ssl loads a key pair only from files: pass them through a private directory
    # that exists just for the call.
    with tempfile.TemporaryDirectory(prefix="kplane-client-") as tmp:
        cert_path = Path(tmp) / "client.crt"
        key_path = Path(tmp) / "client.key"
        for path, data in ((cert_path, cert_pem), (key_path, key_pem)):
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as f:
                f.write(data)
        try:
            ctx.load_cert_chain(str(cert_path), str(key_path))
        except ssl.SSLError as e:
            raise ConfigError(f"client certificate/key: cannot be used ({e})") from None


def _named(raw: Mapping[str, Any], section: str, inner: str, name: str, where: str) -> dict[str, Any]:
    for entry in raw.get(section) or ():
        if isinstance(entry, Mapping) and entry.get("name") == name:
            return dict(entry.get(inner) or {})
    raise ConfigError(f"{where}: no {inner} named {name!r}")


def _read(base: Path, name: str, where: str) -> bytes:
    path = Path(os.path.expanduser(name))
    if not path.is_absolute():
        path = base / path
    try:
        return path.read_bytes()
    except OSError as e:
        raise ConfigError(f"{where}: cannot read {path}: {e.strerror or e}") from None


def _data_or_file(section: Mapping[str, Any], key: str, base: Path, where: str) -> bytes | None:
    data = section.get(f"{key}-data")
    if data:
        try:
            return base64.b64decode(data, validate=True)
        except ValueError:
            raise ConfigError(f"{where}: {key}-data is not base64") from None
    name = section.get(key)
    if name:
        return _read(base, name, where)
    return None
