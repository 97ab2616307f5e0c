"""Snapshot files as etcdctl saves them (`snapshot save`) and etcdutl reads them (`snapshot
status`, `snapshot restore`). New files are etcd's own format (store/etcd_snapshot.py: a bbolt
database + SHA-256); files that older versions wrote — the state payload
(state_machine.encode_state) followed by its SHA-256 — still read. Either way a truncated or
damaged copy is detected before anything is restored from it.
"""
from __future__ import annotations

import hashlib
import os
import time
from pathlib import Path
from typing import Sequence

from pykube_plane._raft import ConfState

from . import etcd_snapshot, snapfile
from .identity import load_identity
from .kv import StoreError
from .membership import MemberRecord, Membership
from .state_machine import decode_state, encode_state

_DIGEST_BYTES = 32


def read_payload(path: Path, require_digest: bool = True) -> bytes:
    """The state payload of a saved snapshot file (etcd's format or the older KPSNAP one),
    checked against its digest."""
    data = path.read_bytes()
    if etcd_snapshot.is_etcd_snapshot(data):
        state = etcd_snapshot.decode_snapshot(data, 0.0, require_digest)
        # The member table stays behind, as etcdutl trims it: a restore founds a new cluster,
        # and etcd's 64-bit member ids do not fit the Raft core's int64 ones anyway.
        return encode_state(state.mvcc, state.lessor, Membership(), ConfState(()), state.index, state.term)
    payload, digest = data[:-_DIGEST_BYTES], data[-_DIGEST_BYTES:]
    if len(data) < _DIGEST_BYTES or hashlib.sha256(payload).digest() != digest:
        raise StoreError(f"snapshot file {path}: checksum mismatch (truncated or corrupt)")
    return payload


def status(path: str | os.PathLike) -> dict:
    """etcdutl snapshot status: hash, revision, total keys, size."""
    data = Path(path).read_bytes()
    if etcd_snapshot.is_etcd_snapshot(data):
        return etcd_snapshot.etcd_status(data)
    payload = read_payload(Path(path))
    state = decode_state(payload, time.monotonic())
    hash_value, _ = state.mvcc.hash_kv(0)
    return {"hash": hash_value, "revision": state.mvcc.revision,
            "totalKey": int(state.mvcc.stats().get("keys", 0)), "totalSize": len(payload)}


def restore(path: str | os.PathLike, data_dir: str | os.PathLike, *, name: str = "default",
            peer_urls: Sequence[str] = (), skip_hash_check: bool = False) -> None:
    """etcdutl snapshot restore: a new data dir holding the state, as a new cluster of one
    member (new member and cluster ids) named `name` at `peer_urls`."""
    payload = read_payload(Path(path), require_digest=not skip_hash_check)
    data_dir = Path(data_dir)
    member_dir = data_dir / "member"
    if (member_dir / "wal").exists() and any((member_dir / "wal").iterdir()):
        raise StoreError(f"data-dir {data_dir} exists and is not empty")
    (member_dir / "snap").mkdir(parents=True, exist_ok=True)
    state = decode_state(payload, 0.0)  # validate before writing anything
    member_id, _cluster_id = load_identity(member_dir)
    state.membership = Membership()
    state.membership.apply_conf_change(member_id, MemberRecord(member_id, name, list(peer_urls)),
                                       (member_id,), ())
    state.conf_state = ConfState((member_id,))
    snapfile.write_snapshot(member_dir / "snap", 1, 1,
                            encode_state(state.mvcc, state.lessor, state.membership,
                                         state.conf_state, 1, 1))
