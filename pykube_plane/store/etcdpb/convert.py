"""Conversions between etcd's protobuf messages and the store's `kv` types, both directions.

The server reads requests `*_from_pb` and writes results `*_to_pb`; the remote client does the
opposite. Keeping both directions side by side makes a round trip easy to test and to keep exact.
"""
from __future__ import annotations

from typing import Sequence

from ..kv import (
    Compare, DeleteOp, DeleteResult, Event, InvalidRequestError, KeyValue, Op, PutOp, PutResult,
    RangeOp, RangeResult, TxnOp, TxnResult, FILTER_NODELETE, FILTER_NOPUT,
    RESULT_EQUAL, RESULT_GREATER, RESULT_LESS, RESULT_NOT_EQUAL,
    TARGET_CREATE, TARGET_LEASE, TARGET_MOD, TARGET_VALUE, TARGET_VERSION,
)
from . import kv_pb2, rpc_pb2

PbKeyValue = kv_pb2.KeyValue
pb = rpc_pb2

# ---------------------------------------------------------------------------------------------
# KeyValue and Event


def fill_kv(msg: kv_pb2.KeyValue, kv: KeyValue) -> None:
    msg.key = kv.key
    if kv.value:
        msg.value = kv.value
    msg.create_revision = kv.create_revision
    msg.mod_revision = kv.mod_revision
    msg.version = kv.version
    if kv.lease:
        msg.lease = kv.lease


def kv_to_pb(kv: KeyValue) -> kv_pb2.KeyValue:
    return PbKeyValue(key=kv.key, value=kv.value, create_revision=kv.create_revision,
                      mod_revision=kv.mod_revision, version=kv.version, lease=kv.lease)


def kv_from_pb(msg: kv_pb2.KeyValue) -> KeyValue:
    return KeyValue(msg.key, msg.value, msg.create_revision, msg.mod_revision, msg.version, msg.lease)


def kvs_from_pb(msgs) -> list[KeyValue]:
    return [KeyValue(m.key, m.value, m.create_revision, m.mod_revision, m.version, m.lease) for m in msgs]


def fill_event(msg: kv_pb2.Event, ev: Event) -> None:
    if ev.type:
        msg.type = ev.type
    fill_kv(msg.kv, ev.kv)
    if ev.prev_kv is not None:
        fill_kv(msg.prev_kv, ev.prev_kv)


def event_from_pb(msg: kv_pb2.Event) -> Event:
    prev = kv_from_pb(msg.prev_kv) if msg.HasField("prev_kv") else None
    return Event(msg.type, kv_from_pb(msg.kv), prev)


# ---------------------------------------------------------------------------------------------
# Requests: protobuf -> kv ops (server side)

_TARGET_FROM_PB = {
    pb.Compare.VERSION: (TARGET_VERSION, "version"),
    pb.Compare.CREATE: (TARGET_CREATE, "create_revision"),
    pb.Compare.MOD: (TARGET_MOD, "mod_revision"),
    pb.Compare.VALUE: (TARGET_VALUE, "value"),
    pb.Compare.LEASE: (TARGET_LEASE, "lease"),
}
_RESULT_FROM_PB = {
    pb.Compare.EQUAL: RESULT_EQUAL,
    pb.Compare.NOT_EQUAL: RESULT_NOT_EQUAL,
    pb.Compare.LESS: RESULT_LESS,
    pb.Compare.GREATER: RESULT_GREATER,
}
_TARGET_TO_PB = {name: (code, field) for code, (name, field) in _TARGET_FROM_PB.items()}
_RESULT_TO_PB = {name: code for code, name in _RESULT_FROM_PB.items()}


def range_op_from_pb(r: rpc_pb2.RangeRequest) -> RangeOp:
    return RangeOp(r.key, r.range_end, r.revision if r.revision > 0 else 0, r.limit,
                   r.count_only, r.keys_only)


def put_op_from_pb(r: rpc_pb2.PutRequest) -> PutOp:
    return PutOp(r.key, r.value, r.lease, r.prev_kv, r.ignore_value, r.ignore_lease)


def delete_op_from_pb(r: rpc_pb2.DeleteRangeRequest) -> DeleteOp:
    return DeleteOp(r.key, r.range_end, r.prev_kv)


def compare_from_pb(c: rpc_pb2.Compare) -> Compare:
    try:
        target, field = _TARGET_FROM_PB[c.target]
        result = _RESULT_FROM_PB[c.result]
    except KeyError:
        raise InvalidRequestError("etcdserver: invalid compare") from None
    return Compare(c.key, target, result, getattr(c, field), c.range_end)


def op_from_pb(r: rpc_pb2.RequestOp) -> Op:
    which = r.WhichOneof("request")
    if which == "request_range":
        return range_op_from_pb(r.request_range)
    if which == "request_put":
        return put_op_from_pb(r.request_put)
    if which == "request_delete_range":
        return delete_op_from_pb(r.request_delete_range)
    if which == "request_txn":
        return txn_op_from_pb(r.request_txn)
    raise InvalidRequestError("etcdserver: empty operation in txn request")


def txn_op_from_pb(r: rpc_pb2.TxnRequest) -> TxnOp:
    return TxnOp([compare_from_pb(c) for c in r.compare],
                 [op_from_pb(o) for o in r.success],
                 [op_from_pb(o) for o in r.failure])


# ---------------------------------------------------------------------------------------------
# Requests: kv ops -> protobuf (client side)


