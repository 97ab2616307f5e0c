"""Objects every cluster starts with, created at startup when missing (kube-apiserver's
bootstrap controllers): the system namespaces, the two system PriorityClasses, the RBAC bootstrap
policy, and the `kubernetes` Service with Endpoints pointing at this server.
"""
from __future__ import annotations

import logging
from typing import Any

from pykube_plane.apiserver.auth.bootstrap_policy import bootstrap_objects
from pykube_plane.apiserver.registry.options import WriteOptions
from pykube_plane.apiserver.registry.registry import Registry

from . import status as st

log = logging.getLogger(__name__)

SYSTEM_NAMESPACES = ("default", "kube-system", "kube-public", "kube-node-lease")
SYSTEM_PRIORITY_CLASSES = (
    ("system-node-critical", 2000001000,
     "Used for system critical pods that must not be moved from their current node."),
    ("system-cluster-critical", 2000000000,
     "Used for system critical pods that must run in the cluster, but can be moved to another node if necessary."),
)


async def _ensure(registry: Registry, group: str, plural: str, namespace: str, obj: dict[str, Any]) -> None:
    resource = registry.table.lookup(group, "v1", plural)
    assert resource is not None
    meta = obj["metadata"]
    if await registry.storage.get(resource.key(namespace, meta["name"])) is not None:
        return
    try:
        await registry.create(resource, namespace, obj, WriteOptions(field_validation="Ignore"))
    except st.APIError as e:
        if e.code != 409:
            raise


async def ensure_bootstrap_objects(registry: Registry, advertise_ip: str, port: int) -> None:
    for name in SYSTEM_NAMESPACES:
        await _ensure(registry, "", "namespaces", "", {"metadata": {"name": name}})
    for name, value, description in SYSTEM_PRIORITY_CLASSES:
        await _ensure(registry, "scheduling.k8s.io", "priorityclasses", "",
                      {"metadata": {"name": name}, "value": value, "description": description,
                       "preemptionPolicy": "PreemptLowerPriority"})
    for obj in bootstrap_objects():
        plural = {"ClusterRole": "clusterroles", "ClusterRoleBinding": "clusterrolebindings",
                  "Role": "roles", "RoleBinding": "rolebindings"}[obj["kind"]]
        namespace = obj.get("metadata", {}).get("namespace", "")
        await _ensure(registry, "rbac.authorization.k8s.io", plural, namespace, obj)
    await _ensure(registry, "", "services", "default", {
        "metadata": {"name": "kubernetes", "labels": {"component": "apiserver", "provider": "kubernetes"}},
        "spec": {"type": "ClusterIP", "clusterIP": registry.allocator.first_ip, "sessionAffinity": "None",
                 "ports": [{"name": "https", "port": 443, "protocol": "TCP", "targetPort": port}]},
    })
    await _ensure(registry, "", "endpoints", "default", {
        "metadata": {"name": "kubernetes", "labels": {"endpointslice.kubernetes.io/skip-mirror": "true"}},
        "subsets": [{"addresses": [{"ip": advertise_ip}], "ports": [{"name": "https", "port": port,
                                                                    "protocol": "TCP"}]}],
    })
