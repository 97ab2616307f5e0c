"""Real `kplane store` member processes on 127.0.0.1 for the multi-process tests.

Each member gets its own client, peer and metrics ports and data dir; members are started with
--experimental-peer-fault-injection so a test can partition one through its metrics URL, and with
etcd's default timing (100 ms heartbeat, 1 s election). etcdctl is the real 3.5.1 binary."""
from __future__ import annotations

import os
import signal
import subprocess
import sys
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

import grpc

from pykube_plane.store.etcdpb import rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from tests.conftest import free_port, tool_path
from tests.store.store_process import StoreProcess


@dataclass
class MemberProcess(StoreProcess):
    name: str
    base: Path
    client_port: int = field(default_factory=free_port)
    peer_port: int = field(default_factory=free_port)
    metrics_port: int = field(default_factory=free_port)
    extra_args: list[str] = field(default_factory=list)
    proc: subprocess.Popen | None = None

    @property
    def data_dir(self) -> Path:
        return self.base / f"{self.name}.data"

    @property
    def log_path(self) -> Path:
        return self.base / f"{self.name}.log"

    @property
    def label(self) -> str:
        return self.name

    def command(self, initial_cluster: str, state: str) -> list[str]:
        return [sys.executable, "-m", "pykube_plane.cli.main", "store",
                "--name", self.name, "--data-dir", str(self.data_dir),
                "--listen-client-urls", self.client_url, "--advertise-client-urls", self.client_url,
                "--listen-peer-urls", self.peer_url, "--initial-advertise-peer-urls", self.peer_url,
                "--initial-cluster", initial_cluster, "--initial-cluster-state", state,
                "--listen-metrics-urls", self.metrics_url, "--experimental-peer-fault-injection",
                *self.extra_args]

    def start(self, initial_cluster: str, state: str = "new", wait: bool = True) -> "MemberProcess":
        self.spawn(self.command(initial_cluster, state))
        if wait:
            self.wait_serving()
        return self

    def status(self) -> pb.StatusResponse:
        with grpc.insecure_channel(self.endpoint) as channel:
            return pb_grpc.MaintenanceStub(channel).Status(pb.StatusRequest(), timeout=2.0)

    def kill(self) -> None:
        """SIGKILL: no shutdown, whatever was not fsynced is lost."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGKILL)
            self.proc.wait()
        self.proc = None

    def fault(self, action: str, peers: str = "") -> None:
        """action 'isolate' (peers: comma-separated hex ids, or all) or 'heal'."""
        query = f"?peers={peers}" if peers else ""
        req = urllib.request.Request(f"{self.metrics_url}/debug/peer-fault/{action}{query}",
                                     method="POST", data=b"")
        with urllib.request.urlopen(req, timeout=5) as resp:
            assert resp.status == 200


def initial_cluster(members: list[MemberProcess]) -> str:
    return ",".join(f"{m.name}={m.peer_url}" for m in members)


def etcdctl(endpoints: list[str], *args: str, timeout: float = 30) -> subprocess.CompletedProcess:
    env = dict(os.environ, ETCDCTL_API="3")
    return subprocess.run([tool_path("etcdctl"), "--endpoints", ",".join(endpoints),
                           "--command-timeout=10s", *args],
                          capture_output=True, text=True, timeout=timeout, env=env)
