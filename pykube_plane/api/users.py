"""Who makes a request: the identity every layer shares (k8s.io/apiserver's user.Info).

The API server's authenticators produce it, RBAC decides on it, and an in-process client
carries one; it lives here so that the client layer needs nothing from the API server.
"""
from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class UserInfo:
    """An authenticated identity (user.Info): name, groups, uid."""

    name: str
    groups: tuple[str, ...] = ()
    uid: str = ""
