"""The page layouts of bbolt (go.etcd.io/bbolt, page.go and meta.go), little-endian throughout.

    page header   id u64 | flags u16 | count u16 | overflow u32            (16 bytes)
    meta          magic u32 | version u32 | page size u32 | flags u32 |
                  root bucket (root pgid u64, sequence u64) | freelist pgid u64 |
                  high-water pgid u64 | txid u64 | checksum u64 (FNV-1a 64 of what precedes)
    branch elem   pos u32 | ksize u32 | pgid u64                           (16 bytes)
    leaf elem     flags u32 | pos u32 | ksize u32 | vsize u32               (16 bytes)
    bucket value  root pgid u64 | sequence u64 [| inline leaf page when root pgid is 0]
    freelist      count u16 in the header, or 0xFFFF and the count as the first u64; then the
                  free page ids, sorted

An element's `pos` counts from the element itself to its key (the value follows the key). A page
spans `overflow + 1` page-size blocks. Pages 0 and 1 are the two meta pages; the valid one with
the higher txid is current.
"""
from __future__ import annotations

import struct

PAGE_HEADER = struct.Struct("<QHHI")
META = struct.Struct("<IIIIQQQQQ")          # everything the checksum covers
CHECKSUM = struct.Struct("<Q")
BRANCH_ELEMENT = struct.Struct("<IIQ")
LEAF_ELEMENT = struct.Struct("<IIII")
BUCKET_HEADER = struct.Struct("<QQ")
PGID = struct.Struct("<Q")

BRANCH_PAGE = 0x01
LEAF_PAGE = 0x02
META_PAGE = 0x04
FREELIST_PAGE = 0x10
BUCKET_LEAF_FLAG = 0x01

MAGIC = 0xED0CDAED
VERSION = 2
NO_FREELIST = 0xFFFFFFFFFFFFFFFF
FREELIST_COUNT_OVERFLOW = 0xFFFF
DEFAULT_PAGE_SIZE = 4096

_FNV_OFFSET = 0xCBF29CE484222325
_FNV_PRIME = 0x100000001B3
_MASK = 0xFFFFFFFFFFFFFFFF


class BboltError(ValueError):
    """The bytes are not a valid bbolt database (or not one this module can read)."""


def fnv1a64(data: bytes) -> int:
    h = _FNV_OFFSET
    for byte in data:
        h = ((h ^ byte) * _FNV_PRIME) & _MASK
    return h
