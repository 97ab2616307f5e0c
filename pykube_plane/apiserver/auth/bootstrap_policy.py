"""The RBAC objects an API server creates at first start (k8s' bootstrappolicy).

The roles and bindings are Kubernetes' own (plugin/pkg/auth/authorizer/rbac/bootstrappolicy,
policy.go and controller_policy.go), limited to the ones this control plane's components and
users need; rules for APIs no part of kplane serves or plans to (dynamic resource allocation,
resource.k8s.io) are left out of the roles that have them. Two deliberate differences, both because pieces of kube-apiserver are absent here:

- `system:node` is bound to the group `system:nodes`, as Kubernetes did before the Node
  authorizer existed (today its binding has no subjects and the Node authorizer grants nodes).
- each `system:controller:<name>` binding names the controller's service account (as k8s does
  with --use-service-account-credentials) and also the user `system:kube-controller-manager`,
  because kplane's controller manager runs every loop under its own credential — the setup
  Kubernetes documents as "grant that credential all the controller roles".

Aggregated roles (admin, edit, view) carry their aggregationRule and, like a cluster whose
aggregation controller has run, the union of the rules they aggregate.
"""
from __future__ import annotations

import copy
from typing import Any, Sequence

from pykube_plane.apiserver.auth.authn import (
    ALL_AUTHENTICATED,
    ALL_UNAUTHENTICATED,
    KUBE_CONTROLLER_MANAGER,
    KUBE_PROXY,
    KUBE_SCHEDULER,
    NODES_GROUP,
    SYSTEM_PRIVILEGED_GROUP,
)

RBAC_API_VERSION = "rbac.authorization.k8s.io/v1"
BOOTSTRAP_LABELS = {"kubernetes.io/bootstrapping": "rbac-defaults"}
AUTOUPDATE_ANNOTATIONS = {"rbac.authorization.kubernetes.io/autoupdate": "true"}
AGGREGATE_TO_ADMIN = "rbac.authorization.k8s.io/aggregate-to-admin"
AGGREGATE_TO_EDIT = "rbac.authorization.k8s.io/aggregate-to-edit"
AGGREGATE_TO_VIEW = "rbac.authorization.k8s.io/aggregate-to-view"
CONTROLLER_NAMESPACE = "kube-system"

READ = ["get", "list", "watch"]
READ_WRITE = ["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"]
WRITE = ["create", "delete", "deletecollection", "patch", "update"]

LEGACY = ""
APPS = "apps"
BATCH = "batch"
EXTENSIONS = "extensions"
AUTHENTICATION = "authentication.k8s.io"
AUTHORIZATION = "authorization.k8s.io"
COORDINATION = "coordination.k8s.io"
STORAGE = "storage.k8s.io"
EVENTS = "events.k8s.io"
POLICY = "policy"
NETWORKING = "networking.k8s.io"
AUTOSCALING = "autoscaling"
DISCOVERY = "discovery.k8s.io"
CERTIFICATES = "certificates.k8s.io"
NODE = "node.k8s.io"


def rule(verbs: Sequence[str], groups: Sequence[str], resources: Sequence[str],
         names: Sequence[str] = ()) -> dict[str, Any]:
    out: dict[str, Any] = {"verbs": list(verbs), "apiGroups": list(groups), "resources": list(resources)}
    if names:
        out["resourceNames"] = list(names)
    return out


def url_rule(verbs: Sequence[str], urls: Sequence[str]) -> dict[str, Any]:
    return {"verbs": list(verbs), "nonResourceURLs": list(urls)}


def events_rule() -> dict[str, Any]:
    return rule(["create", "patch", "update"], [LEGACY, EVENTS], ["events"])


def _meta(name: str, labels: dict[str, str] | None = None) -> dict[str, Any]:
    return {"name": name, "labels": {**BOOTSTRAP_LABELS, **(labels or {})},
            "annotations": dict(AUTOUPDATE_ANNOTATIONS)}


def cluster_role(name: str, rules: list[dict[str, Any]], labels: dict[str, str] | None = None,
                 aggregate_from: str | None = None) -> dict[str, Any]:
    role: dict[str, Any] = {"apiVersion": RBAC_API_VERSION, "kind": "ClusterRole",
                            "metadata": _meta(name, labels)}
    if aggregate_from is not None:
        role["aggregationRule"] = {"clusterRoleSelectors": [{"matchLabels": {aggregate_from: "true"}}]}
    role["rules"] = rules
    return role


