"""Bookmarks move a watch's resourceVersion on while nothing it watches changes, so a resume
after a quiet spell starts from a recent revision instead of one the server may have dropped.
Both clients, on an in-process API server that sends bookmarks twice a second (its HTTP face
for the REST client)."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane.client import BOOKMARK, Client, InProcessClient


@pytest.fixture(params=["http", "inprocess"])
async def client(request, tmp_path):
    from pykube_plane.apiserver.server import APIServer
    from pykube_plane.store.store import Store
    store = await Store.open(tmp_path / "store", fsync=False)
    server = APIServer(store, port=0, bookmark_interval=0.5)
    await server.start()
    c = Client(server.url) if request.param == "http" else InProcessClient(server)
    try:
        yield c
    finally:
        await c.close()
        await server.stop()
        await store.close()


def configmap(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}}


async def test_bookmarks_advance_a_quiet_watch(client):
    await client.ensure_namespace("quiet")
    await client.ensure_namespace("busy")
    await client.create(configmap("only"), namespace="quiet")
    async with client.watch("configmaps", namespace="quiet", bookmarks=True) as events:
        first = await asyncio.wait_for(events.__anext__(), 30)
        assert (first.type, first.object["metadata"]["name"]) == ("ADDED", "only")
        for i in range(5):                                  # changes elsewhere move the revision on
            latest = await client.create(configmap(f"b-{i}"), namespace="busy")
        while True:
            event = await asyncio.wait_for(events.__anext__(), 30)
            assert event.type == BOOKMARK, event            # nothing in "quiet" changed
            if int(event.object["metadata"]["resourceVersion"]) >= int(latest["metadata"]["resourceVersion"]):
                break
        assert events.resource_version == event.object["metadata"]["resourceVersion"]
        assert event.object["kind"] == "ConfigMap" and set(event.object["metadata"]) == {"resourceVersion"}
    resumed_from = events.resource_version
    await client.patch("configmaps", "only", {"data": {"k": "v"}}, namespace="quiet")
    async with client.watch("configmaps", namespace="quiet", resource_version=resumed_from) as events:
        event = await asyncio.wait_for(events.__anext__(), 30)
    assert (event.type, event.object["data"]) == ("MODIFIED", {"k": "v"})
