"""ownerReferences for controllers: the controller ref, and claiming pods (or ReplicaSets) —
adopt orphans that match the selector, release owned ones that no longer match (k8s
ControllerRefManager)."""
from __future__ import annotations

from typing import Any, Callable

from pykube_plane.api.labels import Selector
from pykube_plane.client import APIClient, NotFound


def controller_ref(obj: dict) -> dict | None:
    for ref in (obj.get("metadata") or {}).get("ownerReferences") or ():
        if ref.get("controller"):
            return ref
    return None


def owner_reference(owner: dict, api_version: str, kind: str, block: bool = True) -> dict:
    """A controller ref to `owner` (cached objects may lack apiVersion/kind: the caller knows them)."""
    meta = owner["metadata"]
    return {"apiVersion": api_version, "kind": kind, "name": meta["name"],
            "uid": meta["uid"], "controller": True, "blockOwnerDeletion": block}


async def claim(client: APIClient, resource: str, owner: dict, owner_ref: dict, selector: Selector,
                candidates: list[dict], can_adopt: Callable[[], Any] | None = None) -> list[dict]:
    """The candidates `owner` controls after adopting and releasing (ours, matching selector)."""
    uid = owner["metadata"]["uid"]
    owner_deleting = bool(owner["metadata"].get("deletionTimestamp"))
    claimed: list[dict] = []
    for obj in candidates:
        meta = obj.get("metadata") or {}
        ref = controller_ref(obj)
        matches = selector.matches(meta.get("labels") or {})
        if ref is not None:
            if ref.get("uid") != uid:
                continue
            if matches:
                claimed.append(obj)
            elif not owner_deleting:
                await _release(client, resource, obj, uid)
            continue
        if not matches or owner_deleting or meta.get("deletionTimestamp"):
            continue
        if can_adopt is not None:
            await can_adopt()
        adopted = await _adopt(client, resource, owner_ref, obj)
        if adopted is not None:
            claimed.append(adopted)
    return claimed


async def _adopt(client: APIClient, resource: str, owner_ref: dict, obj: dict) -> dict | None:
    meta = obj["metadata"]
    refs = list(meta.get("ownerReferences") or []) + [owner_ref]
    patch = {"metadata": {"ownerReferences": refs, "uid": meta["uid"], "resourceVersion": meta["resourceVersion"]}}
    try:
        return await client.patch(resource, meta["name"], patch, namespace=meta.get("namespace"))
    except NotFound:
        return None


async def _release(client: APIClient, resource: str, obj: dict, owner_uid: str) -> None:
    meta = obj["metadata"]
    refs = [r for r in meta.get("ownerReferences") or () if r.get("uid") != owner_uid]
    patch = {"metadata": {"ownerReferences": refs or None, "uid": meta["uid"]}}
    try:
        await client.patch(resource, meta["name"], patch, namespace=meta.get("namespace"))
    except NotFound:
        pass
