"""Registry semantics through the handlers (the in-process path: no HTTP, no JSON), on a real Store:
optimistic concurrency, generation, status split, graceful deletion, finalizers, dry run, field
validation, allocation of Service IPs, bindings, evictions, priority, namespace lifecycle."""
from __future__ import annotations

import pytest

from pykube_plane.apiserver.handlers import APIRequest
from pykube_plane.apiserver.status import APIError


async def call(server, verb, plural, ns="", name="", body=None, *, group="", sub="", query=None, ctype=""):
    resource = server.registry.table.lookup(group, "v1", plural)
    assert resource is not None, plural
    return await server.handlers.handle(APIRequest(verb, resource, ns, name, sub, query or {}, body, ctype))


async def fails(code, coro) -> APIError:
    with pytest.raises(APIError) as e:
        await coro
    assert e.value.code == code, e.value.status
    return e.value


def cm(name, **data):
    return {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": name}, "data": data}


def deployment(name, replicas=1):
    return {"apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name},
            "spec": {"replicas": replicas, "selector": {"matchLabels": {"app": name}},
                     "template": {"metadata": {"labels": {"app": name}},
                                  "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}}


def pod(name, node=None, **spec):
    body = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name},
            "spec": {"containers": [{"name": "c", "image": "busybox"}], **spec}}
    if node:
        body["spec"]["nodeName"] = node
    return body


async def test_create_get_and_conflicts(api_server):
    code, created = await call(api_server, "create", "configmaps", "default", body=cm("a", x="1"))
    assert code == 201
    meta = created["metadata"]
    assert meta["uid"] and meta["creationTimestamp"].endswith("Z") and int(meta["resourceVersion"]) > 0
    _, got = await call(api_server, "get", "configmaps", "default", "a")
    assert got == created
    err = await fails(409, call(api_server, "create", "configmaps", "default", body=cm("a")))
    assert err.reason == "AlreadyExists" and err.message == 'configmaps "a" already exists'

    stale = dict(created, data={"x": "2"})
    _, updated = await call(api_server, "update", "configmaps", "default", "a", stale)
    assert updated["data"] == {"x": "2"}
    err = await fails(409, call(api_server, "update", "configmaps", "default", "a", stale))
    assert err.reason == "Conflict" and "the object has been modified" in err.message
    # without a resourceVersion an update is unconditional; an update that changes nothing writes nothing
    body = cm("a", x="3")
    _, third = await call(api_server, "update", "configmaps", "default", "a", body)
    _, same = await call(api_server, "update", "configmaps", "default", "a", cm("a", x="3"))
    assert same["metadata"]["resourceVersion"] == third["metadata"]["resourceVersion"]
    assert third["metadata"]["uid"] == meta["uid"] and third["metadata"]["creationTimestamp"] == meta["creationTimestamp"]

    await fails(404, call(api_server, "get", "configmaps", "default", "missing"))
    await fails(400, call(api_server, "update", "configmaps", "default", "a", cm("b")))


async def test_generate_name(api_server):
    names = set()
    for _ in range(5):
        _, obj = await call(api_server, "create", "configmaps", "default",
                            body={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"generateName": "gen-"}})
        names.add(obj["metadata"]["name"])
    assert len(names) == 5 and all(n.startswith("gen-") and len(n) == 9 for n in names)


async def test_generation_and_status_split(api_server):
    _, d = await call(api_server, "create", "deployments", "default", body=deployment("d"), group="apps")
    assert d["metadata"]["generation"] == 1 and d["status"] == {}
    d["metadata"]["labels"] = {"new": "label"}
    _, d = await call(api_server, "update", "deployments", "default", "d", d, group="apps")
    assert d["metadata"]["generation"] == 1                      # metadata only: no bump
    d["spec"]["replicas"] = 3
    d["status"] = {"replicas": 99}
    _, d = await call(api_server, "update", "deployments", "default", "d", d, group="apps")
    assert d["metadata"]["generation"] == 2 and d["status"] == {}   # status ignored on the main resource
    d["status"] = {"replicas": 3, "observedGeneration": 2}
    d["spec"]["replicas"] = 7
    _, d = await call(api_server, "update", "deployments", "default", "d", d, group="apps", sub="status")
    assert d["status"]["replicas"] == 3 and d["spec"]["replicas"] == 3   # spec ignored on /status
    assert d["metadata"]["generation"] == 2
    _, patched = await call(api_server, "patch", "deployments", "default", "d", {"status": {"readyReplicas": 1}},
                            group="apps", sub="status", ctype="application/merge-patch+json")
    assert patched["status"] == {"replicas": 3, "observedGeneration": 2, "readyReplicas": 1}


async def test_scale_subresource(api_server):
    await call(api_server, "create", "deployments", "default", body=deployment("s", 2), group="apps")
    _, scale = await call(api_server, "get", "deployments", "default", "s", group="apps", sub="scale")
    assert scale["kind"] == "Scale" and scale["spec"]["replicas"] == 2 and scale["status"]["selector"] == "app=s"
    _, scale = await call(api_server, "patch", "deployments", "default", "s", {"spec": {"replicas": 6}},
                          group="apps", sub="scale", ctype="application/merge-patch+json")
    assert scale["spec"]["replicas"] == 6
    err = await fails(422, call(api_server, "patch", "deployments", "default", "s", {"spec": {"replicas": -1}},
                                group="apps", sub="scale", ctype="application/merge-patch+json"))
    assert err.reason == "Invalid"
    _, d = await call(api_server, "get", "deployments", "default", "s", group="apps")
    assert d["spec"]["replicas"] == 6 and d["metadata"]["generation"] == 2


async def test_graceful_pod_deletion(api_server):
    await call(api_server, "create", "pods", "default", body=pod("bound", node="n1"))
    code, obj = await call(api_server, "delete", "pods", "default", "bound")
    assert code == 200 and obj["metadata"]["deletionGracePeriodSeconds"] == 30
    assert obj["metadata"]["deletionTimestamp"]
    _, still = await call(api_server, "get", "pods", "default", "bound")
    assert still["metadata"]["deletionTimestamp"] == obj["metadata"]["deletionTimestamp"]
    # deleting again with a longer grace period changes nothing; grace 0 (the kubelet's) deletes
    _, again = await call(api_server, "delete", "pods", "default", "bound", query={"gracePeriodSeconds": "60"})
    assert again["metadata"]["deletionGracePeriodSeconds"] == 30
    await call(api_server, "delete", "pods", "default", "bound", query={"gracePeriodSeconds": "0"})
    await fails(404, call(api_server, "get", "pods", "default", "bound"))
    # never scheduled: nothing to stop, deleted at once
    await call(api_server, "create", "pods", "default", body=pod("unbound"))
    code, gone = await call(api_server, "delete", "pods", "default", "unbound")
    assert code == 200 and gone["kind"] == "Pod"
    await fails(404, call(api_server, "get", "pods", "default", "unbound"))


async def test_finalizers_block_deletion(api_server):
    body = cm("held")
    body["metadata"]["finalizers"] = ["example.com/hold"]
    await call(api_server, "create", "configmaps", "default", body=body)
    code, obj = await call(api_server, "delete", "configmaps", "default", "held")
    assert code == 200 and obj["metadata"]["deletionTimestamp"] and obj["metadata"]["finalizers"] == ["example.com/hold"]
    _, obj = await call(api_server, "get", "configmaps", "default", "held")
    obj["metadata"]["finalizers"] = []
    await call(api_server, "update", "configmaps", "default", "held", obj)
    await fails(404, call(api_server, "get", "configmaps", "default", "held"))
    # propagation policies become the garbage collector's finalizers
    for policy, finalizer in (("Orphan", "orphan"), ("Foreground", "foregroundDeletion")):
        await call(api_server, "create", "deployments", "default", body=deployment(policy.lower()), group="apps")
        _, obj = await call(api_server, "delete", "deployments", "default", policy.lower(), group="apps",
                            body={"kind": "DeleteOptions", "apiVersion": "v1", "propagationPolicy": policy})
        assert obj["metadata"]["finalizers"] == [finalizer]
    await call(api_server, "create", "deployments", "default", body=deployment("bg"), group="apps")
    _, status = await call(api_server, "delete", "deployments", "default", "bg", group="apps",
                           query={"propagationPolicy": "Background"})
    assert status["status"] == "Success" and status["details"] == {
        "name": "bg", "group": "apps", "kind": "deployments", "uid": status["details"]["uid"]}


async def test_delete_preconditions(api_server):
    _, obj = await call(api_server, "create", "configmaps", "default", body=cm("pre"))
    err = await fails(409, call(api_server, "delete", "configmaps", "default", "pre",
                                body={"preconditions": {"uid": "not-the-uid"}}))
    assert "Precondition failed" in err.message
    await call(api_server, "delete", "configmaps", "default", "pre",
               body={"preconditions": {"uid": obj["metadata"]["uid"]}})
    await fails(404, call(api_server, "get", "configmaps", "default", "pre"))


async def test_dry_run(api_server):
    code, obj = await call(api_server, "create", "configmaps", "default", body=cm("dry"), query={"dryRun": "All"})
    assert code == 201 and obj["metadata"]["uid"] and "resourceVersion" not in obj["metadata"]
    await fails(404, call(api_server, "get", "configmaps", "default", "dry"))
    await call(api_server, "create", "configmaps", "default", body=cm("dry"))
    await call(api_server, "delete", "configmaps", "default", "dry", query={"dryRun": "All"})
    await call(api_server, "get", "configmaps", "default", "dry")
    await fails(400, call(api_server, "create", "configmaps", "default", body=cm("x"), query={"dryRun": "Some"}))


async def test_field_validation(api_server):
    body = cm("fv")
    body["spec"] = {"oops": 1}
    body["metadata"]["labelz"] = {}
    err = await fails(400, call(api_server, "create", "configmaps", "default", body=body,
                                query={"fieldValidation": "Strict"}))
    assert err.message == 'strict decoding error: unknown field "metadata.labelz", unknown field "spec"'
    request = APIRequest("create", api_server.registry.table.lookup("", "v1", "configmaps"), "default",
                         query={"fieldValidation": "Warn"}, body=dict(body, metadata={"name": "fv"}) | {"spec": 1})
    code, obj = await api_server.handlers.handle(request)
    assert code == 201 and request.warnings == ['unknown field "spec"'] and "spec" not in obj or obj.get("spec") == 1
    p = pod("fvpod")
    p["spec"]["containers"][0]["imagePullPolcy"] = "Always"
    err = await fails(400, call(api_server, "create", "pods", "default", body=p, query={"fieldValidation": "Strict"}))
    assert 'unknown field "spec.containers[0].imagePullPolcy"' in err.message
    p["metadata"]["name"] = "fvpod2"
    code, _ = await call(api_server, "create", "pods", "default", body=p, query={"fieldValidation": "Ignore"})
    assert code == 201


async def test_service_ip_allocation(api_server):
    def svc(name, **spec):
        return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": name},
                "spec": {"ports": [{"port": 80}], **spec}}

    _, kubernetes = await call(api_server, "get", "services", "default", "kubernetes")
    assert kubernetes["spec"]["clusterIP"] == "10.96.0.1"
    ips = set()
    for i in range(5):
        _, s = await call(api_server, "create", "services", "default", body=svc(f"s{i}"))
        assert s["spec"]["clusterIPs"] == [s["spec"]["clusterIP"]] and s["spec"]["ipFamilies"] == ["IPv4"]
        ips.add(s["spec"]["clusterIP"])
    assert len(ips) == 5 and "10.96.0.1" not in ips
    taken = sorted(ips)[0]
    err = await fails(422, call(api_server, "create", "services", "default", body=svc("dup", clusterIP=taken)))
    assert "provided IP is already allocated" in err.message
    err = await fails(422, call(api_server, "create", "services", "default", body=svc("out", clusterIP="192.168.0.1")))
    assert "not in the valid range" in err.message
    _, np = await call(api_server, "create", "services", "default", body=svc("np", type="NodePort"))
    assert 30000 <= np["spec"]["ports"][0]["nodePort"] <= 32767
    _, headless = await call(api_server, "create", "services", "default", body=svc("hl", clusterIP="None"))
    assert headless["spec"]["clusterIP"] == "None"
    # a PUT without the allocated values keeps them
    body = svc("np", type="NodePort")
    _, kept = await call(api_server, "update", "services", "default", "np", body)
    assert kept["spec"]["clusterIP"] == np["spec"]["clusterIP"]
    assert kept["spec"]["ports"][0]["nodePort"] == np["spec"]["ports"][0]["nodePort"]
    # deleting releases the IP: it can be asked for again
    s0 = sorted(ips)[0]
    for owner in ("s0", "s1", "s2", "s3", "s4"):
        if (await call(api_server, "get", "services", "default", owner))[1]["spec"]["clusterIP"] == s0:
            break
    await call(api_server, "delete", "services", "default", owner)
    code, again = await call(api_server, "create", "services", "default", body=svc("reuse", clusterIP=s0))
    assert code == 201 and again["spec"]["clusterIP"] == s0


