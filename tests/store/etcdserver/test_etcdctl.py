"""The real etcdctl 3.5.1 against `kplane store` (and, for the same bodies, against real etcd)."""
from __future__ import annotations

import json
import subprocess
import sys
import time

import pytest

from tests.conftest import ROOT, tool_path

from .servers import start_server


def etcdctl(endpoint: str, *args: str, input: str | None = None, timeout: float = 60,
            check: bool = True) -> subprocess.CompletedProcess:
    proc = subprocess.run([tool_path("etcdctl"), "--endpoints", endpoint, *args], capture_output=True,
                          text=True, timeout=timeout, input=input)
    if check:
        assert proc.returncode == 0, proc.stderr
    return proc


def revision_of(endpoint: str) -> int:
    return json.loads(etcdctl(endpoint, "get", "/nothing", "-w", "json").stdout)["header"]["revision"]


def read_lines(proc: subprocess.Popen, n: int) -> list[str]:
    assert proc.stdout is not None
    return [proc.stdout.readline().rstrip("\n") for _ in range(n)]


def test_put_get_del(server, prefix):
    p = prefix.decode()
    assert etcdctl(server.endpoint, "put", p + "a", "1").stdout == "OK\n"
    assert etcdctl(server.endpoint, "put", p + "b", "2").stdout == "OK\n"
    assert etcdctl(server.endpoint, "get", "--prefix", p).stdout == f"{p}a\n1\n{p}b\n2\n"
    got = json.loads(etcdctl(server.endpoint, "get", p + "a", "-w", "json").stdout)
    assert got["count"] == 1 and got["kvs"][0]["version"] == 1
    assert got["header"]["cluster_id"] and got["header"]["member_id"] and got["header"]["raft_term"]
    assert etcdctl(server.endpoint, "del", "--prefix", p).stdout == "2\n"
    assert etcdctl(server.endpoint, "get", "--prefix", p).stdout == ""


def test_watch_live_and_from_an_old_revision(server, prefix):
    p = prefix.decode()
    start = revision_of(server.endpoint) + 1
    etcdctl(server.endpoint, "put", p + "k", "before")
    watcher = subprocess.Popen([tool_path("etcdctl"), "--endpoints", server.endpoint, "watch", "--prefix",
                                p, "--rev", str(start)], stdout=subprocess.PIPE, text=True)
    try:
        assert read_lines(watcher, 3) == ["PUT", p + "k", "before"]  # history
        etcdctl(server.endpoint, "put", p + "k", "after")
        etcdctl(server.endpoint, "del", p + "k")
        assert read_lines(watcher, 6) == ["PUT", p + "k", "after", "DELETE", p + "k", ""]  # live
    finally:
        watcher.terminate()
        watcher.wait(10)


def test_watch_after_compaction_is_canceled(server, prefix):
    p = prefix.decode()
    etcdctl(server.endpoint, "put", p + "k", "1")
    old = revision_of(server.endpoint)
    etcdctl(server.endpoint, "put", p + "k", "2")
    now = revision_of(server.endpoint)
    assert etcdctl(server.endpoint, "compaction", str(now)).stdout == f"compacted revision {now}\n"
    out = etcdctl(server.endpoint, "watch", p + "k", "--rev", str(old), check=False, timeout=30)
    assert out.returncode != 0
    assert "required revision has been compacted" in out.stdout + out.stderr
    # a watch from the compaction revision on still works
    watcher = subprocess.Popen([tool_path("etcdctl"), "--endpoints", server.endpoint, "watch", p + "k",
                                "--rev", str(now)], stdout=subprocess.PIPE, text=True)
    try:
        assert read_lines(watcher, 3) == ["PUT", p + "k", "2"]
    finally:
        watcher.terminate()
        watcher.wait(10)
    got = etcdctl(server.endpoint, "get", p + "k", "--rev", str(old), check=False)
    assert got.returncode == 1
    assert got.stderr.strip().endswith("Error: etcdserver: mvcc: required revision has been compacted")


def test_txn(server, prefix):
    p = prefix.decode()
    etcdctl(server.endpoint, "put", p + "flag", "on")
    script = (f'value("{p}flag") = "on"\n\n'
              f'put {p}result yes\nget {p}flag\n\n'
              f'put {p}result no\n\n')
    out = etcdctl(server.endpoint, "txn", input=script).stdout
    assert out == f"SUCCESS\n\nOK\n\n{p}flag\non\n"
    script = f'value("{p}flag") = "off"\n\nput {p}result yes\n\nput {p}result no\n\n'
    assert etcdctl(server.endpoint, "txn", input=script).stdout == "FAILURE\n\nOK\n"
    assert etcdctl(server.endpoint, "get", p + "result", "--print-value-only").stdout == "no\n"


def test_lease_expiry_removes_keys(server, prefix):
    p = prefix.decode()
    out = etcdctl(server.endpoint, "lease", "grant", "2").stdout
    lease_id = out.split()[1]
    etcdctl(server.endpoint, "put", "--lease", lease_id, p + "ephemeral", "1")
    assert etcdctl(server.endpoint, "get", p + "ephemeral", "--print-value-only").stdout == "1\n"
    deadline = time.monotonic() + 20
    while etcdctl(server.endpoint, "get", p + "ephemeral").stdout and time.monotonic() < deadline:
        time.sleep(0.2)
    assert etcdctl(server.endpoint, "get", p + "ephemeral").stdout == ""
    assert etcdctl(server.endpoint, "lease", "timetolive", lease_id).stdout == \
        f"lease {lease_id} already expired\n"


