"""A plain-Python model of `pykube_plane._mvcc`: the reference the compiled core is checked against.

Readable, not fast. The layout follows etcd's server/storage/mvcc: a key index (one `KeyIndex`
per key, holding generations of revisions, key_index.go) over a "backend" that maps every
revision to what was written there (kvstore_txn.go). The compiled core stores the same facts in
another shape (flat per-key revision arrays, a revision log); the property tests drive both with
the same requests and demand identical answers, dumps and hashes.

Txn semantics, shared with the compiled core:
1. the request is validated first (etcd's checkTxnRequest + checkIntervals: empty keys, a
   value/lease given with ignore_value/ignore_lease, a key put twice or put and deleted);
2. every compare along the taken path, nested txns included, is evaluated on the state before
   the txn (etcd's compareToPath);
3. the taken path is checked before any write (etcd's checkTxn: future / compacted range
   revisions, ignore_value / ignore_lease on a missing key), so a txn never half-applies;
4. the ops run in order under one main revision, sub revisions 0, 1, ... for its changes; reads
   in the txn see its earlier writes.
"""
from __future__ import annotations

import bisect
import struct
import zlib
from dataclasses import dataclass, field

from pykube_plane.store.kv import (
    EVENT_DELETE, EVENT_PUT, RESULT_EQUAL, RESULT_GREATER, RESULT_LESS, RESULT_NOT_EQUAL,
    TARGET_CREATE, TARGET_LEASE, TARGET_MOD, TARGET_VALUE, TARGET_VERSION, Compare,
    CompactedError, DeleteOp, DeleteResult, Event, FutureRevisionError, InvalidRequestError,
    KeyNotFoundError, KeyValue, PutOp, PutResult, RangeOp, RangeResult, StoreError, TxnOp,
    TxnResult,
)

# The dump format (little endian), shared with the compiled core:
#   magic, then revision, compact_revision, key count;
#   per key in key order: key length, key, revision count, then per revision (ascending):
#   main, sub, value length, create_revision, version, lease, value  (a tombstone has version 0);
#   a CRC-32 of everything before it.
DUMP_MAGIC = b"PKMVCC01"
DUMP_HEAD = struct.Struct("<8sqqQ")
DUMP_KEY = struct.Struct("<I")
DUMP_REVISION = struct.Struct("<qIIqqq")
DUMP_CRC = struct.Struct("<I")

ERR_EMPTY_KEY = "etcdserver: key is not provided"
ERR_VALUE_PROVIDED = "etcdserver: value is provided"
ERR_LEASE_PROVIDED = "etcdserver: lease is provided"
ERR_DUPLICATE_KEY = "etcdserver: duplicate key given in txn request"
ERR_DUPLICATE_WATCH = "etcdserver: mvcc: duplicate watch ID provided"
ERR_CORRUPT_DUMP = "etcdserver: mvcc: corrupt snapshot data"

_TARGETS = (TARGET_VERSION, TARGET_CREATE, TARGET_MOD, TARGET_VALUE, TARGET_LEASE)
_RESULTS = (RESULT_EQUAL, RESULT_NOT_EQUAL, RESULT_LESS, RESULT_GREATER)


def in_range(candidate: bytes, key: bytes, range_end: bytes) -> bool:
    """Whether `candidate` lies in etcd's range [key, range_end) (b"" = key only, b"\\0" = no end)."""
    if range_end == b"":
        return candidate == key
    if range_end == b"\0":
        return candidate >= key
    return key <= candidate < range_end


@dataclass(frozen=True, order=True)
class Revision:
    main: int
    sub: int


@dataclass
class Generation:
    revs: list[Revision] = field(default_factory=list)


