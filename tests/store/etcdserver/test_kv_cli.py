"""`kplane kv` prints what etcdctl prints: both run against the same real etcd and are compared."""
from __future__ import annotations

import subprocess
import sys

import pytest

from tests.conftest import ROOT, tool_path


def kplane_kv(endpoint: str, *args: str, input: str | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pykube_plane.cli.main", "kv", "--endpoints", endpoint,
                           *args], capture_output=True, text=True, cwd=ROOT, timeout=60, input=input)


def etcdctl(endpoint: str, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool_path("etcdctl"), "--endpoints", endpoint, *args],
                          capture_output=True, text=True, timeout=60)


@pytest.fixture(scope="module")
def seeded(etcd):
    """A few keys written by etcdctl, so both tools read the same data."""
    for k, v in [("/cli/a", "1"), ("/cli/b", "two words"), ("/cli/c", "3"), ("/clj", "x")]:
        assert etcdctl(etcd.endpoint, "put", k, v).returncode == 0
    return etcd


# Deterministic read commands: the outputs must be identical byte for byte.
SAME_OUTPUT = [
    ["get", "/cli/a"],
    ["get", "/cli/b", "-w", "json"],
    ["get", "--prefix", "/cli/"],
    ["get", "--prefix", "/cli/", "--keys-only"],
    ["get", "--prefix", "/cli/", "--print-value-only"],
    ["get", "--prefix", "/cli/", "--limit", "2", "-w", "json"],
    ["get", "--from-key", "/cli/b"],
    ["get", "/cli/a", "/cli/c"],
    ["get", "/cli/missing", "-w", "json"],
    ["get", "--prefix", "/cli/", "--sort-by", "VALUE", "--order", "DESCEND"],
    ["-w", "json", "get", "--prefix", "/cl"],
    ["member", "list"],
    ["member", "list", "-w", "json"],
    ["member", "list", "-w", "table"],
    ["endpoint", "hashkv"],
    ["alarm", "list"],
    ["lease", "timetolive", "1234"],
]


@pytest.mark.parametrize("args", SAME_OUTPUT, ids=lambda a: " ".join(a))
def test_read_commands_print_like_etcdctl(seeded, args):
    ours = kplane_kv(seeded.endpoint, *args)
    theirs = etcdctl(seeded.endpoint, *args)
    assert ours.returncode == theirs.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


def test_endpoint_status_matches_etcdctl_but_for_moving_counters(seeded):
    ours = kplane_kv(seeded.endpoint, "endpoint", "status").stdout.strip().split(", ")
    theirs = etcdctl(seeded.endpoint, "endpoint", "status").stdout.strip().split(", ")
    # endpoint, ID, version, db size, is leader, is learner, raft term
    assert ours[:7] == theirs[:7]
    assert len(ours) == len(theirs) == 9  # (+ raft index, raft applied index; errors empty)


def test_write_commands_print_like_etcdctl(etcd):
    for tool in (kplane_kv, etcdctl):
        assert tool(etcd.endpoint, "put", "/w/k", "v1").stdout == "OK\n"
    ours = kplane_kv(etcd.endpoint, "put", "--prev-kv", "/w/k", "v2").stdout
    theirs = etcdctl(etcd.endpoint, "put", "--prev-kv", "/w/k", "v3").stdout
    assert ours == "OK\n/w/k\nv1\n" and theirs == "OK\n/w/k\nv2\n"
    assert kplane_kv(etcd.endpoint, "del", "--prev-kv", "/w/k").stdout == "1\n/w/k\nv3\n"
    assert kplane_kv(etcd.endpoint, "del", "/w/k").stdout == etcdctl(etcd.endpoint, "del", "/w/k").stdout


def test_put_reads_the_value_from_stdin(etcd):
    assert kplane_kv(etcd.endpoint, "put", "/stdin/k", input="from stdin").stdout == "OK\n"
    assert etcdctl(etcd.endpoint, "get", "/stdin/k", "--print-value-only").stdout == "from stdin\n"


def test_lease_commands(etcd):
    out = kplane_kv(etcd.endpoint, "lease", "grant", "100").stdout
    assert out.startswith("lease ") and out.endswith(" granted with TTL(100s)\n")
    lease_id = out.split()[1]
    assert kplane_kv(etcd.endpoint, "put", "--lease", lease_id, "/l/k", "v").returncode == 0
    ttl = kplane_kv(etcd.endpoint, "lease", "timetolive", "--keys", lease_id).stdout
    assert ttl.startswith(f"lease {lease_id} granted with TTL(100s), remaining(")
    assert ttl.endswith("attached keys([/l/k])\n")
    assert kplane_kv(etcd.endpoint, "lease", "keep-alive", "--once", lease_id).stdout == \
        f"lease {lease_id} keepalived with TTL(100)\n"
    assert lease_id in kplane_kv(etcd.endpoint, "lease", "list").stdout
    assert kplane_kv(etcd.endpoint, "lease", "revoke", lease_id).stdout == f"lease {lease_id} revoked\n"
    assert etcdctl(etcd.endpoint, "get", "/l/k").stdout == ""