def test_errors_keep_the_server_up(server, prefix):
    p = prefix.decode()
    big = etcdctl(server.endpoint, "put", p + "big", check=False, input="x" * (1600 * 1024))
    assert big.returncode == 1 and "etcdserver: request is too large" in big.stderr
    bad = etcdctl(server.endpoint, "put", "--lease", "abc", p + "k", "v", check=False)
    assert bad.returncode == 1 and "etcdserver: requested lease not found" in bad.stderr
    assert etcdctl(server.endpoint, "put", p + "k", "v").stdout == "OK\n"


def test_endpoint_status_and_health(server):
    status = json.loads(etcdctl(server.endpoint, "endpoint", "status", "-w", "json").stdout)[0]
    assert status["Endpoint"] == server.endpoint
    st = status["Status"]
    assert st["version"].startswith("3.5") and st["dbSize"] > 0
    assert st["leader"] == st["header"]["member_id"] and st["raftTerm"] >= 1
    assert "is healthy" in etcdctl(server.endpoint, "endpoint", "health").stdout
    members = etcdctl(server.endpoint, "member", "list").stdout.strip().split(", ")
    assert members[1:5] == ["started", "default", server.peer_url, server.client_url]


def test_snapshot_save_then_restore_into_a_new_member(tmp_path):
    source = start_server("kplane", tmp_path / "source")
    try:
        for i in range(50):
            etcdctl(source.endpoint, "put", f"/snap/{i:03d}", f"value-{i}")
        rev = revision_of(source.endpoint)
        snap = tmp_path / "backup.db"
        out = etcdctl(source.endpoint, "snapshot", "save", str(snap))
        assert f"Snapshot saved at {snap}" in out.stdout
    finally:
        source.stop()

    status = subprocess.run([sys.executable, "-m", "pykube_plane.cli.main", "kv", "snapshot", "status",
                             str(snap), "-w", "json"], capture_output=True, text=True, cwd=ROOT)
    assert status.returncode == 0, status.stderr
    assert json.loads(status.stdout)["revision"] == rev

    restored_dir = tmp_path / "restored" / "kplane-data"
    restore = subprocess.run([sys.executable, "-m", "pykube_plane.cli.main", "kv", "snapshot", "restore",
                              str(snap), "--data-dir", str(restored_dir)],
                             capture_output=True, text=True, cwd=ROOT)
    assert restore.returncode == 0, restore.stderr
    restored = start_server("kplane", tmp_path / "restored")
    try:
        assert etcdctl(restored.endpoint, "get", "/snap/007", "--print-value-only").stdout == "value-7\n"
        assert etcdctl(restored.endpoint, "get", "--prefix", "/snap/", "--count-only",
                       "-w", "fields").stdout.count('"Count" : 50') == 1
        assert revision_of(restored.endpoint) == rev
        etcdctl(restored.endpoint, "put", "/snap/after-restore", "yes")   # the restored member takes writes
        assert etcdctl(restored.endpoint, "get", "/snap/after-restore", "--print-value-only").stdout == "yes\n"
        assert revision_of(restored.endpoint) == rev + 1
    finally:
        restored.stop()


def test_check_perf_small_load_passes(tmp_path):
    """etcdctl's own 60-second load test (`check perf --load=s`) against a kplane store."""
    srv = start_server("kplane", tmp_path)
    try:
        out = etcdctl(srv.endpoint, "check", "perf", "--load=s", timeout=180)
        assert "FAIL" not in out.stdout
        assert out.stdout.rstrip().endswith("PASS")
    finally:
        srv.stop()


@pytest.mark.parametrize("kind", ["kplane"])
def test_sigterm_shuts_down_cleanly_and_data_survives(tmp_path, kind):
    srv = start_server(kind, tmp_path)
    etcdctl(srv.endpoint, "put", "/durable", "yes")
    assert srv.stop() == 0
    srv.start()
    try:
        assert etcdctl(srv.endpoint, "get", "/durable", "--print-value-only").stdout == "yes\n"
    finally:
        srv.stop()


def test_auth_and_maintenance_commands_answer_cleanly(tmp_path):
    srv = start_server("kplane", tmp_path)
    try:
        assert "Authentication Status: false" in etcdctl(srv.endpoint, "auth", "status").stdout
        assert etcdctl(srv.endpoint, "user", "list").stdout == ""
        refused = etcdctl(srv.endpoint, "user", "add", "bob:pw", check=False)
        assert refused.returncode == 1
        assert "users and roles are not supported by this store" in refused.stderr
        assert "Finished defragmenting" in etcdctl(srv.endpoint, "defrag").stdout
        assert etcdctl(srv.endpoint, "alarm", "list").stdout == ""
        assert "bad leader transferee" in etcdctl(srv.endpoint, "move-leader", "1", check=False).stderr
        assert "Traceback" not in srv.log_tail(100_000)
    finally:
        srv.stop()
