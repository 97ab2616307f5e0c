"""Every verb, subresource and error type, through both clients with one test body each."""
from __future__ import annotations

import asyncio

import pytest

from pykube_plane.client import (
    AlreadyExists, ApiError, BadRequest, Conflict, Forbidden, Gone, Invalid, NotFound, Unauthorized,
)


def configmap(name: str, **data: str) -> dict:
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name, "labels": {"app": "demo"}},
            "data": dict(data)}


def pod(name: str) -> dict:
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"app": "web"}},
            "spec": {"containers": [{"name": "c", "image": "nginx"}]}}


def deployment(name: str, replicas: int = 1) -> dict:
    labels = {"app": name}
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": labels},
                     "template": {"metadata": {"labels": labels},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


async def test_create_get_update_patch_delete(cluster):
    client = cluster.client
    ns = cluster.namespace
    created = await client.create(configmap("one", a="1"))
    assert created["metadata"]["namespace"] == ns            # the client's default namespace
    assert created["metadata"]["uid"] and created["metadata"]["resourceVersion"]
    got = await client.get("configmaps", "one")
    assert got["data"] == {"a": "1"} and got["metadata"]["resourceVersion"] == created["metadata"]["resourceVersion"]
    assert (await client.get("cm", "one", namespace=ns))["metadata"]["uid"] == created["metadata"]["uid"]

    got["data"]["b"] = "2"
    updated = await client.update(got)
    assert updated["data"] == {"a": "1", "b": "2"}
    assert int(updated["metadata"]["resourceVersion"]) > int(got["metadata"]["resourceVersion"])

    merged = await client.patch("configmaps", "one", {"data": {"c": "3", "a": None}})
    assert merged["data"] == {"b": "2", "c": "3"}
    jsoned = await client.patch("configmaps", "one", [{"op": "add", "path": "/data/d", "value": "4"}],
                                patch_type="json")
    assert jsoned["data"]["d"] == "4"
    strategic = await client.patch("ConfigMap", "one", {"metadata": {"labels": {"tier": "x"}}},
                                   patch_type="strategic")
    assert strategic["metadata"]["labels"] == {"app": "demo", "tier": "x"}

    listed = await client.list("configmaps", namespace=ns, label_selector="app=demo")
    assert listed["kind"] == "ConfigMapList" and [o["metadata"]["name"] for o in listed["items"]] == ["one"]
    await client.delete("configmaps", "one")
    with pytest.raises(NotFound) as caught:
        await client.get("configmaps", "one")
    assert caught.value.code == 404 and caught.value.reason == "NotFound"
    assert caught.value.status["kind"] == "Status" and 'configmaps "one" not found' in caught.value.message


async def test_dicts_handed_over_stay_the_callers(cluster):
    body = configmap("mine", a="1")
    created = await cluster.client.create(body)
    assert "uid" not in body["metadata"] and body == configmap("mine", a="1")   # the body was not changed
    created["metadata"]["labels"]["app"] = "changed-by-caller"                 # nor is the server's state
    listed = await cluster.client.list("configmaps", namespace=cluster.namespace, label_selector="app=demo")
    assert [o["metadata"]["name"] for o in listed["items"]] == ["mine"]


async def test_typed_errors_carry_the_status(cluster):
    client = cluster.client
    await client.create(configmap("dup"))
    with pytest.raises(AlreadyExists) as exists:
        await client.create(configmap("dup"))
    assert exists.value.code == 409 and exists.value.details["name"] == "dup"

    stale = await client.get("configmaps", "dup")
    await client.patch("configmaps", "dup", {"data": {"x": "1"}})
    with pytest.raises(Conflict) as conflict:
        await client.update(stale)
    assert conflict.value.code == 409 and "the object has been modified" in conflict.value.message

    with pytest.raises(Invalid) as invalid:
        await client.create(configmap("Not_A_Valid_Name"))
    assert invalid.value.code == 422
    assert any(c.get("field") == "metadata.name" for c in invalid.value.causes)

    with pytest.raises(BadRequest):
        await client.create({"metadata": {"name": "no-kind"}})              # nothing names the resource
    with pytest.raises(NotFound, match="doesn't have a resource type"):
        await client.get("flumps", "x")

    bob = cluster.client_for("bob-token")
    with pytest.raises(Forbidden) as forbidden:
        await bob.get("configmaps", "dup")
    assert forbidden.value.code == 403 and 'User "bob" cannot get resource "configmaps"' in forbidden.value.message
    with pytest.raises(Unauthorized):
        await cluster.client_for("no-such-token").list("configmaps")
    assert isinstance(forbidden.value, ApiError)


async def test_list_pages_and_list_all(cluster):
    client = cluster.client
    await asyncio.gather(*(client.create(configmap(f"cm-{i:03d}")) for i in range(23)))
    page = await client.list("configmaps", namespace=cluster.namespace, limit=10)
    assert len(page["items"]) == 10 and page["metadata"]["continue"]
    everything = await client.list_all("configmaps", namespace=cluster.namespace, page_size=7)
    names = [o["metadata"]["name"] for o in everything["items"]]
    assert names == sorted(f"cm-{i:03d}" for i in range(23))
    assert "continue" not in everything["metadata"] and everything["metadata"]["resourceVersion"]


async def test_delete_collection_and_delete_options(cluster):
    client = cluster.client
    for i in range(4):
        await client.create(configmap(f"gone-{i}"))
    await client.create({**configmap("kept"), "metadata": {"name": "kept", "labels": {"app": "other"}}})
    dry = await client.delete("configmaps", "gone-0", dry_run=True)
    assert dry["metadata"]["name"] == "gone-0"
    await client.get("configmaps", "gone-0")                                 # still there
    current = await client.get("configmaps", "gone-0")
    with pytest.raises(Conflict):
        await client.delete("configmaps", "gone-0", preconditions={"uid": "not-" + current["metadata"]["uid"]})
    await client.delete_collection("configmaps", label_selector="app=demo")
    left = await client.list("configmaps", namespace=cluster.namespace)
    assert [o["metadata"]["name"] for o in left["items"]] == ["kept"]


async def test_pod_status_binding_and_eviction(cluster):
    client = cluster.client
    created = await client.create(pod("p"))
    created["status"] = {"phase": "Running", "podIP": "10.0.0.9"}
    created["spec"]["nodeName"] = "ignored-by-status"
    updated = await client.update_status(created)
    assert updated["status"]["phase"] == "Running" and not updated["spec"].get("nodeName")
    await client.bind("p", "node-1")
    bound = await client.get("pods", "p")
    assert bound["spec"]["nodeName"] == "node-1"
    assert any(c["type"] == "PodScheduled" and c["status"] == "True" for c in bound["status"]["conditions"])
    with pytest.raises(Conflict, match="already assigned"):
        await client.bind("p", "node-2")
    await client.evict("p", grace_period_seconds=0)
    with pytest.raises(NotFound):
        await client.get("pods", "p")


async def test_scale_subresource(cluster):
    client = cluster.client
    await client.create(deployment("web", replicas=2))
    scale = await client.get_scale("deployments", "web")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2
    scaled = await client.scale("deployments.apps", "web", 5)
    assert scaled["spec"]["replicas"] == 5
    assert (await client.get("deployments", "web"))["spec"]["replicas"] == 5


async def test_cluster_scoped_resources(cluster):
    client = cluster.client
    name = f"{cluster.namespace}-extra"
    ns = await client.ensure_namespace(name)
    assert ns["metadata"]["name"] == name and "namespace" not in ns["metadata"]
    again = await client.ensure_namespace(name)
    assert again["metadata"]["uid"] == ns["metadata"]["uid"]
    names = {o["metadata"]["name"] for o in (await client.list("namespaces"))["items"]}
    assert {name, cluster.namespace, "default"} <= names


async def test_watch_streams_changes_in_order_and_resumes(cluster):
    client = cluster.client
    ns = cluster.namespace
    await client.create(configmap("before"))
    seen: list[tuple[str, str, str]] = []
    async with client.watch("configmaps", namespace=ns) as events:
        writer = asyncio.ensure_future(_writes(client))
        async for event_type, obj in events:
            seen.append((event_type, obj["metadata"]["name"], obj["metadata"]["resourceVersion"]))
            if (event_type, obj["metadata"]["name"]) == ("DELETED", "w"):
                break
        last_rv = events.resource_version
        await writer
    assert [(t, n) for t, n, _ in seen] == [("ADDED", "before"), ("ADDED", "w"), ("MODIFIED", "w"),
                                            ("MODIFIED", "w"), ("DELETED", "w")]
    rvs = [int(rv) for _, _, rv in seen]
    assert rvs[1:] == sorted(rvs[1:]) and len(set(rvs)) == len(rvs)
    # A new watch from the last resourceVersion sees only what came after it.
    await client.patch("configmaps", "before", {"data": {"late": "1"}})
    async with client.watch("configmaps", namespace=ns, resource_version=last_rv) as events:
        event_type, obj = await asyncio.wait_for(events.__anext__(), 30)
    assert (event_type, obj["metadata"]["name"], obj["data"]) == ("MODIFIED", "before", {"late": "1"})


async def _writes(client) -> None:
    await client.create(configmap("w"))
    await client.patch("configmaps", "w", {"data": {"k": "1"}})
    await client.patch("configmaps", "w", {"data": {"k": "2"}})
    await client.delete("configmaps", "w")


async def test_watch_of_one_object_and_forbidden_watch(cluster):
    client = cluster.client
    await client.create(configmap("a"))
    await client.create(configmap("b"))
    async with client.watch("configmaps", namespace=cluster.namespace, name="b") as events:
        await client.patch("configmaps", "a", {"data": {"x": "1"}})
        await client.patch("configmaps", "b", {"data": {"x": "1"}})
        first = await asyncio.wait_for(events.__anext__(), 30)
        second = await asyncio.wait_for(events.__anext__(), 30)
    assert [(e.type, e.object["metadata"]["name"]) for e in (first, second)] == [("ADDED", "b"), ("MODIFIED", "b")]
    with pytest.raises(Forbidden):
        async with cluster.client_for("bob-token").watch("configmaps", namespace=cluster.namespace) as events:
            await events.__anext__()


async def test_watch_from_a_resource_version_out_of_the_window_is_gone(small_window_cluster):
    client = small_window_cluster.client
    first = await client.create(configmap("old"))
    for i in range(40):                       # more changes than the server keeps for resuming
        await client.patch("configmaps", "old", {"data": {"i": str(i)}})
    with pytest.raises(Gone) as gone:
        async with client.watch("configmaps", namespace=small_window_cluster.namespace,
                                resource_version=first["metadata"]["resourceVersion"]) as events:
            await events.__anext__()
    assert gone.value.code == 410 and gone.value.reason == "Expired"


async def test_admission_applies_to_both_clients(cluster):
    client = cluster.client
    with pytest.raises(NotFound, match='namespaces "nowhere-at-all" not found'):
        await client.create(configmap("x"), namespace="nowhere-at-all")        # NamespaceLifecycle
    doomed = f"{cluster.namespace}-doomed"
    await client.ensure_namespace(doomed)
    await client.create(pod("keeps-it-terminating"), namespace=doomed)
    await client.delete("namespaces", doomed)
    with pytest.raises(Forbidden, match="being terminated"):
        await client.create(configmap("late"), namespace=doomed)
