"""Snapshots in etcd's own format, both ways, with the real etcd, etcdctl and etcdutl 3.5.1.

kplane → etcd: `etcdctl snapshot save` from a kplane store, `etcdutl snapshot status|restore`,
a real etcd started from the restored dir serves every key at the same revisions, the history
after the compaction, and the leases with their keys.
etcd → kplane: the same, `kplane kv snapshot restore` of a real etcd's snapshot, then
`kplane store` from the result.
"""
from __future__ import annotations

import asyncio
import base64
import json
import subprocess
import sys
import time

import pytest

from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.kv import DeleteOp, PutOp
from pykube_plane.store.remote import RemoteKV
from tests.conftest import ROOT, tool_path

from .conftest import SERVER_KINDS
from .servers import ServerProcess, start_server
from .test_etcdctl import etcdctl

LEASE_TTL = 600


def kplane_kv(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pykube_plane.cli.main", "kv", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def etcdutl(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([tool_path("etcdutl"), *args], capture_output=True, text=True,
                          timeout=120)


async def _workload(endpoint: str) -> dict:
    """Revisions of every kind: overwrites, deletes, a txn of two puts, leases with keys, a
    value bigger than a bbolt page, enough keys for branch pages, a compaction."""
    kv = RemoteKV([endpoint])
    try:
        for i in range(400):
            await kv.put(b"/bulk/%04d" % i, b"value-%d" % i)
        await kv.put(b"/a", b"1")
        await kv.put(b"/a", b"2")
        await kv.put(b"/gone", b"x")
        await kv.delete_range(b"/gone")
        compact_at = (await kv.put(b"/a", b"3"))
        await kv.put(b"/a", b"4")                       # history after the compaction
        await kv.txn([], [PutOp(b"/t1", b"one"), PutOp(b"/t2", b"two")], [])
        await kv.txn([], [PutOp(b"/t3", b"three"), DeleteOp(b"/bulk/0000")], [])
        lease = (await kv.lease_grant(LEASE_TTL)).id
        other = (await kv.lease_grant(LEASE_TTL + 60)).id
        await kv.put(b"/leased/1", b"l1", lease=lease)
        await kv.put(b"/leased/2", b"l2", lease=lease)
        await kv.put(b"/big", bytes(range(256)) * 40)  # 10 KiB: overflow pages
        await kv.compact(compact_at)
        await kv.put(b"/after-compaction", b"yes")
        return {"compact_at": compact_at, "leases": sorted([lease, other])}
    finally:
        await kv.close()


def _observe(endpoint: str, compact_at: int) -> dict:
    """What a client sees, without the ids that differ between clusters."""
    latest = json.loads(etcdctl(endpoint, "get", "", "--from-key", "-w", "json").stdout)
    history = json.loads(etcdctl(endpoint, "get", "/a", "--rev", str(compact_at), "-w",
                                 "json").stdout)
    old = etcdctl(endpoint, "get", "/a", "--rev", str(compact_at - 1), check=False)
    leases = {}
    for line in etcdctl(endpoint, "lease", "list").stdout.split("\n")[1:]:
        if line.strip():
            ttl = json.loads(etcdctl(endpoint, "lease", "timetolive", line.strip(), "--keys", "-w",
                                     "json").stdout)
            leases[int(line, 16)] = (ttl["granted-ttl"],
                                     sorted(base64.b64decode(k) for k in ttl.get("keys") or []))
    return {"revision": latest["header"]["revision"], "kvs": latest["kvs"],
            "count": latest["count"], "history": history["kvs"], "compacted": old.stderr.strip().splitlines()[-1],
            "leases": leases}


def _member_list(server: ServerProcess) -> list[tuple]:
    """(name, peer URLs, client URLs) of each member, once the member published itself."""
    deadline = time.monotonic() + 30
    while True:
        members = json.loads(etcdctl(server.endpoint, "member", "list", "-w", "json").stdout)
        rows = [(m.get("name", ""), m.get("peerURLs", []), m.get("clientURLs", []))
                for m in members["members"]]
        if all(row[0] and row[2] for row in rows) or time.monotonic() > deadline:
            return rows
        time.sleep(0.1)


def _snapshot_from(source: ServerProcess, path) -> None:
    out = etcdctl(source.endpoint, "snapshot", "save", str(path))
    assert f"Snapshot saved at {path}" in out.stdout


