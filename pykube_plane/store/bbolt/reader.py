"""Reading a bbolt file: pick the current meta page, then walk the bucket B+trees."""
from __future__ import annotations

import struct
from dataclasses import dataclass

from .format import (
    BRANCH_ELEMENT, BRANCH_PAGE, BUCKET_HEADER, BUCKET_LEAF_FLAG, CHECKSUM, FREELIST_COUNT_OVERFLOW,
    FREELIST_PAGE, LEAF_ELEMENT, LEAF_PAGE, MAGIC, META, META_PAGE, NO_FREELIST, PAGE_HEADER, PGID,
    VERSION, BboltError, fnv1a64,
)
from .tree import Bucket

_MIN_PAGE_SIZE = 512
_MAX_DEPTH = 64  # far beyond any real tree; a cycle in a damaged file stops here


@dataclass(frozen=True, slots=True)
class Meta:
    page_size: int
    flags: int
    root: int
    sequence: int
    freelist: int
    high_water: int
    txid: int


def _parse_meta(data: bytes, offset: int) -> Meta | str:
    """The meta at `offset` (a meta page's start), or why it is not valid."""
    if len(data) < offset + PAGE_HEADER.size + META.size + CHECKSUM.size:
        return "file too short for a meta page"
    _, flags, _, _ = PAGE_HEADER.unpack_from(data, offset)
    start = offset + PAGE_HEADER.size
    fields = META.unpack_from(data, start)
    magic, version, page_size, meta_flags, root, sequence, freelist, high_water, txid = fields
    if flags != META_PAGE or magic != MAGIC:
        return "invalid database"
    if version != VERSION:
        return f"version mismatch ({version})"
    (checksum,) = CHECKSUM.unpack_from(data, start + META.size)
    if fnv1a64(data[start:start + META.size]) != checksum:
        return "checksum error"
    return Meta(page_size, meta_flags, root, sequence, freelist, high_water, txid)


def read_meta(data: bytes) -> Meta:
    """The current meta: the valid one of pages 0 and 1 with the higher txid. When meta 0 is
    damaged its page size is unknown, so meta 1 is looked for where each page size puts it."""
    first = _parse_meta(data, 0)
    metas = [first] if isinstance(first, Meta) else []
    sizes = [first.page_size] if isinstance(first, Meta) else [4096 << i for i in range(5)] + [
        1024, 2048]
    for size in sizes:
        if size < _MIN_PAGE_SIZE or size & (size - 1):
            continue
        second = _parse_meta(data, size)
        if isinstance(second, Meta) and second.page_size == size:
            metas.append(second)
            break
    if not metas:
        raise BboltError(f"bbolt: meta page 0: {first}")
    meta = max(metas, key=lambda m: m.txid)
    if meta.page_size < _MIN_PAGE_SIZE or meta.page_size & (meta.page_size - 1):
        raise BboltError(f"bbolt: bad page size {meta.page_size}")
    if len(data) < meta.high_water * meta.page_size:
        raise BboltError(f"bbolt: file of {len(data)} bytes is shorter than its "
                         f"{meta.high_water} pages")
    if meta.root >= meta.high_water or meta.root < 2:
        raise BboltError(f"bbolt: root page {meta.root} out of range")
    return meta


class _Pages:
    def __init__(self, data: bytes, meta: Meta) -> None:
        self.data = memoryview(data)
        self.meta = meta
        self.visited: set[int] = set()

    def visit(self, pgid: int) -> None:
        """Each page belongs to one place in one tree; a second reference is damage (and would
        let a crafted file make the walk exponential)."""
        if pgid in self.visited:
            raise BboltError(f"bbolt: page {pgid}: multiple references")
        self.visited.add(pgid)

    def page(self, pgid: int) -> tuple[memoryview, int, int]:
        """(the page's bytes incl. overflow, flags, count)."""
        if pgid < 2 or pgid >= self.meta.high_water:
            raise BboltError(f"bbolt: page {pgid} out of range")
        size = self.meta.page_size
        start = pgid * size
        page_id, flags, count, overflow = PAGE_HEADER.unpack_from(self.data, start)
        if page_id != pgid:
            raise BboltError(f"bbolt: page {pgid} says it is page {page_id}")
        if pgid + overflow >= self.meta.high_water:
            raise BboltError(f"bbolt: page {pgid} overflows past the end")
        return self.data[start:start + (overflow + 1) * size], flags, count


