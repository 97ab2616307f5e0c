"""request_attributes resolves k8s RequestInfo: a table of method + path + query → attributes."""
from __future__ import annotations

import pytest
from multidict import MultiDict

from pykube_plane.apiserver.auth.authn import UserInfo
from pykube_plane.apiserver.auth.rbac import attributes_from_review_spec, request_attributes

U = UserInfo("u")

# method, path, query, (resource_request, verb, group, version, namespace, resource, subresource, name)
RESOURCE_CASES = [
    ("GET", "/api/v1/namespaces", "", ("list", "", "v1", "", "namespaces", "", "")),
    ("GET", "/api/v1/namespaces/other", "", ("get", "", "v1", "other", "namespaces", "", "other")),
    ("GET", "/api/v1/namespaces/other/pods", "", ("list", "", "v1", "other", "pods", "", "")),
    ("GET", "/api/v1/namespaces/other/pods/foo", "", ("get", "", "v1", "other", "pods", "", "foo")),
    ("HEAD", "/api/v1/namespaces/other/pods/foo", "", ("get", "", "v1", "other", "pods", "", "foo")),
    ("GET", "/api/v1/pods", "", ("list", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/pods?watch=true", "", ("watch", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/pods", "watch=1", ("watch", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/pods", "watch=", ("watch", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/pods", "watch=false", ("list", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/pods", "watch=0", ("list", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/namespaces/other/pods", "watch=true&resourceVersion=5",
     ("watch", "", "v1", "other", "pods", "", "")),
    ("GET", "/api/v1/watch/pods", "", ("watch", "", "v1", "", "pods", "", "")),
    ("GET", "/api/v1/watch/namespaces/other/pods", "", ("watch", "", "v1", "other", "pods", "", "")),
    ("GET", "/api/v1/watch/namespaces/other/pods/foo", "", ("watch", "", "v1", "other", "pods", "", "foo")),
    ("GET", "/api/v1/namespaces/other/pods", "fieldSelector=metadata.name%3Dfoo",
     ("list", "", "v1", "other", "pods", "", "foo")),
    ("GET", "/api/v1/namespaces/other/pods", "fieldSelector=metadata.name==foo,status.phase=Running",
     ("list", "", "v1", "other", "pods", "", "foo")),
    ("GET", "/api/v1/namespaces/other/pods", "fieldSelector=metadata.name!=foo",
     ("list", "", "v1", "other", "pods", "", "")),
    ("GET", "/api/v1/namespaces/other/pods", "fieldSelector=spec.nodeName=n1",
     ("list", "", "v1", "other", "pods", "", "")),
    ("GET", "/api/v1/namespaces/other/leases", "watch=true&fieldSelector=metadata.name%3Dl1",
     ("watch", "", "v1", "other", "leases", "", "l1")),
    ("POST", "/api/v1/namespaces/other/pods", "", ("create", "", "v1", "other", "pods", "", "")),
    ("PUT", "/api/v1/namespaces/other/pods/foo", "", ("update", "", "v1", "other", "pods", "", "foo")),
    ("PATCH", "/api/v1/namespaces/other/pods/foo", "", ("patch", "", "v1", "other", "pods", "", "foo")),
    ("DELETE", "/api/v1/namespaces/other/pods/foo", "", ("delete", "", "v1", "other", "pods", "", "foo")),
    ("DELETE", "/api/v1/namespaces/other/pods", "", ("deletecollection", "", "v1", "other", "pods", "", "")),
    ("POST", "/api/v1/namespaces/other/pods/foo/binding", "",
     ("create", "", "v1", "other", "pods", "binding", "foo")),
    ("POST", "/api/v1/namespaces/other/pods/foo/eviction", "",
     ("create", "", "v1", "other", "pods", "eviction", "foo")),
    ("PUT", "/api/v1/namespaces/other/pods/foo/status", "",
     ("update", "", "v1", "other", "pods", "status", "foo")),
    ("GET", "/api/v1/namespaces/other/pods/foo/log", "", ("get", "", "v1", "other", "pods", "log", "foo")),
    ("PUT", "/api/v1/nodes/n1/status", "", ("update", "", "v1", "", "nodes", "status", "n1")),
    ("PATCH", "/api/v1/nodes/n1", "", ("patch", "", "v1", "", "nodes", "", "n1")),
    # A namespace's own subresources stay on the namespace.
    ("PUT", "/api/v1/namespaces/other/status", "", ("update", "", "v1", "other", "namespaces", "status", "other")),
    ("PUT", "/api/v1/namespaces/other/finalize", "", ("update", "", "v1", "other", "namespaces", "finalize", "other")),
    ("GET", "/apis/apps/v1/namespaces/other/deployments", "",
     ("list", "apps", "v1", "other", "deployments", "", "")),
    ("GET", "/apis/apps/v1/deployments", "", ("list", "apps", "v1", "", "deployments", "", "")),
    ("PUT", "/apis/apps/v1/namespaces/other/deployments/d/scale", "",
     ("update", "apps", "v1", "other", "deployments", "scale", "d")),
    ("DELETE", "/apis/apps/v1/namespaces/other/replicasets", "",
     ("deletecollection", "apps", "v1", "other", "replicasets", "", "")),
    ("GET", "/apis/apps/v1/watch/namespaces/other/deployments", "",
     ("watch", "apps", "v1", "other", "deployments", "", "")),
    ("PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1", "",
     ("update", "coordination.k8s.io", "v1", "kube-node-lease", "leases", "", "n1")),
    ("GET", "/apis/rbac.authorization.k8s.io/v1/clusterroles/view", "",
     ("get", "rbac.authorization.k8s.io", "v1", "", "clusterroles", "", "view")),
    ("POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews", "",
     ("create", "authorization.k8s.io", "v1", "", "selfsubjectaccessreviews", "", "")),
    ("GET", "/api/v1/namespaces/other/pods/foo/", "", ("get", "", "v1", "other", "pods", "", "foo")),
    ("GET", "/api/v1/proxy/namespaces/other/pods/foo/bar", "",
     ("proxy", "", "v1", "other", "pods", "", "foo")),
    ("OPTIONS", "/api/v1/pods/x", "", ("", "", "v1", "", "pods", "", "x")),
]


@pytest.mark.parametrize("method, path, query, expected", RESOURCE_CASES,
                         ids=[f"{m} {p}?{q}" for m, p, q, _ in RESOURCE_CASES])
def test_resource_requests(method: str, path: str, query: str, expected: tuple) -> None:
    path, _, inline_query = path.partition("?")
    attrs = request_attributes(method, path, query or inline_query, U)
    assert attrs.resource_request
    got = (attrs.verb, attrs.api_group, attrs.api_version, attrs.namespace, attrs.resource,
           attrs.subresource, attrs.name)
    assert got == expected
    assert attrs.path == path and attrs.user is U


NON_RESOURCE_CASES = [
    ("GET", "/", "get"),
    ("GET", "/healthz", "get"),
    ("GET", "/readyz/etcd", "get"),
    ("GET", "/version", "get"),
    ("GET", "/metrics", "get"),
    ("GET", "/openapi/v2", "get"),
    ("GET", "/api", "get"),
    ("GET", "/api/v1", "get"),
    ("GET", "/apis", "get"),
    ("GET", "/apis/apps", "get"),
    ("GET", "/apis/apps/v1", "get"),
    ("POST", "/api/v1", "post"),
    ("HEAD", "/healthz", "head"),
    ("GET", "/foo/bar/baz/qux", "get"),
]


@pytest.mark.parametrize("method, path, verb", NON_RESOURCE_CASES)
def test_non_resource_requests(method: str, path: str, verb: str) -> None:
    attrs = request_attributes(method, path, None, U)
    assert not attrs.resource_request
    assert (attrs.verb, attrs.path, attrs.resource, attrs.namespace) == (verb, path, "", "")


def test_query_as_multidict_uses_the_first_value() -> None:
    attrs = request_attributes("GET", "/api/v1/pods", MultiDict([("watch", "true"), ("watch", "false")]), U)
    assert attrs.verb == "watch"


def test_watch_prefix_without_resource_still_yields_attributes() -> None:
    attrs = request_attributes("GET", "/api/v1/watch", None, U)
    assert attrs.resource_request and attrs.verb == "watch" and attrs.resource == ""


def test_unsafe_field_selector_names_are_not_taken() -> None:
    for bad in ("metadata.name=a/b", "metadata.name=..", "metadata.name=%2F"):
        assert request_attributes("GET", "/api/v1/pods", {"fieldSelector": bad}, U).name == ""


def test_combined_resource() -> None:
    attrs = request_attributes("PUT", "/api/v1/namespaces/a/pods/p/status", None, U)
    assert attrs.combined_resource == "pods/status"


def test_access_review_specs() -> None:
    attrs = attributes_from_review_spec({"resourceAttributes": {
        "namespace": "a", "verb": "create", "group": "apps", "resource": "deployments",
        "subresource": "scale", "name": "d"}}, U)
    assert (attrs.resource_request, attrs.verb, attrs.api_group, attrs.namespace, attrs.resource,
            attrs.subresource, attrs.name) == (True, "create", "apps", "a", "deployments", "scale", "d")
    attrs = attributes_from_review_spec({"nonResourceAttributes": {"path": "/logs", "verb": "get"}}, U)
    assert (attrs.resource_request, attrs.verb, attrs.path) == (False, "get", "/logs")
