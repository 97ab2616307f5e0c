# cython: language_level=3
"""pykube_plane._mvcc: etcd's MVCC store (server/storage/mvcc), compiled, with no I/O and no clock.

Revisions. Every write request (a put, a delete that deletes something, a txn that changes
something) takes the next *main* revision; the changes inside it are numbered by *sub*
revision 0, 1, ... An empty store is at revision 1, so the first write is revision 2.

Records. Per key the table keeps the records of its retained revisions, oldest first; a
tombstone (a record with version 0) closes a generation of the key (etcd key_index.go keeps the
same facts as a list of generations). etcd's example, put(1.0); put(2.0); tombstone(3.0);
put(4.0); tombstone(5.0) on "foo":

    records: 1.0  2.0  3.0(t)  4.0  5.0(t)     (generations {1.0 2.0 3.0(t)} {4.0 5.0(t)} {})

The key's value at revision r is its latest record with main <= r, unless that is a tombstone.
compact(r) keeps, per key, the latest record <= r and everything after it; a tombstone is kept
only if it is exactly at r (so the history from r on is complete), and a key left with no
record leaves the table:

    compact(2): 2.0  3.0(t)  4.0  5.0(t)
    compact(4): 4.0  5.0(t)
    compact(5): 5.0(t)
    compact(6): -                               (the key is gone)

A compaction takes effect at once for every read; dropping the records runs in bounded batches
(MVCC.compact), as etcd's backend compaction does, so no call stalls the event loop. Until a key
is trimmed its older records stay but are never seen: reads below the compact revision fail.

Txn semantics (etcd's apply path, txn.go):
1. the request is validated first (checkTxnRequest + checkIntervals: empty keys, a value or
   lease given with ignore_value / ignore_lease, a key put twice or put and deleted on one path);
2. every compare along the taken path, nested txns included, is evaluated on the state before
   the txn (compareToPath);
3. the taken path is checked before any write (checkTxn: future / compacted range revisions,
   ignore_value / ignore_lease on a missing key), so a txn never half-applies;
4. the ops run in order under one main revision with sub revisions 0, 1, ...; reads in the txn
   see its earlier writes (step 1 leaves only ranges over keys the txn wrote, and deletes of
   keys an earlier delete took). A txn that changes nothing takes no revision.

tests/store/mvcc_model.py is the plain-Python reference of this module: the property tests
demand identical results, events, dumps and hashes from both.
"""

from cpython.bytes cimport PyBytes_AS_STRING, PyBytes_FromStringAndSize
from libc.stdint cimport INT64_MAX, INT64_MIN, uint8_t
from libc.stdlib cimport qsort

from zlib import crc32 as _crc32

from pykube_plane.store.kv import (
    RESULT_EQUAL, RESULT_GREATER, RESULT_LESS, RESULT_NOT_EQUAL, TARGET_CREATE, TARGET_LEASE,
    TARGET_MOD, TARGET_VALUE, TARGET_VERSION, CompactedError, FutureRevisionError,
    InvalidRequestError, KeyNotFoundError, StoreError,
)

include "objects.pxi"
include "key_table.pxi"
include "watch_index.pxi"
include "range_scan.pxi"
include "txn_checks.pxi"
include "snapshot.pxi"

ERR_EMPTY_KEY = "etcdserver: key is not provided"
ERR_VALUE_PROVIDED = "etcdserver: value is provided"
ERR_LEASE_PROVIDED = "etcdserver: lease is provided"
ERR_DUPLICATE_KEY = "etcdserver: duplicate key given in txn request"
ERR_DUPLICATE_WATCH = "etcdserver: mvcc: duplicate watch ID provided"
ERR_CORRUPT_DUMP = "etcdserver: mvcc: corrupt snapshot data"

# ----------------------------------------------------------------------------------- the store

