"""URL paths to resources, as kube-apiserver routes them (k8s RequestInfo):

    /api/v1/namespaces/{ns}/pods/{name}/status        group "", pods, ns, name, subresource status
    /apis/apps/v1/deployments                          all namespaces
    /api/v1/watch/namespaces/{ns}/pods                 legacy watch prefix
    /api/v1/namespaces/{ns}                            the namespace itself (name = ns)

`route` answers a `Route` (resource row and path parts) or None for paths no resource serves.
"""
from __future__ import annotations

from dataclasses import dataclass

from pykube_plane.apiserver.registry.resources import Resource, ResourceTable

METHOD_VERBS = {"POST": "create", "PUT": "update", "PATCH": "patch"}


@dataclass(slots=True)
class Route:
    resource: Resource
    namespace: str
    name: str
    subresource: str
    watch_prefix: bool


def route(table: ResourceTable, path: str) -> Route | None:
    parts = [p for p in path.split("/") if p]
    if len(parts) < 3:
        return None
    if parts[0] == "api":
        group, version, rest = "", parts[1], parts[2:]
    elif parts[0] == "apis" and len(parts) >= 4:
        group, version, rest = parts[1], parts[2], parts[3:]
    else:
        return None
    watch_prefix = False
    if rest and rest[0] == "watch":
        watch_prefix = True
        rest = rest[1:]
        if not rest:
            return None
    namespace = ""
    if rest[0] == "namespaces" and len(rest) >= 2:
        namespaces = table.lookup("", "v1", "namespaces") if group == "" else None
        if len(rest) == 2 or (len(rest) == 3 and rest[2] in ("status", "finalize")):
            if namespaces is None:
                return None
            return Route(namespaces, "", rest[1], rest[2] if len(rest) == 3 else "", watch_prefix)
        namespace = rest[1]
        rest = rest[2:]
    if not rest or len(rest) > 3:
        return None
    resource = table.lookup(group, version, rest[0])
    if resource is None:
        return None
    if namespace and not resource.namespaced:
        return None
    name = rest[1] if len(rest) >= 2 else ""
    subresource = rest[2] if len(rest) == 3 else ""
    return Route(resource, namespace, name, subresource, watch_prefix)


def verb_for(method: str, name: str, watch: bool) -> str | None:
    """The Kubernetes verb of an HTTP method on a resource path; None for unsupported methods."""
    if method in ("GET", "HEAD"):
        if watch:
            return "watch"
        return "get" if name else "list"
    if method == "DELETE":
        return "delete" if name else "deletecollection"
    return METHOD_VERBS.get(method)
