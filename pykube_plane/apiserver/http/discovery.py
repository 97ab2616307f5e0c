"""Discovery documents: /version, /api, /apis, /api/v1, /apis/{group}/{version}, built from the
resource table. Both forms clients ask for are served: the legacy per-group-version lists and
aggregated discovery (apidiscovery.k8s.io/v2 APIGroupDiscoveryList, one request for all groups),
which kubectl asks for first.
"""
from __future__ import annotations

import base64
import hashlib
import platform
import sys
from typing import Any

from pykube_plane.apiserver.registry.resources import GROUP_ORDER, RESOURCES, Resource, ResourceTable

KUBERNETES_VERSION = "v1.37.1"
AGGREGATED_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2;as=APIGroupDiscoveryList"
AGGREGATED_V2BETA1_CONTENT_TYPE = "application/json;g=apidiscovery.k8s.io;v=v2beta1;as=APIGroupDiscoveryList"


def version_info() -> dict[str, Any]:
    major, minor, _ = KUBERNETES_VERSION[1:].split(".")
    machine = {"x86_64": "amd64", "aarch64": "arm64"}.get(platform.machine(), platform.machine())
    return {
        "major": major, "minor": minor, "emulationMajor": major, "emulationMinor": minor,
        "minCompatibilityMajor": major, "minCompatibilityMinor": str(int(minor) - 1),
        "gitVersion": KUBERNETES_VERSION + "+kplane", "gitCommit": "", "gitTreeState": "clean",
        "buildDate": "1970-01-01T00:00:00Z",
        "goVersion": "python" + ".".join(map(str, sys.version_info[:3])), "compiler": "cpython",
        "platform": f"{platform.system().lower()}/{machine}",
    }


def _storage_version_hash(r: Resource) -> str:
    digest = hashlib.sha256(f"{r.group}/{r.version}/{r.kind}".encode()).digest()
    return base64.b64encode(digest[:8]).decode()


def _groups(table: ResourceTable) -> list[str]:
    known = [g for g in GROUP_ORDER if g in table.group_versions]
    return known + sorted(g for g in table.group_versions if g not in GROUP_ORDER)


def api_versions(server_address: str) -> dict[str, Any]:
    return {"kind": "APIVersions", "versions": ["v1"],
            "serverAddressByClientCIDRs": [{"clientCIDR": "0.0.0.0/0", "serverAddress": server_address}]}


def api_group(group: str, table: ResourceTable = RESOURCES) -> dict[str, Any] | None:
    versions = table.group_versions.get(group)
    if not group or not versions:
        return None
    gvs = [{"groupVersion": f"{group}/{v}", "version": v} for v in versions]
    return {"kind": "APIGroup", "apiVersion": "v1", "name": group, "versions": gvs, "preferredVersion": gvs[0]}


def api_group_list(table: ResourceTable = RESOURCES) -> dict[str, Any]:
    groups = []
    for group in _groups(table):
        entry = api_group(group, table)
        if entry is not None:
            entry = dict(entry)
            entry.pop("kind")
            entry.pop("apiVersion")
            groups.append(entry)
    return {"kind": "APIGroupList", "apiVersion": "v1", "groups": groups}


def api_resource_list(group: str, version: str, table: ResourceTable = RESOURCES) -> dict[str, Any] | None:
    rows = table.in_group_version(group, version)
    if not rows:
        return None
    resources: list[dict[str, Any]] = []
    for r in sorted(rows, key=lambda r: r.plural):
        entry: dict[str, Any] = {"name": r.plural, "singularName": r.singular, "namespaced": r.namespaced,
                                 "kind": r.kind, "verbs": sorted(r.verbs)}
        if r.short_names:
            entry["shortNames"] = list(r.short_names)
        if r.categories:
            entry["categories"] = list(r.categories)
        if r.stored:
            entry["storageVersionHash"] = _storage_version_hash(r)
        resources.append(entry)
        for sub in r.subresources:
            sub_entry: dict[str, Any] = {"name": f"{r.plural}/{sub.name}", "singularName": r.singular,
                                         "namespaced": r.namespaced, "kind": sub.kind or r.kind,
                                         "verbs": sorted(sub.verbs)}
            if sub.group is not None:
                sub_entry["group"] = sub.group
                sub_entry["version"] = sub.version
            resources.append(sub_entry)
    return {"kind": "APIResourceList", "apiVersion": "v1",
            "groupVersion": f"{group}/{version}" if group else version, "resources": resources}


def _aggregated_resource(r: Resource) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": r.plural,
        "responseKind": {"group": r.group, "version": r.version, "kind": r.kind},
        "scope": "Namespaced" if r.namespaced else "Cluster",
        "singularResource": r.singular,
        "verbs": sorted(r.verbs),
    }
    if r.short_names:
        entry["shortNames"] = list(r.short_names)
    if r.categories:
        entry["categories"] = list(r.categories)
    if r.subresources:
        entry["subresources"] = [
            {"subresource": s.name,
             "responseKind": {"group": s.group if s.group is not None else r.group,
                              "version": s.version or r.version, "kind": s.kind or r.kind},
             "verbs": sorted(s.verbs)}
            for s in r.subresources
        ]
    return entry


def aggregated_discovery(core: bool, table: ResourceTable = RESOURCES,
                         api_version: str = "apidiscovery.k8s.io/v2") -> dict[str, Any]:
    """APIGroupDiscoveryList of /api (core=True) or /apis."""
    items = []
    for group in _groups(table):
        if (group == "") != core:
            continue
        versions = []
        for version in table.group_versions[group]:
            rows = sorted(table.in_group_version(group, version), key=lambda r: r.plural)
            versions.append({"version": version, "resources": [_aggregated_resource(r) for r in rows],
                             "freshness": "Current"})
        items.append({"metadata": {"name": group} if group else {}, "versions": versions})
    return {"kind": "APIGroupDiscoveryList", "apiVersion": api_version, "metadata": {}, "items": items}
