"""Fixtures: one test body, two servers (real etcd 3.5.1 and `kplane store`).

`server` is session-scoped and parametrized, so each scenario test runs once per server; tests
isolate themselves with a per-test key prefix (`prefix`) instead of a fresh server each time.
Tests that restart or reconfigure a server start their own with `start_server`.
"""
from __future__ import annotations

import re

import pytest

from pykube_plane.store.remote import RemoteKV

from .servers import ServerProcess, start_server

SERVER_KINDS = ["etcd", "kplane"]


@pytest.fixture(scope="session", params=SERVER_KINDS)
def server(request, tmp_path_factory) -> ServerProcess:
    srv = start_server(request.param, tmp_path_factory.mktemp(f"{request.param}-shared"))
    yield srv
    srv.stop()


@pytest.fixture(scope="session")
def etcd(tmp_path_factory) -> ServerProcess:
    """Real etcd alone (for comparing kplane's output against etcd's)."""
    srv = start_server("etcd", tmp_path_factory.mktemp("etcd-reference"))
    yield srv
    srv.stop()


@pytest.fixture
def prefix(request) -> bytes:
    """A key prefix no other test uses."""
    name = re.sub(r"[^A-Za-z0-9_.-]", "_", request.node.name)
    return f"/test/{name}/".encode()


@pytest.fixture
async def client(server):
    kv = RemoteKV([server.endpoint])
    yield kv
    await kv.close()
