"""NamespaceLifecycle: no writes into missing or terminating namespaces, immortal namespaces."""
from __future__ import annotations

import pytest

from pykube_plane.apiserver.auth.authn import UserInfo
from pykube_plane.apiserver.auth.rbac import request_attributes
from pykube_plane.apiserver.registry.admission import AdmissionError, NamespaceLifecycle

U = UserInfo("u")
NAMESPACES = {
    "default": {"metadata": {"name": "default"}, "status": {"phase": "Active"}},
    "live": {"metadata": {"name": "live"}, "status": {"phase": "Active"}},
    "dying": {"metadata": {"name": "dying", "deletionTimestamp": "2024-01-01T00:00:00Z"},
              "status": {"phase": "Terminating"}},
}


def admit(method: str, path: str, obj: dict | None = None) -> None:
    attrs = request_attributes(method, path, "", U)
    NamespaceLifecycle().admit(attrs, obj, NAMESPACES.get)


def refused(method: str, path: str, obj: dict | None = None) -> AdmissionError:
    with pytest.raises(AdmissionError) as info:
        admit(method, path, obj)
    return info.value


POD = {"metadata": {"name": "p"}}


def test_writes_into_an_active_namespace_pass() -> None:
    admit("POST", "/api/v1/namespaces/live/pods", POD)
    admit("PUT", "/api/v1/namespaces/live/pods/p", POD)
    admit("PATCH", "/api/v1/namespaces/live/pods/p", POD)
    admit("DELETE", "/api/v1/namespaces/live/pods/p")


def test_create_in_a_missing_namespace_is_not_found() -> None:
    error = refused("POST", "/api/v1/namespaces/ghost/pods", POD)
    assert (error.code, error.reason, error.message) == (404, "NotFound", 'namespaces "ghost" not found')
    status = error.to_status()
    assert status["kind"] == "Status" and status["code"] == 404
    assert status["details"] == {"name": "ghost", "kind": "namespaces"}


def test_update_in_a_missing_namespace_is_not_found() -> None:
    assert refused("PUT", "/apis/apps/v1/namespaces/ghost/deployments/d", {}).code == 404
    assert refused("PATCH", "/api/v1/namespaces/ghost/pods/p/status", {}).code == 404


def test_create_in_a_terminating_namespace_is_forbidden() -> None:
    error = refused("POST", "/api/v1/namespaces/dying/pods", POD)
    assert error.code == 403 and error.reason == "Forbidden"
    assert error.message == ('pods "p" is forbidden: unable to create new content in namespace dying '
                             "because it is being terminated")
    assert error.details["causes"] == [{"reason": "NamespaceTerminating",
                                        "message": "namespace dying is being terminated",
                                        "field": "metadata.namespace"}]


def test_terminating_message_names_the_object_or_its_generate_name() -> None:
    generated = refused("POST", "/apis/apps/v1/namespaces/dying/replicasets", {"metadata": {"generateName": "web-"}})
    assert generated.message.startswith('replicasets.apps "web-" is forbidden: ')
    assert generated.details["group"] == "apps"
    assert refused("POST", "/api/v1/namespaces/dying/configmaps", None).message.startswith('configmaps "Unknown"')
    assert refused("POST", "/api/v1/namespaces/dying/pods/p/binding", {}).message.startswith('pods "p" is forbidden')


def test_terminating_namespace_still_accepts_updates_and_deletes() -> None:
    admit("PUT", "/api/v1/namespaces/dying/pods/p", POD)
    admit("PUT", "/api/v1/namespaces/dying/pods/p/status", POD)
    admit("DELETE", "/api/v1/namespaces/dying/pods/p")
    admit("DELETE", "/api/v1/namespaces/dying/pods")


def test_deletes_in_missing_namespaces_pass_through_to_a_plain_not_found() -> None:
    admit("DELETE", "/api/v1/namespaces/ghost/pods/p")


@pytest.mark.parametrize("name", ["default", "kube-system", "kube-public"])
def test_immortal_namespaces_cannot_be_deleted(name: str) -> None:
    error = refused("DELETE", f"/api/v1/namespaces/{name}")
    assert error.code == 403
    assert error.message == f'namespaces "{name}" is forbidden: this namespace may not be deleted'


def test_namespaces_themselves_and_cluster_scoped_objects_are_never_refused() -> None:
    admit("POST", "/api/v1/namespaces", {"metadata": {"name": "ghost"}})
    admit("DELETE", "/api/v1/namespaces/live")
    admit("PUT", "/api/v1/namespaces/dying/finalize", {})
    admit("PUT", "/api/v1/namespaces/dying/status", {})
    admit("POST", "/api/v1/nodes", {"metadata": {"name": "n1"}})
    admit("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles", {"metadata": {"name": "r"}})


def test_reads_and_access_reviews_are_not_admission_business() -> None:
    admit("GET", "/api/v1/namespaces/ghost/pods")
    admit("GET", "/api/v1/namespaces/ghost/pods/p")
    admit("POST", "/apis/authorization.k8s.io/v1/namespaces/ghost/localsubjectaccessreviews", {})


def test_namespace_lookups_happen_only_when_needed() -> None:
    looked_up: list[str] = []

    def get_namespace(name: str):
        looked_up.append(name)
        return NAMESPACES.get(name)

    lifecycle = NamespaceLifecycle()
    lifecycle.admit(request_attributes("GET", "/api/v1/namespaces/live/pods", "", U), None, get_namespace)
    lifecycle.admit(request_attributes("DELETE", "/api/v1/namespaces/live/pods/p", "", U), None, get_namespace)
    lifecycle.admit(request_attributes("POST", "/api/v1/nodes", "", U), {}, get_namespace)
    assert looked_up == []
    lifecycle.admit(request_attributes("POST", "/api/v1/namespaces/live/pods", "", U), POD, get_namespace)
    assert looked_up == ["live"]
