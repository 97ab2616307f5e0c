"""The bootstrap policy lets every component do its job, and no more than Kubernetes allows."""
from __future__ import annotations

from pykube_plane.apiserver.auth.authn import UserInfo, service_account_user
from pykube_plane.apiserver.auth.bootstrap_policy import CONTROLLER_NAMES, bootstrap_objects
from pykube_plane.apiserver.auth.rbac import RBACAuthorizer, request_attributes

from .conftest import load

AUTH = "system:authenticated"
ADMIN = UserInfo("kubernetes-admin", ("system:masters", AUTH))
SCHEDULER = UserInfo("system:kube-scheduler", (AUTH,))
CONTROLLER_MANAGER = UserInfo("system:kube-controller-manager", (AUTH,))
NODE = UserInfo("system:node:n1", ("system:nodes", AUTH))
NOBODY = UserInfo("nobody", (AUTH,))


def can(authz: RBACAuthorizer, user: UserInfo, method: str, path: str, query: str = "") -> bool:
    return authz.authorize(request_attributes(method, path, query, user))[0]


def test_objects_are_labelled_and_annotated_like_kubernetes() -> None:
    objects = bootstrap_objects()
    names = {(o["kind"], o["metadata"]["name"]) for o in objects}
    for role in ("cluster-admin", "admin", "edit", "view", "system:discovery", "system:basic-user",
                 "system:public-info-viewer", "system:kube-scheduler", "system:kube-controller-manager",
                 "system:node", "system:volume-scheduler", "system:controller:replicaset-controller"):
        assert ("ClusterRole", role) in names, role
    for binding in ("cluster-admin", "system:discovery", "system:basic-user", "system:kube-scheduler",
                    "system:kube-controller-manager", "system:node", "system:public-info-viewer"):
        assert ("ClusterRoleBinding", binding) in names, binding
    assert len(names) == len(objects)  # no duplicates
    for obj in objects:
        assert obj["apiVersion"] == "rbac.authorization.k8s.io/v1"
        assert obj["metadata"]["labels"]["kubernetes.io/bootstrapping"] == "rbac-defaults"
        assert obj["metadata"]["annotations"] == {"rbac.authorization.kubernetes.io/autoupdate": "true"}
    # Roles come before the bindings that point at them.
    kinds = [o["kind"] for o in objects]
    assert kinds == sorted(kinds, key=lambda k: k == "ClusterRoleBinding")


def test_cluster_admin_binds_system_masters() -> None:
    binding = next(o for o in bootstrap_objects()
                   if o["kind"] == "ClusterRoleBinding" and o["metadata"]["name"] == "cluster-admin")
    assert binding["roleRef"] == {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole",
                                  "name": "cluster-admin"}
    assert binding["subjects"] == [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group",
                                    "name": "system:masters"}]


def test_each_call_returns_fresh_objects() -> None:
    first = bootstrap_objects()
    first[0]["rules"].clear()
    assert bootstrap_objects()[0]["rules"]


def test_aggregated_roles_carry_the_union_of_their_parts() -> None:
    roles = {o["metadata"]["name"]: o for o in bootstrap_objects() if o["kind"] == "ClusterRole"}
    view, edit, admin = roles["view"]["rules"], roles["edit"]["rules"], roles["admin"]["rules"]
    assert all(rule in edit for rule in view)
    assert all(rule in admin for rule in edit)
    assert all(rule in view for rule in roles["system:aggregate-to-view"]["rules"])
    assert len(view) < len(edit) < len(admin)


def test_system_masters_can_do_anything(bootstrapped: RBACAuthorizer) -> None:
    for method, path in [("DELETE", "/api/v1/namespaces/kube-system/secrets"),
                         ("POST", "/apis/rbac.authorization.k8s.io/v1/clusterroles"),
                         ("PUT", "/api/v1/nodes/n1/status"), ("GET", "/metrics"),
                         ("PATCH", "/apis/apps/v1/namespaces/a/deployments/d/scale")]:
        assert can(bootstrapped, ADMIN, method, path), (method, path)


