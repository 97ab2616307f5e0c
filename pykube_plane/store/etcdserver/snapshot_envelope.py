"""The shape etcdctl expects of a snapshot stream, around the store's own snapshot bytes.

etcd streams its bbolt file (a whole number of 512-byte pages) followed by the file's SHA-256,
and `etcdctl snapshot save` refuses a stream whose length is not `512 * n + 32`. The store's
snapshot is `payload + sha256(payload)` of any length, so the server wraps it:

    body = store bytes | zero padding | MAGIC | u64 length of the store bytes  (len(body) % 512 == 0)
    file = body | sha256(body)

`unwrap` turns such a file back into the store's bytes (and passes store files through), so
`kplane kv snapshot restore|status` read what either etcdctl or `Store.snapshot_save` wrote.
"""
from __future__ import annotations

import hashlib
import struct

PAGE = 512
DIGEST = 32
MAGIC = b"KPSNAPv1"
_TRAILER = struct.Struct("<8sQ")


def wrap(store_bytes: bytes) -> bytes:
    used = len(store_bytes) + _TRAILER.size
    padding = (-used) % PAGE
    body = store_bytes + b"\0" * padding + _TRAILER.pack(MAGIC, len(store_bytes))
    return body + hashlib.sha256(body).digest()


def unwrap(data: bytes) -> bytes:
    """The store's snapshot bytes inside an etcdctl-saved file; other data is returned as is."""
    if len(data) < PAGE + DIGEST or (len(data) - DIGEST) % PAGE != 0:
        return data
    body, digest = data[:-DIGEST], data[-DIGEST:]
    if hashlib.sha256(body).digest() != digest:
        return data
    magic, length = _TRAILER.unpack_from(body, len(body) - _TRAILER.size)
    if magic != MAGIC or length > len(body) - _TRAILER.size:
        return data
    return body[:length]