def cluster_role_binding(name: str, role: str, users: Sequence[str] = (), groups: Sequence[str] = (),
                         service_accounts: Sequence[tuple[str, str]] = ()) -> dict[str, Any]:
    subjects: list[dict[str, str]] = []
    subjects += [{"kind": "ServiceAccount", "name": sa, "namespace": ns} for ns, sa in service_accounts]
    subjects += [{"apiGroup": "rbac.authorization.k8s.io", "kind": "User", "name": u} for u in users]
    subjects += [{"apiGroup": "rbac.authorization.k8s.io", "kind": "Group", "name": g} for g in groups]
    return {"apiVersion": RBAC_API_VERSION, "kind": "ClusterRoleBinding", "metadata": _meta(name),
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": role},
            "subjects": subjects}


# ---------------------------------------------------------------------------------------------
# ClusterRoles (policy.go)


def _cluster_roles() -> list[dict[str, Any]]:
    return [
        cluster_role("cluster-admin", [rule(["*"], ["*"], ["*"]), url_rule(["*"], ["*"])]),
        cluster_role("system:discovery", [url_rule(["get"], [
            "/api", "/api/*", "/apis", "/apis/*", "/healthz", "/livez", "/openapi", "/openapi/*",
            "/readyz", "/version", "/version/"])]),
        cluster_role("system:monitoring", [
            url_rule(["get"], ["/healthz", "/healthz/*", "/livez", "/livez/*", "/metrics",
                               "/metrics/slis", "/readyz", "/readyz/*"]),
            rule(["get"], [LEGACY], ["nodes/metrics"]),
        ]),
        cluster_role("system:basic-user", [
            rule(["create"], [AUTHORIZATION], ["selfsubjectaccessreviews", "selfsubjectrulesreviews"]),
            rule(["create"], [AUTHENTICATION], ["selfsubjectreviews"]),
        ]),
        cluster_role("system:public-info-viewer", [url_rule(["get"], [
            "/healthz", "/livez", "/readyz", "/version", "/version/"])]),

        cluster_role("admin", [], aggregate_from=AGGREGATE_TO_ADMIN),
        cluster_role("edit", [], labels={AGGREGATE_TO_ADMIN: "true"}, aggregate_from=AGGREGATE_TO_EDIT),
        cluster_role("view", [], labels={AGGREGATE_TO_EDIT: "true"}, aggregate_from=AGGREGATE_TO_VIEW),
        cluster_role("system:aggregate-to-admin", [
            rule(["create"], [AUTHORIZATION], ["localsubjectaccessreviews"]),
            rule(READ_WRITE, ["rbac.authorization.k8s.io"], ["rolebindings", "roles"]),
        ], labels={AGGREGATE_TO_ADMIN: "true"}),
        cluster_role("system:aggregate-to-edit", [
            rule(READ, [LEGACY], ["pods/attach", "pods/exec", "pods/portforward", "pods/proxy",
                                  "secrets", "services/proxy"]),
            rule(["impersonate"], [LEGACY], ["serviceaccounts"]),
            rule(WRITE, [LEGACY], ["pods", "pods/attach", "pods/exec", "pods/portforward", "pods/proxy"]),
            rule(["create"], [LEGACY], ["pods/eviction"]),
            rule(WRITE, [LEGACY], ["configmaps", "persistentvolumeclaims", "replicationcontrollers",
                                   "replicationcontrollers/scale", "secrets", "serviceaccounts",
                                   "services", "services/proxy"]),
            rule(["create"], [LEGACY], ["serviceaccounts/token"]),
            rule(WRITE, [LEGACY, EVENTS], ["events"]),
            rule(WRITE, [APPS], ["daemonsets", "deployments", "deployments/rollback",
                                 "deployments/scale", "replicasets", "replicasets/scale",
                                 "statefulsets", "statefulsets/scale"]),
            rule(WRITE, [AUTOSCALING], ["horizontalpodautoscalers"]),
            rule(WRITE, [BATCH], ["cronjobs", "jobs"]),
            rule(WRITE, [EXTENSIONS], ["daemonsets", "deployments", "deployments/rollback",
                                       "deployments/scale", "ingresses", "networkpolicies",
                                       "replicasets", "replicasets/scale", "replicationcontrollers/scale"]),
            rule(WRITE, [POLICY], ["poddisruptionbudgets"]),
            rule(WRITE, [NETWORKING], ["ingresses", "networkpolicies"]),
            rule(READ_WRITE, [COORDINATION], ["leases"]),
        ], labels={AGGREGATE_TO_EDIT: "true"}),
        cluster_role("system:aggregate-to-view", [
            rule(READ, [LEGACY], ["configmaps", "endpoints", "persistentvolumeclaims",
                                  "persistentvolumeclaims/status", "pods", "replicationcontrollers",
                                  "replicationcontrollers/scale", "serviceaccounts", "services",
                                  "services/status"]),
            rule(READ, [LEGACY], ["bindings", "limitranges", "namespaces/status", "pods/log",
                                  "pods/status", "replicationcontrollers/status", "resourcequotas",
                                  "resourcequotas/status"]),
            rule(READ, [LEGACY], ["namespaces"]),
            rule(READ, [LEGACY, EVENTS], ["events"]),
            rule(READ, [DISCOVERY], ["endpointslices"]),
            rule(READ, [APPS], ["controllerrevisions", "daemonsets", "daemonsets/status",
                                "deployments", "deployments/scale", "deployments/status",
                                "replicasets", "replicasets/scale", "replicasets/status",
                                "statefulsets", "statefulsets/scale", "statefulsets/status"]),
            rule(READ, [AUTOSCALING], ["horizontalpodautoscalers", "horizontalpodautoscalers/status"]),
            rule(READ, [BATCH], ["cronjobs", "cronjobs/status", "jobs", "jobs/status"]),
            rule(READ, [EXTENSIONS], ["daemonsets", "daemonsets/status", "deployments",
                                      "deployments/scale", "deployments/status", "ingresses",
                                      "ingresses/status", "networkpolicies", "replicasets",
                                      "replicasets/scale", "replicasets/status",
                                      "replicationcontrollers/scale"]),
            rule(READ, [POLICY], ["poddisruptionbudgets", "poddisruptionbudgets/status"]),
            rule(READ, [NETWORKING], ["ingresses", "ingresses/status", "networkpolicies"]),
        ], labels={AGGREGATE_TO_VIEW: "true"}),

        cluster_role("system:auth-delegator", [
            rule(["create"], [AUTHENTICATION], ["tokenreviews"]),
            rule(["create"], [AUTHORIZATION], ["subjectaccessreviews"]),
        ]),
        cluster_role("system:node", [
            rule(["create"], [AUTHENTICATION], ["tokenreviews"]),
            rule(["create"], [AUTHORIZATION], ["localsubjectaccessreviews", "subjectaccessreviews"]),
            rule(READ, [LEGACY], ["services"]),
            rule(["create", "get", "list", "watch"], [LEGACY], ["nodes"]),
            rule(["patch", "update"], [LEGACY], ["nodes/status"]),
            rule(["patch", "update"], [LEGACY], ["nodes"]),
            events_rule(),
            rule(READ, [LEGACY], ["pods"]),
            rule(["create", "delete"], [LEGACY], ["pods"]),
            rule(["patch", "update"], [LEGACY], ["pods/status"]),
            rule(["create"], [LEGACY], ["pods/eviction"]),
            rule(READ, [LEGACY], ["configmaps", "secrets"]),
            rule(["get"], [LEGACY], ["persistentvolumeclaims", "persistentvolumes"]),
            rule(["get"], [LEGACY], ["endpoints"]),
            rule(["create", "get", "list", "watch"], [CERTIFICATES], ["certificatesigningrequests"]),
            rule(["create", "delete", "get", "patch", "update"], [COORDINATION], ["leases"]),
            rule(["get"], [STORAGE], ["volumeattachments"]),
            rule(["create"], [LEGACY], ["serviceaccounts/token"]),
            rule(["get", "patch", "update"], [LEGACY], ["persistentvolumeclaims/status"]),
            rule(READ, [STORAGE], ["csidrivers"]),
            rule(["create", "delete", "get", "patch", "update"], [STORAGE], ["csinodes"]),
            rule(READ, [NODE], ["runtimeclasses"]),
            rule(["get"], [LEGACY], ["serviceaccounts"]),
        ]),
        cluster_role("system:node-proxier", [
            rule(["list", "watch"], [LEGACY], ["endpoints", "services"]),
            rule(READ, [LEGACY], ["nodes"]),
            events_rule(),
            rule(["list", "watch"], [DISCOVERY], ["endpointslices"]),
        ]),
        cluster_role("system:kube-scheduler", [
            events_rule(),
            rule(["create"], [COORDINATION], ["leases"]),
            rule(["get", "list", "update", "watch"], [COORDINATION], ["leases"], names=["kube-scheduler"]),
            rule(READ_WRITE, [COORDINATION], ["leasecandidates"]),
            rule(READ, [LEGACY], ["nodes"]),
            rule(["delete", "get", "list", "watch"], [LEGACY], ["pods"]),
            rule(["create"], [LEGACY], ["bindings", "pods/binding"]),
            rule(["patch", "update"], [LEGACY], ["pods/status"]),
            rule(READ, [LEGACY], ["replicationcontrollers", "services"]),
            rule(READ, [APPS, EXTENSIONS], ["replicasets"]),
            rule(READ, [APPS], ["statefulsets"]),
            rule(READ, [POLICY], ["poddisruptionbudgets"]),
            rule(READ, [LEGACY], ["persistentvolumeclaims", "persistentvolumes"]),
            rule(["create"], [AUTHENTICATION], ["tokenreviews"]),
            rule(["create"], [AUTHORIZATION], ["subjectaccessreviews"]),
            rule(READ, [STORAGE], ["csinodes"]),
            rule(READ, [STORAGE], ["volumeattachments"]),
            rule(READ, [LEGACY], ["namespaces"]),
            rule(READ, [STORAGE], ["csidrivers"]),
            rule(READ, [STORAGE], ["csistoragecapacities"]),
        ]),
        cluster_role("system:volume-scheduler", [
            rule(["get", "list", "patch", "update", "watch"], [LEGACY], ["persistentvolumes"]),
            rule(READ, [STORAGE], ["storageclasses"]),
            rule(["get", "list", "patch", "update", "watch"], [LEGACY], ["persistentvolumeclaims"]),
        ]),
        cluster_role("system:kube-controller-manager", [
            events_rule(),
            rule(["create"], [COORDINATION], ["leases"]),
            rule(["get", "update"], [COORDINATION], ["leases"], names=["kube-controller-manager"]),
            rule(["create"], [LEGACY], ["secrets", "serviceaccounts"]),
            rule(["delete"], [LEGACY], ["secrets"]),
            rule(["get"], [LEGACY], ["configmaps", "namespaces", "secrets", "serviceaccounts"]),
            rule(["update"], [LEGACY], ["secrets", "serviceaccounts"]),
            rule(["create"], [AUTHENTICATION], ["tokenreviews"]),
            rule(["create"], [AUTHORIZATION], ["subjectaccessreviews"]),
            rule(["list", "watch"], ["*"], ["*"]),
            rule(["create"], [LEGACY], ["serviceaccounts/token"]),
        ]),
    ]


