"""What a control plane is built from: `ControlPlaneOptions`, kube-apiserver's flags as data.

The `kplane apiserver` and `kplane up` commands parse their flags into these; embedding code
and tests fill them in directly.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


@dataclass
class ControlPlaneOptions:
    data_dir: str | os.PathLike[str] | None = None  # embedded store in DATA/store, certificates in DATA/pki
    etcd_servers: tuple[str, ...] = ()              # use etcd / `kplane store` members instead
    fsync: bool = True                              # embedded store: fsync the WAL
    bind_address: str = "127.0.0.1"
    secure_port: int = 6443                         # 0: a free port
    listen: bool = True                             # False: no socket, in-process clients only
    advertise_address: str | None = None
    cert_dir: str | os.PathLike[str] | None = None  # generated CA and certificates (default DATA/pki)
    tls_cert_file: str | None = None                # explicit serving certificate and key
    tls_private_key_file: str | None = None
    client_ca_file: str | None = None               # CA of client certificates (default the generated CA)
    token_auth_file: str | None = None              # static bearer tokens
    service_cluster_ip_range: str = "10.96.0.0/12"
    service_node_port_range: tuple[int, int] = (30000, 32767)
    watch_cache_size: int = 10_000
    max_requests_inflight: int = 400
    max_mutating_requests_inflight: int = 200
    event_ttl: float = 3600.0
    kubeconfig_path: str | os.PathLike[str] | None = None   # where to write the admin kubeconfig

    def __post_init__(self) -> None:
        if not self.data_dir and not self.etcd_servers:
            raise ValueError("give data_dir (embedded store) or etcd_servers")
        if bool(self.tls_cert_file) != bool(self.tls_private_key_file):
            raise ValueError("tls_cert_file and tls_private_key_file go together")

    def certificates_dir(self) -> Path:
        if self.cert_dir:
            return Path(self.cert_dir)
        return Path(self.data_dir) / "pki" if self.data_dir else Path("kplane-pki")

    def store_dir(self) -> Path:
        assert self.data_dir
        return Path(self.data_dir) / "store"