class KeyIndex:
    """The revisions of one key, as generations (etcd key_index.go).

    A tombstone ends the current generation and opens an empty one. For example
    put(1.0); put(2.0); tombstone(3.0); put(4.0); tombstone(5.0) on key "foo" gives
        generations: {empty}, {4.0, 5.0(t)}, {1.0, 2.0, 3.0(t)}   (newest first)
    compact(2) -> {empty}, {4.0, 5.0(t)}, {2.0, 3.0(t)}
    compact(4) -> {empty}, {4.0, 5.0(t)}
    compact(5) -> {empty}, {5.0(t)}
    compact(6) -> {empty}: the key is removed from the index.
    """

    def __init__(self, key: bytes) -> None:
        self.key = key
        self.generations = [Generation()]

    def put(self, rev: Revision) -> None:
        self.generations[-1].revs.append(rev)

    def tombstone(self, rev: Revision) -> None:
        self.put(rev)
        self.generations.append(Generation())

    def is_empty(self) -> bool:
        return len(self.generations) == 1 and not self.generations[0].revs

    def get(self, at: int) -> Revision | None:
        """The revision holding the key's value at main revision `at`; None if absent then."""
        generation = self._generation_at(at)
        if generation is None:
            return None
        n = _last_at_or_before(generation.revs, at)
        return generation.revs[n] if n >= 0 else None

    def _generation_at(self, at: int) -> Generation | None:
        last = len(self.generations) - 1
        for i in range(last, -1, -1):
            generation = self.generations[i]
            if not generation.revs:
                continue
            if i != last and generation.revs[-1].main <= at:
                return None  # `at` falls after this generation's tombstone: the key was deleted
            if generation.revs[0].main <= at:
                return generation
        return None

    def compact(self, at: int, available: set[Revision]) -> None:
        """Drop revisions <= `at` except the latest one; whole generations ended before `at` go."""
        i = 0
        while i < len(self.generations) - 1 and self.generations[i].revs[-1].main < at:
            i += 1
        generation = self.generations[i]
        n = _last_at_or_before(generation.revs, at)
        if n >= 0:
            available.add(generation.revs[n])
            generation.revs = generation.revs[n:]
        self.generations = self.generations[i:]

    def all_revisions(self) -> list[Revision]:
        return [rev for generation in self.generations for rev in generation.revs]


def _last_at_or_before(revs: list[Revision], at: int) -> int:
    n = -1
    for i, rev in enumerate(revs):
        if rev.main <= at:
            n = i
    return n


def _copy(kv: KeyValue, keys_only: bool = False) -> KeyValue:
    return KeyValue(kv.key, b"" if keys_only else kv.value, kv.create_revision, kv.mod_revision,
                    kv.version, kv.lease)