async def test_binding_and_eviction(api_server):
    await call(api_server, "create", "pods", "default", body=pod("p"))
    binding = {"apiVersion": "v1", "kind": "Binding", "metadata": {"name": "p"},
               "target": {"apiVersion": "v1", "kind": "Node", "name": "node-7"}}
    code, status = await call(api_server, "create", "pods", "default", "p", binding, sub="binding")
    assert code == 201 and status["status"] == "Success"
    _, p = await call(api_server, "get", "pods", "default", "p")
    assert p["spec"]["nodeName"] == "node-7"
    assert any(c["type"] == "PodScheduled" and c["status"] == "True" for c in p["status"]["conditions"])
    err = await fails(409, call(api_server, "create", "pods", "default", "p", binding, sub="binding"))
    assert 'already assigned to node "node-7"' in err.message
    eviction = {"apiVersion": "policy/v1", "kind": "Eviction", "metadata": {"name": "p"},
                "deleteOptions": {"gracePeriodSeconds": 0}}
    code, _ = await call(api_server, "create", "pods", "default", "p", eviction, sub="eviction")
    assert code == 201
    await fails(404, call(api_server, "get", "pods", "default", "p"))


async def test_priority_admission(api_server):
    _, p = await call(api_server, "create", "pods", "default", body=pod("crit", priorityClassName="system-node-critical"))
    assert p["spec"]["priority"] == 2000001000 and p["spec"]["preemptionPolicy"] == "PreemptLowerPriority"
    _, p = await call(api_server, "create", "pods", "default", body=pod("plain"))
    assert p["spec"]["priority"] == 0
    err = await fails(403, call(api_server, "create", "pods", "default", body=pod("x", priorityClassName="nope")))
    assert "no PriorityClass with name nope was found" in err.message
    err = await fails(403, call(api_server, "delete", "priorityclasses", "", "system-node-critical",
                                group="scheduling.k8s.io"))
    assert err.reason == "Forbidden"