def test_kplane_snapshot_restores_into_a_real_etcd(tmp_path):
    source = start_server("kplane", tmp_path / "source")
    try:
        facts = asyncio.run(_workload(source.endpoint))
        before = _observe(source.endpoint, facts["compact_at"])
        snap = tmp_path / "kplane.db"
        _snapshot_from(source, snap)
        ours = tmp_path / "ours.db"
        assert kplane_kv("--endpoints", source.endpoint, "snapshot", "save", str(ours)).returncode == 0
    finally:
        source.stop()
    assert before["compacted"] == \
        "Error: etcdserver: mvcc: required revision has been compacted"
    assert sorted(before["leases"]) == facts["leases"]

    status = etcdutl("snapshot", "status", str(snap), "-w", "json")
    assert status.returncode == 0, status.stderr
    theirs = json.loads(status.stdout)
    assert theirs["revision"] == before["revision"]
    # the offline status of kplane's CLI is etcdutl's, number for number
    assert json.loads(kplane_kv("snapshot", "status", str(snap), "-w", "json").stdout) == theirs
    assert json.loads(etcdutl("snapshot", "status", str(ours), "-w", "json").stdout)["revision"] \
        == before["revision"]

    target = ServerProcess("etcd", tmp_path / "target" / "etcd-data")
    (tmp_path / "target").mkdir()
    restore = etcdutl("snapshot", "restore", str(snap), "--data-dir", str(target.data_dir),
                      "--name", target.name, "--initial-cluster",
                      f"{target.name}={target.peer_url}", "--initial-advertise-peer-urls",
                      target.peer_url)
    assert restore.returncode == 0, restore.stderr
    target.start()
    try:
        assert _observe(target.endpoint, facts["compact_at"]) == before
        assert _member_list(target) == [(target.name, [target.peer_url], [target.client_url])]
        etcdctl(target.endpoint, "put", "/written-after", "1")
        assert json.loads(etcdctl(target.endpoint, "get", "/written-after", "-w", "json").stdout
                          )["kvs"][0]["mod_revision"] == before["revision"] + 1
    finally:
        target.stop()


def test_real_etcd_snapshot_restores_into_kplane(tmp_path):
    source = start_server("etcd", tmp_path / "source")
    try:
        facts = asyncio.run(_workload(source.endpoint))
        before = _observe(source.endpoint, facts["compact_at"])
        snap = tmp_path / "etcd.db"
        _snapshot_from(source, snap)
    finally:
        source.stop()

    theirs = json.loads(etcdutl("snapshot", "status", str(snap), "-w", "json").stdout)
    ours = kplane_kv("snapshot", "status", str(snap), "-w", "json")
    assert ours.returncode == 0, ours.stderr
    assert json.loads(ours.stdout) == theirs

    target = ServerProcess("kplane", tmp_path / "target" / "kplane-data")
    (tmp_path / "target").mkdir()
    restored = kplane_kv("snapshot", "restore", str(snap), "--data-dir", str(target.data_dir),
                         "--name", target.name, "--initial-advertise-peer-urls", target.peer_url)
    assert restored.returncode == 0, restored.stderr
    target.start()
    try:
        assert _observe(target.endpoint, facts["compact_at"]) == before
        assert _member_list(target) == [(target.name, [target.peer_url], [target.client_url])]
        etcdctl(target.endpoint, "put", "/written-after", "1")
        assert json.loads(etcdctl(target.endpoint, "get", "/written-after", "-w", "json").stdout
                          )["kvs"][0]["mod_revision"] == before["revision"] + 1
        # and kplane's own snapshot of the restored store is again one etcdutl reads
        again = tmp_path / "again.db"
        _snapshot_from(target, again)
        assert json.loads(etcdutl("snapshot", "status", str(again), "-w", "json").stdout
                          )["revision"] == before["revision"] + 1
    finally:
        target.stop()


def test_a_damaged_etcd_snapshot_is_refused_cleanly(tmp_path):
    snap = tmp_path / "cut.db"
    source = start_server("kplane", tmp_path / "source")
    try:
        etcdctl(source.endpoint, "put", "k", "v")
        _snapshot_from(source, snap)
    finally:
        source.stop()
    data = snap.read_bytes()
    snap.write_bytes(data[:4096] + b"\xff" * 64 + data[4096 + 64:])   # the digest no longer fits
    out = kplane_kv("snapshot", "restore", str(snap), "--data-dir", str(tmp_path / "r"))
    assert out.returncode != 0
    assert out.stderr.startswith("Error: snapshot: sha256 mismatch") and "Traceback" not in out.stderr
    assert "expected sha256" in etcdutl("snapshot", "restore", str(snap), "--data-dir",
                                        str(tmp_path / "r2")).stderr


