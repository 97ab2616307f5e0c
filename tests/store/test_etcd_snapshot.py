"""The store's state in etcd 3.5's backend layout: a real etcd snapshot decodes to what etcd
served, and any MVCC history survives encode → decode record for record."""
from __future__ import annotations

import hashlib
import struct
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from pykube_plane._mvcc import MVCC
from pykube_plane._raft import ConfState
from pykube_plane.store import etcd_snapshot
from pykube_plane.store.bbolt import Bucket, read_db, write_db
from pykube_plane.store.etcd_backend import parse_message, encode_key_value, Record
from pykube_plane.store.kv import DeleteOp, PutOp, StoreError
from pykube_plane.store.lease import Lessor
from pykube_plane.store.membership import Membership, MemberRecord

ETCD_SNAPSHOT = Path(__file__).parent / "data" / "etcd-3.5.1-snapshot.db"
LEASE = 0x0D31A249922F8209


def test_a_real_etcd_snapshot_decodes_to_what_etcd_served():
    state = etcd_snapshot.decode_snapshot(ETCD_SNAPSHOT.read_bytes(), 0.0)
    mvcc = state.mvcc
    assert (mvcc.revision, mvcc.compact_revision) == (7, 3)
    latest = {kv.key: (kv.value, kv.create_revision, kv.mod_revision, kv.version, kv.lease)
              for kv in mvcc.range(b"\0", b"\xff").kvs}
    assert latest == {b"a": (b"3", 2, 4, 2, 0), b"c": (b"4", 6, 6, 1, LEASE),
                      b"d": (b"5", 7, 7, 1, 0), b"e": (b"6", 7, 7, 1, 0)}
    assert [kv.value for kv in mvcc.range(b"b", revision=4).kvs] == [b"2"]  # before its delete
    assert mvcc.lease_keys(LEASE) == [b"c"]
    assert state.lessor.ids() == [LEASE] and state.lessor.remaining(LEASE, 0.0) == (100, 100)
    (member,) = state.membership.sorted()
    assert (member.name, member.peer_urls) == ("default", ["http://127.0.0.1:45898"])
    assert (state.index, state.term, state.conf_state.voters) == (12, 2, (member.id,))


def test_status_is_etcdutls_number_for_number():
    assert etcd_snapshot.etcd_status(ETCD_SNAPSHOT.read_bytes()) == \
        {"hash": 974409827, "revision": 7, "totalKey": 16, "totalSize": 20480}


def test_re_encoding_etcds_snapshot_gives_etcds_buckets_back():
    data = ETCD_SNAPSHOT.read_bytes()
    again = etcd_snapshot.encode_snapshot(*etcd_snapshot.decode_snapshot(data, 0.0))
    assert read_db(again[:-32]) == read_db(data[:-32])
    assert etcd_snapshot.etcd_status(again)["hash"] == 974409827


def test_key_values_are_encoded_as_gogoproto_does():
    # bytes etcd 3.5.1 wrote for `put c 4 --lease=0d31a249922f8209` at revision 6
    assert encode_key_value(b"c", Record(6, 0, b"4", 6, 1, LEASE)) == \
        b"\n\x01c\x10\x06\x18\x06 \x01*\x0140\x89\x84\xbe\x91\x99\xc9\xe8\x98\r"
    assert encode_key_value(b"b", Record(5, 0)) == b"\n\x01b"  # a tombstone keeps only the key
    assert parse_message(b"\n\x01c\x10\x06\x18\x06 \x01*\x0140\x89\x84\xbe\x91\x99"
                                      b"\xc9\xe8\x98\r") == {1: b"c", 2: 6, 3: 6, 4: 1, 5: b"4",
                                                             6: LEASE}


def test_damage_is_a_store_error_never_a_traceback():
    data = bytearray(ETCD_SNAPSHOT.read_bytes())
    data[3 * 4096] ^= 1  # the root page's id: it now names page 2
    with pytest.raises(StoreError, match="sha256 mismatch"):
        etcd_snapshot.decode_snapshot(bytes(data), 0.0)
    with pytest.raises(StoreError, match="missing hash"):
        etcd_snapshot.decode_snapshot(bytes(data[:-32]), 0.0)
    with pytest.raises(StoreError, match="page 3 says it is page 2"):
        etcd_snapshot.decode_snapshot(bytes(data[:-32]), 0.0, require_digest=False)
    other = write_db(Bucket({b"bucket": Bucket({b"k": b"v"})}))  # bbolt, but not etcd's
    with pytest.raises(StoreError, match="not an etcd backend database"):
        etcd_snapshot.decode_snapshot(other + hashlib.sha256(other).digest(), 0.0)


_keys = st.sampled_from([b"/a", b"/b", b"/c/1", b"/c/2", b"/d" * 20, b"\xff"])
_ops = st.lists(st.one_of(
    st.tuples(st.just("put"), _keys, st.binary(max_size=3000), st.sampled_from([0, 7, 1 << 62])),
    st.tuples(st.just("del"), _keys, st.sampled_from([b"", b"\xff\xff"])),
    st.tuples(st.just("txn"), _keys, _keys),
    st.tuples(st.just("compact"), st.integers(0, 40)),
), max_size=40)


@settings(max_examples=80, deadline=None)
@given(_ops, st.lists(st.tuples(st.integers(1, 1 << 62), st.integers(2, 10_000)), max_size=5,
                      unique_by=lambda t: t[0]))
