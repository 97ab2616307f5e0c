"""RBAC decisions: Roles, ClusterRoles, both kinds of binding, every matching rule of rbac.go."""
from __future__ import annotations

import pytest

from pykube_plane.apiserver.auth.authn import UserInfo
from pykube_plane.apiserver.auth.rbac import (
    RBACAuthorizer,
    RequestAttributes,
    forbidden_message,
    forbidden_status,
    request_attributes,
)

from .conftest import load

ALICE = UserInfo("alice", ("devs", "system:authenticated"))
BOB = UserInfo("bob", ("system:authenticated",))


def role(ns: str, name: str, *rules: dict) -> dict:
    return {"kind": "Role", "metadata": {"namespace": ns, "name": name}, "rules": list(rules)}


def cluster_role(name: str, *rules: dict, labels: dict | None = None, aggregate: dict | None = None) -> dict:
    obj = {"kind": "ClusterRole", "metadata": {"name": name, "labels": labels or {}}, "rules": list(rules)}
    if aggregate is not None:
        obj["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": aggregate}]}
    return obj


def subject(kind: str, name: str, namespace: str | None = None) -> dict:
    s = {"kind": kind, "name": name}
    if namespace:
        s["namespace"] = namespace
    return s


def role_binding(ns: str, name: str, ref_kind: str, ref_name: str, *subjects: dict) -> dict:
    return {"kind": "RoleBinding", "metadata": {"namespace": ns, "name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": ref_kind, "name": ref_name},
            "subjects": list(subjects)}


