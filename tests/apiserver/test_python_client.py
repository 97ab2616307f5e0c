"""The official Python client (kubernetes==37.0.2) against a `kplane apiserver` process over TLS:
CRUD, list with paging, and a watch that resumes from a resourceVersion and relists on 410.

The server keeps only 20 changes per resource for resuming watches (--watch-cache-size), so a
resourceVersion goes out of reach quickly and the 410 path is exercised for real.
"""
from __future__ import annotations

import json

import pytest
from kubernetes import client, config, watch
from kubernetes.client.exceptions import ApiException

from .conftest import start_server_process, stop_server_process


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    proc = start_server_process(tmp_path_factory.mktemp("pyclient"), "--watch-cache-size", "20")
    try:
        yield proc
    finally:
        stop_server_process(proc)


@pytest.fixture(scope="module")
def api(server):
    api_client = config.new_client_from_config(config_file=str(server.kubeconfig))
    yield api_client
    api_client.close()


@pytest.fixture(scope="module")
def core(api):
    return client.CoreV1Api(api)


def namespace(core, name: str) -> str:
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=name)))
    return name


def test_crud(core, api):
    ns = namespace(core, "crud")
    created = core.create_namespaced_config_map(ns, client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name="settings", labels={"app": "demo"}), data={"mode": "fast"}))
    assert created.metadata.uid and created.metadata.resource_version
    read = core.read_namespaced_config_map("settings", ns)
    assert read.data == {"mode": "fast"} and read.metadata.labels == {"app": "demo"}

    read.data["mode"] = "safe"
    replaced = core.replace_namespaced_config_map("settings", ns, read)
    assert replaced.data == {"mode": "safe"}
    assert int(replaced.metadata.resource_version) > int(created.metadata.resource_version)

    # a replace carrying the old resourceVersion is a 409 Conflict
    with pytest.raises(ApiException) as conflict:
        core.replace_namespaced_config_map("settings", ns, created)
    assert conflict.value.status == 409 and "the object has been modified" in json.loads(conflict.value.body)["message"]

    patched = core.patch_namespaced_config_map("settings", ns, {"data": {"extra": "1"}})
    assert patched.data == {"mode": "safe", "extra": "1"}

    apps = client.AppsV1Api(api)
    deployment = apps.create_namespaced_deployment(ns, {
        "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": "d"},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"a": "b"}},
                 "template": {"metadata": {"labels": {"a": "b"}},
                              "spec": {"containers": [{"name": "c", "image": "nginx"}]}}}})
    assert deployment.spec.strategy.type == "RollingUpdate"
    scale = apps.patch_namespaced_deployment_scale("d", ns, {"spec": {"replicas": 3}})
    assert scale.spec.replicas == 3
    assert apps.read_namespaced_deployment("d", ns).spec.replicas == 3

    status = core.delete_namespaced_config_map("settings", ns)
    assert status["status"] == "Success" and status["details"]["name"] == "settings"
    with pytest.raises(ApiException) as missing:
        core.read_namespaced_config_map("settings", ns)
    assert missing.value.status == 404
    assert json.loads(missing.value.body)["message"] == 'configmaps "settings" not found'


def test_list_with_paging(core):
    ns = namespace(core, "paging")
    for i in range(25):
        core.create_namespaced_config_map(ns, client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name=f"cm-{i:02d}", labels={"even": str(i % 2 == 0).lower()})))
    names, token, pages = [], None, 0
    first_rv = None
    while True:
        page = core.list_namespaced_config_map(ns, limit=10, _continue=token)
        pages += 1
        if first_rv is None:
            first_rv = page.metadata.resource_version
            assert page.metadata.remaining_item_count == 15
        else:
            assert page.metadata.resource_version == first_rv     # one consistent snapshot
        names += [cm.metadata.name for cm in page.items]
        token = page.metadata._continue
        if not token:
            break
        # writes between pages do not show up in the paged result
        core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(
            generate_name="late-")))
    assert pages == 3
    assert names == [f"cm-{i:02d}" for i in range(25)]
    evens = core.list_namespaced_config_map(ns, label_selector="even=true", limit=5)
    assert [cm.metadata.name for cm in evens.items] == [f"cm-{i:02d}" for i in range(0, 10, 2)]
    assert evens.metadata._continue


def test_watch_resumes_from_resource_version_and_relists_on_410(core):
    ns = namespace(core, "watching")
    listed = core.list_namespaced_config_map(ns)
    rv = listed.metadata.resource_version
    for i in range(3):
        core.create_namespaced_config_map(ns, client.V1ConfigMap(metadata=client.V1ObjectMeta(name=f"w{i}")))
    # resume from the list's resourceVersion: exactly the three changes after it, in order
    w = watch.Watch()
    seen = []
    for event in w.stream(core.list_namespaced_config_map, ns, resource_version=rv, timeout_seconds=5):
        seen.append((event["type"], event["object"].metadata.name))
        if len(seen) == 3:
            w.stop()
    assert seen == [("ADDED", "w0"), ("ADDED", "w1"), ("ADDED", "w2")]
    last_rv = event["object"].metadata.resource_version

    # push that resourceVersion out of the server's 20-change window
    for i in range(30):
        core.patch_namespaced_config_map("w0", ns, {"data": {"n": str(i)}})
    with pytest.raises(ApiException) as expired:
        for _ in watch.Watch().stream(core.list_namespaced_config_map, ns, resource_version=last_rv,
                                      timeout_seconds=5):
            pass
    assert expired.value.status == 410

    # what an informer does on 410: relist, then watch from the new list's resourceVersion
    relisted = core.list_namespaced_config_map(ns)
    assert sorted(cm.metadata.name for cm in relisted.items) == ["w0", "w1", "w2"]
    assert relisted.items[0].data == {"n": "29"}
    core.delete_namespaced_config_map("w1", ns)
    w = watch.Watch()
    events = []
    for event in w.stream(core.list_namespaced_config_map, ns,
                          resource_version=relisted.metadata.resource_version, timeout_seconds=5):
        events.append((event["type"], event["object"].metadata.name))
        w.stop()
    assert events == [("DELETED", "w1")]


def test_errors_are_status_objects(core, api):
    ns = namespace(core, "errors")
    with pytest.raises(ApiException) as invalid_rv:
        core.list_namespaced_pod(ns, resource_version="abc")
    assert invalid_rv.value.status == 400
    with pytest.raises(ApiException) as exists:
        core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=ns)))
    assert exists.value.status == 409 and json.loads(exists.value.body)["reason"] == "AlreadyExists"
