"""Hand-assembled wire bytes equal what protobuf writes; conversions round-trip."""
from __future__ import annotations

from hypothesis import given, strategies as st

from pykube_plane.store.etcdpb import convert, rpc_pb2 as pb
from pykube_plane.store.etcdserver.backend import Headers
from pykube_plane.store.etcdserver.snapshot_envelope import unwrap, wrap
from pykube_plane.store.etcdserver.watch_service import EventEncoder, serialize_watch_response
from pykube_plane.store.kv import EVENT_DELETE, EVENT_PUT, Event, KeyValue

ints = st.integers(min_value=0, max_value=2**63 - 1)
kvs = st.builds(KeyValue, st.binary(min_size=1, max_size=300), st.binary(max_size=300), ints, ints, ints,
                st.integers(min_value=0, max_value=2**62))
events = st.builds(Event, st.sampled_from([EVENT_PUT, EVENT_DELETE]), kvs, st.none() | kvs)


@given(ints, ints, st.integers(min_value=0, max_value=2**40), ints, st.lists(events, max_size=5),
       st.integers(min_value=0, max_value=2**40))
def test_watch_response_bytes_equal_protobuf(cluster_id, member_id, term, revision, evs, watch_id):
    headers = Headers(cluster_id, member_id, term, lambda: revision)
    data = EventEncoder().response(headers.encode(revision), watch_id, evs)
    expected = pb.WatchResponse(header=headers.make(revision), watch_id=watch_id)
    for ev in evs:
        convert.fill_event(expected.events.add(), ev)
    assert data == expected.SerializeToString()
    assert pb.WatchResponse.FromString(data) == expected
    assert serialize_watch_response(data) is data
    assert serialize_watch_response(expected) == data


def test_events_are_encoded_once_per_object_within_a_byte_budget():
    enc = EventEncoder(max_bytes=40)
    ev = Event(EVENT_PUT, KeyValue(b"k", b"v" * 10, 1, 1, 1))
    first = enc.event(ev)
    assert enc.event(ev) is first
    other = Event(EVENT_PUT, KeyValue(b"k", b"w" * 10, 1, 2, 2))
    assert enc.event(other) != first
    assert enc._bytes <= 40 and len(enc._cache) == 1  # the budget evicted the oldest
    again = enc.event(ev)
    assert again == first and again is not first  # encoded anew, same bytes


@given(st.lists(kvs, max_size=4), st.lists(kvs, max_size=3))
def test_kv_round_trip(a, b):
    assert convert.kvs_from_pb([convert.kv_to_pb(kv) for kv in a + b]) == a + b


@given(st.binary(max_size=5000))
def test_snapshot_envelope_round_trip(data):
    wrapped = wrap(data)
    assert (len(wrapped) - 32) % 512 == 0  # what etcdctl snapshot save insists on
    assert unwrap(wrapped) == data
    assert unwrap(data) == data  # plain store files pass through