async def test_namespace_lifecycle(api_server):
    err = await fails(404, call(api_server, "create", "configmaps", "nowhere", body=cm("a")))
    assert err.message == 'namespaces "nowhere" not found'
    await call(api_server, "create", "namespaces", body={"apiVersion": "v1", "kind": "Namespace",
                                                          "metadata": {"name": "doomed"}})
    await call(api_server, "create", "configmaps", "doomed", body=cm("inside"))
    code, ns = await call(api_server, "delete", "namespaces", "", "doomed")
    assert ns["status"]["phase"] == "Terminating" and ns["spec"]["finalizers"] == ["kubernetes"]
    err = await fails(403, call(api_server, "create", "configmaps", "doomed", body=cm("late")))
    assert "because it is being terminated" in err.message
    # what the namespace controller does once the namespace is empty
    await call(api_server, "delete", "configmaps", "doomed", "inside")
    ns["spec"]["finalizers"] = []
    await call(api_server, "update", "namespaces", "", "doomed", ns, sub="finalize")
    await fails(404, call(api_server, "get", "namespaces", "", "doomed"))   # gone with its last finalizer
    err = await fails(403, call(api_server, "delete", "namespaces", "", "default"))
    assert "this namespace may not be deleted" in err.message


async def test_delete_collection(api_server):
    for name, team in (("c1", "a"), ("c2", "a"), ("c3", "b")):
        body = cm(name)
        body["metadata"]["labels"] = {"team": team}
        await call(api_server, "create", "configmaps", "default", body=body)
    _, deleted = await call(api_server, "deletecollection", "configmaps", "default", query={"labelSelector": "team=a"})
    assert sorted(o["metadata"]["name"] for o in deleted["items"]) == ["c1", "c2"]
    _, left = await call(api_server, "list", "configmaps", "default", query={"labelSelector": "team"})
    assert [o["metadata"]["name"] for o in left.objects()] == ["c3"]


