"""Fixtures for the API server tests: a real server process per module, and in-process servers.

`apiserver_process` runs `kplane apiserver` over TLS on its embedded store in a temp dir and
hands out its admin kubeconfig; `kubectl(...)` runs the real kubectl against it. In-process
tests use `api_server` (an APIServer on a real Store, plain HTTP, no authentication) in the
test's own event loop.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.conftest import ROOT, tool_path

KPLANE = [sys.executable, "-m", "pykube_plane.cli.main"]


@dataclass
class ServerProcess:
    proc: subprocess.Popen
    data_dir: Path
    kubeconfig: Path
    cache_dir: Path
    url: str
    log: Path

    def kubectl(self, *args: str, input: str | None = None, check: bool = True,
                timeout: float = 60) -> subprocess.CompletedProcess:
        """Run the real kubectl against this server; fails the test on a non-zero exit when `check`."""
        cmd = [tool_path("kubectl"), "--kubeconfig", str(self.kubeconfig), "--cache-dir", str(self.cache_dir),
               *args]
        result = subprocess.run(cmd, input=input, capture_output=True, text=True, timeout=timeout)
        if check and result.returncode != 0:
            raise AssertionError(f"kubectl {' '.join(args)} failed ({result.returncode}):\n{result.stderr}\n"
                                 f"{result.stdout}")
        return result

    def kubectl_json(self, *args: str) -> dict:
        return json.loads(self.kubectl(*args, "-o", "json").stdout)


def start_server_process(tmp: Path, *extra: str, env: dict | None = None) -> ServerProcess:
    data = tmp / "data"
    kubeconfig = tmp / "admin.kubeconfig"
    log = tmp / "apiserver.log"
    with open(log, "wb") as out:
        proc = subprocess.Popen(
            KPLANE + ["apiserver", "--data-dir", str(data), "--secure-port", "0", "--write-kubeconfig",
                      str(kubeconfig), "--unsafe-no-fsync", *extra],
            stdout=out, stderr=subprocess.STDOUT, cwd=ROOT, env=env)
    deadline = time.monotonic() + 60
    while not kubeconfig.exists():
        if proc.poll() is not None:
            raise AssertionError(f"kplane apiserver exited with {proc.returncode}:\n{log.read_text()}")
        if time.monotonic() > deadline:
            proc.kill()
            raise AssertionError(f"kplane apiserver did not start:\n{log.read_text()}")
        time.sleep(0.05)
    text = kubeconfig.read_text()
    url = next(line.split("server:", 1)[1].strip() for line in text.splitlines() if "server:" in line)
    return ServerProcess(proc, data, kubeconfig, tmp / "kubectl-cache", url, log)


def stop_server_process(server: ServerProcess) -> None:
    if server.proc.poll() is None:
        server.proc.send_signal(signal.SIGTERM)
        try:
            server.proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.proc.kill()
            server.proc.wait()


@pytest.fixture(scope="module")
def apiserver_process(tmp_path_factory: pytest.TempPathFactory):
    server = start_server_process(tmp_path_factory.mktemp("apiserver"))
    try:
        yield server
    finally:
        stop_server_process(server)


@pytest.fixture
async def store(tmp_path):
    from pykube_plane.store.store import Store
    s = await Store.open(tmp_path / "store", fsync=False)
    yield s
    await s.close()


@pytest.fixture
async def api_server(store):
    """An in-process APIServer (plain HTTP, no authentication) on a real Store."""
    from pykube_plane.apiserver.server import APIServer
    server = APIServer(store, port=0, bookmark_interval=0.2)
    await server.start()
    yield server
    await server.stop()


@pytest.fixture
async def http(api_server):
    """An aiohttp client session bound to the in-process server's URL."""
    import aiohttp
    async with aiohttp.ClientSession(base_url=api_server.url) as session:
        yield session


def environ_without_proxies() -> dict:
    return {k: v for k, v in os.environ.items() if "proxy" not in k.lower()}