class MVCCModel:
    """Same API as pykube_plane._mvcc.MVCC."""

    def __init__(self) -> None:
        self.revision = 1  # an empty etcd store is at revision 1
        self.compact_revision = 0
        self._index: dict[bytes, KeyIndex] = {}
        self._keys: list[bytes] = []  # the index's keys, sorted
        self._backend: dict[Revision, tuple[bytes, KeyValue | None]] = {}  # None: tombstone
        self._events: list[Event] = []
        self._changes = 0  # changes made by the write in progress (its next sub revision)

    # ------------------------------------------------------------------------------- reads

    def range(self, key: bytes, range_end: bytes = b"", revision: int = 0, limit: int = 0,
              count_only: bool = False, keys_only: bool = False) -> RangeResult:
        _check_key(key)
        current = self._view_revision()
        if revision > current:
            raise FutureRevisionError()
        at = revision if revision > 0 else current
        if at < self.compact_revision:
            raise CompactedError(self.compact_revision)
        kvs = [kv for k in self._keys_in(key, range_end) if (kv := self._kv_at(k, at))]
        if count_only:
            return RangeResult([], len(kvs), False, current)
        shown = kvs[:limit] if limit > 0 else kvs
        return RangeResult([_copy(kv, keys_only) for kv in shown], len(kvs), len(shown) < len(kvs),
                           current)

    def _view_revision(self) -> int:
        """The revision reads see: a txn that already wrote sees its own next revision."""
        return self.revision + 1 if self._changes else self.revision

    def _keys_in(self, key: bytes, range_end: bytes) -> list[bytes]:
        if range_end == b"":
            return [key] if key in self._index else []
        start = bisect.bisect_left(self._keys, key)
        if range_end == b"\0":
            return self._keys[start:]
        return self._keys[start:bisect.bisect_left(self._keys, range_end, lo=start)]

    def _kv_at(self, key: bytes, at: int) -> KeyValue | None:
        key_index = self._index.get(key)
        if key_index is None:
            return None
        rev = key_index.get(at)
        return self._backend[rev][1] if rev is not None else None

    # ------------------------------------------------------------------------------- writes

    def put(self, key: bytes, value: bytes, lease: int = 0, prev_kv: bool = False,
            ignore_value: bool = False, ignore_lease: bool = False) -> PutResult:
        op = PutOp(key, value, lease, prev_kv, ignore_value, ignore_lease)
        _validate_op(op)
        self._check_put(op)
        try:
            return self._put(op)
        finally:
            self._end_write()

    def delete_range(self, key: bytes, range_end: bytes = b"", prev_kv: bool = False) -> DeleteResult:
        op = DeleteOp(key, range_end, prev_kv)
        _validate_op(op)
        try:
            return self._delete(op)
        finally:
            self._end_write()

    def txn(self, compare: list[Compare], success: list, failure: list) -> TxnResult:
        op = TxnOp(list(compare), list(success), list(failure))
        _validate_op(op)
        _check_intervals(op.success)
        _check_intervals(op.failure)
        path = list(self._compare_path(op))
        self._check_path(op, iter(path))
        try:
            return self._txn(op, iter(path))
        finally:
            self._end_write()

    def _end_write(self) -> None:
        if self._changes:
            self.revision += 1
        self._changes = 0

    def _next_revision(self) -> Revision:
        rev = Revision(self.revision + 1, self._changes)
        self._changes += 1
        return rev

    def _put(self, op: PutOp) -> PutResult:
        main = self.revision + 1
        previous = self._kv_at(op.key, main)
        value = previous.value if op.ignore_value else op.value
        lease = previous.lease if op.ignore_lease else op.lease
        rev = self._next_revision()
        kv = KeyValue(op.key, value, previous.create_revision if previous else main, main,
                      previous.version + 1 if previous else 1, lease)
        self._backend[rev] = (op.key, kv)
        if op.key not in self._index:
            self._index[op.key] = KeyIndex(op.key)
            bisect.insort(self._keys, op.key)
        self._index[op.key].put(rev)
        self._events.append(Event(EVENT_PUT, _copy(kv), _copy(previous) if previous else None))
        return PutResult(main, _copy(previous) if (op.prev_kv and previous) else None)

    def _delete(self, op: DeleteOp) -> DeleteResult:
        main = self.revision + 1
        victims = [kv for k in self._keys_in(op.key, op.range_end) if (kv := self._kv_at(k, main))]
        for kv in victims:
            rev = self._next_revision()
            self._backend[rev] = (kv.key, None)
            self._index[kv.key].tombstone(rev)
            self._events.append(Event(EVENT_DELETE, KeyValue(kv.key, b"", 0, main, 0, 0), _copy(kv)))
        return DeleteResult(self._view_revision(), len(victims),
                            [_copy(kv) for kv in victims] if op.prev_kv else [])

    def _txn(self, op: TxnOp, path) -> TxnResult:
        succeeded = next(path)
        responses = []
        for sub_op in op.success if succeeded else op.failure:
            kind = type(sub_op)
            if kind is RangeOp:
                responses.append(self.range(sub_op.key, sub_op.range_end, sub_op.revision,
                                            sub_op.limit, sub_op.count_only, sub_op.keys_only))
            elif kind is PutOp:
                responses.append(self._put(sub_op))
            elif kind is DeleteOp:
                responses.append(self._delete(sub_op))
            else:
                responses.append(self._txn(sub_op, path))
        return TxnResult(succeeded, responses, self._view_revision())

    # ------------------------------------------------------------------------------- txn checks

    def _compare_path(self, op: TxnOp):
        """Compare outcomes along the taken path, pre-order (etcd's compareToPath)."""
        succeeded = all(self._compare_holds(c) for c in op.compare)
        yield succeeded
        for sub_op in op.success if succeeded else op.failure:
            if type(sub_op) is TxnOp:
                yield from self._compare_path(sub_op)

    def _compare_holds(self, c: Compare) -> bool:
        kvs = self.range(c.key, c.range_end).kvs
        if not kvs:
            if c.target == TARGET_VALUE:
                return False  # a missing key has no value to compare
            kvs = [KeyValue(c.key, b"", 0, 0, 0, 0)]
        return all(_compare_kv(c, kv) for kv in kvs)

    def _check_path(self, op: TxnOp, path) -> None:
        succeeded = next(path)
        for sub_op in op.success if succeeded else op.failure:
            kind = type(sub_op)
            if kind is RangeOp:
                if sub_op.revision > self.revision:
                    raise FutureRevisionError()
                if 0 < sub_op.revision < self.compact_revision:
                    raise CompactedError(self.compact_revision)
            elif kind is PutOp:
                self._check_put(sub_op)
            elif kind is TxnOp:
                self._check_path(sub_op, path)

    def _check_put(self, op: PutOp) -> None:
        if (op.ignore_value or op.ignore_lease) and self._kv_at(op.key, self.revision) is None:
            raise KeyNotFoundError()

    # ------------------------------------------------------------------------------- compaction

    def compact(self, revision: int) -> None:
        if revision <= self.compact_revision:
            raise CompactedError(self.compact_revision)
        if revision > self.revision:
            raise FutureRevisionError()
        available: set[Revision] = set()
        for key in list(self._keys):
            key_index = self._index[key]
            key_index.compact(revision, available)
            if key_index.is_empty():
                del self._index[key]
                self._keys.remove(key)
        for rev in [r for r in self._backend if r.main <= revision and r not in available]:
            del self._backend[rev]
        self.compact_revision = revision

    # ------------------------------------------------------------------------------- events

    def take_events(self) -> list[Event]:
        events, self._events = self._events, []
        return events

    def events_since(self, key: bytes, range_end: bytes, start_revision: int,
                     end_revision: int) -> list[Event]:
        if start_revision < self.compact_revision:
            raise CompactedError(self.compact_revision)
        end = end_revision if end_revision > 0 else self.revision
        events = []
        for rev in sorted(self._backend):
            k, kv = self._backend[rev]
            if not (start_revision <= rev.main <= end and in_range(k, key, range_end)):
                continue
            # the value before this change; gone with the history if it predates the compaction
            prev = self._kv_at(k, rev.main - 1) if rev.main - 1 >= self.compact_revision else None
            prev = _copy(prev) if prev else None
            if kv is None:
                events.append(Event(EVENT_DELETE, KeyValue(k, b"", 0, rev.main, 0, 0), prev))
            else:
                events.append(Event(EVENT_PUT, _copy(kv), prev))
        return events

    # ------------------------------------------------------------------------------- leases

    def lease_keys(self, lease: int) -> list[bytes]:
        if lease == 0:
            return []
        return [k for k in self._keys if (kv := self._kv_at(k, self.revision)) and kv.lease == lease]

    # ------------------------------------------------------------------------------- state

    def _records(self):
        """(key, [(revision, KeyValue | None)]) per key in key order."""
        for key in self._keys:
            yield key, [(rev, self._backend[rev][1]) for rev in self._index[key].all_revisions()]

    def dump(self) -> bytes:
        parts = [DUMP_HEAD.pack(DUMP_MAGIC, self.revision, self.compact_revision, len(self._keys))]
        for key, records in self._records():
            parts.append(DUMP_KEY.pack(len(key)) + key + DUMP_KEY.pack(len(records)))
            parts.extend(_encode_record(rev, kv) for rev, kv in records)
        data = b"".join(parts)
        return data + DUMP_CRC.pack(zlib.crc32(data))

    @staticmethod
    def load(data: bytes) -> "MVCCModel":
        try:
            return _load(data)
        except (struct.error, ValueError, IndexError) as exc:
            raise StoreError(ERR_CORRUPT_DUMP) from exc

    def hash_kv(self, revision: int = 0) -> tuple[int, int]:
        if revision > self.revision:
            raise FutureRevisionError()
        at = revision if revision > 0 else self.revision
        if at < self.compact_revision:
            raise CompactedError(self.compact_revision)
        crc = 0
        for key, records in self._records():
            for rev, kv in records:
                if rev.main <= at:
                    crc = zlib.crc32(DUMP_KEY.pack(len(key)) + key + _encode_record(rev, kv), crc)
        return crc, self.compact_revision

    def stats(self) -> dict:
        live = sum(1 for k in self._keys if self._kv_at(k, self.revision))
        size = sum(len(k) + (len(kv.value) if kv else 0) for k, kv in self._backend.values())
        history = sum(1 for rev in self._backend if rev.main >= self.compact_revision)
        return {"keys": len(self._keys), "live_keys": live, "revisions": len(self._backend),
                "history": history, "bytes": size}


