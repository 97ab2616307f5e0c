"""The watch cache on a real Store: resume from a resourceVersion, 410 past the ring buffer,
selector transitions, the node index, bounded per-watcher queues, one encoding per event,
bookmarks and the watch-list initial events."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane.api.watchevents import ADDED, BOOKMARK, DELETED, MODIFIED
from pykube_plane.apiserver.registry.options import DeleteOptions, ListOptions, WriteOptions
from pykube_plane.apiserver.server import APIServer
from pykube_plane.apiserver.status import APIError


@pytest.fixture
async def server(store):
    s = APIServer(store, port=0, watch_capacity=16, watcher_queue=8, bookmark_interval=3600)
    await s.start()
    yield s
    await s.stop()


def res(server, plural, group=""):
    return server.registry.table.lookup(group, "v1", plural)


async def create(server, plural, body, ns="default"):
    return await server.registry.create(res(server, plural), ns, body, WriteOptions())


async def next_items(watcher, n, timeout=10.0):
    """The next n items (type, name) from a watcher; a generous deadline only guards against a hang."""
    out = []
    while len(out) < n:
        batch = await asyncio.wait_for(watcher.next_batch(), timeout)
        if not batch:
            break
        for kind, obj, _ in batch:
            out.append((kind, obj if kind == BOOKMARK else obj.name))
    return out


def cm(name, labels=None, data=None):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": labels or {}},
            "data": data or {}}


async def test_resume_and_too_old(server):
    registry = server.registry
    cms = res(server, "configmaps")
    start = (await registry.list(cms, "default", ListOptions())).resource_version
    for i in range(3):
        await create(server, "configmaps", cm(f"c{i}"))
    w = await registry.watch(cms, "default", ListOptions(resource_version=str(start)))
    assert await next_items(w, 3) == [(ADDED, "c0"), (ADDED, "c1"), (ADDED, "c2")]
    w.close()
    for i in range(20):     # more changes than the 16 the cache keeps
        await registry.patch(cms, "default", "c0", "application/merge-patch+json", {"data": {"i": str(i)}},
                             WriteOptions())
    with pytest.raises(APIError) as e:
        await registry.watch(cms, "default", ListOptions(resource_version=str(start)))
    assert e.value.code == 410 and e.value.reason == "Expired"
    assert e.value.message.startswith(f"too old resource version: {start} (")


async def test_watch_from_now_gets_state_then_changes(server):
    cms = res(server, "configmaps")
    await create(server, "configmaps", cm("old"))
    w = await server.registry.watch(cms, "default", ListOptions(resource_version=""))
    await create(server, "configmaps", cm("new"))
    await server.registry.delete(cms, "default", "old", DeleteOptions())
    assert await next_items(w, 3) == [(ADDED, "old"), (ADDED, "new"), (DELETED, "old")]


async def test_label_selector_transitions(server):
    registry = server.registry
    cms = res(server, "configmaps")
    w = await registry.watch(cms, "default", ListOptions(resource_version="0", label_selector="team=a"))
    await create(server, "configmaps", cm("x", {"team": "b"}))
    await registry.patch(cms, "default", "x", "application/merge-patch+json",
                         {"metadata": {"labels": {"team": "a"}}}, WriteOptions())
    await registry.patch(cms, "default", "x", "application/merge-patch+json", {"data": {"k": "v"}}, WriteOptions())
    await registry.patch(cms, "default", "x", "application/merge-patch+json",
                         {"metadata": {"labels": {"team": "c"}}}, WriteOptions())
    items = await next_items(w, 3)
    assert items == [(ADDED, "x"), (MODIFIED, "x"), (DELETED, "x")]


async def test_node_index_for_pods(server):
    registry = server.registry
    pods = res(server, "pods")

    def pod(name, node=None):
        spec = {"containers": [{"name": "c", "image": "busybox"}]}
        if node:
            spec["nodeName"] = node
        return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name}, "spec": spec}

    await create(server, "pods", pod("on-n1", "n1"))
    await create(server, "pods", pod("on-n2", "n2"))
    await create(server, "pods", pod("pending"))
    w = await registry.watch(pods, "", ListOptions(resource_version="0", field_selector="spec.nodeName=n1"))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "pending"}, "target": {"name": "n1"}}
    from pykube_plane.apiserver.handlers import APIRequest
    await server.handlers.handle(APIRequest("create", pods, "default", "pending", "binding", {}, binding))
    assert await next_items(w, 2) == [(ADDED, "on-n1"), (ADDED, "pending")]
    cache = registry.cache(pods)
    assert set(cache.by_node) == {"n1", "n2"}
    assert cache._node_watchers and not cache._all_watchers
    listed = await registry.list(pods, "", ListOptions(field_selector="spec.nodeName=n2"))
    assert [co.name for co in listed.items] == ["on-n2"]


async def test_slow_watcher_is_cut_and_others_go_on(server):
    registry = server.registry
    cms = res(server, "configmaps")
    slow = await registry.watch(cms, "default", ListOptions(resource_version="0"))
    fast = await registry.watch(cms, "default", ListOptions(resource_version="0"))
    received = []

    async def consume():
        while len(received) < 20:
            batch = await fast.next_batch()
            if not batch:
                return
            received.extend(batch)

    consumer = asyncio.get_running_loop().create_task(consume())
    for i in range(20):
        await create(server, "configmaps", cm(f"s{i}"))
    await asyncio.wait_for(consumer, 10)
    assert [obj.name for _, obj, _ in received] == [f"s{i}" for i in range(20)]
    assert slow.closed and slow.close_reason.startswith("slow watcher")
    assert await slow.next_batch() == []
    assert not fast.closed


async def test_one_encoding_per_event_shared_by_watchers(server):
    registry = server.registry
    cms = res(server, "configmaps")
    watchers = [await registry.watch(cms, "default", ListOptions(resource_version="0")) for _ in range(3)]
    await create(server, "configmaps", cm("shared", data={"a": "1"}))
    batches = [await asyncio.wait_for(w.next_batch(), 10) for w in watchers]
    objects = [b[0][1] for b in batches]
    assert objects[0] is objects[1] is objects[2]
    assert objects[0].data is objects[1].data     # the JSON bytes, encoded once
    listed = await registry.list(cms, "default", ListOptions(resource_version="0"))
    assert listed.items[0].data is objects[0].data


async def test_bookmarks_and_initial_events(server):
    registry = server.registry
    cms = res(server, "configmaps")
    await create(server, "configmaps", cm("one"))
    w = await registry.watch(cms, "default", ListOptions(send_initial_events=True, allow_bookmarks=True,
                                                         resource_version_match="NotOlderThan", watch=True))
    batch = await asyncio.wait_for(w.next_batch(), 10)
    assert [(t, o.name if t != BOOKMARK else o) for t, o, _ in batch[:1]] == [(ADDED, "one")]
    kind, rv, annotation = batch[1]
    assert kind == BOOKMARK and annotation == "k8s.io/initial-events-end" and rv >= 1
    await create(server, "configmaps", cm("two"))
    assert await next_items(w, 1) == [(ADDED, "two")]
    cache = registry.cache(cms)
    await create(server, "pods", {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "elsewhere"},
                                  "spec": {"containers": [{"name": "c", "image": "x"}]}})
    cache.request_progress()
    store_rv = await registry.storage.current_revision()
    assert await cache.wait_until(store_rv, 10)
    cache.send_bookmarks()
    items = await next_items(w, 1)
    assert items[0][0] == BOOKMARK and items[0][1] == store_rv
