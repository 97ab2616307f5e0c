"""Fixtures for the auth tests (authentication, RBAC, PKI, TLS): one PKI per session (EC keys
make it cheap anyway)."""
from __future__ import annotations

from pathlib import Path

import pytest

from pykube_plane.apiserver.auth.bootstrap_policy import bootstrap_objects
from pykube_plane.apiserver.auth.pki import PKI, ensure_pki
from pykube_plane.apiserver.auth.rbac import RBACAuthorizer

KIND_TO_RESOURCE = {"Role": "roles", "ClusterRole": "clusterroles",
                    "RoleBinding": "rolebindings", "ClusterRoleBinding": "clusterrolebindings"}


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return ensure_pki(tmp_path_factory.mktemp("pki"))


def load(authorizer: RBACAuthorizer, *objects: dict) -> RBACAuthorizer:
    for obj in objects:
        authorizer.update(KIND_TO_RESOURCE[obj["kind"]], "ADDED", obj)
    return authorizer


@pytest.fixture
def bootstrapped() -> RBACAuthorizer:
    """An authorizer holding only the bootstrap policy, with no privileged-group shortcut, so
    every decision comes from the roles and bindings themselves."""
    return load(RBACAuthorizer(privileged_groups=()), *bootstrap_objects())


def write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path