def _encode_record(rev: Revision, kv: KeyValue | None) -> bytes:
    if kv is None:
        return DUMP_REVISION.pack(rev.main, rev.sub, 0, 0, 0, 0)
    return DUMP_REVISION.pack(rev.main, rev.sub, len(kv.value), kv.create_revision, kv.version,
                              kv.lease) + kv.value


def _load(data: bytes) -> MVCCModel:
    if len(data) < DUMP_HEAD.size + DUMP_CRC.size:
        raise ValueError("short dump")
    body, (crc,) = data[:-DUMP_CRC.size], DUMP_CRC.unpack(data[-DUMP_CRC.size:])
    if zlib.crc32(body) != crc:
        raise ValueError("crc mismatch")
    magic, revision, compact_revision, nkeys = DUMP_HEAD.unpack_from(body, 0)
    if magic != DUMP_MAGIC:
        raise ValueError("bad magic")
    model = MVCCModel()
    model.revision, model.compact_revision = revision, compact_revision
    pos = DUMP_HEAD.size
    for _ in range(nkeys):
        (key_len,) = DUMP_KEY.unpack_from(body, pos)
        key = body[pos + 4:pos + 4 + key_len]
        (nrevs,) = DUMP_KEY.unpack_from(body, pos + 4 + key_len)
        pos += 8 + key_len
        key_index = KeyIndex(key)
        for _ in range(nrevs):
            main, sub, value_len, create, version, lease = DUMP_REVISION.unpack_from(body, pos)
            pos += DUMP_REVISION.size
            value = body[pos:pos + value_len]
            pos += value_len
            rev = Revision(main, sub)
            if version == 0:
                model._backend[rev] = (key, None)
                key_index.tombstone(rev)
            else:
                model._backend[rev] = (key, KeyValue(key, value, create, main, version, lease))
                key_index.put(rev)
        model._index[key] = key_index
        model._keys.append(key)
    if pos != len(body):
        raise ValueError("trailing bytes")
    return model