async def test_events_in_both_groups(api_server):
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "e1"},
             "involvedObject": {"kind": "Pod", "name": "web-1", "namespace": "default"},
             "reason": "Started", "message": "started container", "type": "Normal",
             "source": {"component": "kubelet"}, "count": 2}
    await call(api_server, "create", "events", "default", body=event)
    _, v1 = await call(api_server, "get", "events", "default", "e1", group="events.k8s.io")
    assert v1["apiVersion"] == "events.k8s.io/v1" and v1["note"] == "started container"
    assert v1["regarding"]["name"] == "web-1" and v1["deprecatedCount"] == 2
    _, listed = await call(api_server, "list", "events", "default", group="events.k8s.io",
                           query={"fieldSelector": "regarding.name=web-1"})
    assert [e["metadata"]["name"] for e in listed.objects()] == ["e1"]
    _, core = await call(api_server, "list", "events", "default", query={"fieldSelector": "involvedObject.name=other"})
    assert core.objects() == []


async def test_list_options(api_server):
    for i in range(7):
        await call(api_server, "create", "configmaps", "default", body=cm(f"l{i}"))
    _, page = await call(api_server, "list", "configmaps", "default", query={"limit": "3"})
    assert len(page.items) == 3 and page.continue_token and page.remaining == 4
    rv = page.resource_version
    await call(api_server, "create", "configmaps", "default", body=cm("l9"))
    _, rest = await call(api_server, "list", "configmaps", "default", query={"limit": "10", "continue": page.continue_token})
    assert [o["metadata"]["name"] for o in rest.objects()] == ["l3", "l4", "l5", "l6"]
    assert rest.resource_version == rv and not rest.continue_token
    _, exact = await call(api_server, "list", "configmaps", "default",
                          query={"resourceVersion": str(rv), "resourceVersionMatch": "Exact"})
    assert len(exact.items) == 7
    await fails(400, call(api_server, "list", "configmaps", "default", query={"continue": "garbage"}))
    await fails(422, call(api_server, "list", "configmaps", "default", query={"resourceVersionMatch": "Exact"}))
    await fails(400, call(api_server, "list", "configmaps", "default", query={"labelSelector": "a in (b"}))


async def test_events_expire_with_a_store_lease(api_server, store):
    event = {"apiVersion": "v1", "kind": "Event", "metadata": {"name": "ttl"},
             "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}, "reason": "R", "message": "m"}
    await call(api_server, "create", "events", "default", body=event)
    await call(api_server, "create", "configmaps", "default", body=cm("kept"))
    stored = (await store.range(b"/registry/events/default/ttl")).kvs[0]
    assert stored.lease != 0
    status = await store.lease_time_to_live(stored.lease)
    assert 3600 <= status.granted_ttl <= 3600 + 60 and status.ttl > 0
    assert (await store.range(b"/registry/configmaps/default/kept")).kvs[0].lease == 0
    # a second event within the minute shares the lease
    await call(api_server, "create", "events", "default", body=dict(event, metadata={"name": "ttl2"}))
    assert (await store.range(b"/registry/events/default/ttl2")).kvs[0].lease == stored.lease
