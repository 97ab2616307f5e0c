"""The bbolt page-format module: what it writes reads back, and it reads what etcd wrote.

tests/store/data/etcd-3.5.1-snapshot.db is `etcdctl snapshot save` of a real etcd 3.5.1 after:
put a 1; put b 2; put a 3; del b; lease grant 100 (0d31a249922f8209); put c 4 --lease;
txn {put d 5; put e 6}; compact 3. `etcdutl snapshot status -w json` said
{"hash":974409827,"revision":7,"totalKey":16,"totalSize":20480}.
"""
from __future__ import annotations

import struct
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st

from pykube_plane.store.bbolt import Bucket, BboltError, read_db, read_freelist, read_meta, write_db
from pykube_plane.store.bbolt.format import (
    BRANCH_PAGE, LEAF_PAGE, NO_FREELIST, PAGE_HEADER, fnv1a64,
)

ETCD_SNAPSHOT = Path(__file__).parent / "data" / "etcd-3.5.1-snapshot.db"


def etcd_db() -> bytes:
    return ETCD_SNAPSHOT.read_bytes()[:-32]


def page_types(data: bytes) -> dict[int, tuple[int, int]]:
    """pgid -> (flags, overflow) for every page from 2 up to the high-water mark."""
    meta = read_meta(data)
    out, pgid = {}, 2
    while pgid < meta.high_water:
        _, flags, _, overflow = PAGE_HEADER.unpack_from(data, pgid * meta.page_size)
        out[pgid] = (flags, overflow)
        pgid += overflow + 1
    return out


# --- files real etcd wrote ----------------------------------------------------------------------

def test_reads_a_real_etcd_snapshot():
    data = etcd_db()
    meta = read_meta(data)
    assert (meta.page_size, meta.freelist, meta.high_water) == (4096, NO_FREELIST, 5)
    assert read_freelist(data) == []
    root = read_db(data)
    assert [name for name, _ in root.items()] == [
        b"alarm", b"auth", b"authRoles", b"authUsers", b"cluster", b"key", b"lease", b"members",
        b"members_removed", b"meta"]
    revisions = [(struct.unpack(">Q", k[:8])[0], k[17:]) for k, _ in root[b"key"].items()]
    assert revisions == [(2, b""), (3, b""), (4, b""), (5, b"t"), (6, b""), (7, b""), (7, b"")]
    assert root[b"key"][struct.pack(">QcQ", 5, b"_", 0) + b"t"] == b"\n\x01b"
    assert root[b"cluster"][b"clusterVersion"] == b"3.5.0"
    assert root[b"meta"][b"finishedCompactRev"][:8] == struct.pack(">Q", 3)
    assert list(root[b"lease"].entries) == [bytes.fromhex("0d31a249922f8209")]


def test_rewriting_a_real_snapshot_keeps_every_entry():
    root = read_db(etcd_db())
    again = write_db(root)
    assert read_db(again) == root
    assert len(again) % 4096 == 0


# --- round trips --------------------------------------------------------------------------------

def test_empty_database_is_a_meta_pair_a_leaf_and_a_freelist():
    data = write_db(Bucket())
    assert len(data) == 4 * 4096
    assert read_db(data) == Bucket()
    assert page_types(data) == {2: (LEAF_PAGE, 0), 3: (0x10, 0)}
    assert read_meta(data).freelist == 3


def test_many_keys_need_branch_pages_and_every_key_comes_back_in_order():
    root = Bucket()
    big = root.bucket(b"key")
    for i in range(20_000):
        big[struct.pack(">Q", i * 7919 % 20_000)] = b"v" * (i % 50)
    data = write_db(root)
    back = read_db(data)
    assert back == root
    assert [k for k, _ in back[b"key"].items()] == [struct.pack(">Q", i) for i in range(20_000)]
    types = [flags for flags, _ in page_types(data).values()]
    assert types.count(BRANCH_PAGE) >= 2  # a root branch over branches of leaves, or wider


def test_a_value_larger_than_a_page_gets_overflow_pages():
    root = Bucket()
    b = root.bucket(b"b")
    b[b"huge"] = bytes(range(256)) * 100      # 25,600 bytes: seven pages of 4 KiB
    b[b"small"] = b"x"
    data = write_db(root)
    assert read_db(data) == root
    assert max(overflow for _, overflow in page_types(data).values()) == 6


def test_small_buckets_are_inline_and_large_ones_get_pages():
    root = Bucket()
    root.bucket(b"small")[b"k"] = b"v"
    large = root.bucket(b"large")
    for i in range(100):
        large[b"%03d" % i] = b"x" * 20
    nested = root.bucket(b"outer").bucket(b"inner")
    nested[b"deep"] = b"value"
    data = write_db(root)
    assert read_db(data) == root
    # the root bucket's own leaf holds the inline buckets' pages in their values
    root_page = read_meta(data).root * 4096
    assert data.find(b"small", root_page, root_page + 4096) > 0
    assert b"deep" not in data[root_page:root_page + 4096]  # outer has a bucket: never inline


def test_bucket_sequences_survive():
    root = Bucket(sequence=9)
    root.bucket(b"a").sequence = 42
    assert read_db(write_db(root)).get_bucket(b"a").sequence == 42
    assert read_meta(write_db(root)).sequence == 9


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.dictionaries(
    st.binary(min_size=1, max_size=24),
    st.one_of(st.binary(max_size=6000),
              st.dictionaries(st.binary(min_size=1, max_size=12), st.binary(max_size=300),
                              max_size=40)),
    max_size=60),
    st.sampled_from([1024, 4096, 16384]))
