"""The HTTP face on an in-process server: discovery, OpenAPI, content negotiation (JSON, YAML,
Table), watch streams, health, metrics and the Status of every kind of refusal."""
from __future__ import annotations

import asyncio
import json

import orjson
import yaml

from pykube_plane.apiserver.http import protobuf

TABLE = "application/json;as=Table;v=v1;g=meta.k8s.io,application/json"
AGGREGATED = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList,application/json"


async def status_of(resp, code):
    assert resp.status == code, await resp.text()
    body = await resp.json()
    assert body["kind"] == "Status" and body["code"] == code and body["status"] == "Failure"
    return body


async def test_discovery(http):
    async with http.get("/version") as r:
        version = await r.json()
    assert version["major"] == "1" and version["gitVersion"].startswith("v1.37.")
    async with http.get("/api") as r:
        assert (await r.json())["versions"] == ["v1"]
    async with http.get("/apis") as r:
        groups = {g["name"]: g for g in (await r.json())["groups"]}
    assert groups["apps"]["preferredVersion"] == {"groupVersion": "apps/v1", "version": "v1"}
    async with http.get("/api/v1") as r:
        resources = {x["name"]: x for x in (await r.json())["resources"]}
    assert resources["pods"]["shortNames"] == ["po"] and resources["pods"]["namespaced"] is True
    assert resources["pods/eviction"]["group"] == "policy" and resources["pods/eviction"]["kind"] == "Eviction"
    assert resources["nodes/status"]["verbs"] == ["get", "patch", "update"]
    async with http.get("/apis/apps/v1") as r:
        apps = {x["name"]: x for x in (await r.json())["resources"]}
    assert apps["deployments/scale"]["kind"] == "Scale" and apps["deployments/scale"]["group"] == "autoscaling"
    async with http.get("/apis", headers={"Accept": AGGREGATED}) as r:
        assert r.headers["Content-Type"] == "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
        doc = await r.json(content_type=None)
    apps_group = next(g for g in doc["items"] if g["metadata"]["name"] == "apps")
    deploy = next(x for x in apps_group["versions"][0]["resources"] if x["resource"] == "deployments")
    assert deploy["scope"] == "Namespaced" and {s["subresource"] for s in deploy["subresources"]} == {"status", "scale"}
    async with http.get("/apis/nope/v1") as r:
        await status_of(r, 404)


async def test_openapi(http):
    async with http.get("/openapi/v3") as r:
        index = await r.json()
    url = index["paths"]["apis/apps/v1"]["serverRelativeURL"]
    async with http.get(url) as r:
        assert r.headers["Cache-Control"] == "public, immutable"
        doc = await r.json()
    schemas = doc["components"]["schemas"]
    deployment = schemas["io.k8s.api.apps.v1.Deployment"]
    assert deployment["x-kubernetes-group-version-kind"] == [{"group": "apps", "kind": "Deployment", "version": "v1"}]
    patch = doc["paths"]["/apis/apps/v1/namespaces/{namespace}/deployments/{name}"]["patch"]
    assert any(p["name"] == "fieldValidation" and p["in"] == "query" for p in patch["parameters"])
    containers = schemas["io.k8s.api.core.v1.PodSpec"]["properties"]["containers"]
    assert containers["x-kubernetes-patch-merge-key"] == "name"
    async with http.get("/openapi/v2", headers={"Accept": "application/json"}) as r:
        v2 = await r.json()
    assert v2["swagger"] == "2.0" and "io.k8s.api.core.v1.Pod" in v2["definitions"]
    # what kubectl asks for: gnostic's protobuf, a document with no definitions (v3 has them)
    async with http.get("/openapi/v2", headers={"Accept": "application/com.github.proto-openapi.spec.v2@v1.0+protobuf"}) as r:
        assert r.status == 200 and r.headers["Content-Type"].endswith("+protobuf")
        fields = {number: value for number, _, value in protobuf._fields(await r.read())}
    assert fields[1] == b"2.0" and b"Kubernetes" in fields[2]
    async with http.get("/openapi/v2", headers={"Accept": "application/xml"}) as r:
        await status_of(r, 406)


async def test_representations(http):
    body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "rep", "labels": {"a": "b"}},
            "data": {"k": "v"}}
    async with http.post("/api/v1/namespaces/default/configmaps", json=body) as r:
        assert r.status == 201
    async with http.get("/api/v1/namespaces/default/configmaps/rep", headers={"Accept": "application/yaml"}) as r:
        assert r.headers["Content-Type"].startswith("application/yaml")
        assert yaml.safe_load(await r.text())["data"] == {"k": "v"}
    async with http.get("/api/v1/namespaces/default/configmaps", headers={"Accept": TABLE}) as r:
        table = await r.json()
    assert table["kind"] == "Table" and [c["name"] for c in table["columnDefinitions"]] == ["Name", "Data", "Age"]
    row = next(row for row in table["rows"] if row["cells"][0] == "rep")
    assert row["cells"][1] == 1 and row["object"]["kind"] == "PartialObjectMetadata"
    assert row["object"]["metadata"]["labels"] == {"a": "b"}
    async with http.get("/api/v1/namespaces/default/configmaps/rep?includeObject=Object",
                        headers={"Accept": TABLE}) as r:
        assert (await r.json())["rows"][0]["object"]["data"] == {"k": "v"}
    # YAML bodies are accepted too
    text = "apiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: from-yaml\ndata:\n  x: y\n"
    async with http.post("/api/v1/namespaces/default/configmaps", data=text,
                         headers={"Content-Type": "application/yaml"}) as r:
        assert r.status == 201 and (await r.json())["data"] == {"x": "y"}
    async with http.get("/api/v1/namespaces/default/configmaps/rep",
                        headers={"Accept": "application/vnd.kubernetes.protobuf"}) as r:
        await status_of(r, 406)


