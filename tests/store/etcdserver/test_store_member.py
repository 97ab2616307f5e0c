"""`kplane store` as a process: flags checked like etcd's, auto compaction, alarms in /health."""
from __future__ import annotations

import asyncio
import subprocess
import sys

import aiohttp
import pytest

from pykube_plane.store.etcdpb import rpc_pb2 as pb
from pykube_plane.store.kv import CompactedError, NoSpaceError
from pykube_plane.store.member import ConfigError, parse_initial_cluster, parse_retention
from pykube_plane.store.remote import RemoteKV
from tests.conftest import ROOT

from .servers import start_server


def kplane_store(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "pykube_plane.cli.main", "store", *args],
                          capture_output=True, text=True, cwd=ROOT, timeout=60)


@pytest.mark.parametrize("args, message", [
    (["--initial-cluster", "a=http://127.0.0.1:1", "--name", "a", "--initial-cluster-state",
      "existing", "--initial-advertise-peer-urls", "http://127.0.0.1:1"],
     "must also name members of the cluster to join"),
    (["--heartbeat-interval", "100", "--election-timeout", "200"],
     "should be at least as 5 times as --heartbeat-interval"),
    (["--name", "x", "--initial-cluster", "y=http://127.0.0.1:1"], "couldn't find local name 'x'"),
    (["--listen-client-urls", "127.0.0.1:2379"], "must be http(s)://host:port"),
    (["--auto-compaction-retention", "soon"], "expected hours or a duration"),
])
def test_bad_flags_are_refused_with_one_line(tmp_path, args, message):
    out = kplane_store("--data-dir", str(tmp_path / "d"), *args)
    assert out.returncode == 1
    assert out.stderr.startswith("Error: ") and message in out.stderr
    assert "Traceback" not in out.stderr


def test_flag_parsers():
    assert parse_retention("1", "periodic") == 3600.0
    assert parse_retention("1h30m", "periodic") == 5400.0
    assert parse_retention("500ms", "periodic") == 0.5
    assert parse_retention("1000", "revision") == 1000
    with pytest.raises(ConfigError):
        parse_retention("1h", "revision")
    assert parse_initial_cluster("a=http://h:1,a=http://h:2") == {"a": ["http://h:1", "http://h:2"]}


async def test_periodic_auto_compaction(tmp_path):
    srv = await asyncio.to_thread(start_server, "kplane", tmp_path, "--auto-compaction-retention", "1s")
    kv = RemoteKV([srv.endpoint])
    try:
        first = await kv.put(b"/ac/k", b"1")
        await kv.put(b"/ac/k", b"2")
        for _ in range(200):  # compaction is eventual: poll, bounded
            try:
                await kv.range(b"/ac/k", revision=first)
            except CompactedError:
                break
            await asyncio.sleep(0.1)
            await kv.put(b"/ac/tick", b"")
        with pytest.raises(CompactedError):
            await kv.range(b"/ac/k", revision=first)
        assert (await kv.range(b"/ac/k")).kvs[0].value == b"2"
    finally:
        await kv.close()
        await asyncio.to_thread(srv.stop)


async def test_nospace_alarm_shows_in_health_and_survives_restart(tmp_path):
    srv = await asyncio.to_thread(start_server, "kplane", tmp_path, "--quota-backend-bytes", "100000")
    kv = RemoteKV([srv.endpoint], retry_budget=30)
    try:
        with pytest.raises(NoSpaceError):
            for i in range(200):
                await kv.put(b"/full/%d" % i, b"x" * 4096)
        async with aiohttp.ClientSession() as http:
            async with http.get(srv.metrics_url + "/health") as resp:
                assert resp.status == 503
                assert await resp.json(content_type=None) == {"health": "false", "reason": "ALARM NOSPACE"}
        await asyncio.to_thread(srv.restart)
        assert [a.alarm for a in (await kv.alarms()).alarms] == [pb.NOSPACE]
        with pytest.raises(NoSpaceError):
            await kv.put(b"/full/after-restart", b"x")
    finally:
        await kv.close()
        await asyncio.to_thread(srv.stop)
