"""Raft messages as bytes, for the peer transport (one message per length-prefixed frame).

Layout (big endian), version 1:

    message   u8 version=1 | u8 type | u64 to | u64 from | u64 term | u64 log_term
              | u64 index | u64 commit | u8 flags (1 = reject, 2 = has snapshot)
              | u64 reject_hint | u32 n_entries | u32 context_len
              | n_entries x entry | context | [snapshot]
    entry     u64 term | u64 index | u8 type | u32 data_len | data
    snapshot  u64 index | u64 term | u16 n_voters | u64 x n | u16 n_learners | u64 x n
              | u32 data_len | data

decode_message() checks every length against the buffer and rejects trailing bytes, so a
corrupt or hostile frame becomes a RaftpbError, never a half-built message.
"""
from __future__ import annotations

import struct

from pykube_plane._raft import ConfState, Entry, Message, Snapshot

VERSION = 1
_HEADER = struct.Struct(">BBQQQQQQBQII")
_ENTRY = struct.Struct(">QQBI")
_SNAP_HEAD = struct.Struct(">QQH")
_COUNT = struct.Struct(">H")
_LEN = struct.Struct(">I")
_FLAG_REJECT = 1
_FLAG_SNAPSHOT = 2


class RaftpbError(ValueError):
    """A frame that is not a well-formed version-1 Raft message."""


def encode_message(m: Message) -> bytes:
    flags = (_FLAG_REJECT if m.reject else 0) | (_FLAG_SNAPSHOT if m.snapshot is not None else 0)
    parts = [_HEADER.pack(VERSION, m.type, m.to, m.from_, m.term, m.log_term, m.index,
                          m.commit, flags, m.reject_hint, len(m.entries), len(m.context))]
    for e in m.entries:
        parts.append(_ENTRY.pack(e.term, e.index, e.type, len(e.data)))
        parts.append(e.data)
    parts.append(m.context)
    if m.snapshot is not None:
        s = m.snapshot
        voters, learners = s.conf_state.voters, s.conf_state.learners
        parts.append(_SNAP_HEAD.pack(s.index, s.term, len(voters)))
        parts.append(struct.pack(">%dQ" % len(voters), *voters))
        parts.append(_COUNT.pack(len(learners)))
        parts.append(struct.pack(">%dQ" % len(learners), *learners))
        parts.append(_LEN.pack(len(s.data)))
        parts.append(s.data)
    return b"".join(parts)


def decode_message(frame: bytes) -> Message:
    view = memoryview(frame)
    try:
        (version, mtype, to, from_, term, log_term, index, commit, flags, reject_hint,
         n_entries, context_len) = _HEADER.unpack_from(view, 0)
    except struct.error as e:
        raise RaftpbError(f"truncated message header ({len(frame)} bytes)") from e
    if version != VERSION:
        raise RaftpbError(f"unsupported raftpb version {version}")
    pos = _HEADER.size
    entries = []
    for _ in range(n_entries):
        if pos + _ENTRY.size > len(view):
            raise RaftpbError("truncated entry header")
        eterm, eindex, etype, data_len = _ENTRY.unpack_from(view, pos)
        pos += _ENTRY.size
        if pos + data_len > len(view):
            raise RaftpbError("truncated entry data")
        entries.append(Entry(eterm, eindex, bytes(view[pos:pos + data_len]), etype))
        pos += data_len
    if pos + context_len > len(view):
        raise RaftpbError("truncated context")
    context = bytes(view[pos:pos + context_len])
    pos += context_len
    snapshot = None
    if flags & _FLAG_SNAPSHOT:
        snapshot, pos = _decode_snapshot(view, pos)
    if pos != len(view):
        raise RaftpbError(f"{len(view) - pos} trailing bytes after the message")
    try:
        return Message(mtype, to=to, from_=from_, term=term, log_term=log_term, index=index,
                       commit=commit, entries=entries, reject=bool(flags & _FLAG_REJECT),
                       reject_hint=reject_hint, snapshot=snapshot, context=context)
    except OverflowError as e:  # ids and indexes beyond int64
        raise RaftpbError(str(e)) from e


def _decode_snapshot(view: memoryview, pos: int) -> tuple[Snapshot, int]:
    try:
        index, term, n_voters = _SNAP_HEAD.unpack_from(view, pos)
        pos += _SNAP_HEAD.size
        voters = struct.unpack_from(">%dQ" % n_voters, view, pos)
        pos += 8 * n_voters
        (n_learners,) = _COUNT.unpack_from(view, pos)
        pos += _COUNT.size
        learners = struct.unpack_from(">%dQ" % n_learners, view, pos)
        pos += 8 * n_learners
        (data_len,) = _LEN.unpack_from(view, pos)
        pos += _LEN.size
    except struct.error as e:
        raise RaftpbError("truncated snapshot") from e
    if pos + data_len > len(view):
        raise RaftpbError("truncated snapshot data")
    data = bytes(view[pos:pos + data_len])
    try:
        snapshot = Snapshot(index, term, ConfState(voters, learners), data)
    except OverflowError as e:
        raise RaftpbError(str(e)) from e
    return snapshot, pos + data_len