def range_request(op: RangeOp, serializable: bool = False) -> rpc_pb2.RangeRequest:
    return pb.RangeRequest(key=op.key, range_end=op.range_end, revision=op.revision, limit=op.limit,
                           count_only=op.count_only, keys_only=op.keys_only, serializable=serializable)


def put_request(op: PutOp) -> rpc_pb2.PutRequest:
    return pb.PutRequest(key=op.key, value=op.value, lease=op.lease, prev_kv=op.prev_kv,
                         ignore_value=op.ignore_value, ignore_lease=op.ignore_lease)


def delete_request(op: DeleteOp) -> rpc_pb2.DeleteRangeRequest:
    return pb.DeleteRangeRequest(key=op.key, range_end=op.range_end, prev_kv=op.prev_kv)


def compare_to_pb(c: Compare) -> rpc_pb2.Compare:
    code, field = _TARGET_TO_PB[c.target]
    msg = pb.Compare(result=_RESULT_TO_PB[c.result], target=code, key=c.key, range_end=c.range_end)
    setattr(msg, field, c.operand)
    return msg


def op_to_pb(op: Op) -> rpc_pb2.RequestOp:
    t = type(op)
    if t is RangeOp:
        return pb.RequestOp(request_range=range_request(op))
    if t is PutOp:
        return pb.RequestOp(request_put=put_request(op))
    if t is DeleteOp:
        return pb.RequestOp(request_delete_range=delete_request(op))
    if t is TxnOp:
        return pb.RequestOp(request_txn=txn_request(op.compare, op.success, op.failure))
    raise InvalidRequestError(f"etcdserver: unknown operation {t.__name__}")


def txn_request(compare: Sequence[Compare], success: Sequence[Op],
                failure: Sequence[Op]) -> rpc_pb2.TxnRequest:
    return pb.TxnRequest(compare=[compare_to_pb(c) for c in compare],
                         success=[op_to_pb(o) for o in success],
                         failure=[op_to_pb(o) for o in failure])


# ---------------------------------------------------------------------------------------------
# Results: kv -> protobuf (server side). `header` is filled by the caller once per RPC.


def fill_range_response(msg: rpc_pb2.RangeResponse, res: RangeResult) -> None:
    add = msg.kvs.add
    for kv in res.kvs:
        m = add()
        fill_kv(m, kv)
    msg.count = res.count
    msg.more = res.more


def fill_put_response(msg: rpc_pb2.PutResponse, res: PutResult) -> None:
    if res.prev_kv is not None:
        fill_kv(msg.prev_kv, res.prev_kv)


def fill_delete_response(msg: rpc_pb2.DeleteRangeResponse, res: DeleteResult) -> None:
    msg.deleted = res.deleted
    add = msg.prev_kvs.add
    for kv in res.prev_kvs:
        fill_kv(add(), kv)


def fill_txn_response(msg: rpc_pb2.TxnResponse, res: TxnResult, header: rpc_pb2.ResponseHeader) -> None:
    """Inner responses carry the txn's header too, as etcd's do."""
    msg.succeeded = res.succeeded
    for sub in res.responses:
        out = msg.responses.add()
        t = type(sub)
        if t is RangeResult:
            out.response_range.header.CopyFrom(header)
            fill_range_response(out.response_range, sub)
        elif t is PutResult:
            out.response_put.header.CopyFrom(header)
            fill_put_response(out.response_put, sub)
        elif t is DeleteResult:
            out.response_delete_range.header.CopyFrom(header)
            fill_delete_response(out.response_delete_range, sub)
        elif t is TxnResult:
            out.response_txn.header.CopyFrom(header)
            fill_txn_response(out.response_txn, sub, header)
        else:
            raise TypeError(f"unexpected txn response {t.__name__}")


# ---------------------------------------------------------------------------------------------
# Results: protobuf -> kv (client side)


def range_result_from_pb(msg: rpc_pb2.RangeResponse) -> RangeResult:
    return RangeResult(kvs_from_pb(msg.kvs), msg.count, msg.more, msg.header.revision)


def put_result_from_pb(msg: rpc_pb2.PutResponse) -> PutResult:
    prev = kv_from_pb(msg.prev_kv) if msg.HasField("prev_kv") else None
    return PutResult(msg.header.revision, prev)


def delete_result_from_pb(msg: rpc_pb2.DeleteRangeResponse) -> DeleteResult:
    return DeleteResult(msg.header.revision, msg.deleted, kvs_from_pb(msg.prev_kvs))


def txn_result_from_pb(msg: rpc_pb2.TxnResponse) -> TxnResult:
    responses: list = []
    for r in msg.responses:
        which = r.WhichOneof("response")
        if which == "response_range":
            responses.append(range_result_from_pb(r.response_range))
        elif which == "response_put":
            responses.append(put_result_from_pb(r.response_put))
        elif which == "response_delete_range":
            responses.append(delete_result_from_pb(r.response_delete_range))
        elif which == "response_txn":
            responses.append(txn_result_from_pb(r.response_txn))
    return TxnResult(msg.succeeded, responses, msg.header.revision)


# ---------------------------------------------------------------------------------------------
# Watch filters

_FILTER_FROM_PB = {pb.WatchCreateRequest.NOPUT: FILTER_NOPUT, pb.WatchCreateRequest.NODELETE: FILTER_NODELETE}
_FILTER_TO_PB = {name: code for code, name in _FILTER_FROM_PB.items()}


def filters_from_pb(codes) -> list[str]:
    return [_FILTER_FROM_PB[c] for c in codes if c in _FILTER_FROM_PB]


def filters_to_pb(names: Sequence[str]) -> list[int]:
    return [_FILTER_TO_PB[n] for n in names]
