"""The peer-transport encoding: every message round-trips; malformed frames are refused."""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykube_plane._raft import (
    ENTRY_CONF_CHANGE,
    ENTRY_NORMAL,
    MSG_APP,
    MSG_SNAP,
    ConfState,
    Entry,
    Message,
    Snapshot,
)
from pykube_plane.store.raftpb import RaftpbError, decode_message, encode_message

u63 = st.integers(0, 2**63 - 1)
ids = st.integers(0, 2**40)
entries = st.builds(Entry, u63, u63, st.binary(max_size=64),
                    st.sampled_from([ENTRY_NORMAL, ENTRY_CONF_CHANGE]))
snapshots = st.builds(Snapshot, u63, u63,
                      st.builds(ConfState, st.sets(ids, max_size=5), st.sets(ids, max_size=3)),
                      st.binary(max_size=128))
messages = st.builds(Message, st.integers(0, 18), to=ids, from_=ids, term=u63, log_term=u63,
                     index=u63, commit=u63, entries=st.lists(entries, max_size=5),
                     reject=st.booleans(), reject_hint=u63,
                     snapshot=st.none() | snapshots, context=st.binary(max_size=32))


@settings(max_examples=300, deadline=None)
@given(messages)
def test_round_trip(m):
    assert decode_message(encode_message(m)) == m


@settings(max_examples=200, deadline=None)
@given(messages, st.data())
def test_truncated_frames_are_refused(m, data):
    frame = encode_message(m)
    cut = data.draw(st.integers(0, len(frame) - 1))
    with pytest.raises(RaftpbError):
        decode_message(frame[:cut])


def test_trailing_bytes_are_refused():
    frame = encode_message(Message(MSG_APP, to=2, from_=1, term=3))
    with pytest.raises(RaftpbError, match="trailing"):
        decode_message(frame + b"\0")


def test_unknown_version_is_refused():
    frame = bytearray(encode_message(Message(MSG_APP, to=2, from_=1)))
    frame[0] = 9
    with pytest.raises(RaftpbError, match="version"):
        decode_message(bytes(frame))


def test_values_beyond_int64_are_refused():
    frame = bytearray(encode_message(Message(MSG_APP, to=2, from_=1)))
    frame[2:10] = b"\xff" * 8  # `to` = 2**64 - 1
    with pytest.raises(RaftpbError):
        decode_message(bytes(frame))


def test_snapshot_message_round_trips_with_its_configuration():
    snap = Snapshot(120, 7, ConfState((1, 2, 3), (4,)), b"state")
    m = Message(MSG_SNAP, to=4, from_=1, term=7, snapshot=snap)
    back = decode_message(encode_message(m))
    assert back.snapshot.conf_state.voters == (1, 2, 3)
    assert back.snapshot.conf_state.learners == (4,)
    assert back.snapshot.data == b"state"
