"""Helpers on object metadata: uids, timestamps, generateName, owner references, keys."""
from __future__ import annotations

import datetime
import secrets
import uuid
from typing import Any, Mapping

# k8s' utilrand alphabet: no vowels (no accidental words), no 0/1/3 (no look-alikes).
_GENERATE_ALPHABET = "bcdfghjklmnpqrstvwxz2456789"
_GENERATED_SUFFIX_LENGTH = 5
_MAX_GENERATED_PREFIX = 63 - _GENERATED_SUFFIX_LENGTH


def new_uid() -> str:
    return str(uuid.uuid4())


def now_rfc3339(now: datetime.datetime | None = None) -> str:
    """metav1.Time's wire form: UTC, whole seconds, 'Z' ("2024-05-01T12:00:00Z")."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def now_rfc3339_micro(now: datetime.datetime | None = None) -> str:
    """metav1.MicroTime's wire form (Lease renewTime, Event eventTime): 6 fractional digits."""
    now = now or datetime.datetime.now(datetime.timezone.utc)
    return now.astimezone(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def parse_rfc3339(text: str) -> datetime.datetime:
    """Parse either time form back to an aware UTC datetime; ValueError if malformed."""
    if not isinstance(text, str) or not text:
        raise ValueError("not an RFC 3339 time")
    value = text[:-1] + "+00:00" if text.endswith(("Z", "z")) else text
    parsed = datetime.datetime.fromisoformat(value)
    if parsed.tzinfo is None:
        raise ValueError("RFC 3339 time needs a zone")
    return parsed.astimezone(datetime.timezone.utc)


def generate_name(prefix: str) -> str:
    """names.SimpleNameGenerator: the prefix (cut to 58) and 5 random characters."""
    if len(prefix) > _MAX_GENERATED_PREFIX:
        prefix = prefix[:_MAX_GENERATED_PREFIX]
    return prefix + "".join(secrets.choice(_GENERATE_ALPHABET) for _ in range(_GENERATED_SUFFIX_LENGTH))


def _metadata(obj: Mapping) -> Mapping:
    meta = obj.get("metadata") if isinstance(obj, Mapping) else None
    return meta if isinstance(meta, Mapping) else {}


def owner_references(obj: Mapping) -> list[dict]:
    refs = _metadata(obj).get("ownerReferences")
    return [r for r in refs if isinstance(r, dict)] if isinstance(refs, list) else []


def owner_uids(obj: Mapping) -> list[str]:
    return [r["uid"] for r in owner_references(obj) if isinstance(r.get("uid"), str)]


def controller_ref(obj: Mapping) -> dict | None:
    """The owner reference with controller: true, if any (at most one is valid)."""
    for ref in owner_references(obj):
        if ref.get("controller") is True:
            return ref
    return None


def is_controlled_by(obj: Mapping, owner: Mapping) -> bool:
    ref = controller_ref(obj)
    owner_uid = _metadata(owner).get("uid")
    return ref is not None and owner_uid is not None and ref.get("uid") == owner_uid


def new_controller_ref(owner: Mapping, api_version: str, kind: str) -> dict:
    """The reference a controller stamps on what it creates (blocking the owner's foreground delete)."""
    meta = _metadata(owner)
    return {"apiVersion": api_version, "kind": kind, "name": meta.get("name", ""), "uid": meta.get("uid", ""),
            "controller": True, "blockOwnerDeletion": True}


def namespaced_key(obj: Mapping) -> str:
    """The informer/workqueue key: "namespace/name", or "name" for cluster-scoped objects."""
    meta = _metadata(obj)
    namespace, name = meta.get("namespace") or "", meta.get("name") or ""
    return f"{namespace}/{name}" if namespace else str(name)


def split_key(key: str) -> tuple[str, str]:
    """Inverse of namespaced_key: ("", name) for a cluster-scoped key."""
    namespace, sep, name = key.partition("/")
    return (namespace, name) if sep else ("", namespace)


def get_path(obj: Any, *path: str | int, default: Any = None) -> Any:
    """Read obj[p0][p1]... tolerating missing keys and wrong types (user input is any JSON)."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(obj, list) or not -len(obj) <= step < len(obj):
                return default
        elif not isinstance(obj, Mapping) or step not in obj:
            return default
        obj = obj[step]
    return obj