# ---------------------------------------------------------------------------------------------
# Controller roles (controller_policy.go), one per control loop kplane runs


def _controller_roles() -> dict[str, list[dict[str, Any]]]:
    return {
        "replication-controller": [
            rule(["get", "list", "update", "watch"], [LEGACY], ["replicationcontrollers"]),
            rule(["update"], [LEGACY], ["replicationcontrollers/status"]),
            rule(["update"], [LEGACY], ["replicationcontrollers/finalizers"]),
            rule(["create", "delete", "list", "patch", "watch"], [LEGACY], ["pods"]),
            events_rule(),
        ],
        "replicaset-controller": [
            rule(["get", "list", "update", "watch"], [APPS, EXTENSIONS], ["replicasets"]),
            rule(["update"], [APPS, EXTENSIONS], ["replicasets/status"]),
            rule(["update"], [APPS, EXTENSIONS], ["replicasets/finalizers"]),
            rule(["create", "delete", "list", "patch", "watch"], [LEGACY], ["pods"]),
            events_rule(),
        ],
        "deployment-controller": [
            rule(["get", "list", "update", "watch"], [APPS, EXTENSIONS], ["deployments"]),
            rule(["update"], [APPS, EXTENSIONS], ["deployments/status"]),
            rule(["update"], [APPS, EXTENSIONS], ["deployments/finalizers"]),
            rule(["create", "delete", "get", "list", "patch", "update", "watch"], [APPS, EXTENSIONS], ["replicasets"]),
            rule(["get", "list", "update", "watch"], [LEGACY], ["pods"]),
            events_rule(),
        ],
        "endpoint-controller": [
            rule(READ, [LEGACY], ["pods", "services"]),
            rule(["create", "delete", "get", "list", "update"], [LEGACY], ["endpoints"]),
            rule(["create"], [LEGACY], ["endpoints/restricted"]),
            events_rule(),
        ],
        "namespace-controller": [
            rule(["delete", "get", "list", "watch"], [LEGACY], ["namespaces"]),
            rule(["update"], [LEGACY], ["namespaces/finalize", "namespaces/status"]),
            rule(["delete", "deletecollection", "get", "list"], ["*"], ["*"]),
        ],
        "generic-garbage-collector": [
            rule(["delete", "get", "list", "patch", "update", "watch"], ["*"], ["*"]),
            events_rule(),
        ],
        "pod-garbage-collector": [
            rule(["delete", "list", "watch"], [LEGACY], ["pods"]),
            rule(["get", "list"], [LEGACY], ["nodes"]),
            rule(["patch"], [LEGACY], ["pods/status"]),
        ],
        "node-controller": [
            rule(["delete", "get", "list", "patch", "update"], [LEGACY], ["nodes"]),
            rule(["patch", "update"], [LEGACY], ["nodes/status"]),
            rule(["patch", "update"], [LEGACY], ["pods/status"]),
            rule(["delete", "get", "list"], [LEGACY], ["pods"]),
            events_rule(),
        ],
        "job-controller": [
            rule(["get", "list", "patch", "update", "watch"], [BATCH], ["jobs"]),
            rule(["update"], [BATCH], ["jobs/status"]),
            rule(["update"], [BATCH], ["jobs/finalizers"]),
            rule(["create", "delete", "list", "patch", "watch"], [LEGACY], ["pods"]),
            events_rule(),
        ],
        "ttl-after-finished-controller": [
            rule(["delete", "get", "list", "watch"], [BATCH], ["jobs"]),
            events_rule(),
        ],
        "service-account-controller": [
            rule(["create"], [LEGACY], ["serviceaccounts"]),
            events_rule(),
        ],
    }


