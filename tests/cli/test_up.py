"""`kplane up` — the main job — serves the real kubectl; `--store-demo` shows the store's round trip."""
from __future__ import annotations

import signal
import subprocess
import sys
import time

from tests.conftest import ROOT, tool_path

KPLANE = [sys.executable, "-m", "pykube_plane.cli.main"]


def test_up_serves_kubectl_and_keeps_state_across_restarts(tmp_path):
    data = tmp_path / "kplane"
    kubeconfig = data / "admin.kubeconfig"

    def start() -> subprocess.Popen:
        if kubeconfig.exists():
            kubeconfig.unlink()
        proc = subprocess.Popen(KPLANE + ["up", "--data-dir", str(data), "--port", "0"], cwd=ROOT,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        deadline = time.monotonic() + 60
        while not kubeconfig.exists():
            assert proc.poll() is None, proc.stdout.read()
            assert time.monotonic() < deadline, "kplane up never wrote its kubeconfig"
            time.sleep(0.05)
        return proc

    def kubectl(*args: str) -> str:
        out = subprocess.run([tool_path("kubectl"), "--kubeconfig", str(kubeconfig), *args],
                             capture_output=True, text=True, timeout=60)
        assert out.returncode == 0, out.stderr
        return out.stdout

    proc = start()
    try:
        assert "default" in kubectl("get", "namespaces", "-o", "name")
        kubectl("create", "configmap", "survivor", "--from-literal=k=v")
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0
    proc = start()
    try:
        assert kubectl("get", "configmap", "survivor", "-o", "jsonpath={.data.k}") == "v"
    finally:
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=30) == 0


def test_store_demo_writes_watches_and_recovers(tmp_path):
    out = subprocess.run(KPLANE + ["up", "--store-demo", "--data-dir", str(tmp_path), "--writes", "50"],
                         cwd=ROOT, capture_output=True, text=True, timeout=120,
                         env={"COLUMNS": "200", "PATH": "/usr/bin:/bin"})
    assert out.returncode == 0, out.stderr
    assert "delivered all 50 events" in out.stdout
    assert "after restart: revision 51 (was 51), 50 demo keys" in out.stdout
