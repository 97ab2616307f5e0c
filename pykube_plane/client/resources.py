"""Which URL serves a resource: names resolved to (group, version, plural, scope), and paths.

A resource is named as kubectl names it — plural, singular, kind, short name, optionally
qualified by group (`deployments.apps`) or version and group (`deployments.v1.apps`) — or by an
object's (apiVersion, kind). The well-known Kubernetes resources are in a built-in table, so a
client needs no round trip for them; anything else is looked up once in the server's discovery
documents (`/api/v1`, `/apis`, `/apis/{group}/{version}`), as client-go's RESTMapper does.

    PODS.path("default", "web-0", "status")   # /api/v1/namespaces/default/pods/web-0/status
    DEPLOYMENTS.path("", "")                   # /apis/apps/v1/deployments (all namespaces)
"""
from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Iterable, Union
from urllib.parse import quote

from .errors import NotFound


@dataclass(frozen=True, eq=True)
class APIResource:
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...] = field(default=(), compare=False)
    singular: str = field(default="", compare=False)

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version

    @property
    def qualified(self) -> str:
        """`pods`, `deployments.apps`: the name an error or a log line shows."""
        return f"{self.plural}.{self.group}" if self.group else self.plural

    def path(self, namespace: str = "", name: str = "", subresource: str = "") -> str:
        """The URL path. A namespaced resource without namespace means all namespaces."""
        parts = ["/api/v1" if not self.group else f"/apis/{self.group}/{self.version}"]
        if self.namespaced and namespace:
            parts.append("/namespaces/" + quote(namespace, safe=""))
        parts.append("/" + self.plural)
        if name:
            parts.append("/" + quote(name, safe=""))
            if subresource:
                parts.append("/" + subresource)
        return "".join(parts)

    def names(self) -> Iterable[str]:
        """Every lower-case name this resource answers to, unqualified."""
        yield self.plural
        yield self.singular or self.kind.lower()
        yield self.kind.lower()
        yield from self.short_names

    def __str__(self) -> str:
        return self.qualified


def _r(group: str, version: str, kind: str, plural: str, namespaced: bool, *short: str) -> APIResource:
    return APIResource(group, version, kind, plural, namespaced, tuple(short), kind.lower())


