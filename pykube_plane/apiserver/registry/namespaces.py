"""Namespaces in the registry: the NamespaceLifecycle admission of writes and deletes, and
deleting a Namespace (k8s namespace REST Delete): it goes Terminating first; the namespace
controller empties it and removes the `kubernetes` finalizer (/finalize), then deletes again.
The registry deletes this way a kind whose strategy says `finalized_by_controller`."""
from __future__ import annotations

from typing import Any, Callable

from pykube_plane.api import meta as api_meta
from pykube_plane.api.jsoncopy import copy_json
from pykube_plane.api.users import UserInfo
from pykube_plane.apiserver import status as st
from pykube_plane.apiserver.auth.rbac import RequestAttributes

from .admission import AdmissionError, NamespaceLifecycle
from .options import DeleteOptions
from .resources import Resource, ResourceTable
from .storage import RevisionConflictError, Storage, decode, encode

Remember = Callable[[Resource, bytes, int, dict], None]


def admit_delete(lifecycle: NamespaceLifecycle, name: str, user: Any) -> None:
    """The NamespaceLifecycle admission of the delete (the immortal namespaces stay)."""
    attrs = RequestAttributes(user or UserInfo("system:apiserver"), "delete", True, "", "v1", "namespaces", "",
                              name, name)
    try:
        lifecycle.admit(attrs, None, lambda ns: None)
    except AdmissionError as e:
        raise st.APIError(e.code, e.reason, e.message, e.details or None) from None


async def delete(storage: Storage, remember: Remember, resource: Resource, key: bytes, mod_revision: int,
                 old: dict, opts: DeleteOptions) -> tuple[int, dict] | None:
    """(HTTP status, answer), or None when another writer changed the namespace (retry)."""
    meta = old["metadata"]
    spec_finalizers = (old.get("spec") or {}).get("finalizers") or []

    async def delete_now(dry_run_answer: dict) -> tuple[int, dict] | None:
        if opts.dry_run:
            return 200, dry_run_answer
        try:
            await storage.delete(key, mod_revision)
        except RevisionConflictError:
            return None
        return 200, st.success_status(resource, meta.get("name", ""), meta.get("uid", ""), code=0)

    if meta.get("deletionTimestamp") and not spec_finalizers and not meta.get("finalizers"):
        return await delete_now(old)
    if meta.get("deletionTimestamp"):
        return 200, old
    new = copy_json(old)
    new["metadata"]["deletionTimestamp"] = api_meta.now_rfc3339()
    new["metadata"]["deletionGracePeriodSeconds"] = 0
    new.setdefault("status", {})["phase"] = "Terminating"
    if not spec_finalizers and not meta.get("finalizers"):
        return await delete_now(new)
    if opts.dry_run:
        return 200, new
    try:
        rev = await storage.update(key, encode(new), mod_revision)
    except RevisionConflictError:
        return None
    new["metadata"]["resourceVersion"] = str(rev)
    remember(resource, key, rev, new)
    return 200, new


async def admit_write(lifecycle: NamespaceLifecycle | None, storage: Storage, table: ResourceTable,
                      resource: Resource, verb: str, namespace: str, name: str, obj: dict | None,
                      user: Any) -> None:
    """The NamespaceLifecycle admission of a write into a namespace (none in a missing or
    Terminating one)."""
    if lifecycle is None or not resource.namespaced:
        return
    if user is None:
        user = UserInfo("system:apiserver", ("system:masters",))
    namespaces = table.lookup("", "v1", "namespaces")
    # A read of the one key, not the cache: a namespace created or deleted a moment ago counts.
    kv = await storage.get(namespaces.key("", namespace)) if verb in ("create", "update", "patch") else None
    stored = decode(kv) if kv is not None else None
    attrs = RequestAttributes(user, verb, True, resource.group, resource.version, resource.plural, "",
                              namespace, name)

    def get_namespace(ns: str) -> dict | None:
        return stored if ns == namespace else None

    try:
        lifecycle.admit(attrs, obj, get_namespace)
    except AdmissionError as e:
        raise st.APIError(e.code, e.reason, e.message, e.details or None) from None
