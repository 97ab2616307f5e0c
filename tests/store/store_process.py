"""What every store process a test starts has in common (real etcd or `kplane store` on 127.0.0.1):
its loopback URLs, spawning with a log file, waiting until the gRPC API answers, stopping, and the
tail of its log for failure messages. Subclasses are dataclasses with client_port, peer_port,
metrics_port and proc fields, and say where their log goes and how to name themselves."""
from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import grpc

from pykube_plane.store.etcdpb import rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from tests.conftest import ROOT

START_TIMEOUT = 30.0


class StoreProcess:
    client_port: int
    peer_port: int
    metrics_port: int
    proc: subprocess.Popen | None

    @property
    def log_path(self) -> Path:
        raise NotImplementedError

    @property
    def label(self) -> str:
        raise NotImplementedError

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

    def spawn(self, command: list[str]) -> None:
        with open(self.log_path, "ab") as log:
            self.proc = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT,
                                         env=dict(os.environ, PYTHONPATH=str(ROOT)))

    def wait_serving(self) -> None:
        """Until the gRPC API answers Status (a leader is not required)."""
        deadline = time.monotonic() + START_TIMEOUT
        with grpc.insecure_channel(self.endpoint) as channel:
            stub = pb_grpc.MaintenanceStub(channel)
            while True:
                assert self.proc is not None
                if self.proc.poll() is not None:
                    raise RuntimeError(f"{self.label} exited with {self.proc.returncode}: "
                                       f"{self.log_tail()}")
                try:
                    stub.Status(pb.StatusRequest(), timeout=1.0)
                    return
                except grpc.RpcError:
                    if time.monotonic() > deadline:
                        raise RuntimeError(f"{self.label} not serving: {self.log_tail()}") from None
                    time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        """Signal (SIGTERM by default), wait up to 15 s, then kill; returns the exit code."""
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

    def log_tail(self, n: int = 3000) -> str:
        try:
            return self.log_path.read_bytes()[-n:].decode(errors="replace")
        except OSError:
            return ""