def test_what_is_written_reads_back(tree, page_size):
    root = Bucket()
    for key, value in tree.items():
        if isinstance(value, dict):
            nested = root.bucket(key)
            for k, v in value.items():
                nested[k] = v
        else:
            root[key] = value
    data = write_db(root, page_size=page_size)
    assert len(data) % page_size == 0
    assert read_db(data) == root
    assert read_freelist(data) == []
    # every page below the high-water mark is a tree page or the freelist: nothing unaccounted
    assert all(flags in (BRANCH_PAGE, LEAF_PAGE, 0x10) for flags, _ in page_types(data).values())


# --- damage -------------------------------------------------------------------------------------

def test_a_damaged_meta_falls_back_to_the_other_one():
    data = bytearray(write_db(Bucket({b"b": Bucket({b"k": b"v"})}), txid=8))
    assert read_meta(bytes(data)).txid == 8
    data[16 + 20] ^= 0xFF  # inside meta 0's fields: its checksum no longer matches
    assert read_meta(bytes(data)).txid == 7
    assert read_db(bytes(data))[b"b"][b"k"] == b"v"


@pytest.mark.parametrize("damage, message", [
    (lambda d: d[:50], "meta page 0"),
    (lambda d: d[:100], "shorter than"),
    (lambda d: d[:4096 * 3], "shorter than"),
    (lambda d: b"\0" * len(d), "invalid database"),
])
def test_bad_files_raise_bbolt_errors(damage, message):
    data = write_db(Bucket({b"b": Bucket({b"k": b"v" * 5000})}))
    with pytest.raises(BboltError, match=message):
        read_db(damage(data))


def test_a_page_that_names_another_id_is_refused():
    data = bytearray(write_db(Bucket({b"b": Bucket({b"k": b"v" * 5000})})))
    root = read_meta(bytes(data)).root
    struct.pack_into("<Q", data, root * 4096, root + 1)
    with pytest.raises(BboltError, match="says it is page"):
        read_db(bytes(data))


def test_fnv1a64_matches_the_reference_vectors():
    assert fnv1a64(b"") == 0xCBF29CE484222325
    assert fnv1a64(b"a") == 0xAF63DC4C8601EC8C


def test_a_page_referenced_twice_is_refused():
    root = Bucket()
    for name in (b"a", b"b"):
        big = root.bucket(name)
        for i in range(300):
            big[b"%04d" % i] = name * 30
    data = bytearray(write_db(root))
    back = read_db(bytes(data))
    # point bucket b's root at bucket a's root page
    root_page = read_meta(bytes(data)).root * 4096
    a_at = data.index(b"a", root_page + 16 + 2 * 16) + 1
    b_at = data.index(b"b", a_at) + 1
    data[b_at:b_at + 8] = data[a_at:a_at + 8]
    assert back[b"a"] != back[b"b"]
    with pytest.raises(BboltError, match="multiple references"):
        read_db(bytes(data))


@settings(max_examples=300, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 6 * 4096 - 1), st.integers(1, 255)), min_size=1,
                max_size=8))
def test_damage_anywhere_is_a_bbolt_error_or_a_readable_tree(flips):
    """Bad input never escapes as another exception (struct.error, IndexError, recursion)."""
    data = bytearray(_FUZZ_BASE)
    for at, mask in flips:
        data[at % len(data)] ^= mask
    try:
        read_db(bytes(data))
        read_freelist(bytes(data))
    except BboltError:
        pass


def _fuzz_base() -> bytes:
    root = Bucket()
    big = root.bucket(b"key")
    for i in range(200):
        big[struct.pack(">Q", i)] = b"v" * (i % 40)
    big[b"huge"] = b"h" * 5000
    root.bucket(b"small")[b"k"] = b"v"
    return write_db(root)


_FUZZ_BASE = _fuzz_base()


@pytest.mark.parametrize("free_ids", [[7, 9, 12], list(range(100, 100 + 70_000))])
def test_freelists_are_read_in_both_count_forms(free_ids):
    """A freelist of fewer than 0xFFFF ids keeps the count in the page header; a longer one sets
    the header's count to 0xFFFF and leads with the real count (bbolt's page.go)."""
    from pykube_plane.store.bbolt.writer import _meta_page

    size = 1024
    base = write_db(Bucket({b"b": Bucket({b"k": b"v"})}), page_size=size)
    leaf_pages = base[2 * size:read_meta(base).freelist * size]
    freelist_id = 2 + len(leaf_pages) // size
    if len(free_ids) < 0xFFFF:
        body = PAGE_HEADER.pack(freelist_id, 0x10, len(free_ids), 0)
    else:
        body = PAGE_HEADER.pack(freelist_id, 0x10, 0xFFFF, 0) + struct.pack("<Q", len(free_ids))
    body += struct.pack(f"<{len(free_ids)}Q", *free_ids)
    blocks = -(-len(body) // size)
    body = bytearray(body + bytes(blocks * size - len(body)))
    struct.pack_into("<I", body, 12, blocks - 1)   # the overflow count
    high_water = freelist_id + blocks
    root = read_meta(base).root
    data = (_meta_page(size, 0, root, 0, freelist_id, high_water, 5)
            + _meta_page(size, 1, root, 0, freelist_id, high_water, 4) + leaf_pages + bytes(body))
    assert read_freelist(data) == free_ids
    assert read_db(data)[b"b"][b"k"] == b"v"
