"""The resource table: one row per served resource drives routing, storage, discovery, OpenAPI,
tables and the generic registry. Adding a kind is a row here plus its validation in api/.

A row says where the kind lives in the API (group, version, plural, scope), which verbs and
subresources it serves, where it is stored (k8s' own etcd prefixes: nodes under `minions`,
services under `services/specs`, replication controllers under `controllers`), how it prints
as a Table, which fields a fieldSelector may name, and which strategy (strategies.py) adds the
kind's own rules to create/update/delete.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Callable, Iterator

from pykube_plane.api import fields as api_fields

from . import strategies, tables

if TYPE_CHECKING:
    from .strategies import Strategy

CRUD_VERBS = ("create", "delete", "deletecollection", "get", "list", "patch", "update", "watch")
CREATE_ONLY = ("create",)
STATUS_VERBS = ("get", "patch", "update")

# Fields every kind can be selected by (k8s' DefaultClusterScopedAttr / DefaultNamespaceScopedAttr).
META_FIELDS = ("metadata.name", "metadata.namespace")


@dataclass(frozen=True)
class Subresource:
    """A subresource such as pods/status. `group`/`version` are set when the object it serves
    belongs to another API group (deployments/scale serves autoscaling/v1 Scale)."""
    name: str
    kind: str
    verbs: tuple[str, ...]
    group: str | None = None
    version: str | None = None


@dataclass(eq=False)
class Resource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    storage: str = ""                       # etcd prefix under /registry/ ("" = not stored)
    short_names: tuple[str, ...] = ()
    categories: tuple[str, ...] = ()
    verbs: tuple[str, ...] = CRUD_VERBS
    subresources: tuple[Subresource, ...] = ()
    field_labels: dict[str, str] | None = None   # this version's field label -> stored kind's label
    printer: Callable | None = None          # tables: obj -> cells; None = k8s' default table
    columns: tuple = tables.DEFAULT_COLUMNS
    strategy: "Strategy" = field(default_factory=strategies.Strategy)
    singular: str = ""

    def __post_init__(self) -> None:
        if not self.singular:
            self.singular = self.kind.lower()
        self.group_version = f"{self.group}/{self.version}" if self.group else self.version
        self.list_kind = self.kind + "List"
        self.has_status = any(s.name == "status" for s in self.subresources)
        self._subresources = {s.name: s for s in self.subresources}
        if self.field_labels is None:
            self.selectable_fields = api_fields.selectable_fields(self.kind)
        else:
            self.selectable_fields = frozenset(META_FIELDS) | frozenset(self.field_labels)
        self._prefix = f"/registry/{self.storage}/".encode()

    @property
    def api_version(self) -> str:
        return self.group_version

    @property
    def stored(self) -> bool:
        return bool(self.storage)

    def subresource(self, name: str) -> Subresource | None:
        return self._subresources.get(name)

    def key(self, namespace: str, name: str) -> bytes:
        if self.namespaced:
            return self._prefix + f"{namespace}/{name}".encode()
        return self._prefix + name.encode()

    def prefix(self, namespace: str = "") -> bytes:
        """Key prefix of every object of this resource (in `namespace` when given)."""
        if self.namespaced and namespace:
            return self._prefix + namespace.encode() + b"/"
        return self._prefix

    def __repr__(self) -> str:
        return f"Resource({self.group_version} {self.plural})"


def _status() -> Subresource:
    return Subresource("status", "", STATUS_VERBS)


def _scale() -> Subresource:
    return Subresource("scale", "Scale", STATUS_VERBS, group="autoscaling", version="v1")


# events.k8s.io/v1 field labels, converted to core/v1's (k8s AddFieldLabelConversionFunc)
EVENTS_V1_FIELD_LABELS = {
    **{f"regarding.{f}": f"involvedObject.{f}"
       for f in ("kind", "namespace", "name", "uid", "apiVersion", "resourceVersion", "fieldPath")},
    "reason": "reason", "reportingController": "reportingComponent", "type": "type",
}


def _rows() -> list[Resource]:
    S = strategies
    T = tables
    return [
        # ---- core/v1
        Resource("", "v1", "Namespace", "namespaces", False, "namespaces", short_names=("ns",),
                 subresources=(_status(), Subresource("finalize", "", ("update",))),
                 printer=T.namespace_row, columns=T.NAMESPACE_COLUMNS,
                 strategy=S.NamespaceStrategy()),
        Resource("", "v1", "Node", "nodes", False, "minions", short_names=("no",),
                 subresources=(_status(),),
                 printer=T.node_row, columns=T.NODE_COLUMNS, strategy=S.NodeStrategy()),
        Resource("", "v1", "Pod", "pods", True, "pods", short_names=("po",), categories=("all",),
                 subresources=(_status(), Subresource("binding", "Binding", CREATE_ONLY),
                               Subresource("eviction", "Eviction", CREATE_ONLY, group="policy", version="v1")),
                 printer=T.pod_row, columns=T.POD_COLUMNS,
                 strategy=S.PodStrategy()),
        Resource("", "v1", "Service", "services", True, "services/specs", short_names=("svc",),
                 categories=("all",), subresources=(_status(),),
                 printer=T.service_row, columns=T.SERVICE_COLUMNS, strategy=S.ServiceStrategy()),
        Resource("", "v1", "Endpoints", "endpoints", True, "services/endpoints", short_names=("ep",),
                 singular="endpoints", printer=T.endpoints_row, columns=T.ENDPOINTS_COLUMNS,
                 strategy=S.Strategy(allow_create_on_update=True)),
        Resource("", "v1", "Event", "events", True, "events", short_names=("ev",),
                 printer=T.event_row, columns=T.EVENT_COLUMNS,
                 strategy=S.EventStrategy()),
        Resource("", "v1", "ConfigMap", "configmaps", True, "configmaps", short_names=("cm",),
                 printer=T.configmap_row, columns=T.CONFIGMAP_COLUMNS),
        Resource("", "v1", "Secret", "secrets", True, "secrets",
                 printer=T.secret_row, columns=T.SECRET_COLUMNS),
        Resource("", "v1", "ServiceAccount", "serviceaccounts", True, "serviceaccounts", short_names=("sa",),
                 printer=T.serviceaccount_row, columns=T.SERVICEACCOUNT_COLUMNS),
        Resource("", "v1", "ReplicationController", "replicationcontrollers", True, "controllers",
                 short_names=("rc",), categories=("all",), subresources=(_status(), _scale()),
                 printer=T.replication_controller_row,
                 columns=T.RC_COLUMNS, strategy=S.WorkloadStrategy()),
        Resource("", "v1", "LimitRange", "limitranges", True, "limitranges", short_names=("limits",)),
        Resource("", "v1", "ResourceQuota", "resourcequotas", True, "resourcequotas", short_names=("quota",),
                 subresources=(_status(),), printer=T.resourcequota_row, columns=T.RESOURCEQUOTA_COLUMNS,
                 strategy=S.Strategy(reset_status_on_create=True)),
        # ---- apps/v1
        Resource("apps", "v1", "Deployment", "deployments", True, "deployments", short_names=("deploy",),
                 categories=("all",), subresources=(_status(), _scale()),
                 printer=T.deployment_row, columns=T.DEPLOYMENT_COLUMNS, strategy=S.WorkloadStrategy()),
        Resource("apps", "v1", "ReplicaSet", "replicasets", True, "replicasets", short_names=("rs",),
                 categories=("all",), subresources=(_status(), _scale()),
                 printer=T.replicaset_row,
                 columns=T.REPLICASET_COLUMNS, strategy=S.WorkloadStrategy()),
        # ---- batch/v1
        Resource("batch", "v1", "Job", "jobs", True, "jobs", categories=("all",), subresources=(_status(),),
                 printer=T.job_row, columns=T.JOB_COLUMNS,
                 strategy=S.WorkloadStrategy(default_propagation="Orphan")),
        # ---- coordination.k8s.io/v1
        Resource("coordination.k8s.io", "v1", "Lease", "leases", True, "leases",
                 printer=T.lease_row, columns=T.LEASE_COLUMNS),
        # ---- rbac.authorization.k8s.io/v1
        Resource("rbac.authorization.k8s.io", "v1", "Role", "roles", True, "roles"),
        Resource("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False, "clusterroles"),
        Resource("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True, "rolebindings",
                 printer=T.rolebinding_row, columns=T.ROLEBINDING_COLUMNS),
        Resource("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False,
                 "clusterrolebindings", printer=T.rolebinding_row, columns=T.ROLEBINDING_COLUMNS),
        # ---- scheduling.k8s.io/v1
        Resource("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, "priorityclasses",
                 short_names=("pc",), printer=T.priorityclass_row, columns=T.PRIORITYCLASS_COLUMNS,
                 strategy=S.PriorityClassStrategy()),
        # ---- events.k8s.io/v1: the same stored objects as core/v1 events, another shape
        Resource("events.k8s.io", "v1", "Event", "events", True, "events", short_names=("ev",),
                 field_labels=EVENTS_V1_FIELD_LABELS, printer=T.events_v1_row, columns=T.EVENT_COLUMNS,
                 strategy=S.EventsV1Strategy()),
        # ---- reviews: created and answered, never stored
        Resource("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False,
                 verbs=CREATE_ONLY, strategy=S.Strategy()),
        Resource("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False,
                 verbs=CREATE_ONLY, strategy=S.Strategy()),
        Resource("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False,
                 verbs=CREATE_ONLY, strategy=S.Strategy()),
        Resource("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False,
                 verbs=CREATE_ONLY, strategy=S.Strategy()),
    ]


class ResourceTable:
    """Lookups over the rows: by URL (group, version, plural), by group-version, the stored ones."""

    def __init__(self, rows: list[Resource]) -> None:
        self.rows = rows
        self._by_path = {(r.group, r.version, r.plural): r for r in rows}
        self.group_versions: dict[str, list[str]] = {}
        for r in rows:
            versions = self.group_versions.setdefault(r.group, [])
            if r.version not in versions:
                versions.append(r.version)

    def __iter__(self) -> Iterator[Resource]:
        return iter(self.rows)

    def lookup(self, group: str, version: str, plural: str) -> Resource | None:
        return self._by_path.get((group, version, plural))

    def in_group_version(self, group: str, version: str) -> list[Resource]:
        return [r for r in self.rows if r.group == group and r.version == version]

    def stored(self) -> list[Resource]:
        """One row per storage prefix (events.k8s.io shares core events' storage)."""
        seen: dict[str, Resource] = {}
        for r in self.rows:
            if r.stored and r.storage not in seen:
                seen[r.storage] = r
        return list(seen.values())


RESOURCES = ResourceTable(_rows())

# Preferred order of API groups in discovery, like kube-apiserver's.
GROUP_ORDER = ("", "apps", "events.k8s.io", "authentication.k8s.io", "authorization.k8s.io", "batch",
               "coordination.k8s.io", "rbac.authorization.k8s.io", "scheduling.k8s.io")
