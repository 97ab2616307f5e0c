"""The log payload codec: every request survives a round trip; damaged payloads are rejected."""
import pytest
from hypothesis import given, strategies as st

from pykube_plane.store.kv import (
    Compare, DeleteOp, InvalidRequestError, PutOp, RangeOp, TxnOp,
    RESULT_EQUAL, RESULT_GREATER, RESULT_LESS, RESULT_NOT_EQUAL,
    TARGET_CREATE, TARGET_LEASE, TARGET_MOD, TARGET_VALUE, TARGET_VERSION,
)
from pykube_plane.store.requests import (
    CompactRequest, LeaseGrantRequest, LeaseRevokeRequest, decode_request, encode_request,
)

keys = st.binary(min_size=1, max_size=40)
ints = st.integers(min_value=0, max_value=2**62)

puts = st.builds(PutOp, keys, st.binary(max_size=100), ints, st.booleans(), st.booleans(), st.booleans())
deletes = st.builds(DeleteOp, keys, st.binary(max_size=10), st.booleans())
ranges = st.builds(RangeOp, keys, st.binary(max_size=10), ints, ints, st.booleans(), st.booleans())


@st.composite
def compares(draw):
    target = draw(st.sampled_from([TARGET_VERSION, TARGET_CREATE, TARGET_MOD, TARGET_VALUE, TARGET_LEASE]))
    result = draw(st.sampled_from([RESULT_EQUAL, RESULT_NOT_EQUAL, RESULT_LESS, RESULT_GREATER]))
    operand = draw(st.binary(max_size=20)) if target == TARGET_VALUE else draw(ints)
    return Compare(draw(keys), target, result, operand, draw(st.binary(max_size=5)))


txns = st.recursive(
    st.builds(TxnOp, st.lists(compares(), max_size=3), st.lists(puts | deletes | ranges, max_size=3),
              st.lists(puts | deletes | ranges, max_size=3)),
    lambda inner: st.builds(TxnOp, st.lists(compares(), max_size=2),
                            st.lists(puts | inner, max_size=2), st.lists(deletes | inner, max_size=2)),
    max_leaves=6,
)
requests = (puts | deletes | txns
            | st.builds(CompactRequest, ints, st.booleans())
            | st.builds(LeaseGrantRequest, ints, ints)
            | st.builds(LeaseRevokeRequest, ints))


@given(st.integers(min_value=0, max_value=2**64 - 1), requests)
def test_round_trip(request_id, request):
    assert decode_request(encode_request(request_id, request)) == (request_id, request)


@given(requests, st.data())
def test_truncated_payload_is_rejected(request, data):
    encoded = encode_request(7, request)
    cut = data.draw(st.integers(min_value=0, max_value=len(encoded) - 1))
    with pytest.raises(InvalidRequestError):
        decode_request(encoded[:cut])


def test_trailing_bytes_are_rejected():
    with pytest.raises(InvalidRequestError, match="trailing"):
        decode_request(encode_request(1, PutOp(b"a", b"b")) + b"x")


def test_unknown_kind_is_rejected():
    with pytest.raises(InvalidRequestError):
        decode_request(bytes([99]) + bytes(8))
