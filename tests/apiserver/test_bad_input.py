"""Fuzzing the write endpoints with malformed bodies: every answer is a Status (never a 500, never a
traceback) and nothing is half-written in the store.

The server runs in its own thread and event loop so that hypothesis can drive it with plain
blocking HTTP calls.
"""
from __future__ import annotations

import asyncio
import json
import threading
import urllib.error
import urllib.parse
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

TARGETS = [
    ("/api/v1/namespaces/default/configmaps", "ConfigMap", "v1"),
    ("/api/v1/namespaces/default/pods", "Pod", "v1"),
    ("/api/v1/namespaces/default/services", "Service", "v1"),
    ("/apis/apps/v1/namespaces/default/deployments", "Deployment", "apps/v1"),
    ("/api/v1/nodes", "Node", "v1"),
    ("/apis/rbac.authorization.k8s.io/v1/clusterroles", "ClusterRole", "rbac.authorization.k8s.io/v1"),
]


class ThreadedServer:
    def __init__(self, tmp) -> None:
        self.loop = asyncio.new_event_loop()
        self.ready = threading.Event()
        self.tmp = tmp
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.thread.start()
        if not self.ready.wait(60):
            raise AssertionError("server thread did not start")

    def _run(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_until_complete(self._start())
        self.ready.set()
        self.loop.run_forever()

    async def _start(self) -> None:
        from pykube_plane.apiserver.server import APIServer
        from pykube_plane.store.store import Store
        self.store = await Store.open(self.tmp / "store", fsync=False)
        self.server = APIServer(self.store, port=0)
        await self.server.start()
        self.url = self.server.url

    def stored_keys(self) -> list[bytes]:
        async def keys():
            result = await self.store.range(b"/registry/", b"/registry0", keys_only=True)
            return [kv.key for kv in result.kvs]
        return asyncio.run_coroutine_threadsafe(keys(), self.loop).result(30)

    def close(self) -> None:
        async def stop():
            await self.server.stop()
            await self.store.close()
        asyncio.run_coroutine_threadsafe(stop(), self.loop).result(30)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)

    def request(self, method: str, path: str, body: bytes, content_type: str) -> tuple[int, bytes]:
        req = urllib.request.Request(self.url + path, data=body, method=method,
                                     headers={"Content-Type": content_type})
        try:
            with urllib.request.urlopen(req, timeout=30) as resp:
                return resp.status, resp.read()
        except urllib.error.HTTPError as e:
            return e.code, e.read()


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    s = ThreadedServer(tmp_path_factory.mktemp("fuzz"))
    yield s
    s.close()


def check_answer(code: int, body: bytes) -> dict:
    assert code != 500 and code < 500, body
    obj = json.loads(body)
    if code >= 400:
        assert obj["kind"] == "Status" and obj["status"] == "Failure" and obj["code"] == code
        assert "Traceback" not in obj["message"]
    return obj


json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=20),
    lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=12), children, max_size=4),
    max_leaves=20)

FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@FUZZ
@given(target=st.sampled_from(TARGETS), body=st.binary(max_size=200))
def test_random_bytes(server, target, body):
    before = server.stored_keys()
    code, answer = server.request("POST", target[0], body, "application/json")
    check_answer(code, answer)
    if code != 201:
        assert server.stored_keys() == before


@FUZZ
@given(target=st.sampled_from(TARGETS), body=json_values)
def test_random_json_documents(server, target, body):
    before = server.stored_keys()
    code, answer = server.request("POST", target[0], json.dumps(body).encode(), "application/json")
    check_answer(code, answer)
    if code != 201:
        assert server.stored_keys() == before


@FUZZ
@given(target=st.sampled_from(TARGETS),
       metadata=st.fixed_dictionaries({"name": st.one_of(st.text(max_size=70), st.integers(), st.none(),
                                                         st.just("UPPER_case"), st.just("a" * 300))},
                                      optional={"labels": json_values, "namespace": json_values,
                                                "finalizers": json_values, "generateName": json_values}),
       extra=st.dictionaries(st.sampled_from(["spec", "data", "status", "rules", "kind", "apiVersion"]),
                             json_values, max_size=3))
def test_wrong_shapes_and_names(server, target, metadata, extra):
    body = {"apiVersion": target[2], "kind": target[1], "metadata": metadata, **extra}
    before = server.stored_keys()
    code, answer = server.request("POST", target[0], json.dumps(body).encode(), "application/json")
    obj = check_answer(code, answer)
    if code == 201:
        assert isinstance(obj["metadata"]["name"], str) and obj["metadata"]["name"]
        name = urllib.parse.quote(obj["metadata"]["name"], safe="")
        code, answer = server.request("DELETE", f"{target[0]}/{name}?gracePeriodSeconds=0", b"", "application/json")
        check_answer(code, answer)
        assert code == 200
        assert server.stored_keys() == before
    else:
        assert server.stored_keys() == before


@FUZZ
@given(cpu=st.one_of(st.text(max_size=12), st.sampled_from(["1.5.5", "-1", "1e400", "0x10", "12Qi", "", "∞"])),
       memory=st.one_of(st.text(max_size=12), st.integers(-5, 10**20)))
def test_invalid_quantities(server, cpu, memory):
    pod = {"apiVersion": "v1", "kind": "Pod", "metadata": {"generateName": "q-"},
           "spec": {"containers": [{"name": "c", "image": "busybox",
                                    "resources": {"limits": {"cpu": cpu, "memory": memory}}}]}}
    before = server.stored_keys()
    code, answer = server.request("POST", "/api/v1/namespaces/default/pods", json.dumps(pod).encode(),
                                  "application/json")
    obj = check_answer(code, answer)
    if code == 201:
        server.request("DELETE", f"/api/v1/namespaces/default/pods/{obj['metadata']['name']}", b"",
                       "application/json")
    else:
        assert code in (400, 422)
        assert server.stored_keys() == before


@FUZZ
@given(patch_type=st.sampled_from(["application/merge-patch+json", "application/json-patch+json",
                                   "application/strategic-merge-patch+json"]),
       patch=json_values)
def test_random_patches(server, patch_type, patch):
    cm = {"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "patched"}, "data": {"a": "b"}}
    server.request("POST", "/api/v1/namespaces/default/configmaps", json.dumps(cm).encode(), "application/json")
    code, answer = server.request("PATCH", "/api/v1/namespaces/default/configmaps/patched",
                                  json.dumps(patch).encode(), patch_type)
    check_answer(code, answer)