def test_errors_print_like_etcdctl(etcd):
    rev = int(etcdctl(etcd.endpoint, "put", "/e/k", "1", "-w", "json").stdout.split('"revision":')[1]
              .split(",")[0])
    etcdctl(etcd.endpoint, "put", "/e/k", "2")
    assert kplane_kv(etcd.endpoint, "compaction", str(rev + 1)).stdout == f"compacted revision {rev + 1}\n"
    ours = kplane_kv(etcd.endpoint, "get", "/e/k", "--rev", str(rev))
    theirs = etcdctl(etcd.endpoint, "get", "/e/k", "--rev", str(rev))
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == "Error: etcdserver: mvcc: required revision has been compacted\n"
    assert theirs.stderr.endswith(ours.stderr)
    bad = kplane_kv(etcd.endpoint, "lease", "revoke", "abc0123")
    assert bad.returncode == 1 and bad.stderr == "Error: etcdserver: requested lease not found\n"


def test_endpoint_health(etcd):
    out = kplane_kv(etcd.endpoint, "endpoint", "health")
    assert out.returncode == 0
    assert out.stdout.startswith(f"{etcd.endpoint} is healthy: successfully committed proposal: took = ")


def test_watch_prints_events_like_etcdctl(etcd):
    rev = int(etcdctl(etcd.endpoint, "put", "/wt/a", "1", "-w", "json").stdout.split('"revision":')[1]
              .split(",")[0])
    etcdctl(etcd.endpoint, "del", "/wt/a")
    args = ["watch", "--prefix", "/wt/", "--rev", str(rev), "--prev-kv"]
    ours = subprocess.Popen([sys.executable, "-m", "pykube_plane.cli.main", "kv", "--endpoints",
                             etcd.endpoint, *args], stdout=subprocess.PIPE, text=True, cwd=ROOT)
    theirs = subprocess.Popen([tool_path("etcdctl"), "--endpoints", etcd.endpoint, *args],
                              stdout=subprocess.PIPE, text=True)
    expected = ["PUT", "/wt/a", "1", "DELETE", "/wt/a", "1", "/wt/a", ""]
    try:
        for proc in (ours, theirs):
            lines = [proc.stdout.readline().rstrip("\n") for _ in expected]
            assert lines == expected
    finally:
        for proc in (ours, theirs):
            proc.terminate()
            proc.wait(10)


def test_kplane_kv_against_both_servers(server, prefix, tmp_path):
    p = prefix.decode()
    assert kplane_kv(server.endpoint, "put", p + "k", "v").stdout == "OK\n"
    assert kplane_kv(server.endpoint, "get", "--prefix", p).stdout == f"{p}k\nv\n"
    assert kplane_kv(server.endpoint, "member", "list").stdout == etcdctl(server.endpoint, "member", "list").stdout
    assert kplane_kv(server.endpoint, "endpoint", "health").returncode == 0
    snap = tmp_path / "snap.db"
    saved = kplane_kv(server.endpoint, "snapshot", "save", str(snap))
    assert saved.stdout == f"Snapshot saved at {snap}\n" and snap.stat().st_size > 0
    assert (snap.stat().st_size - 32) % 512 == 0  # etcd's shape: whole pages + sha256
    assert kplane_kv(server.endpoint, "del", p + "k").stdout == "1\n"


def test_kplane_snapshot_save_then_restore(tmp_path):
    from .servers import start_server

    source = start_server("kplane", tmp_path / "a")
    try:
        kplane_kv(source.endpoint, "put", "/s/k", "v")
        assert kplane_kv(source.endpoint, "snapshot", "save", str(tmp_path / "s.db")).returncode == 0
    finally:
        source.stop()
    status = kplane_kv("unused:1", "snapshot", "status", str(tmp_path / "s.db"), "-w", "table")
    assert status.returncode == 0 and "TOTAL KEYS" in status.stdout
    out = kplane_kv("unused:1", "snapshot", "restore", str(tmp_path / "s.db"),
                    "--data-dir", str(tmp_path / "b" / "kplane-data"))
    assert out.returncode == 0, out.stderr
    restored = start_server("kplane", tmp_path / "b")
    try:
        assert kplane_kv(restored.endpoint, "get", "/s/k", "--print-value-only").stdout == "v\n"
    finally:
        restored.stop()


def test_unreachable_endpoint_fails_like_etcdctl():
    from tests.conftest import free_port

    dead = f"127.0.0.1:{free_port()}"
    ours = kplane_kv(dead, "--dial-timeout", "0.5", "get", "k")
    theirs = etcdctl(dead, "--dial-timeout", "500ms", "--command-timeout", "1s", "get", "k")
    assert ours.returncode == theirs.returncode == 1
    assert ours.stderr == "Error: context deadline exceeded\n"
    assert theirs.stderr.endswith(ours.stderr)
