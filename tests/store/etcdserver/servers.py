"""Real servers for the etcd API tests: etcd 3.5.1 and `kplane store`, as processes on 127.0.0.1.

Both are started the same way (etcd-style flags) and are stopped with SIGTERM, so a test body
can run unchanged against either — the point of these tests is that both speak one protocol.
"""
from __future__ import annotations

import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.conftest import free_port, tool_path
from tests.store.store_process import StoreProcess


@dataclass
class ServerProcess(StoreProcess):
    kind: str                      # "etcd" or "kplane"
    data_dir: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    extra_args: list[str] = field(default_factory=list)
    name: str = "default"
    proc: subprocess.Popen | None = None

    @property
    def log_path(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    @property
    def label(self) -> str:
        return self.kind

    def command(self) -> list[str]:
        flags = [
            "--name", self.name,
            "--data-dir", str(self.data_dir),
            "--listen-client-urls", self.client_url,
            "--advertise-client-urls", self.client_url,
            "--listen-peer-urls", self.peer_url,
            "--initial-advertise-peer-urls", self.peer_url,
            "--initial-cluster", f"{self.name}={self.peer_url}",
            "--listen-metrics-urls", self.metrics_url,
        ]
        if self.kind == "etcd":
            return [tool_path("etcd"), *flags, "--log-level", "error", *self.extra_args]
        return [sys.executable, "-m", "pykube_plane.cli.main", "store", *flags, *self.extra_args]

    def start(self) -> "ServerProcess":
        self.spawn(self.command())
        self.wait_serving()
        return self

    def restart(self) -> None:
        self.stop()
        self.start()


def start_server(kind: str, base: Path, *extra_args: str, name: str = "default") -> ServerProcess:
    base.mkdir(parents=True, exist_ok=True)
    return ServerProcess(kind, base / f"{kind}-data", extra_args=list(extra_args), name=name).start()
