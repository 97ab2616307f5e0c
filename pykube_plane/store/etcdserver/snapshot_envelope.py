"""The envelope older kplane servers put around their own snapshot bytes; read-only now.

The server now streams etcd's own format (store/etcd_snapshot.py). Before that it wrapped the
store's `KPSNAP` snapshot (`payload + sha256(payload)`) to the shape etcdctl checks, a stream of
`512 * n + 32` bytes:

    body = store bytes | zero padding | MAGIC | u64 length of the store bytes  (len(body) % 512 == 0)
    file = body | sha256(body)

`unwrap` turns such a file back into the store's bytes (and passes other files through), so
`kplane kv snapshot restore|status` still read backups taken that way; `wrap` remains for tests.
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
