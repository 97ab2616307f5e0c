"""etcd's KV service: Range, Put, DeleteRange, Txn, Compact over a `ServedStore`.

Request checks are etcd's v3rpc ones (empty key, too many ops, a key written twice in a txn,
request size, space quota); the store applies the request. Sorting and min/max revision filters
of a Range are done here, after the read, as etcd's applier does them: when either is asked
for, the store is read without a limit and the limit is applied to the sorted, filtered list.
"""
from __future__ import annotations

from typing import Iterable

import grpc

from ..etcdpb import convert, rpc_pb2 as pb, rpc_pb2_grpc as pb_grpc
from ..etcdpb import rpctypes
from ..kv import (
    DeleteOp, InvalidRequestError, KeyValue, PutOp, RangeOp, RangeResult, RequestTooLargeError, TxnOp,
    TxnResult,
)
from .backend import Headers, ServedStore
from .errors import etcd_errors
from .quota import SpaceQuota

DEFAULT_MAX_TXN_OPS = 128  # etcd's --max-txn-ops

_R = pb.RangeRequest
_SORT_KEYS = {
    _R.KEY: lambda kv: kv.key,
    _R.VERSION: lambda kv: kv.version,
    _R.CREATE: lambda kv: kv.create_revision,
    _R.MOD: lambda kv: kv.mod_revision,
    _R.VALUE: lambda kv: kv.value,
}


# ---------------------------------------------------------------------------------------------
# Checks (etcd server/etcdserver/api/v3rpc/key.go)


def _check_range(r: pb.RangeRequest) -> None:
    if not r.key:
        raise InvalidRequestError(rpctypes.EMPTY_KEY)


def _check_put(r: pb.PutRequest) -> None:
    if not r.key:
        raise InvalidRequestError(rpctypes.EMPTY_KEY)
    if r.ignore_value and r.value:
        raise InvalidRequestError(rpctypes.VALUE_PROVIDED)
    if r.ignore_lease and r.lease:
        raise InvalidRequestError(rpctypes.LEASE_PROVIDED)


def _check_delete(r: pb.DeleteRangeRequest) -> None:
    if not r.key:
        raise InvalidRequestError(rpctypes.EMPTY_KEY)


def _check_txn(r: pb.TxnRequest, max_ops: int) -> None:
    if len(r.compare) > max_ops or len(r.success) > max_ops or len(r.failure) > max_ops:
        raise InvalidRequestError(rpctypes.TOO_MANY_OPS)
    for c in r.compare:
        if not c.key:
            raise InvalidRequestError(rpctypes.EMPTY_KEY)
    for branch in (r.success, r.failure):
        for op in branch:
            which = op.WhichOneof("request")
            if which == "request_range":
                _check_range(op.request_range)
            elif which == "request_put":
                _check_put(op.request_put)
            elif which == "request_delete_range":
                _check_delete(op.request_delete_range)
            elif which == "request_txn":
                _check_txn(op.request_txn, max_ops)
            else:
                raise InvalidRequestError("etcdserver: empty operation in txn request")
        _check_intervals(branch)


def _written(ops: Iterable[pb.RequestOp]) -> tuple[set[bytes], list[tuple[bytes, bytes]]]:
    """Keys put and ranges deleted by a branch, nested txns included (both of their branches)."""
    puts: set[bytes] = set()
    deletes: list[tuple[bytes, bytes]] = []
    for op in ops:
        which = op.WhichOneof("request")
        if which == "request_put":
            puts.add(op.request_put.key)
        elif which == "request_delete_range":
            d = op.request_delete_range
            deletes.append((d.key, d.range_end))
        elif which == "request_txn":
            for branch in (op.request_txn.success, op.request_txn.failure):
                p, d = _written(branch)
                puts |= p
                deletes.extend(d)
    return puts, deletes


def _in_range(key: bytes, start: bytes, end: bytes) -> bool:
    if not end:
        return key == start
    if end == b"\0":
        return key >= start
    return start <= key < end