def _leaf_elements(page: memoryview, count: int):
    """(flags, key, value) of each element of a leaf page image."""
    base = PAGE_HEADER.size
    end = len(page)
    for i in range(count):
        at = base + i * LEAF_ELEMENT.size
        flags, pos, ksize, vsize = LEAF_ELEMENT.unpack_from(page, at)
        k_start = at + pos
        if k_start + ksize + vsize > end:
            raise BboltError("bbolt: leaf element runs past its page")
        yield flags, bytes(page[k_start:k_start + ksize]), \
            bytes(page[k_start + ksize:k_start + ksize + vsize])


def _walk(pages: _Pages, pgid: int, depth: int, out: list[tuple[int, bytes, bytes]]) -> None:
    if depth > _MAX_DEPTH:
        raise BboltError("bbolt: tree deeper than possible (a cycle?)")
    pages.visit(pgid)
    page, flags, count = pages.page(pgid)
    if flags == LEAF_PAGE:
        out.extend(_leaf_elements(page, count))
    elif flags == BRANCH_PAGE:
        for i in range(count):
            at = PAGE_HEADER.size + i * BRANCH_ELEMENT.size
            _pos, _ksize, child = BRANCH_ELEMENT.unpack_from(page, at)
            _walk(pages, child, depth + 1, out)
    else:
        raise BboltError(f"bbolt: page {pgid} has type {flags:#x}, not a branch or leaf")


def _read_bucket(pages: _Pages, root: int, sequence: int, inline: memoryview | None,
                 depth: int) -> Bucket:
    elements: list[tuple[int, bytes, bytes]] = []
    if inline is not None:
        if len(inline) < PAGE_HEADER.size:
            raise BboltError("bbolt: inline bucket too short")
        _, flags, count, _ = PAGE_HEADER.unpack_from(inline, 0)
        if flags != LEAF_PAGE:
            raise BboltError("bbolt: inline bucket is not a leaf page")
        elements.extend(_leaf_elements(inline, count))
    else:
        _walk(pages, root, depth, elements)
    bucket = Bucket(sequence=sequence)
    previous = None
    for flags, key, value in elements:
        if previous is not None and key <= previous:
            raise BboltError("bbolt: keys out of order")
        previous = key
        if flags & BUCKET_LEAF_FLAG:
            bucket.entries[key] = _bucket_from_value(pages, value, depth + 1)
        else:
            bucket.entries[key] = value
    return bucket


def _bucket_from_value(pages: _Pages, value: bytes, depth: int) -> Bucket:
    if len(value) < BUCKET_HEADER.size:
        raise BboltError("bbolt: bucket value too short")
    root, sequence = BUCKET_HEADER.unpack_from(value, 0)
    inline = memoryview(value)[BUCKET_HEADER.size:] if root == 0 else None
    return _read_bucket(pages, root, sequence, inline, depth)


def read_db(data: bytes) -> Bucket:
    """The root bucket (top-level buckets by name) of a bbolt file's current transaction."""
    meta = read_meta(data)
    try:
        return _read_bucket(_Pages(data, meta), meta.root, meta.sequence, None, 0)
    except struct.error as exc:  # a count or offset pointing past what the page holds
        raise BboltError(f"bbolt: damaged page: {exc}") from None


def read_freelist(data: bytes) -> list[int]:
    """The free page ids the current meta records (empty when the file keeps no freelist)."""
    meta = read_meta(data)
    try:
        return _read_freelist(data, meta)
    except struct.error as exc:
        raise BboltError(f"bbolt: damaged freelist: {exc}") from None


def _read_freelist(data: bytes, meta: Meta) -> list[int]:
    if meta.freelist == NO_FREELIST:
        return []
    page, flags, count = _Pages(data, meta).page(meta.freelist)
    if flags != FREELIST_PAGE:
        raise BboltError(f"bbolt: freelist page {meta.freelist} has type {flags:#x}")
    start = PAGE_HEADER.size
    if count == FREELIST_COUNT_OVERFLOW:
        (count,) = PGID.unpack_from(page, start)
        start += PGID.size
    if start + count * PGID.size > len(page):
        raise BboltError("bbolt: freelist runs past its page")
    return list(struct.unpack_from(f"<{count}Q", page, start))