CONTROLLER_NAMES = tuple(_controller_roles())


def controller_role_name(controller: str) -> str:
    return f"system:controller:{controller}"


# ---------------------------------------------------------------------------------------------
# Bindings


def _cluster_role_bindings(controller_manager_user: str | None) -> list[dict[str, Any]]:
    bindings = [
        cluster_role_binding("cluster-admin", "cluster-admin", groups=[SYSTEM_PRIVILEGED_GROUP]),
        cluster_role_binding("system:basic-user", "system:basic-user", groups=[ALL_AUTHENTICATED]),
        cluster_role_binding("system:discovery", "system:discovery", groups=[ALL_AUTHENTICATED]),
        cluster_role_binding("system:public-info-viewer", "system:public-info-viewer",
                             groups=[ALL_AUTHENTICATED, ALL_UNAUTHENTICATED]),
        cluster_role_binding("system:monitoring", "system:monitoring", groups=["system:monitoring"]),
        cluster_role_binding("system:kube-controller-manager", "system:kube-controller-manager",
                             users=[KUBE_CONTROLLER_MANAGER]),
        cluster_role_binding("system:kube-scheduler", "system:kube-scheduler", users=[KUBE_SCHEDULER]),
        cluster_role_binding("system:volume-scheduler", "system:volume-scheduler", users=[KUBE_SCHEDULER]),
        cluster_role_binding("system:node", "system:node", groups=[NODES_GROUP]),
        cluster_role_binding("system:node-proxier", "system:node-proxier", users=[KUBE_PROXY]),
    ]
    extra_users = [controller_manager_user] if controller_manager_user else []
    for controller in CONTROLLER_NAMES:
        name = controller_role_name(controller)
        bindings.append(cluster_role_binding(name, name, users=extra_users,
                                             service_accounts=[(CONTROLLER_NAMESPACE, controller)]))
    return bindings


