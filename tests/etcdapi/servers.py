"""Real servers for the etcd API tests: etcd 3.5.1 and `kplane store`, as processes on 127.0.0.1.

Both are started the same way (etcd-style flags) and are stopped with SIGTERM, so a test body
can run unchanged against either — the point of these tests is that both speak one protocol.
"""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from pykube_plane.store.etcdpb import rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from tests.conftest import ROOT, free_port, tool_path

START_TIMEOUT = 30.0


@dataclass
class ServerProcess:
    kind: str                      # "etcd" or "kplane"
    data_dir: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    extra_args: list[str] = field(default_factory=list)
    name: str = "default"
    proc: subprocess.Popen | None = None

    @property
    def endpoint(self) -> str:
        return f"127.0.0.1:{self.client_port}"

    @property
    def client_url(self) -> str:
        return f"http://127.0.0.1:{self.client_port}"

    @property
    def peer_url(self) -> str:
        return f"http://127.0.0.1:{self.peer_port}"

    @property
    def metrics_url(self) -> str:
        return f"http://127.0.0.1:{self.metrics_port}"

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
        log = open(self.data_dir.parent / f"{self.data_dir.name}.log", "ab")
        env = dict(os.environ, PYTHONPATH=str(ROOT))
        self.proc = subprocess.Popen(self.command(), stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                     env=env)
        log.close()
        self.wait_ready()
        return self

    def wait_ready(self) -> None:
        deadline = time.monotonic() + START_TIMEOUT
        with grpc.insecure_channel(self.endpoint) as channel:
            stub = pb_grpc.MaintenanceStub(channel)
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.kind} exited with {self.proc.returncode}: {self.log_tail()}")
                try:
                    stub.Status(pb.StatusRequest(), timeout=1.0)
                    return
                except grpc.RpcError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{self.kind} not ready: {self.log_tail()}") from None
                    time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.proc is None:
            return 0
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(15)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        code = self.proc.returncode
        self.proc = None
        return code

    def restart(self) -> None:
        self.stop()
        self.start()

    def log_tail(self, n: int = 3000) -> str:
        path = self.data_dir.parent / f"{self.data_dir.name}.log"
        try:
            return path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""


def start_server(kind: str, base: Path, *extra_args: str, name: str = "default") -> ServerProcess:
    base.mkdir(parents=True, exist_ok=True)
    return ServerProcess(kind, base / f"{kind}-data", extra_args=list(extra_args), name=name).start()