def cluster_role_binding(name: str, ref_name: str, *subjects: dict) -> dict:
    return {"kind": "ClusterRoleBinding", "metadata": {"name": name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": ref_name},
            "subjects": list(subjects)}


def r(verbs, groups=("",), resources=(), names=()) -> dict:
    out = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        out["resourceNames"] = list(names)
    return out


def can(authorizer: RBACAuthorizer, user: UserInfo, method: str, path: str, query: str = "") -> bool:
    return authorizer.authorize(request_attributes(method, path, query, user))[0]


@pytest.fixture
def authz() -> RBACAuthorizer:
    return RBACAuthorizer()


def test_nothing_is_allowed_without_bindings(authz: RBACAuthorizer) -> None:
    assert authz.authorize(request_attributes("GET", "/api/v1/pods", "", ALICE)) == (False, "")


def test_namespaced_role_and_binding(authz: RBACAuthorizer) -> None:
    load(authz, role("team-a", "pod-reader", r(["get", "list", "watch"], resources=["pods"])),
         role_binding("team-a", "read-pods", "Role", "pod-reader", subject("User", "alice")))
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/team-a/pods")
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/team-a/pods/p1")
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/team-a/pods", "watch=1")
    assert not can(authz, ALICE, "POST", "/api/v1/namespaces/team-a/pods")
    assert not can(authz, ALICE, "DELETE", "/api/v1/namespaces/team-a/pods/p1")
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/team-b/pods")
    assert not can(authz, ALICE, "GET", "/api/v1/pods")                       # all namespaces
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/team-a/secrets")
    assert not can(authz, BOB, "GET", "/api/v1/namespaces/team-a/pods")
    allowed, reason = authz.authorize(request_attributes("GET", "/api/v1/namespaces/team-a/pods", "", ALICE))
    assert allowed
    assert reason == 'RBAC: allowed by RoleBinding "read-pods/team-a" of Role "pod-reader" to User "alice"'


def test_role_binding_to_a_role_of_another_namespace_grants_nothing(authz: RBACAuthorizer) -> None:
    load(authz, role("team-b", "pod-reader", r(["get"], resources=["pods"])),
         role_binding("team-a", "read-pods", "Role", "pod-reader", subject("User", "alice")))
    allowed, reason = authz.authorize(request_attributes("GET", "/api/v1/namespaces/team-a/pods/p", "", ALICE))
    assert not allowed
    assert reason == 'RBAC: role.rbac.authorization.k8s.io "pod-reader" not found'


def test_cluster_role_through_role_binding_is_limited_to_that_namespace(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("secret-reader", r(["get", "list"], resources=["secrets"])),
         role_binding("team-a", "read-secrets", "ClusterRole", "secret-reader", subject("Group", "devs")))
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/team-a/secrets/s")
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/team-b/secrets/s")
    assert not can(authz, ALICE, "GET", "/api/v1/secrets")


def test_cluster_role_binding_grants_everywhere(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("node-reader", r(["get", "list", "watch"], resources=["nodes", "pods"])),
         cluster_role_binding("read-nodes", "node-reader", subject("Group", "devs")))
    assert can(authz, ALICE, "GET", "/api/v1/nodes")
    assert can(authz, ALICE, "GET", "/api/v1/nodes/n1")
    assert can(authz, ALICE, "GET", "/api/v1/pods")
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/anything/pods")
    assert not can(authz, ALICE, "PUT", "/api/v1/nodes/n1")
    assert not can(authz, BOB, "GET", "/api/v1/nodes")


def test_resource_names_restrict_to_named_objects_and_never_match_create(authz: RBACAuthorizer) -> None:
    load(authz, role("a", "one-cm", r(["get", "update", "create", "list"], resources=["configmaps"], names=["app-config"])),
         role_binding("a", "b", "Role", "one-cm", subject("User", "alice")))
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/a/configmaps/app-config")
    assert can(authz, ALICE, "PUT", "/api/v1/namespaces/a/configmaps/app-config")
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/a/configmaps/other")
    assert not can(authz, ALICE, "POST", "/api/v1/namespaces/a/configmaps")
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/a/configmaps")
    # ...but a list pinned to the name by a field selector is a request for that name.
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/a/configmaps", "fieldSelector=metadata.name%3Dapp-config")


def test_subresources_need_their_own_rule(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("status-writer", r(["update", "patch"], resources=["pods/status"]),
                             r(["get"], resources=["pods"])),
         cluster_role_binding("b", "status-writer", subject("User", "alice")))
    assert can(authz, ALICE, "PUT", "/api/v1/namespaces/a/pods/p/status")
    assert not can(authz, ALICE, "PUT", "/api/v1/namespaces/a/pods/p")
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/a/pods/p")
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/a/pods/p/log")


def test_star_slash_subresource_matches_that_subresource_of_any_resource(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("scaler", r(["get", "update"], groups=["*"], resources=["*/scale"])),
         cluster_role_binding("b", "scaler", subject("User", "alice")))
    assert can(authz, ALICE, "PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale")
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/a/replicationcontrollers/rc/scale")
    assert not can(authz, ALICE, "GET", "/apis/apps/v1/namespaces/a/deployments/d")
    assert not can(authz, ALICE, "PUT", "/apis/apps/v1/namespaces/a/deployments/d/status")


def test_wildcards(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("apps-all", r(["*"], groups=["apps"], resources=["*"])),
         cluster_role("any-group-pods", r(["get"], groups=["*"], resources=["pods"])),
         cluster_role_binding("b1", "apps-all", subject("User", "alice")),
         cluster_role_binding("b2", "any-group-pods", subject("User", "bob")))
    assert can(authz, ALICE, "DELETE", "/apis/apps/v1/namespaces/a/deployments")
    assert can(authz, ALICE, "PUT", "/apis/apps/v1/namespaces/a/deployments/d/scale")
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/a/pods")
    assert can(authz, BOB, "GET", "/api/v1/namespaces/a/pods/p")
    assert not can(authz, BOB, "GET", "/api/v1/namespaces/a/pods/p/log")  # "pods" is not "pods/log"
    assert not can(authz, BOB, "GET", "/api/v1/namespaces/a/pods")        # list is not get


def test_api_group_must_match(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("core-deploys", r(["get"], groups=[""], resources=["deployments"])),
         cluster_role_binding("b", "core-deploys", subject("User", "alice")))
    assert not can(authz, ALICE, "GET", "/apis/apps/v1/namespaces/a/deployments/d")


def test_non_resource_urls(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("urls", {"verbs": ["get"], "nonResourceURLs": ["/healthz", "/logs/*", "/version"]}),
         cluster_role("all-urls", {"verbs": ["*"], "nonResourceURLs": ["*"]}),
         cluster_role_binding("b1", "urls", subject("User", "alice")),
         cluster_role_binding("b2", "all-urls", subject("User", "bob")))
    assert can(authz, ALICE, "GET", "/healthz")
    assert can(authz, ALICE, "GET", "/version")
    assert can(authz, ALICE, "GET", "/logs/kube-apiserver.log")
    assert can(authz, ALICE, "GET", "/logs/")
    assert not can(authz, ALICE, "GET", "/logs")           # "/logs/*" is the prefix "/logs/"
    assert not can(authz, ALICE, "GET", "/healthz/etcd")
    assert not can(authz, ALICE, "POST", "/healthz")
    assert not can(authz, ALICE, "GET", "/metrics")
    assert can(authz, BOB, "POST", "/anything/at/all")
    # A resource rule never grants a non-resource path, nor the other way round.
    assert not can(authz, BOB, "GET", "/api/v1/pods")


def test_service_account_subjects(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("pod-lister", r(["list"], resources=["pods"])),
         role_binding("a", "b1", "ClusterRole", "pod-lister", subject("ServiceAccount", "builder")),
         cluster_role_binding("b2", "pod-lister", subject("ServiceAccount", "ctrl", "kube-system")))
    in_a = UserInfo("system:serviceaccount:a:builder")
    in_other = UserInfo("system:serviceaccount:other:builder")
    ctrl = UserInfo("system:serviceaccount:kube-system:ctrl")
    assert can(authz, in_a, "GET", "/api/v1/namespaces/a/pods")     # namespace defaults to the binding's
    assert not can(authz, in_other, "GET", "/api/v1/namespaces/a/pods")
    assert can(authz, ctrl, "GET", "/api/v1/pods")
    _, reason = authz.authorize(request_attributes("GET", "/api/v1/pods", "", ctrl))
    assert reason == 'RBAC: allowed by ClusterRoleBinding "b2" of ClusterRole "pod-lister" to ServiceAccount "ctrl/kube-system"'


def test_updates_and_deletes_change_decisions(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("reader", r(["get"], resources=["pods"])),
         cluster_role_binding("b", "reader", subject("User", "alice")))
    path = "/api/v1/namespaces/a/pods/p"
    assert can(authz, ALICE, "GET", path)
    # MODIFIED binding moves the grant from alice to bob: the index forgets alice.
    authz.update("clusterrolebindings", "MODIFIED", cluster_role_binding("b", "reader", subject("User", "bob")))
    assert not can(authz, ALICE, "GET", path) and can(authz, BOB, "GET", path)
    # MODIFIED role widens the rules.
    authz.update("clusterroles", "MODIFIED", cluster_role("reader", r(["get", "delete"], resources=["pods"])))
    assert can(authz, BOB, "DELETE", path)
    # DELETED role leaves the binding dangling: denied, with the reason k8s gives.
    authz.update("clusterroles", "DELETED", cluster_role("reader"))
    allowed, reason = authz.authorize(request_attributes("GET", path, "", BOB))
    assert not allowed and reason == 'RBAC: clusterrole.rbac.authorization.k8s.io "reader" not found'
    authz.update("clusterrolebindings", "DELETED", cluster_role_binding("b", "reader"))
    assert authz.authorize(request_attributes("GET", path, "", BOB)) == (False, "")


def test_role_binding_updates_and_relist(authz: RBACAuthorizer) -> None:
    load(authz, role("a", "reader", r(["get"], resources=["pods"])),
         role_binding("a", "b", "Role", "reader", subject("User", "alice")))
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/a/pods/p")
    authz.update("rolebindings", "DELETED", role_binding("a", "b", "Role", "reader"))
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/a/pods/p")
    authz.replace("rolebindings", [role_binding("a", "b2", "Role", "reader", subject("Group", "devs"))])
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/a/pods/p")
    authz.replace("rolebindings", [])
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/a/pods/p")


def test_unknown_resource_kind_is_refused(authz: RBACAuthorizer) -> None:
    with pytest.raises(ValueError):
        authz.update("pods", "ADDED", {"metadata": {"name": "p"}})


def test_aggregated_cluster_roles(authz: RBACAuthorizer) -> None:
    load(authz,
         cluster_role("monitoring", aggregate={"example.com/aggregate-to-monitoring": "true"}),
         cluster_role("monitoring-endpoints", r(["get", "list"], resources=["endpoints"]),
                      labels={"example.com/aggregate-to-monitoring": "true"}),
         cluster_role_binding("b", "monitoring", subject("User", "alice")))
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/a/endpoints")
    assert not can(authz, ALICE, "GET", "/api/v1/namespaces/a/services")
    # A new role with the label joins the aggregate at once.
    authz.update("clusterroles", "ADDED", cluster_role(
        "monitoring-services", r(["get", "list"], resources=["services"]),
        labels={"example.com/aggregate-to-monitoring": "true"}))
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/a/services")


def test_aggregation_with_match_expressions_and_cycles(authz: RBACAuthorizer) -> None:
    a = cluster_role("a", r(["get"], resources=["pods"]), labels={"agg": "b"}, aggregate={"agg": "a"})
    b = cluster_role("b", r(["get"], resources=["nodes"]), labels={"agg": "a"}, aggregate={"agg": "b"})
    c = cluster_role("c", r(["get"], resources=["secrets"]), labels={"tier": "x"})
    c_selector = {"kind": "ClusterRole", "metadata": {"name": "d"},
                  "aggregationRule": {"clusterRoleSelectors": [
                      {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["x", "y"]}]}]}}
    load(authz, a, b, c, c_selector,
         cluster_role_binding("ba", "a", subject("User", "alice")),
         cluster_role_binding("bd", "d", subject("User", "bob")))
    assert can(authz, ALICE, "GET", "/api/v1/nodes/n")          # through b, despite the cycle
    assert can(authz, ALICE, "GET", "/api/v1/namespaces/x/pods/p")
    assert can(authz, BOB, "GET", "/api/v1/namespaces/x/secrets/s")
    assert not can(authz, BOB, "GET", "/api/v1/nodes/n")