def bootstrap_objects(controller_manager_user: str | None = KUBE_CONTROLLER_MANAGER) -> list[dict[str, Any]]:
    """Every bootstrap ClusterRole, then every ClusterRoleBinding, as API objects (fresh copies).

    `controller_manager_user` is added to each controller-role binding (see module docstring);
    pass None for Kubernetes' exact subjects (service accounts only).
    """
    roles = _cluster_roles()
    roles += [cluster_role(controller_role_name(name), rules) for name, rules in _controller_roles().items()]
    _fill_aggregated(roles)
    return copy.deepcopy(roles) + _cluster_role_bindings(controller_manager_user)


def _fill_aggregated(roles: list[dict[str, Any]]) -> None:
    """Give each aggregated role the union of the rules of the roles its labels select, until
    nothing changes (view feeds edit feeds admin) — what the aggregation controller converges to."""
    changed = True
    while changed:
        changed = False
        for role in roles:
            selectors = (role.get("aggregationRule") or {}).get("clusterRoleSelectors")
            if not selectors:
                continue
            rules: list[dict[str, Any]] = []
            for other in roles:
                if other is role:
                    continue
                labels = other["metadata"].get("labels", {})
                if any(all(labels.get(k) == v for k, v in s.get("matchLabels", {}).items())
                       for s in selectors):
                    rules.extend(r for r in other["rules"] if r not in rules)
            if rules != role["rules"]:
                role["rules"] = rules
                changed = True
