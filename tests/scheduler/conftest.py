"""A real `kplane apiserver` process and real `kplane scheduler` processes for the behaviour tests;
nodes are API objects created with kubectl (there is no kubelet), their capacity set through the
nodes/status subresource."""
from __future__ import annotations

import json
import signal
import subprocess
import time
from pathlib import Path

import pytest

from tests.apiserver.conftest import KPLANE, start_server_process, stop_server_process
from tests.conftest import ROOT


class SchedulerProcess:
    def __init__(self, tmp: Path, kubeconfig: Path, name: str, *extra: str) -> None:
        self.log = tmp / f"{name}.log"
        self.port_file = tmp / f"{name}.port"
        with open(self.log, "wb") as out:
            self.proc = subprocess.Popen(
                KPLANE + ["scheduler", "--kubeconfig", str(kubeconfig), "--secure-port", "0",
                          "--write-port-file", str(self.port_file), "--leader-elect-lease-duration", "4s",
                          "--leader-elect-renew-deadline", "3s", "--leader-elect-retry-period", "1s", *extra],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)

    def get(self, path: str) -> str:
        import urllib.request
        port = self.port_file.read_text()
        with urllib.request.urlopen(f"http://127.0.0.1:{port}{path}", timeout=10) as r:
            return r.read().decode()

    def metrics(self) -> str:
        return self.get("/metrics")

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def wait_for(check, timeout: float = 60, interval: float = 0.2, what: str = "condition"):
    deadline = time.monotonic() + timeout
    last = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what}; last: {last!r}")


def make_node(server, name: str, cpu: str = "4", memory: str = "8Gi", pods: str = "110",
              labels: dict | None = None, taints: list | None = None, unschedulable: bool = False) -> None:
    node = {"apiVersion": "v1", "kind": "Node",
            "metadata": {"name": name, "labels": {"kubernetes.io/hostname": name, **(labels or {})}},
            "spec": {"taints": taints or [], "unschedulable": unschedulable}}
    server.kubectl("apply", "-f", "-", input=json.dumps(node))
    status = {"status": {"capacity": {"cpu": cpu, "memory": memory, "pods": pods},
                         "allocatable": {"cpu": cpu, "memory": memory, "pods": pods},
                         "conditions": [{"type": "Ready", "status": "True", "reason": "KubeletReady",
                                         "message": "no kubelet: set by the test"}]}}
    server.kubectl("patch", "node", name, "--subresource=status", "--type=merge", "-p", json.dumps(status))


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("sched")
    server = start_server_process(tmp)
    schedulers = [SchedulerProcess(tmp, server.kubeconfig, "scheduler-0")]
    try:
        yield server, schedulers, tmp
    finally:
        for s in schedulers:
            s.stop()
        stop_server_process(server)
        for s in schedulers:
            print(f"---- {s.log.name}\n{s.log.read_text()[-4000:]}")