# ----------------------------------------------------------------------------------- validation


def _check_key(key: bytes) -> None:
    if not key:
        raise InvalidRequestError(ERR_EMPTY_KEY)


def _check_bytes(*fields) -> None:
    if any(type(f) is not bytes for f in fields):
        raise InvalidRequestError()


def _check_int64(*fields) -> None:
    if any(not isinstance(f, int) or not -2**63 <= f < 2**63 for f in fields):
        raise InvalidRequestError()


def _validate_op(op) -> None:
    """etcd's checkRequestOp / checkTxnRequest, recursively; field types too, so that nothing
    can fail once a txn has started writing."""
    kind = type(op)
    if kind is RangeOp:
        _check_bytes(op.key, op.range_end)
        _check_key(op.key)
        _check_int64(op.revision, op.limit)
    elif kind is DeleteOp:
        _check_bytes(op.key, op.range_end)
        _check_key(op.key)
    elif kind is PutOp:
        _check_bytes(op.key, op.value)
        _check_key(op.key)
        _check_int64(op.lease)
        if op.ignore_value and op.value:
            raise InvalidRequestError(ERR_VALUE_PROVIDED)
        if op.ignore_lease and op.lease:
            raise InvalidRequestError(ERR_LEASE_PROVIDED)
    elif kind is TxnOp:
        for c in op.compare:
            if type(c) is not Compare:
                raise InvalidRequestError()
            _check_bytes(c.key, c.range_end)
            _check_key(c.key)
            if c.target not in _TARGETS or c.result not in _RESULTS:
                raise InvalidRequestError()
            if c.target == TARGET_VALUE:
                _check_bytes(c.operand)
            else:
                _check_int64(c.operand)
        for sub_op in op.success + op.failure:
            _validate_op(sub_op)
    else:
        raise InvalidRequestError()