def test_scheduler_binds_pods_and_reads_what_it_schedules_by(bootstrapped: RBACAuthorizer) -> None:
    assert can(bootstrapped, SCHEDULER, "POST", "/api/v1/namespaces/a/pods/p/binding")
    assert can(bootstrapped, SCHEDULER, "GET", "/api/v1/pods", "watch=true")
    assert can(bootstrapped, SCHEDULER, "GET", "/api/v1/nodes")
    assert can(bootstrapped, SCHEDULER, "PATCH", "/api/v1/namespaces/a/pods/p/status")
    assert can(bootstrapped, SCHEDULER, "DELETE", "/api/v1/namespaces/a/pods/p")  # preemption
    assert can(bootstrapped, SCHEDULER, "POST", "/api/v1/namespaces/a/events")
    assert can(bootstrapped, SCHEDULER, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-scheduler")
    assert not can(bootstrapped, SCHEDULER, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/other")
    assert not can(bootstrapped, SCHEDULER, "POST", "/api/v1/namespaces/a/pods")
    assert not can(bootstrapped, SCHEDULER, "GET", "/api/v1/namespaces/a/secrets/s")
    assert not can(bootstrapped, SCHEDULER, "PUT", "/api/v1/nodes/n1")


def test_nodes_register_and_update_their_status(bootstrapped: RBACAuthorizer) -> None:
    assert can(bootstrapped, NODE, "POST", "/api/v1/nodes")
    assert can(bootstrapped, NODE, "PUT", "/api/v1/nodes/n1/status")
    assert can(bootstrapped, NODE, "PATCH", "/api/v1/nodes/n1/status")
    assert can(bootstrapped, NODE, "GET", "/api/v1/pods", "fieldSelector=spec.nodeName%3Dn1&watch=1")
    assert can(bootstrapped, NODE, "PATCH", "/api/v1/namespaces/a/pods/p/status")
    assert can(bootstrapped, NODE, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1")
    assert can(bootstrapped, NODE, "POST", "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases")
    assert not can(bootstrapped, NODE, "DELETE", "/api/v1/nodes/n1")
    assert not can(bootstrapped, NODE, "POST", "/api/v1/namespaces/a/pods/p/binding")
    assert not can(bootstrapped, NODE, "POST", "/apis/apps/v1/namespaces/a/deployments")


def test_controller_manager_runs_its_loops(bootstrapped: RBACAuthorizer) -> None:
    cm = CONTROLLER_MANAGER
    assert can(bootstrapped, cm, "GET", "/apis/apps/v1/replicasets", "watch=1")  # list/watch everything
    assert can(bootstrapped, cm, "POST", "/api/v1/namespaces/a/pods")            # replicaset controller
    assert can(bootstrapped, cm, "PUT", "/apis/apps/v1/namespaces/a/replicasets/r/status")
    assert can(bootstrapped, cm, "POST", "/apis/apps/v1/namespaces/a/replicasets")  # deployment controller
    assert can(bootstrapped, cm, "PUT", "/apis/apps/v1/namespaces/a/deployments/d/status")
    assert can(bootstrapped, cm, "PUT", "/api/v1/namespaces/a/endpoints/svc")
    assert can(bootstrapped, cm, "DELETE", "/api/v1/namespaces/a/configmaps")    # namespace controller
    assert can(bootstrapped, cm, "PUT", "/api/v1/namespaces/a/finalize")
    assert can(bootstrapped, cm, "PATCH", "/apis/apps/v1/namespaces/a/replicasets/r")  # garbage collector
    assert can(bootstrapped, cm, "PATCH", "/api/v1/nodes/n1/status")              # node lifecycle
    assert can(bootstrapped, cm, "PATCH", "/api/v1/nodes/n1")                     # taints
    assert can(bootstrapped, cm, "PUT", "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kube-controller-manager")
    assert not can(bootstrapped, cm, "POST", "/apis/rbac.authorization.k8s.io/v1/clusterrolebindings")
    assert not can(bootstrapped, cm, "POST", "/api/v1/namespaces/a/pods/p/binding")


def test_controller_roles_are_bound_to_their_service_accounts_too(bootstrapped: RBACAuthorizer) -> None:
    rs = service_account_user("kube-system", "replicaset-controller")
    assert can(bootstrapped, rs, "POST", "/api/v1/namespaces/a/pods")
    assert not can(bootstrapped, rs, "POST", "/apis/apps/v1/namespaces/a/deployments")
    assert "replicaset-controller" in CONTROLLER_NAMES
    strict = load(RBACAuthorizer(privileged_groups=()), *bootstrap_objects(controller_manager_user=None))
    assert not can(strict, CONTROLLER_MANAGER, "POST", "/api/v1/namespaces/a/pods")
    assert can(strict, rs, "POST", "/api/v1/namespaces/a/pods")


def test_every_authenticated_user_discovers_and_reviews_itself(bootstrapped: RBACAuthorizer) -> None:
    for path in ("/api", "/api/v1", "/apis", "/apis/apps/v1", "/version", "/healthz", "/openapi/v2"):
        assert can(bootstrapped, NOBODY, "GET", path), path
    assert can(bootstrapped, NOBODY, "POST", "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews")
    assert can(bootstrapped, NOBODY, "POST", "/apis/authorization.k8s.io/v1/selfsubjectrulesreviews")
    assert not can(bootstrapped, NOBODY, "GET", "/metrics")
    assert not can(bootstrapped, NOBODY, "GET", "/api/v1/namespaces/default/pods")
    assert not can(bootstrapped, NOBODY, "GET", "/api/v1/namespaces")


def test_view_edit_admin_through_role_bindings(bootstrapped: RBACAuthorizer) -> None:
    def bind(name: str, role: str, user: str) -> dict:
        return {"kind": "RoleBinding", "metadata": {"namespace": "team", "name": name},
                "roleRef": {"kind": "ClusterRole", "name": role},
                "subjects": [{"kind": "User", "name": user}]}
    load(bootstrapped, bind("v", "view", "viewer"), bind("e", "edit", "editor"), bind("a", "admin", "owner"))
    viewer, editor, owner = (UserInfo(n, (AUTH,)) for n in ("viewer", "editor", "owner"))
    assert can(bootstrapped, viewer, "GET", "/api/v1/namespaces/team/pods")
    assert can(bootstrapped, viewer, "GET", "/apis/apps/v1/namespaces/team/deployments/d")
    assert not can(bootstrapped, viewer, "GET", "/api/v1/namespaces/team/secrets/s")
    assert not can(bootstrapped, viewer, "POST", "/api/v1/namespaces/team/pods")
    assert can(bootstrapped, editor, "POST", "/api/v1/namespaces/team/pods")
    assert can(bootstrapped, editor, "GET", "/api/v1/namespaces/team/secrets/s")
    assert can(bootstrapped, editor, "PUT", "/apis/apps/v1/namespaces/team/deployments/d/scale")
    assert not can(bootstrapped, editor, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings")
    assert can(bootstrapped, owner, "POST", "/apis/rbac.authorization.k8s.io/v1/namespaces/team/rolebindings")
    assert not can(bootstrapped, owner, "GET", "/api/v1/namespaces/other/pods")