def _check_intervals(branch) -> None:
    """etcd's checkIntervals: a key may not be put twice, nor put and deleted, in one branch."""
    seen: set[bytes] = set()
    for op in branch:
        which = op.WhichOneof("request")
        if which == "request_put":
            key = op.request_put.key
            if key in seen:
                raise InvalidRequestError(rpctypes.DUPLICATE_KEY)
            seen.add(key)
        elif which == "request_txn":
            for sub in (op.request_txn.success, op.request_txn.failure):
                puts, _ = _written(sub)
                if puts & seen:
                    raise InvalidRequestError(rpctypes.DUPLICATE_KEY)
            inner = set()
            for sub in (op.request_txn.success, op.request_txn.failure):
                inner |= _written(sub)[0]
            seen |= inner
    _, deletes = _written(branch)
    for key in seen:
        for start, end in deletes:
            if _in_range(key, start, end):
                raise InvalidRequestError(rpctypes.DUPLICATE_KEY)


# ---------------------------------------------------------------------------------------------
# Range post-processing


def _effective_sort(r: pb.RangeRequest) -> int:
    """etcd: a non-key target defaults to ascending; key-ascending is the natural order."""
    order = r.sort_order
    if r.sort_target != _R.KEY and order == _R.NONE:
        return _R.ASCEND
    if r.sort_target == _R.KEY and order == _R.ASCEND:
        return _R.NONE
    return order


def _needs_post(r: pb.RangeRequest) -> bool:
    return (_effective_sort(r) != _R.NONE or r.min_mod_revision != 0 or r.max_mod_revision != 0
            or r.min_create_revision != 0 or r.max_create_revision != 0)


def range_op(r: pb.RangeRequest) -> RangeOp:
    limit = 0 if _needs_post(r) else r.limit
    return RangeOp(r.key, r.range_end, r.revision if r.revision > 0 else 0, limit,
                   r.count_only, r.keys_only)


def post_process(r: pb.RangeRequest, res: RangeResult) -> RangeResult:
    """Filters, sort and limit for a range that asked for them; `res` was read without limit."""
    kvs: list[KeyValue] = res.kvs
    if r.min_mod_revision:
        kvs = [kv for kv in kvs if kv.mod_revision >= r.min_mod_revision]
    if r.max_mod_revision:
        kvs = [kv for kv in kvs if kv.mod_revision <= r.max_mod_revision]
    if r.min_create_revision:
        kvs = [kv for kv in kvs if kv.create_revision >= r.min_create_revision]
    if r.max_create_revision:
        kvs = [kv for kv in kvs if kv.create_revision <= r.max_create_revision]
    order = _effective_sort(r)
    if order != _R.NONE:
        kvs = sorted(kvs, key=_SORT_KEYS[r.sort_target], reverse=order == _R.DESCEND)
    more = res.more
    if r.limit > 0 and len(kvs) > r.limit:
        kvs = kvs[: r.limit]
        more = True
    return RangeResult(kvs, res.count, more, res.revision)


# ---------------------------------------------------------------------------------------------
# Txn conversion keeping the protobuf request beside each op (for range post-processing)


def txn_op(r: pb.TxnRequest) -> TxnOp:
    return TxnOp([convert.compare_from_pb(c) for c in r.compare],
                 [_request_op(o) for o in r.success], [_request_op(o) for o in r.failure])


def _request_op(o: pb.RequestOp):
    which = o.WhichOneof("request")
    if which == "request_range":
        return range_op(o.request_range)
    if which == "request_put":
        return convert.put_op_from_pb(o.request_put)
    if which == "request_delete_range":
        return convert.delete_op_from_pb(o.request_delete_range)
    return txn_op(o.request_txn)


def _post_process_txn(r: pb.TxnRequest, res: TxnResult) -> None:
    branch = r.success if res.succeeded else r.failure
    for op, sub in zip(branch, res.responses):
        which = op.WhichOneof("request")
        if which == "request_range" and _needs_post(op.request_range):
            res.responses[res.responses.index(sub)] = post_process(op.request_range, sub)
        elif which == "request_txn":
            _post_process_txn(op.request_txn, sub)


