"""Writing a bbolt file: a tree of buckets laid out bottom-up as a compacted database.

Layout: pages 0 and 1 are metas (page 1 with txid - 1, as bbolt's Tx.WriteTo leaves them), then
each bucket's pages (children before the branch pages that point at them), then one freelist
page listing no free pages. Every page below the high-water mark is reachable, so bbolt's
consistency check (`tx.Check`, which `etcdutl snapshot status` runs) finds nothing to report.

Leaves are packed full; a value too big for a page gets a leaf of its own with overflow pages.
A bucket with no nested buckets whose leaf fits in a quarter page is stored inline in its
parent's value, as bbolt does.
"""
from __future__ import annotations

from .format import (
    BRANCH_ELEMENT, BRANCH_PAGE, BUCKET_HEADER, BUCKET_LEAF_FLAG, CHECKSUM, DEFAULT_PAGE_SIZE,
    FREELIST_PAGE, LEAF_ELEMENT, LEAF_PAGE, MAGIC, META, META_PAGE, PAGE_HEADER, VERSION,
    fnv1a64,
)
from .tree import Bucket

_ELEMENT = 16  # branch and leaf elements are the same size


class _File:
    def __init__(self, page_size: int) -> None:
        self.page_size = page_size
        self.pages: list[bytes] = []   # images of pages 2, 3, ... (each a whole number of pages)
        self.next_pgid = 2

    def add(self, image: bytearray) -> int:
        """Place a page image (its header's id is filled in here); returns its pgid."""
        pgid = self.next_pgid
        size = self.page_size
        blocks = max(1, -(-len(image) // size))
        PAGE_HEADER.pack_into(image, 0, pgid, *PAGE_HEADER.unpack_from(image, 0)[1:3], blocks - 1)
        image.extend(bytes(blocks * size - len(image)))
        self.pages.append(bytes(image))
        self.next_pgid += blocks
        return pgid


def _leaf_image(items: list[tuple[int, bytes, bytes]]) -> bytearray:
    """A leaf page (header + elements + data) holding (flags, key, value) items."""
    n = len(items)
    image = bytearray(PAGE_HEADER.pack(0, LEAF_PAGE, n, 0))
    image.extend(bytes(n * _ELEMENT))
    for i, (flags, key, value) in enumerate(items):
        at = PAGE_HEADER.size + i * _ELEMENT
        LEAF_ELEMENT.pack_into(image, at, flags, len(image) - at, len(key), len(value))
        image += key
        image += value
    return image


def _branch_image(children: list[tuple[bytes, int]]) -> bytearray:
    n = len(children)
    image = bytearray(PAGE_HEADER.pack(0, BRANCH_PAGE, n, 0))
    image.extend(bytes(n * _ELEMENT))
    for i, (key, pgid) in enumerate(children):
        at = PAGE_HEADER.size + i * _ELEMENT
        BRANCH_ELEMENT.pack_into(image, at, len(image) - at, len(key), pgid)
        image += key
    return image


def _pack(sizes: list[int], page_size: int) -> list[tuple[int, int]]:
    """Split items of the given data sizes into [start, end) runs, each filling at most a page
    (a run of one item may exceed it: that page overflows). bbolt wants two keys a page where it
    can, so a run never ends after a lone item when the next would fit beside it."""
    runs = []
    start, used = 0, PAGE_HEADER.size
    for i, size in enumerate(sizes):
        cost = _ELEMENT + size
        if i > start and used + cost > page_size:
            runs.append((start, i))
            start, used = i, PAGE_HEADER.size
        used += cost
    runs.append((start, len(sizes)))
    return runs


def _write_tree(out: _File, items: list[tuple[int, bytes, bytes]]) -> int:
    """Write a bucket's leaves and branch levels; returns the root page id."""
    size = out.page_size
    level = []
    for start, end in _pack([len(k) + len(v) for _, k, v in items], size):
        run = items[start:end]
        level.append((run[0][1] if run else b"", out.add(_leaf_image(run))))
    while len(level) > 1:
        upper = []
        for start, end in _pack([len(k) for k, _ in level], size):
            run = level[start:end]
            upper.append((run[0][0], out.add(_branch_image(run))))
        level = upper
    return level[0][1]


def _bucket_items(out: _File, bucket: Bucket) -> list[tuple[int, bytes, bytes]]:
    items = []
    for key, value in bucket.items():
        if isinstance(value, Bucket):
            items.append((BUCKET_LEAF_FLAG, key, _bucket_value(out, value)))
        else:
            items.append((0, key, value))
    return items


def _inlineable(bucket: Bucket, page_size: int) -> bool:
    size = PAGE_HEADER.size
    for key, value in bucket.entries.items():
        if isinstance(value, Bucket):
            return False
        size += _ELEMENT + len(key) + len(value)
        if size > page_size // 4:
            return False
    return True


def _bucket_value(out: _File, bucket: Bucket) -> bytes:
    """The value a parent stores for a nested bucket: its header, plus its leaf when inline."""
    if _inlineable(bucket, out.page_size):
        return BUCKET_HEADER.pack(0, bucket.sequence) + bytes(_leaf_image(_bucket_items(out, bucket)))
    root = _write_tree(out, _bucket_items(out, bucket))
    return BUCKET_HEADER.pack(root, bucket.sequence)


def _meta_page(page_size: int, pgid: int, root: int, sequence: int, freelist: int,
               high_water: int, txid: int) -> bytes:
    fields = META.pack(MAGIC, VERSION, page_size, 0, root, sequence, freelist, high_water, txid)
    image = PAGE_HEADER.pack(pgid, META_PAGE, 0, 0) + fields + CHECKSUM.pack(fnv1a64(fields))
    return image + bytes(page_size - len(image))


def write_db(root: Bucket, page_size: int = DEFAULT_PAGE_SIZE, txid: int = 2) -> bytes:
    """The whole bbolt file holding `root`'s buckets (the root holds only buckets in a real db,
    but plain values are written too). `txid` is the current meta's transaction id (>= 1)."""
    if page_size < 1024 or page_size & (page_size - 1):
        raise ValueError(f"bbolt: page size must be a power of two >= 1024, not {page_size}")
    if txid < 1:
        raise ValueError("bbolt: txid must be at least 1")
    out = _File(page_size)
    root_pgid = _write_tree(out, _bucket_items(out, root))
    freelist = out.add(bytearray(PAGE_HEADER.pack(0, FREELIST_PAGE, 0, 0)))
    high_water = out.next_pgid
    metas = [_meta_page(page_size, 0, root_pgid, root.sequence, freelist, high_water, txid),
             _meta_page(page_size, 1, root_pgid, root.sequence, freelist, high_water, txid - 1)]
    return b"".join(metas + out.pages)
