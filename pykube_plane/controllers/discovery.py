"""The resources this API server really serves (for the namespace deleter and the garbage
collector, which act on every kind, discovered rather than listed here)."""
from __future__ import annotations

from pykube_plane.client import APIClient, APIResource

# Groups of request-only kinds (reviews): nothing stored to list, watch or delete.
_VIRTUAL_GROUPS = {"authorization.k8s.io", "authentication.k8s.io"}
_VIRTUAL_PLURALS = {"bindings", "componentstatuses", "tokenreviews", "selfsubjectreviews"}


async def served_resources(client: APIClient) -> list[APIResource]:
    """Stored kinds, one row per (group, plural), as the server serves them now."""
    rows = await client.served_resources()
    seen: set[tuple[str, str]] = set()
    out = []
    for r in rows:
        if r.group in _VIRTUAL_GROUPS or r.plural in _VIRTUAL_PLURALS or (r.group, r.plural) in seen:
            continue
        seen.add((r.group, r.plural))
        out.append(r)
    return out
