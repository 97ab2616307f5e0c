"""Fixtures for the controller tests: a real `kplane apiserver`, a real `kplane controller-manager`
and the pod phase helper (tests/controllers/pod_phase_helper.py), all processes; the real kubectl.

`cluster` is shared by a module; each test works in its own namespace (`ns`).
"""
from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
import urllib.request
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import pytest

from tests.apiserver.conftest import KPLANE, ServerProcess, start_server_process, stop_server_process
from tests.conftest import ROOT, free_port

DEADLINE = 90.0     # generous: the machine is shared; tests poll for states, never assert on time


def wait_for(what: str, check: Callable[[], Any], timeout: float = DEADLINE, interval: float = 0.25) -> Any:
    """Poll `check()` until it returns a truthy value; fail with `what` at the deadline."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        try:
            last = check()
        except AssertionError as e:
            last = e
        else:
            if last:
                return last
        time.sleep(interval)
    raise AssertionError(f"timed out waiting for {what} (last: {last!r})")


@dataclass
class ManagerProcess:
    proc: subprocess.Popen
    port: int
    log: Path
    identity: str

    def get(self, path: str) -> tuple[int, str]:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{self.port}{path}", timeout=5) as r:
                return r.status, r.read().decode()
        except urllib.error.HTTPError as e:
            return e.code, e.read().decode()

    def stop(self, sig: int = signal.SIGTERM) -> None:
        if self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()


def start_manager(server: ServerProcess, tmp: Path, *extra: str, identity: str | None = None) -> ManagerProcess:
    port = free_port()
    identity = identity or f"cm-{uuid.uuid4().hex[:6]}"
    log = tmp / f"controller-manager-{identity}.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            KPLANE + ["controller-manager", "--kubeconfig", str(server.kubeconfig), "--port", str(port),
                      "--leader-elect-identity", identity, *extra],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
    manager = ManagerProcess(proc, port, log, identity)

    def healthy() -> bool:
        if proc.poll() is not None:
            raise RuntimeError(f"controller-manager exited {proc.returncode}:\n{log.read_text()}")
        try:
            return manager.get("/healthz")[0] == 200
        except OSError:
            return False
    try:
        wait_for("controller-manager /healthz", healthy)
    except RuntimeError as e:
        pytest.fail(str(e))
    return manager


def start_pod_helper(server: ServerProcess, tmp: Path) -> subprocess.Popen:
    log = open(tmp / "pod-helper.log", "wb")
    return subprocess.Popen([sys.executable, "-m", "tests.controllers.pod_phase_helper", str(server.kubeconfig)],
                            stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)


@dataclass
class Cluster:
    server: ServerProcess
    manager: ManagerProcess
    helper: subprocess.Popen
    namespaces: list[str] = field(default_factory=list)

    def kubectl(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
        return self.server.kubectl(*args, **kwargs)

    def json(self, *args: str) -> Any:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)

    def apply(self, manifest: dict | str, namespace: str) -> None:
        text = manifest if isinstance(manifest, str) else json.dumps(manifest)
        self.kubectl("apply", "-n", namespace, "-f", "-", input=text)

    def pods(self, namespace: str, selector: str = "") -> list[dict]:
        args = ["get", "pods", "-n", namespace] + (["-l", selector] if selector else [])
        return self.json(*args)["items"]


CM_FLAGS = ("--leader-elect-lease-duration", "4s", "--leader-elect-renew-deadline", "3s",
            "--leader-elect-retry-period", "1s", "--pod-gc-period", "1s", "--terminated-pod-gc-threshold", "12",
            "--deleted-pod-event-age", "2s")


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory):
    tmp = tmp_path_factory.mktemp("controllers")
    server = start_server_process(tmp)
    helper = start_pod_helper(server, tmp)
    manager = None
    try:
        manager = start_manager(server, tmp, *CM_FLAGS)
        yield Cluster(server, manager, helper)
    finally:
        if manager is not None:
            manager.stop()
        helper.terminate()
        helper.wait(timeout=20)
        stop_server_process(server)


@pytest.fixture
def ns(cluster: Cluster, request: pytest.FixtureRequest) -> str:
    name = "t-" + request.node.name.replace("_", "-").lower()[:40].strip("-") + "-" + uuid.uuid4().hex[:4]
    cluster.kubectl("create", "namespace", name)
    return name


def deployment(name: str, replicas: int, image: str = "nginx:1.0", **spec: Any) -> dict:
    labels = {"app": name}
    body = {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": image,
                                                           "ports": [{"name": "http", "containerPort": 8080}]}]}}}}
    body["spec"].update(spec)
    return body


def replicaset(name: str, replicas: int, labels: dict | None = None, **spec: Any) -> dict:
    labels = labels or {"app": name}
    body = {"apiVersion": "apps/v1", "kind": "ReplicaSet", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "app", "image": "nginx"}]}}}}
    body["spec"].update(spec)
    return body