async def test_watch_stream(http):
    async with http.get("/api/v1/namespaces/default/configmaps?watch=1&timeoutSeconds=30&allowWatchBookmarks=true"
                        ) as r:
        assert r.status == 200 and r.headers["Content-Type"] == "application/json"
        body = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "streamed"}}
        async with http.post("/api/v1/namespaces/default/configmaps", json=body) as created:
            rv = (await created.json())["metadata"]["resourceVersion"]
        line = await asyncio.wait_for(r.content.readline(), 10)
        event = json.loads(line)
        assert event["type"] == "ADDED" and event["object"]["metadata"]["name"] == "streamed"
        assert event["object"]["metadata"]["resourceVersion"] == rv
    async with http.get("/api/v1/watch/namespaces/default/configmaps?timeoutSeconds=1",
                        headers={"Accept": TABLE}) as r:
        first = json.loads(await asyncio.wait_for(r.content.readline(), 10))
    assert first["object"]["kind"] == "Table" and first["object"]["columnDefinitions"]


async def test_health_and_metrics(http):
    for path in ("/healthz", "/livez", "/readyz", "/readyz/etcd"):
        async with http.get(path) as r:
            assert r.status == 200 and await r.text() == "ok"
    async with http.get("/readyz?verbose") as r:
        text = await r.text()
    assert "[+]etcd ok" in text and text.strip().endswith("readyz check passed")
    async with http.get("/api/v1/namespaces/default/pods") as r:
        assert r.status == 200
    async with http.get("/api/v1/namespaces/default/pods/none") as r:
        assert r.status == 404
    async with http.get("/metrics") as r:
        metrics = await r.text()
    lines = metrics.splitlines()
    assert any(line.startswith("apiserver_request_total{") and 'code="404"' in line and 'resource="pods"' in line
               and 'verb="GET"' in line for line in lines)
    assert any(line.startswith("apiserver_request_duration_seconds_bucket{") and 'resource="pods"' in line
               and 'verb="LIST"' in line for line in lines)
    assert 'verb="LIST"' in metrics and 'verb="GET"' in metrics


async def test_refusals_are_status_objects(http):
    async with http.get("/api/v1/namespaces/default/widgets") as r:
        await status_of(r, 404)
    async with http.put("/api/v1/namespaces/default/configmaps") as r:
        await status_of(r, 405)
    async with http.post("/api/v1/namespaces/default/configmaps/name", json={}) as r:
        await status_of(r, 405)
    async with http.post("/api/v1/namespaces/default/configmaps", data=b"{not json",
                         headers={"Content-Type": "application/json"}) as r:
        body = await status_of(r, 400)
        assert body["message"].startswith("couldn't get version/kind; json parse error")
    async with http.post("/api/v1/namespaces/default/configmaps", data=b"x" * (3 * 1024 * 1024 + 10),
                         headers={"Content-Type": "application/json"}) as r:
        body = await status_of(r, 413)
        assert body["reason"] == "RequestEntityTooLarge"
    async with http.post("/api/v1/namespaces/default/configmaps", data=b"<xml/>",
                         headers={"Content-Type": "application/xml"}) as r:
        await status_of(r, 415)
    async with http.patch("/api/v1/namespaces/default/configmaps/x", data=b"{}",
                          headers={"Content-Type": "application/apply-patch+yaml"}) as r:
        await status_of(r, 415)
    async with http.post("/api/v1/namespaces/default/configmaps",
                         json={"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"}}) as r:
        body = await status_of(r, 400)
        assert "does not match the expected kind" in body["message"]
    async with http.post("/api/v1/namespaces/other/configmaps",
                         json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k", "namespace": "x"}}
                         ) as r:
        body = await status_of(r, 400)
        assert "does not match the namespace" in body["message"]


def _field(number: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return bytes([(number << 3) | 2, len(data)]) + data


async def test_protobuf_access_review(http):
    """kubectl auth can-i posts its review in protobuf; the answer comes back as JSON."""
    attrs = _field(2, "create") + _field(5, "pods") + _field(1, "default")
    spec = _field(1, attrs)
    raw = _field(2, spec)
    type_meta = _field(1, "authorization.k8s.io/v1") + _field(2, "SelfSubjectAccessReview")
    body = protobuf.MAGIC + _field(1, type_meta) + _field(2, raw)
    async with http.post("/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", data=body,
                         headers={"Content-Type": "application/vnd.kubernetes.protobuf",
                                  "Accept": "application/vnd.kubernetes.protobuf,application/json"}) as r:
        assert r.status == 201
        review = orjson.loads(await r.read())
    assert review["spec"]["resourceAttributes"] == {"verb": "create", "resource": "pods", "namespace": "default"}
    assert review["status"]["allowed"] is True


async def test_too_many_requests_in_flight(http, api_server):
    web_face = api_server.web
    web_face.inflight[True] = web_face.max_inflight[True]      # as if that many writes were running
    try:
        async with http.post("/api/v1/namespaces/default/configmaps",
                             json={"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "busy"}}) as r:
            body = await status_of(r, 429)
            assert body["reason"] == "TooManyRequests" and r.headers["Retry-After"] == "1"
        async with http.get("/api/v1/namespaces/default/configmaps") as r:
            assert r.status == 200     # reads have their own limit
    finally:
        web_face.inflight[True] = 0