cdef class MVCC:
    """etcd's MVCC key-value store. See the module docstring for revisions, records and txns."""

    def __cinit__(self):
        self.table = KeyTable()
        self.revision = 1
        self.compact_revision = 0
        self.log_cap = 1024
        self.log = <LogEntry*>malloc(self.log_cap * sizeof(LogEntry))
        if self.log == NULL:
            raise MemoryError()
        self.early_events = []
        self.leases = {}

    def __init__(self, Py_ssize_t compaction_batch=10_000):
        """compaction_batch: keys a compact() or compact_step() call trims at most (a write
        trims compaction_batch / 512); the default keeps a call near a millisecond."""
        if compaction_batch < 1:
            raise ValueError("compaction_batch must be at least 1")
        self.compaction_batch = compaction_batch
        self.write_compaction_batch = max(1, compaction_batch // 512)

    def __dealloc__(self):
        free(self.log)
        free(self.cleanup)

    # ------------------------------------------------------------------------------ records

    cdef RevisionRecord *latest(self, int32_t key_id) noexcept:
        """The key's current record, NULL if the key does not exist now."""
        cdef KeyEntry *entry = self.table.entries[key_id]
        if entry.nrevs == 0:
            return NULL
        cdef RevisionRecord *rec = &entry_records(entry)[entry.nrevs - 1]
        return NULL if rec.version == 0 else rec

    cdef RevisionRecord *record_at(self, int32_t key_id, int64_t at) noexcept:
        """The record holding the key's value at revision `at`, NULL if it did not exist then."""
        cdef KeyEntry *entry = self.table.entries[key_id]
        cdef RevisionRecord *records = entry_records(entry)
        cdef Py_ssize_t lo, hi, mid
        cdef RevisionRecord *rec
        if entry.nrevs == 0:
            return NULL
        if records[entry.nrevs - 1].main <= at:
            rec = &records[entry.nrevs - 1]
        else:
            lo = 0
            hi = entry.nrevs  # find the first record after `at`
            while lo < hi:
                mid = (lo + hi) >> 1
                if records[mid].main <= at:
                    lo = mid + 1
                else:
                    hi = mid
            if lo == 0:
                return NULL
            rec = &records[lo - 1]
        return NULL if rec.version == 0 else rec

    cdef int64_t view_revision(self) noexcept:
        """The revision reads see: a txn that already wrote sees its own next revision."""
        return self.revision + 1 if self.changes else self.revision

    cdef RevisionRecord *append_record(self, int32_t key_id) except NULL:
        cdef KeyEntry *entry = self.table.entries[key_id]
        if entry.nrevs == entry.cap:
            self.table.reserve_records(key_id, entry.nrevs + 1)
            entry = self.table.entries[key_id]
        entry.nrevs += 1
        self.n_records += 1
        return &entry_records(entry)[entry.nrevs - 1]

    cdef int reserve_log(self) except -1:
        """Room for one more log entry: taken before a change starts, so none fails midway."""
        cdef LogEntry *grown
        if self.log_len == self.log_cap:
            grown = <LogEntry*>realloc(self.log, self.log_cap * 2 * sizeof(LogEntry))
            if grown == NULL:
                raise MemoryError()
            self.log = grown
            self.log_cap *= 2
        return 0

    cdef int log_append(self, int64_t main, uint32_t sub, int32_t key_id) except -1:
        self.reserve_log()
        self.log[self.log_len].main = main
        self.log[self.log_len].sub = sub
        self.log[self.log_len].key_id = key_id
        self.log_len += 1
        return 0

    cdef void end_write(self) noexcept:
        if self.changes:
            self.revision += 1
            self.changes = 0

    cdef object key_value(self, int32_t key_id, RevisionRecord *rec, bint keys_only,
                          object key=None):
        cdef KeyEntry *entry
        if key is None:
            entry = self.table.entries[key_id]
            key = PyBytes_FromStringAndSize(entry_key(entry), entry.key_len)
        if keys_only or rec.value_len == 0:
            value = b""
        else:
            value = PyBytes_FromStringAndSize(rec.value, rec.value_len)
        return new_key_value(key, value, rec.create_revision, rec.main, rec.version, rec.lease)

    # ------------------------------------------------------------------------------ reads

    def range(self, bytes key not None, bytes range_end not None = b"", int64_t revision=0,
              int64_t limit=0, bint count_only=False, bint keys_only=False):
        """etcd Range: the keys of [key, range_end) at `revision` (0: latest)."""
        check_key(key)
        return self.do_range(key, range_end, revision, limit, count_only, keys_only)

    cdef object do_range(self, bytes key, bytes range_end, int64_t revision, int64_t limit,
                         bint count_only, bint keys_only):
        cdef int64_t current = self.view_revision()
        if revision > current:
            raise FutureRevisionError()
        cdef int64_t at = revision if revision > 0 else current
        if at < self.compact_revision:
            raise CompactedError(self.compact_revision)
        cdef list kvs
        cdef Py_ssize_t count = 0
        cdef const char *k = key
        cdef uint32_t k_len = <uint32_t>len(key)
        cdef int32_t key_id
        cdef RevisionRecord *rec
        cdef RangeScan scan
        if len(range_end) == 0:
            key_id = self.table.find(k, k_len, hash_bytes(k, k_len))
            rec = self.record_at(key_id, at) if key_id >= 0 else NULL
            if rec == NULL:
                return new_range_result([], 0, False, current)
            kvs = [] if count_only else [self.key_value(key_id, rec, keys_only, key)]
            return new_range_result(kvs, 1, False, current)
        kvs = []
        range_scan_start(&scan, self.table, key, range_end)
        while True:
            key_id = range_scan_next(&scan, self.table)
            if key_id < 0:
                break
            rec = self.record_at(key_id, at)
            if rec != NULL:
                count += 1
                if not count_only and (limit <= 0 or count <= limit):
                    kvs.append(self.key_value(key_id, rec, keys_only))
        return new_range_result(kvs, count, not count_only and 0 < limit < count, current)

    # ------------------------------------------------------------------------------ writes

    def put(self, bytes key not None, bytes value not None, int64_t lease=0, bint prev_kv=False,
            bint ignore_value=False, bint ignore_lease=False):
        """etcd Put: one new revision."""
        check_key(key)
        if ignore_value and len(value):
            raise InvalidRequestError(ERR_VALUE_PROVIDED)
        if ignore_lease and lease:
            raise InvalidRequestError(ERR_LEASE_PROVIDED)
        try:
            result = self.write_put(key, value, lease, prev_kv, ignore_value, ignore_lease)
        finally:
            self.end_write()
        if self.cleanup_head < self.cleanup_len:
            self.trim_records(self.write_compaction_batch)
        return result

    def delete_range(self, bytes key not None, bytes range_end not None = b"", bint prev_kv=False):
        """etcd DeleteRange: one new revision if anything was deleted."""
        check_key(key)
        try:
            result = self.write_delete(key, range_end, prev_kv)
        finally:
            self.end_write()
        if self.cleanup_head < self.cleanup_len:
            self.trim_records(self.write_compaction_batch)
        return result

    cdef object do_put(self, object op):
        return self.write_put(get_slot(op, PUT_KEY), get_slot(op, PUT_VALUE),
                              get_slot(op, PUT_LEASE), get_slot(op, PUT_PREV_KV),
                              get_slot(op, PUT_IGNORE_VALUE), get_slot(op, PUT_IGNORE_LEASE))

    cdef object do_delete(self, object op):
        return self.write_delete(get_slot(op, DEL_KEY), get_slot(op, DEL_RANGE_END),
                                 get_slot(op, DEL_PREV_KV))

    cdef object write_put(self, bytes key, bytes value, int64_t lease, bint want_prev,
                          bint ignore_value, bint ignore_lease):
        cdef const char *k = key
        cdef uint32_t k_len = <uint32_t>len(key)
        cdef uint64_t h = hash_bytes(k, k_len)
        cdef int32_t key_id = self.table.find(k, k_len, h)
        cdef RevisionRecord *current = self.latest(key_id) if key_id >= 0 else NULL
        if (ignore_value or ignore_lease) and current == NULL:
            raise KeyNotFoundError()
        prev = self.key_value(key_id, current, False, key) if want_prev and current != NULL else None
        cdef int64_t main = self.revision + 1
        cdef int64_t create_revision = current.create_revision if current != NULL else main
        cdef int64_t version = current.version + 1 if current != NULL else 1
        cdef int64_t old_lease = current.lease if current != NULL else 0
        if ignore_lease:
            lease = old_lease
        cdef const char *v
        cdef uint32_t v_len
        if ignore_value:
            v = current.value
            v_len = current.value_len
        else:
            v = value
            v_len = <uint32_t>len(value)
        cdef char *stored = NULL
        cdef RevisionRecord *rec
        if v_len:
            stored = <char*>malloc(v_len)
            if stored == NULL:
                raise MemoryError()
            memcpy(stored, v, v_len)
        try:
            self.reserve_log()
            if key_id < 0:
                key_id = self.table.add(k, k_len, h)
            rec = self.append_record(key_id)  # may move the entry: `current` is stale from here
        except MemoryError:
            free(stored)
            raise
        rec.main = main
        rec.sub = self.changes
        rec.create_revision = create_revision
        rec.version = version
        rec.lease = lease
        rec.value = stored
        rec.value_len = v_len
        self.log_append(main, self.changes, key_id)
        self.changes += 1
        self.value_bytes += v_len
        if old_lease != lease:
            if old_lease:
                self.detach_lease(old_lease, key_id)
            if lease:
                self.attach_lease(lease, key_id)
        return new_put_result(main, prev)

    cdef object write_delete(self, bytes key, bytes range_end, bint want_prev):
        cdef int64_t main = self.revision + 1
        cdef const char *k = key
        cdef uint32_t k_len = <uint32_t>len(key)
        cdef RangeScan scan
        cdef int32_t key_id
        cdef list victims = []
        if len(range_end) == 0:
            key_id = self.table.find(k, k_len, hash_bytes(k, k_len))
            if key_id >= 0 and self.latest(key_id) != NULL:
                victims.append(key_id)
        else:
            range_scan_start(&scan, self.table, key, range_end)
            while True:
                key_id = range_scan_next(&scan, self.table)
                if key_id < 0:
                    break
                if self.latest(key_id) != NULL:
                    victims.append(key_id)
        cdef list prevs = []
        cdef RevisionRecord *current
        cdef RevisionRecord *rec
        cdef int64_t old_lease
        for victim in victims:
            key_id = victim
            current = self.latest(key_id)
            if want_prev:
                prevs.append(self.key_value(key_id, current, False))
            old_lease = current.lease
            self.reserve_log()
            rec = self.append_record(key_id)
            rec.main = main
            rec.sub = self.changes
            rec.create_revision = 0
            rec.version = 0
            rec.lease = 0
            rec.value = NULL
            rec.value_len = 0
            self.log_append(main, self.changes, key_id)
            self.changes += 1
            if old_lease:
                self.detach_lease(old_lease, key_id)
        return new_delete_result(self.view_revision(), len(victims), prevs)

    def txn(self, compare, success, failure):
        """etcd Txn: compares, then the success or failure ops, as one revision (or none)."""
        cdef list compares = as_list(compare)
        cdef list then_ops = as_list(success)
        cdef list else_ops = as_list(failure)
        validate_txn(compares, then_ops, else_ops)
        check_branch(then_ops)
        check_branch(else_ops)
        cdef list path = []
        cdef Py_ssize_t step = 0
        compare_path_of(self, compares, then_ops, else_ops, path)
        check_path_of(self, then_ops, else_ops, path, &step)
        step = 0
        try:
            result = self.run_txn(then_ops, else_ops, path, &step)
        finally:
            self.end_write()
        if self.cleanup_head < self.cleanup_len:
            self.trim_records(self.write_compaction_batch)
        return result

    cdef object do_txn(self, object op, list path, Py_ssize_t *step):
        return self.run_txn(as_list(get_slot(op, TXN_SUCCESS)), as_list(get_slot(op, TXN_FAILURE)),
                            path, step)

    cdef object run_txn(self, list then_ops, list else_ops, list path, Py_ssize_t *step):
        cdef bint succeeded = path[step[0]]
        step[0] += 1
        cdef list responses = []
        for op in (then_ops if succeeded else else_ops):
            kind = type(op)
            if kind is RangeOp:
                responses.append(self.do_range(
                    get_slot(op, RANGE_KEY), get_slot(op, RANGE_END), get_slot(op, RANGE_REVISION),
                    get_slot(op, RANGE_LIMIT), get_slot(op, RANGE_COUNT_ONLY),
                    get_slot(op, RANGE_KEYS_ONLY)))
            elif kind is PutOp:
                responses.append(self.do_put(op))
            elif kind is DeleteOp:
                responses.append(self.do_delete(op))
            else:
                responses.append(self.do_txn(op, path, step))
        return new_txn_result(succeeded, responses, self.view_revision())

    # ------------------------------------------------------------------------------ leases

    cdef void attach_lease(self, int64_t lease, int32_t key_id) except *:
        keys = self.leases.get(lease)
        if keys is None:
            self.leases[lease] = {key_id}
        else:
            (<set>keys).add(key_id)

    cdef void detach_lease(self, int64_t lease, int32_t key_id) except *:
        keys = self.leases.get(lease)
        if keys is not None:
            (<set>keys).discard(key_id)
            if not keys:
                del self.leases[lease]

    def lease_keys(self, int64_t lease) -> list:
        """The live keys attached to `lease`, in key order."""
        cdef KeyEntry *entry
        keys = self.leases.get(lease)
        if not keys:
            return []
        found = []
        for key_id in keys:
            entry = self.table.entries[<int32_t>key_id]
            found.append(PyBytes_FromStringAndSize(entry_key(entry), entry.key_len))
        found.sort()
        return found

    # ------------------------------------------------------------------------------ compaction

    def compact(self, int64_t revision) -> None:
        """etcd Compact: history before `revision` is gone (see the module docstring).

        Reads see the compaction at once; trimming the records runs in bounded batches (etcd
        compacts its backend in batches too), so a large compaction never stalls the caller:
        `compaction_batch` keys now, a few more after each write, any rest via compact_step().
        """
        if revision <= self.compact_revision:
            raise CompactedError(self.compact_revision)
        if revision > self.revision:
            raise FutureRevisionError()
        self.materialize_pending()
        # The keys with a record in [previous compact revision, revision] are the only ones the
        # compaction can change: the log starts at the previous compact revision.
        cdef Py_ssize_t lo = 0, hi = self.log_len, mid, i, cap
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.log[mid].main <= revision:
                lo = mid + 1
            else:
                hi = mid
        cdef int32_t *grown
        if self.cleanup_len + lo > self.cleanup_cap:
            cap = self.cleanup_len + lo + 64
            grown = <int32_t*>realloc(self.cleanup, cap * sizeof(int32_t))
            if grown == NULL:
                raise MemoryError()
            self.cleanup = grown
            self.cleanup_cap = cap
        cdef KeyEntry *entry
        for i in range(lo):
            entry = self.table.entries[self.log[i].key_id]
            if not entry.mark:  # marked: already waiting for an earlier compaction's trim
                entry.mark = 1
                self.cleanup[self.cleanup_len] = self.log[i].key_id
                self.cleanup_len += 1
        self.compact_revision = revision
        self.rebuild_log()
        self.trim_records(self.compaction_batch)

    def compact_step(self, Py_ssize_t max_keys=0) -> int:
        """Trim up to max_keys (0: compaction_batch) keys a compaction left; returns how many wait."""
        self.trim_records(max_keys if max_keys > 0 else self.compaction_batch)
        return self.cleanup_len - self.cleanup_head

    cdef int trim_records(self, Py_ssize_t budget) except -1:
        """Physical compaction of up to `budget` keys, each to the current compact revision."""
        cdef Py_ssize_t n = self.cleanup_len - self.cleanup_head
        cdef int32_t key_id
        if n > budget:
            n = budget
        if n <= 0:
            return 0
        self.table.reserve_drops(n)  # so nothing below can fail halfway
        for _ in range(n):
            key_id = self.cleanup[self.cleanup_head]
            self.cleanup_head += 1
            self.table.entries[key_id].mark = 0
            self.compact_key(key_id, self.compact_revision)
        if self.cleanup_head == self.cleanup_len:
            self.cleanup_head = self.cleanup_len = 0
            if self.cleanup_cap > 65536:
                free(self.cleanup)
                self.cleanup = NULL
                self.cleanup_cap = 0
        return 0

    cdef int finish_compaction(self) except -1:
        return self.trim_records(self.cleanup_len - self.cleanup_head)

    cdef void compact_key(self, int32_t key_id, int64_t at) noexcept:
        cdef KeyEntry *entry = self.table.entries[key_id]
        cdef RevisionRecord *records = entry_records(entry)
        cdef Py_ssize_t lo = 0, hi = entry.nrevs, mid, keep_from, i
        while lo < hi:  # the first record after `at`
            mid = (lo + hi) >> 1
            if records[mid].main <= at:
                lo = mid + 1
            else:
                hi = mid
        if lo == 0:
            return
        keep_from = lo - 1  # the latest record <= at, kept unless it is a tombstone before `at`
        if records[keep_from].version == 0 and records[keep_from].main < at:
            keep_from += 1
        if keep_from == 0:
            return
        for i in range(keep_from):
            free(records[i].value)
            self.value_bytes -= records[i].value_len
        memmove(records, records + keep_from, (entry.nrevs - keep_from) * sizeof(RevisionRecord))
        entry.nrevs -= <uint32_t>keep_from
        self.n_records -= keep_from
        if entry.nrevs == 0:
            self.table.drop(key_id)
        else:
            self.table.fit_records(key_id)

    cdef int rebuild_log(self) except -1:
        """Drop log entries before the compact revision (all taken as events by now)."""
        cdef Py_ssize_t lo = 0, hi = self.log_len, mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.log[mid].main < self.compact_revision:
                lo = mid + 1
            else:
                hi = mid
        memmove(self.log, self.log + lo, (self.log_len - lo) * sizeof(LogEntry))
        self.log_len -= lo
        self.events_taken = self.log_len
        cdef Py_ssize_t cap = self.log_cap
        while cap > 1024 and cap >= 4 * self.log_len:
            cap //= 2
        cdef LogEntry *shrunk
        if cap != self.log_cap:
            shrunk = <LogEntry*>realloc(self.log, cap * sizeof(LogEntry))
            if shrunk != NULL:
                self.log = shrunk
                self.log_cap = cap
        return 0

    # ------------------------------------------------------------------------------ events

    cdef object event_at(self, Py_ssize_t log_index):
        """The Event of log[log_index], with prev_kv (None if the key did not exist before)."""
        cdef LogEntry *change = &self.log[log_index]
        cdef int32_t key_id = change.key_id
        cdef KeyEntry *entry = self.table.entries[key_id]
        cdef RevisionRecord *records = entry_records(entry)
        cdef Py_ssize_t lo = 0, hi = entry.nrevs, mid
        while lo < hi:  # the record of this change: the first with main >= change.main
            mid = (lo + hi) >> 1
            if records[mid].main < change.main:
                lo = mid + 1
            else:
                hi = mid
        cdef RevisionRecord *rec = &records[lo]
        key = PyBytes_FromStringAndSize(entry_key(entry), entry.key_len)
        prev = None
        # the value before: none if the key did not exist, or if it predates the compaction
        # (records older than the compact revision may still await their trim)
        if lo > 0 and records[lo - 1].version != 0 and rec.main > self.compact_revision:
            prev = self.key_value(key_id, &records[lo - 1], False, key)
        if rec.version == 0:
            return new_event(EVENT_DELETE, new_key_value(key, b"", 0, rec.main, 0, 0), prev)
        return new_event(EVENT_PUT, self.key_value(key_id, rec, False, key), prev)

    cdef void materialize_pending(self) except *:
        while self.events_taken < self.log_len:
            self.early_events.append(self.event_at(self.events_taken))
            self.events_taken += 1

    def take_events(self) -> list:
        """Every event written since the last call, in revision order, prev_kv filled."""
        cdef list events = self.early_events
        if events:  # some were materialized ahead of a compaction
            self.early_events = []
        else:
            events = []
        while self.events_taken < self.log_len:
            events.append(self.event_at(self.events_taken))
            self.events_taken += 1
        return events

    def events_since(self, bytes key not None, bytes range_end not None, int64_t start_revision,
                     int64_t end_revision) -> list:
        """History of [key, range_end) with start_revision <= revision <= end_revision (0: now)."""
        if start_revision < self.compact_revision:
            raise CompactedError(self.compact_revision)
        cdef int64_t end = end_revision if end_revision > 0 else self.revision
        cdef Py_ssize_t lo = 0, hi = self.log_len, mid
        while lo < hi:
            mid = (lo + hi) >> 1
            if self.log[mid].main < start_revision:
                lo = mid + 1
            else:
                hi = mid
        cdef list events = []
        cdef KeyEntry *entry
        while lo < self.log_len and self.log[lo].main <= end:
            entry = self.table.entries[self.log[lo].key_id]
            if in_range(entry_key(entry), entry.key_len, key, range_end):
                events.append(self.event_at(lo))
            lo += 1
        return events

    # ------------------------------------------------------------------------------ state

    def dump(self) -> bytes:
        """The whole state (every retained record, both revisions); MVCC.load reverses it."""
        return dump_state(self)

    @staticmethod
    def load(bytes data not None) -> MVCC:
        """The MVCC a dump describes. A damaged dump raises StoreError, never half-loads."""
        return load_state(data)

    def hash_kv(self, int64_t revision=0) -> tuple:
        """(CRC-32 over every retained record <= revision in key order, compact_revision)."""
        return hash_state(self, revision)

    def stats(self) -> dict:
        """keys (in the index, deleted ones awaiting compaction included), live_keys, revisions
        (retained records), history (revisions since the compact revision), bytes (approximate)."""
        self.finish_compaction()
        cdef Py_ssize_t live = 0
        cdef int32_t key_id
        for key_id in range(self.table.n_ids):
            if self.table.entries[key_id] != NULL and self.latest(key_id) != NULL:
                live += 1
        # each malloc costs ~16 bytes of allocator overhead on top of what it holds
        approx = (self.table.memory_bytes() + self.value_bytes + 16 * self.n_records
                  + 16 * self.table.n_keys + self.log_cap * sizeof(LogEntry)
                  + self.cleanup_cap * sizeof(int32_t))
        return {"keys": self.table.n_keys, "live_keys": live, "revisions": self.n_records,
                "history": self.log_len, "bytes": approx}