def test_system_masters_are_always_allowed_unless_disabled() -> None:
    root = UserInfo("root", ("system:masters", "system:authenticated"))
    assert can(RBACAuthorizer(), root, "DELETE", "/api/v1/namespaces/kube-system")
    assert not can(RBACAuthorizer(privileged_groups=()), root, "DELETE", "/api/v1/namespaces/kube-system")


def test_rules_for_lists_rules_of_cluster_and_namespace_bindings(authz: RBACAuthorizer) -> None:
    load(authz, cluster_role("global", r(["get"], resources=["nodes"]), {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}),
         role("a", "local", r(["list"], resources=["pods"], names=["x"])),
         cluster_role_binding("g", "global", subject("Group", "devs")),
         role_binding("a", "l", "Role", "local", subject("User", "alice")),
         role_binding("a", "dangling", "Role", "missing", subject("User", "alice")))
    review = authz.rules_for(ALICE, "a")
    assert {"verbs": ["get"], "apiGroups": [""], "resources": ["nodes"]} in review.resource_rules
    assert {"verbs": ["list"], "apiGroups": [""], "resources": ["pods"], "resourceNames": ["x"]} in review.resource_rules
    assert review.non_resource_rules == ({"verbs": ["get"], "nonResourceURLs": ["/healthz"]},)
    assert review.incomplete and "missing" in review.evaluation_error
    other = authz.rules_for(ALICE, "b")
    assert not any(rule["resources"] == ["pods"] for rule in other.resource_rules)
    status = other.to_status()
    assert status["incomplete"] is False and status["nonResourceRules"]