def _txn_put_cost(r: pb.TxnRequest) -> int:
    cost = 0
    for branch in (r.success, r.failure):
        for op in branch:
            which = op.WhichOneof("request")
            if which == "request_put":
                cost += SpaceQuota.put_cost(op.request_put.key, op.request_put.value)
            elif which == "request_txn":
                cost += _txn_put_cost(op.request_txn)
    return cost


def _txn_writes(r: pb.TxnRequest) -> bool:
    for branch in (r.success, r.failure):
        for op in branch:
            which = op.WhichOneof("request")
            if which in ("request_put", "request_delete_range"):
                return True
            if which == "request_txn" and _txn_writes(op.request_txn):
                return True
    return False


# ---------------------------------------------------------------------------------------------


class KVService(pb_grpc.KVServicer):
    def __init__(self, store: ServedStore, headers: Headers, quota: SpaceQuota, *,
                 max_request_bytes: int, max_txn_ops: int = DEFAULT_MAX_TXN_OPS) -> None:
        self._store = store
        self._headers = headers
        self._quota = quota
        self._max_request_bytes = max_request_bytes
        self._max_txn_ops = max_txn_ops
        self._has_put_op = hasattr(store, "put_op")

    def _check_size(self, request) -> None:
        if request.ByteSize() > self._max_request_bytes:
            raise RequestTooLargeError()

    @etcd_errors
    async def Range(self, request: pb.RangeRequest, context: grpc.aio.ServicerContext) -> pb.RangeResponse:
        _check_range(request)
        op = range_op(request)
        res = await self._store.range(op.key, op.range_end, revision=op.revision, limit=op.limit,
                                      count_only=op.count_only, keys_only=op.keys_only,
                                      serializable=request.serializable)
        if _needs_post(request):
            res = post_process(request, res)
        resp = pb.RangeResponse()
        self._headers.fill(resp.header, res.revision)
        convert.fill_range_response(resp, res)
        return resp

    @etcd_errors
    async def Put(self, request: pb.PutRequest, context: grpc.aio.ServicerContext) -> pb.PutResponse:
        _check_put(request)
        self._check_size(request)
        self._quota.check(SpaceQuota.put_cost(request.key, request.value))
        resp = pb.PutResponse()
        if request.prev_kv or request.ignore_value or request.ignore_lease:
            op = convert.put_op_from_pb(request)
            if self._has_put_op:
                res = await self._store.put_op(op)
            else:
                res = (await self._store.txn([], [op])).responses[0]
            self._headers.fill(resp.header, res.revision)
            convert.fill_put_response(resp, res)
        else:
            revision = await self._store.put(request.key, request.value, lease=request.lease)
            self._headers.fill(resp.header, revision)
        return resp

    @etcd_errors
    async def DeleteRange(self, request: pb.DeleteRangeRequest,
                          context: grpc.aio.ServicerContext) -> pb.DeleteRangeResponse:
        _check_delete(request)
        self._check_size(request)
        res = await self._store.delete_range(request.key, request.range_end, prev_kv=request.prev_kv)
        resp = pb.DeleteRangeResponse()
        self._headers.fill(resp.header, res.revision)
        convert.fill_delete_response(resp, res)
        return resp

    @etcd_errors
    async def Txn(self, request: pb.TxnRequest, context: grpc.aio.ServicerContext) -> pb.TxnResponse:
        _check_txn(request, self._max_txn_ops)
        self._check_size(request)
        if _txn_writes(request):
            self._quota.check(_txn_put_cost(request))
        op = txn_op(request)
        res = await self._store.txn(op.compare, op.success, op.failure)
        _post_process_txn(request, res)
        resp = pb.TxnResponse()
        self._headers.fill(resp.header, res.revision)
        convert.fill_txn_response(resp, res, resp.header)
        return resp

    @etcd_errors
    async def Compact(self, request: pb.CompactionRequest,
                      context: grpc.aio.ServicerContext) -> pb.CompactionResponse:
        await self._store.compact(request.revision, request.physical)
        return pb.CompactionResponse(header=self._headers.make())


__all__ = ["KVService", "DeleteOp", "PutOp"]
