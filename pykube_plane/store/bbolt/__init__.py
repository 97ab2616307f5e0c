"""bbolt's on-disk format (the database etcd keeps its backend in), read and written in Python.

    root = Bucket()
    root.bucket(b"key")[b"\x00..."] = b"value"      # nested buckets, sorted keys
    data = write_db(root)                             # a whole bbolt file, as bytes
    assert read_db(data) == root

`read_db` reads any valid bbolt file (branch/leaf pages, overflow pages, inline buckets);
`write_db` lays a tree of buckets out as a freshly compacted file (no free pages but its own
empty freelist). Nothing here does I/O: callers read and write the bytes.
"""
from .format import BboltError
from .reader import read_db, read_freelist, read_meta
from .tree import Bucket
from .writer import write_db

__all__ = ["BboltError", "Bucket", "read_db", "read_freelist", "read_meta", "write_db"]
