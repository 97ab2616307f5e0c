"""The kinds these helpers know: API group, whether namespaced, and which rule their names follow.

Validation needs all three (a Service name is a DNS-1035 label, a Namespace name a DNS-1123 label,
RBAC names only avoid '/' and '%'), and error texts need the group ('Deployment.apps "x" is invalid').
"""
from __future__ import annotations

from typing import NamedTuple

from .names import (NameRule, name_is_dns1035_label, name_is_dns_label, name_is_dns_subdomain,
                    name_is_path_segment)


class KindInfo(NamedTuple):
    group: str
    version: str
    namespaced: bool
    name_rule: NameRule

    @property
    def api_version(self) -> str:
        return f"{self.group}/{self.version}" if self.group else self.version


RBAC_GROUP = "rbac.authorization.k8s.io"

KINDS: dict[str, KindInfo] = {
    "Pod": KindInfo("", "v1", True, name_is_dns_subdomain),
    "Service": KindInfo("", "v1", True, name_is_dns1035_label),
    "Endpoints": KindInfo("", "v1", True, name_is_dns_subdomain),
    "Event": KindInfo("", "v1", True, name_is_dns_subdomain),
    "ConfigMap": KindInfo("", "v1", True, name_is_dns_subdomain),
    "Secret": KindInfo("", "v1", True, name_is_dns_subdomain),
    "ServiceAccount": KindInfo("", "v1", True, name_is_dns_subdomain),
    "ReplicationController": KindInfo("", "v1", True, name_is_dns_subdomain),
    "LimitRange": KindInfo("", "v1", True, name_is_dns_subdomain),
    "ResourceQuota": KindInfo("", "v1", True, name_is_dns_subdomain),
    "PodTemplate": KindInfo("", "v1", True, name_is_dns_subdomain),
    "Namespace": KindInfo("", "v1", False, name_is_dns_label),
    "Node": KindInfo("", "v1", False, name_is_dns_subdomain),
    "Deployment": KindInfo("apps", "v1", True, name_is_dns_subdomain),
    "ReplicaSet": KindInfo("apps", "v1", True, name_is_dns_subdomain),
    "Job": KindInfo("batch", "v1", True, name_is_dns_subdomain),
    "Lease": KindInfo("coordination.k8s.io", "v1", True, name_is_dns_subdomain),
    "Role": KindInfo(RBAC_GROUP, "v1", True, name_is_path_segment),
    "ClusterRole": KindInfo(RBAC_GROUP, "v1", False, name_is_path_segment),
    "RoleBinding": KindInfo(RBAC_GROUP, "v1", True, name_is_path_segment),
    "ClusterRoleBinding": KindInfo(RBAC_GROUP, "v1", False, name_is_path_segment),
    "PriorityClass": KindInfo("scheduling.k8s.io", "v1", False, name_is_dns_subdomain),
}


def kind_info(kind: str) -> KindInfo:
    """Known kinds from the table; any other is taken as a namespaced kind with subdomain names."""
    return KINDS.get(kind) or KindInfo("", "v1", True, name_is_dns_subdomain)


def qualified_kind(kind: str) -> str:
    """GroupKind.String(): "Pod", "Deployment.apps"."""
    group = kind_info(kind).group
    return f"{kind}.{group}" if group else kind