def _check_intervals(ops: list) -> tuple[set[bytes], list[tuple[bytes, bytes]]]:
    """etcd's checkIntervals: no key is put twice, or put and deleted, on one path of a txn.

    Returns the keys put and the ranges deleted by `ops`, for the enclosing level's check.
    """
    deletes = [(op.key, op.range_end) for op in ops if type(op) is DeleteOp]
    puts: set[bytes] = set()

    def deleted(k: bytes) -> bool:
        return any(in_range(k, key, end) for key, end in deletes)

    nested_deletes = []
    for op in ops:
        if type(op) is not TxnOp:
            continue
        puts_then, deletes_then = _check_intervals(op.success)
        puts_else, deletes_else = _check_intervals(op.failure)
        for k in puts_then:
            if k in puts or deleted(k):
                raise InvalidRequestError(ERR_DUPLICATE_KEY)
            puts.add(k)
        for k in puts_else:
            # then and else exclude each other: a key both branches put is no conflict
            if (k in puts and k not in puts_then) or deleted(k):
                raise InvalidRequestError(ERR_DUPLICATE_KEY)
            puts.add(k)
        nested_deletes += deletes_then + deletes_else
    deletes += nested_deletes
    for op in ops:
        if type(op) is PutOp:
            if op.key in puts or deleted(op.key):
                raise InvalidRequestError(ERR_DUPLICATE_KEY)
            puts.add(op.key)
    return puts, deletes


def _compare_kv(c: Compare, kv: KeyValue) -> bool:
    if c.target == TARGET_VALUE:
        left, right = kv.value, c.operand
    elif c.target == TARGET_VERSION:
        left, right = kv.version, c.operand
    elif c.target == TARGET_CREATE:
        left, right = kv.create_revision, c.operand
    elif c.target == TARGET_MOD:
        left, right = kv.mod_revision, c.operand
    else:
        left, right = kv.lease, c.operand
    if c.result == RESULT_EQUAL:
        return left == right
    if c.result == RESULT_NOT_EQUAL:
        return left != right
    if c.result == RESULT_LESS:
        return left < right
    return left > right


# ----------------------------------------------------------------------------------- watch index


class WatchIndexModel:
    """Same API as pykube_plane._mvcc.WatchIndex, by brute force."""

    def __init__(self) -> None:
        self._ranges: dict[int, tuple[bytes, bytes]] = {}

    def add(self, watch_id: int, key: bytes, range_end: bytes) -> None:
        if watch_id in self._ranges:
            raise InvalidRequestError(ERR_DUPLICATE_WATCH)
        self._ranges[watch_id] = (key, range_end)

    def remove(self, watch_id: int) -> None:
        self._ranges.pop(watch_id, None)

    def match(self, key: bytes) -> list[int]:
        return sorted(w for w, (k, end) in self._ranges.items() if in_range(key, k, end))

    def __len__(self) -> int:
        return len(self._ranges)
