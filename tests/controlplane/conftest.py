"""Fixtures for the assembly tests."""
from __future__ import annotations

import pytest

from pykube_plane.apiserver.auth.pki import PKI, ensure_pki


@pytest.fixture(scope="session")
def pki(tmp_path_factory: pytest.TempPathFactory) -> PKI:
    return ensure_pki(tmp_path_factory.mktemp("pki"))