# The stable built-in kinds of Kubernetes (core groups first: they win a name clash, as in kubectl).
BUILTIN: tuple[APIResource, ...] = (
    _r("", "v1", "Namespace", "namespaces", False, "ns"),
    _r("", "v1", "Node", "nodes", False, "no"),
    _r("", "v1", "Pod", "pods", True, "po"),
    _r("", "v1", "Service", "services", True, "svc"),
    _r("", "v1", "Endpoints", "endpoints", True, "ep"),
    _r("", "v1", "Event", "events", True, "ev"),
    _r("", "v1", "ConfigMap", "configmaps", True, "cm"),
    _r("", "v1", "Secret", "secrets", True),
    _r("", "v1", "ServiceAccount", "serviceaccounts", True, "sa"),
    _r("", "v1", "ReplicationController", "replicationcontrollers", True, "rc"),
    _r("", "v1", "LimitRange", "limitranges", True, "limits"),
    _r("", "v1", "ResourceQuota", "resourcequotas", True, "quota"),
    _r("", "v1", "PersistentVolume", "persistentvolumes", False, "pv"),
    _r("", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", True, "pvc"),
    _r("apps", "v1", "Deployment", "deployments", True, "deploy"),
    _r("apps", "v1", "ReplicaSet", "replicasets", True, "rs"),
    _r("apps", "v1", "StatefulSet", "statefulsets", True, "sts"),
    _r("apps", "v1", "DaemonSet", "daemonsets", True, "ds"),
    _r("apps", "v1", "ControllerRevision", "controllerrevisions", True),
    _r("batch", "v1", "Job", "jobs", True),
    _r("batch", "v1", "CronJob", "cronjobs", True, "cj"),
    _r("coordination.k8s.io", "v1", "Lease", "leases", True),
    _r("rbac.authorization.k8s.io", "v1", "Role", "roles", True),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", False),
    _r("rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", True),
    _r("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", False),
    _r("scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", False, "pc"),
    _r("policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", True, "pdb"),
    _r("networking.k8s.io", "v1", "Ingress", "ingresses", True, "ing"),
    _r("networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", True, "netpol"),
    _r("discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", True),
    _r("storage.k8s.io", "v1", "StorageClass", "storageclasses", False, "sc"),
    _r("autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", True, "hpa"),
    _r("apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", False, "crd", "crds"),
    _r("events.k8s.io", "v1", "Event", "events", True, "ev"),
    _r("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", False),
    _r("authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", False),
    _r("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", False),
    _r("authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", False),
)

PODS = BUILTIN[2]
NAMESPACES = BUILTIN[0]
LEASES = next(r for r in BUILTIN if r.plural == "leases")

# How callers name a resource: a name (see ResourceIndex.lookup), a row, or (apiVersion, kind).
ResourceSpec = Union[str, APIResource, tuple[str, str]]

Discover = Callable[[], Awaitable[list[APIResource]]]


class ResourceIndex:
    """Name → resource lookups over a list of resources (first one wins a clash)."""

    def __init__(self, resources: Iterable[APIResource] = ()) -> None:
        self._by_name: dict[str, APIResource] = {}
        self._by_group_name: dict[tuple[str, str], APIResource] = {}
        self._by_gvn: dict[tuple[str, str, str], APIResource] = {}
        self._by_kind: dict[tuple[str, str], APIResource] = {}
        self.resources: list[APIResource] = []
        self.add(resources)

    def add(self, resources: Iterable[APIResource]) -> None:
        for r in resources:
            self.resources.append(r)
            for name in r.names():
                self._by_name.setdefault(name.lower(), r)
                self._by_group_name.setdefault((r.group, name.lower()), r)
                self._by_gvn.setdefault((r.group, r.version, name.lower()), r)
            self._by_kind.setdefault((r.api_version, r.kind), r)

    def by_kind(self, api_version: str, kind: str) -> APIResource | None:
        return self._by_kind.get((api_version, kind))

    def lookup(self, spec: str) -> APIResource | None:
        """`pods`, `Pod`, `po`, `deployments.apps`, `deployments.v1.apps`, `apps/v1/deployments`."""
        text = spec.strip()
        if "/" in text:
            parts = text.split("/")
            if len(parts) == 2:           # v1/pods
                return self._by_gvn.get(("", parts[0], parts[1].lower()))
            if len(parts) == 3:           # apps/v1/deployments
                return self._by_gvn.get((parts[0], parts[1], parts[2].lower()))
            return None
        lowered = text.lower()
        found = self._by_name.get(lowered)
        if found is not None:
            return found
        name, _, rest = lowered.partition(".")
        if not rest:
            return None
        found = self._by_group_name.get((rest, name))
        if found is not None:
            return found
        version, _, group = rest.partition(".")
        return self._by_gvn.get((group, version, name))


class ResourceResolver:
    """Resolves names with the built-in table first, then (once, on a miss) the server's discovery."""

    def __init__(self, discover: Discover | None = None,
                 builtin: Iterable[APIResource] = BUILTIN) -> None:
        self._builtin = ResourceIndex(builtin)
        self._discovered: ResourceIndex | None = None
        self._discover = discover
        self._lock: asyncio.Lock | None = None

    def lookup(self, spec: ResourceSpec) -> APIResource | None:
        """Without I/O: what is known now (None if discovery would be needed)."""
        if isinstance(spec, APIResource):
            return spec
        if isinstance(spec, tuple):
            api_version, kind = spec
            for index in self._indexes():
                found = index.by_kind(api_version, kind)
                if found is not None:
                    return found
            return None
        for index in self._indexes():
            found = index.lookup(str(spec))
            if found is not None:
                return found
        return None

    def _indexes(self) -> Iterable[ResourceIndex]:
        # Discovered rows first: they are what this server really serves.
        if self._discovered is not None:
            yield self._discovered
        yield self._builtin

    async def resolve(self, spec: ResourceSpec) -> APIResource:
        found = self.lookup(spec)
        if found is not None:
            return found
        if self._discover is not None and self._discovered is None:
            if self._lock is None:
                self._lock = asyncio.Lock()
            async with self._lock:
                if self._discovered is None:
                    self._discovered = ResourceIndex(await self._discover())
            found = self.lookup(spec)
            if found is not None:
                return found
        shown = "/".join(spec) if isinstance(spec, tuple) else str(spec)
        raise NotFound({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                        "reason": "NotFound", "code": 404,
                        "message": f'the server doesn\'t have a resource type "{shown}"'}, 404)

    def forget_discovery(self) -> None:
        """Look again next time (a CRD was just installed)."""
        self._discovered = None


def resources_from_discovery(group_version: str, document: dict[str, Any]) -> list[APIResource]:
    """The resources of an APIResourceList (subresources such as `pods/status` left out)."""
    group, _, version = group_version.rpartition("/")
    out = []
    for entry in document.get("resources") or ():
        name = entry.get("name") or ""
        if not name or "/" in name:
            continue
        out.append(APIResource(group, version, entry.get("kind") or "", name, bool(entry.get("namespaced")),
                               tuple(entry.get("shortNames") or ()),
                               entry.get("singularName") or (entry.get("kind") or "").lower()))
    return out