def test_rules_for_system_masters_is_everything() -> None:
    review = RBACAuthorizer().rules_for(UserInfo("root", ("system:masters",)), "a")
    assert {"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]} in review.resource_rules


# -- messages ------------------------------------------------------------------------------


@pytest.mark.parametrize("method, path, message", [
    ("GET", "/api/v1/namespaces/y/pods",
     'pods is forbidden: User "x" cannot list resource "pods" in API group "" in the namespace "y"'),
    ("GET", "/api/v1/namespaces/y/pods/p",
     'pods "p" is forbidden: User "x" cannot get resource "pods" in API group "" in the namespace "y"'),
    ("GET", "/api/v1/nodes",
     'nodes is forbidden: User "x" cannot list resource "nodes" in API group "" at the cluster scope'),
    ("PUT", "/apis/apps/v1/namespaces/y/deployments/d/scale",
     'deployments.apps "d" is forbidden: User "x" cannot update resource "deployments/scale" '
     'in API group "apps" in the namespace "y"'),
    ("GET", "/metrics", 'forbidden: User "x" cannot get path "/metrics"'),
])
def test_forbidden_messages_match_kubernetes(method: str, path: str, message: str) -> None:
    attrs = request_attributes(method, path, "", UserInfo("x"))
    assert forbidden_message(attrs) == message


def test_forbidden_status_object() -> None:
    attrs = request_attributes("PUT", "/apis/apps/v1/namespaces/y/deployments/d", "", UserInfo("x"))
    status = forbidden_status(attrs, 'RBAC: clusterrole.rbac.authorization.k8s.io "r" not found')
    assert status["code"] == 403 and status["reason"] == "Forbidden" and status["kind"] == "Status"
    assert status["details"] == {"name": "d", "group": "apps", "kind": "deployments"}
    assert status["message"].endswith(': RBAC: clusterrole.rbac.authorization.k8s.io "r" not found')


def test_request_attributes_are_hashable_values() -> None:
    a = RequestAttributes(UserInfo("x"), "get", True, resource="pods")
    assert a == RequestAttributes(UserInfo("x"), "get", True, resource="pods")
    assert len({a, a}) == 1
