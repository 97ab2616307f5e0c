"""Shared fixtures: where the real clients live, free loopback ports, shared manifests."""
from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
TOOLS_BIN = ROOT / ".cache" / "bin"
SHARED_MANIFESTS = ROOT.parent / "shared" / "manifests"


def tool_path(name: str) -> str:
    """Path of a real client fetched by scripts/fetch_tools.py (make tools). Fails, never skips."""
    path = TOOLS_BIN / name
    if not path.exists():
        pytest.fail(f"{name} missing in {TOOLS_BIN}: run `make tools`")
    return str(path)


@pytest.fixture(scope="session")
def kubectl_bin() -> str:
    return tool_path("kubectl")


@pytest.fixture(scope="session")
def etcd_bin() -> str:
    return tool_path("etcd")


@pytest.fixture(scope="session")
def etcdctl_bin() -> str:
    return tool_path("etcdctl")


def free_port() -> int:
    """A TCP port on 127.0.0.1 that was free a moment ago."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def port() -> int:
    return free_port()


@pytest.fixture(scope="session")
def manifests_dir() -> Path:
    return SHARED_MANIFESTS


def in_ci() -> bool:
    return os.environ.get("CI") == "true"