@pytest.mark.parametrize("kind", SERVER_KINDS)
def test_alarm_for_member_zero_is_kept_under_zero(tmp_path, kind):
    """etcd stores an alarm under the member id it is given, 0 included, and DEACTIVATE with
    0 clears exactly that one; the same body runs against etcd and kplane."""
    srv = start_server(kind, tmp_path)

    async def body() -> None:
        kv = RemoteKV([srv.endpoint])
        try:
            own = (await kv.status()).member_id

            async def alarms(action=pb.AlarmRequest.GET, member=0):
                resp = await kv.alarms(action, pb.NOSPACE if action else pb.NONE, member)
                return sorted((a.memberID, a.alarm) for a in resp.alarms)

            assert await alarms() == []
            assert await alarms(pb.AlarmRequest.ACTIVATE, 0) == [(0, pb.NOSPACE)]
            assert await alarms() == [(0, pb.NOSPACE)]
            assert await alarms(pb.AlarmRequest.ACTIVATE, own) == [(own, pb.NOSPACE)]
            assert await alarms() == sorted([(0, pb.NOSPACE), (own, pb.NOSPACE)])
            assert await alarms(pb.AlarmRequest.DEACTIVATE, 0) == [(0, pb.NOSPACE)]
            assert await alarms() == [(own, pb.NOSPACE)]
            assert await alarms(pb.AlarmRequest.DEACTIVATE, own) == [(own, pb.NOSPACE)]
            assert await alarms() == []
        finally:
            await kv.close()

    try:
        asyncio.run(body())
    finally:
        srv.stop()


def test_etcds_own_backend_file_restores_with_skip_hash_check(tmp_path):
    """member/snap/db of a stopped etcd: bbolt as etcd left it on disk (no digest, pages it
    freed), accepted only with --skip-hash-check, as etcdutl does."""
    source = start_server("etcd", tmp_path / "source")
    try:
        facts = asyncio.run(_workload(source.endpoint))
        before = _observe(source.endpoint, facts["compact_at"])
    finally:
        source.stop()
    db = source.data_dir / "member" / "snap" / "db"
    target = ServerProcess("kplane", tmp_path / "target" / "kplane-data")
    (tmp_path / "target").mkdir()
    refused = kplane_kv("snapshot", "restore", str(db), "--data-dir", str(target.data_dir))
    assert refused.returncode != 0
    assert refused.stderr.startswith("Error: snapshot missing hash but --skip-hash-check=false")
    assert "snapshot missing hash but --skip-hash-check=false" in etcdutl(
        "snapshot", "restore", str(db), "--data-dir", str(tmp_path / "etcdutl-out")).stderr
    restored = kplane_kv("snapshot", "restore", str(db), "--data-dir", str(target.data_dir),
                         "--skip-hash-check", "--initial-advertise-peer-urls", target.peer_url)
    assert restored.returncode == 0, restored.stderr
    target.start()
    try:
        assert _observe(target.endpoint, facts["compact_at"]) == before
    finally:
        target.stop()


@pytest.mark.parametrize("write_out", ["simple", "table", "json"])
def test_snapshot_status_prints_what_etcdutl_prints(write_out):
    fixture = ROOT / "tests" / "store" / "data" / "etcd-3.5.1-snapshot.db"
    theirs = etcdutl("snapshot", "status", str(fixture), "-w", write_out)
    ours = kplane_kv("snapshot", "status", str(fixture), "-w", write_out)
    assert theirs.returncode == ours.returncode == 0, ours.stderr
    assert ours.stdout == theirs.stdout


def test_a_snapshot_taken_under_writes_is_one_instant(tmp_path):
    """Writers keep going while etcdctl streams the snapshot: the file holds every write up to
    its revision and none after (each put is one key, one revision)."""
    source = start_server("kplane", tmp_path / "source")
    snap = tmp_path / "busy.db"

    async def writers_while_saving() -> int:
        kv = RemoteKV([source.endpoint])
        stop = asyncio.Event()

        async def writer(n: int) -> None:
            i = 0
            while not stop.is_set():
                await kv.put(b"/busy/%d/%06d" % (n, i), b"x" * 200)
                i += 1

        try:
            base = await kv.put(b"/busy-start", b"")
            tasks = [asyncio.create_task(writer(n)) for n in range(4)]
            await asyncio.sleep(0.3)
            await asyncio.to_thread(_snapshot_from, source, snap)
            stop.set()
            await asyncio.gather(*tasks)
            return base
        finally:
            await kv.close()

    try:
        base = asyncio.run(writers_while_saving())
    finally:
        source.stop()
    status = json.loads(kplane_kv("snapshot", "status", str(snap), "-w", "json").stdout)
    restored = kplane_kv("snapshot", "restore", str(snap), "--data-dir",
                         str(tmp_path / "target" / "kplane-data"))
    assert restored.returncode == 0, restored.stderr
    target = start_server("kplane", tmp_path / "target")
    try:
        got = json.loads(etcdctl(target.endpoint, "get", "/busy/", "--prefix", "--keys-only",
                                 "-w", "json").stdout)
        revision = got["header"]["revision"]
        assert revision == status["revision"] > base + 10
        mods = sorted(kv["mod_revision"] for kv in got["kvs"])
        assert mods == list(range(base + 1, revision + 1))  # no gap, nothing after
    finally:
        target.stop()