def test_any_history_survives_encode_then_decode(ops, leases):
    mvcc = MVCC()
    for op in ops:
        if op[0] == "put":
            mvcc.put(op[1], op[2], op[3])
        elif op[0] == "del":
            mvcc.delete_range(op[1], op[2])
        elif op[0] == "txn" and op[1] != op[2]:
            mvcc.txn([], [PutOp(op[1], b"t1"), PutOp(op[2], b"t2"), DeleteOp(b"/zz")], [])
        elif op[0] == "compact" and 0 < op[1] <= mvcc.revision and op[1] > mvcc.compact_revision:
            mvcc.compact(op[1])
    lessor = Lessor()
    for lease_id, ttl in leases:
        lessor.grant(lease_id, ttl, 0.0)
    membership = Membership()
    membership.apply_conf_change(5, MemberRecord(5, "m5", ["http://127.0.0.1:2380"],
                                                 ["http://127.0.0.1:2379"]), (5, 9), (11,))
    conf = ConfState((5, 9), (11,))
    data = etcd_snapshot.encode_snapshot(mvcc, lessor, membership, conf, 1234, 7)
    assert (len(data) - 32) % 4096 == 0
    back = etcd_snapshot.decode_snapshot(data, 0.0)
    assert back.mvcc.dump() == mvcc.dump()
    assert back.mvcc.hash_kv(0) == mvcc.hash_kv(0)
    assert back.lessor.dump() == _sorted_lessor(lessor).dump()
    assert back.membership.encode() == membership.encode()
    assert (back.conf_state.voters, back.conf_state.learners) == ((5, 9), (11,))
    assert (back.index, back.term) == (1234, 7)
    status = etcd_snapshot.etcd_status(data)
    assert status["revision"] <= mvcc.revision and status["totalSize"] == len(data) - 32


def _sorted_lessor(lessor: Lessor) -> Lessor:
    """The same leases, in id order (a snapshot lists them by id, as etcd's bucket does)."""
    out = Lessor()
    dump = lessor.dump()
    (n,) = struct.unpack_from("<I", dump)
    pairs = sorted(struct.unpack_from("<qq", dump, 4 + 16 * i) for i in range(n))
    out.load(struct.pack("<I", n) + b"".join(struct.pack("<qq", *p) for p in pairs), 0.0)
    return out


async def test_snapshots_of_the_older_kplane_format_still_restore(tmp_path):
    from pykube_plane.store.store import Store

    store = await Store.open(tmp_path / "a")
    try:
        await store.put(b"/old/k", b"v")
        lease = (await store.lease_grant(60)).id
        await store.put(b"/old/leased", b"l", lease=lease)
        rev = store.revision
        # the older format is the state machine's own payload + SHA-256
        payload = store._sm.snapshot_payload(1, 1, ConfState((store.member_id,)))
    finally:
        await store.close()
    assert payload.startswith(b"KPSNAP2\n")
    old = tmp_path / "old.snap"
    old.write_bytes(payload + hashlib.sha256(payload).digest())
    assert Store.snapshot_status(old)["revision"] == rev
    Store.snapshot_restore(old, tmp_path / "b", peer_urls=["http://127.0.0.1:2380"])
    restored = await Store.open(tmp_path / "b")
    try:
        assert restored.revision == rev
        assert (await restored.range(b"/old/leased")).kvs[0].lease == lease
        assert [m.peer_urls for m in restored.membership.sorted()] == [["http://127.0.0.1:2380"]]
        # and what it saves now is etcd's format
        saved = tmp_path / "new.db"
        await restored.snapshot_save(saved)
        assert etcd_snapshot.is_etcd_snapshot(saved.read_bytes())
        assert etcd_snapshot.etcd_status(saved.read_bytes())["revision"] == rev
    finally:
        await restored.close()


def test_what_the_store_cannot_keep_is_named_not_dropped_silently(caplog):
    root = read_db(ETCD_SNAPSHOT.read_bytes()[:-32])
    root[b"authUsers"][b"root"] = b"user"
    root[b"auth"][b"authEnabled"] = b"\x01"
    db = write_db(root)
    with caplog.at_level("WARNING", logger="pykube_plane.store.etcd_snapshot"):
        etcd_snapshot.decode_snapshot(db + hashlib.sha256(db).digest(), 0.0)
    assert "1 authUsers entries, auth enabled" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="pykube_plane.store.etcd_snapshot"):
        etcd_snapshot.decode_snapshot(ETCD_SNAPSHOT.read_bytes(), 0.0)
    assert caplog.text == ""


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 20479), st.integers(1, 255)), min_size=1, max_size=6))
def test_damaged_etcd_databases_are_store_errors(flips):
    data = bytearray(ETCD_SNAPSHOT.read_bytes()[:-32])
    for at, mask in flips:
        data[at] ^= mask
    for call in (lambda: etcd_snapshot.decode_snapshot(bytes(data), 0.0, require_digest=False),
                 lambda: etcd_snapshot.etcd_status(bytes(data))):
        try:
            call()
        except StoreError:
            pass


async def test_a_snapshot_from_etcd_with_a_64_bit_member_id_restores(tmp_path):
    """etcd's member ids use all 64 bits (the fixture's is 0x9eb28e7aba9e8d31); the restored
    store founds a new cluster, so the old member table is left behind, as etcdutl does."""
    from pykube_plane.store.store import Store

    Store.snapshot_restore(ETCD_SNAPSHOT, tmp_path / "r", name="m1",
                           peer_urls=["http://127.0.0.1:2380"])
    store = await Store.open(tmp_path / "r")
    try:
        assert (store.revision, store.compact_revision) == (7, 3)
        assert (await store.range(b"c")).kvs[0].lease == LEASE
        assert [(m.name, m.peer_urls) for m in store.membership.sorted()] == \
            [("m1", ["http://127.0.0.1:2380"])]
        assert await store.put(b"f", b"7") == 8
    finally:
        await store.close()
