"""Objects in the store: JSON values under /registry keys, written by compare-and-swap txns.

Like kube-apiserver's etcd3 storage, `metadata.resourceVersion` is never stored: it is the key's
mod_revision, put into the object when it is read. Every write is one txn whose compares make it
safe against concurrent writers:

    create:  create_revision(key) == 0                 else KeyExistsError   (409 AlreadyExists)
    update:  mod_revision(key) == the revision read     else RevisionConflictError (409 Conflict)
    delete:  mod_revision(key) == the revision read     else RevisionConflictError

A write may also claim or release *allocation keys* in the same txn (a Service's cluster IP and
node ports): claiming compares create_revision == 0 too, so two objects never hold one IP.
"""
from __future__ import annotations

from typing import Any, Sequence

import orjson

from pykube_plane.store.kv import (
    KV,
    RESULT_EQUAL,
    TARGET_CREATE,
    TARGET_MOD,
    Compare,
    DeleteOp,
    KeyValue,
    PutOp,
    RangeOp,
    prefix_end,
)


class StorageError(Exception):
    pass


class KeyExistsError(StorageError):
    pass


class RevisionConflictError(StorageError):
    """The key changed since it was read; `current` is what the store holds now (None: deleted)."""

    def __init__(self, current: KeyValue | None) -> None:
        super().__init__("object modified")
        self.current = current


class AllocationTakenError(StorageError):
    """One of the allocation keys a write wanted to claim is held by another object."""

    def __init__(self, keys: list[bytes]) -> None:
        super().__init__("allocation taken")
        self.keys = keys


def decode(kv: KeyValue) -> dict[str, Any]:
    """The stored object with its resourceVersion filled in from the key's mod_revision."""
    obj = orjson.loads(kv.value)
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    meta["resourceVersion"] = str(kv.mod_revision)
    return obj


def encode(obj: dict[str, Any]) -> bytes:
    """The bytes to store: the object without metadata.resourceVersion."""
    meta = obj.get("metadata")
    if meta is None or "resourceVersion" not in meta:
        return orjson.dumps(obj)
    rv = meta.pop("resourceVersion")
    try:
        return orjson.dumps(obj)
    finally:
        meta["resourceVersion"] = rv


class Storage:
    """The registry's access to the `KV`: typed reads and guarded writes."""

    def __init__(self, kv: KV) -> None:
        self.kv = kv

    async def get(self, key: bytes, revision: int = 0) -> KeyValue | None:
        result = await self.kv.range(key, revision=revision)
        return result.kvs[0] if result.kvs else None

    async def current_revision(self) -> int:
        """The store's revision now (the header revision of a read that matches nothing)."""
        result = await self.kv.range(b"/registry/\x00revision-probe", count_only=True)
        return result.revision

    async def list(self, prefix: bytes, start: bytes = b"", revision: int = 0,
                   limit: int = 0) -> tuple[list[KeyValue], int, bool]:
        """Keys under `prefix` from `start` (inclusive) at `revision`: (kvs, revision, more)."""
        result = await self.kv.range(start or prefix, prefix_end(prefix), revision=revision, limit=limit)
        return result.kvs, result.revision, result.more

    async def create(self, key: bytes, value: bytes, claims: Sequence[tuple[bytes, bytes]] = (),
                     lease: int = 0) -> int:
        """Write a new key (and claim allocation keys). Returns the revision of the write."""
        compare = [Compare(key, TARGET_CREATE, RESULT_EQUAL, 0)]
        compare += [Compare(k, TARGET_CREATE, RESULT_EQUAL, 0) for k, _ in claims]
        success = [PutOp(key, value, lease=lease)] + [PutOp(k, v) for k, v in claims]
        failure = [RangeOp(key, keys_only=True)] + [RangeOp(k, keys_only=True) for k, _ in claims]
        result = await self.kv.txn(compare, success, failure)
        if result.succeeded:
            return result.revision
        if result.responses[0].kvs:
            raise KeyExistsError(key.decode())
        raise AllocationTakenError([k for (k, _), r in zip(claims, result.responses[1:]) if r.kvs])

    async def update(self, key: bytes, value: bytes, mod_revision: int,
                     claims: Sequence[tuple[bytes, bytes]] = (), releases: Sequence[bytes] = (),
                     lease: int = 0) -> int:
        """Replace a key last written at `mod_revision`. Returns the revision of the write."""
        compare = [Compare(key, TARGET_MOD, RESULT_EQUAL, mod_revision)]
        compare += [Compare(k, TARGET_CREATE, RESULT_EQUAL, 0) for k, _ in claims]
        success: list = [PutOp(key, value, lease=lease)] + [PutOp(k, v) for k, v in claims]
        success += [DeleteOp(k) for k in releases]
        failure = [RangeOp(key)] + [RangeOp(k, keys_only=True) for k, _ in claims]
        result = await self.kv.txn(compare, success, failure)
        if result.succeeded:
            return result.revision
        current = result.responses[0].kvs
        if not current or current[0].mod_revision != mod_revision:
            raise RevisionConflictError(current[0] if current else None)
        raise AllocationTakenError([k for (k, _), r in zip(claims, result.responses[1:]) if r.kvs])

    async def delete(self, key: bytes, mod_revision: int, releases: Sequence[bytes] = ()) -> int:
        """Delete a key last written at `mod_revision` (and release allocation keys)."""
        compare = [Compare(key, TARGET_MOD, RESULT_EQUAL, mod_revision)]
        success = [DeleteOp(key)] + [DeleteOp(k) for k in releases]
        result = await self.kv.txn(compare, success, [RangeOp(key)])
        if result.succeeded:
            return result.revision
        current = result.responses[0].kvs
        raise RevisionConflictError(current[0] if current else None)
