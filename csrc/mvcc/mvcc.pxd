# The compiled MVCC core: the key table (ordered index of keys and their revisions), the MVCC
# store over it, and the watch index. No I/O, no clock; every call is synchronous.

cimport cython
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t


# One stored revision of a key: a put, or a tombstone (version == 0).
cdef struct RevisionRecord:
    int64_t main
    int64_t create_revision     # 0 for a tombstone
    int64_t version             # puts since the key was (re)created; 0 marks a tombstone
    int64_t lease
    char *value                 # malloc'd value bytes; NULL when empty
    uint32_t value_len
    uint32_t sub


# A key and all its retained revisions, in one allocation:
#   [KeyEntry][key bytes, padded to 8][RevisionRecord x cap]
# Invariant: records[0 .. nrevs) are sorted by (main, sub) and no two share a main revision
# (a txn never writes one key twice). The allocation moves when it grows: hold key ids, not
# KeyEntry pointers, across anything that can append a record.
cdef struct KeyEntry:
    uint64_t hash
    uint32_t key_len
    uint32_t nrevs
    uint32_t cap
    uint32_t mark               # set while the key waits in MVCC.cleanup


# One entry of the revision log: which key changed at (main, sub). The log holds every retained
# revision with main >= compact_revision, in revision order; it serves take_events,
# events_since and finds the keys a compaction must visit.
cdef struct LogEntry:
    int64_t main
    uint32_t sub
    int32_t key_id


# A position in the key order: chunks[chunk][offset].
cdef struct Cursor:
    Py_ssize_t chunk
    Py_ssize_t offset


@cython.final
cdef class KeyTable:
    cdef KeyEntry **entries         # by key id; NULL for a free id
    cdef int32_t n_ids              # ids handed out so far (entries[0 .. n_ids) are meaningful)
    cdef int32_t cap_ids
    cdef int32_t *free_ids          # ids of removed keys, reused first
    cdef int32_t n_free
    cdef int32_t cap_free
    cdef int32_t *slots             # open-addressing hash: key id, SLOT_EMPTY or SLOT_DELETED
    cdef uint64_t slot_mask
    cdef uint64_t slots_used        # live + deleted slots (what limits probing)
    cdef int32_t **chunks           # the key order: sorted runs of key ids
    cdef int32_t *chunk_len
    cdef Py_ssize_t n_chunks
    cdef Py_ssize_t cap_chunks
    cdef readonly Py_ssize_t n_keys
    cdef readonly Py_ssize_t entry_bytes

    cdef int32_t find(self, const char *key, uint32_t key_len, uint64_t h) noexcept
    cdef int32_t add(self, const char *key, uint32_t key_len, uint64_t h) except -1
    cdef int32_t append_sorted(self, const char *key, uint32_t key_len) except -1
    cdef int reserve_records(self, int32_t key_id, uint32_t need) except -1
    cdef void fit_records(self, int32_t key_id) noexcept
    cdef int reserve_drops(self, Py_ssize_t n) except -1
    cdef void drop(self, int32_t key_id) noexcept
    cdef void seek(self, const char *key, uint32_t key_len, Cursor *cursor) noexcept
    cdef int32_t id_at(self, Cursor *cursor) noexcept
    cdef void advance(self, Cursor *cursor) noexcept
    cdef int hash_insert(self, int32_t key_id) except -1
    cdef void hash_remove(self, int32_t key_id) noexcept
    cdef int rehash(self, uint64_t n_slots) except -1
    cdef int order_insert(self, int32_t key_id) except -1
    cdef void order_remove(self, int32_t key_id) noexcept
    cdef int insert_chunk(self, Py_ssize_t at, int32_t *ids, int32_t n) except -1
    cdef void remove_chunk(self, Py_ssize_t at) noexcept
    cdef int32_t new_id(self) except -1


@cython.final
cdef class MVCC:
    cdef KeyTable table
    cdef readonly int64_t revision
    cdef readonly int64_t compact_revision
    cdef LogEntry *log
    cdef Py_ssize_t log_len
    cdef Py_ssize_t log_cap
    cdef Py_ssize_t events_taken    # log[events_taken:] are the events take_events has not returned
    cdef list early_events          # events materialized ahead of a compaction, not yet taken
    cdef uint32_t changes           # changes made by the write in progress (its next sub revision)
    cdef dict leases                # lease id -> set of key ids of live keys attached to it
    cdef Py_ssize_t n_records
    cdef Py_ssize_t value_bytes
    cdef int32_t *cleanup           # key ids a compaction has yet to trim (each marked meanwhile)
    cdef Py_ssize_t cleanup_head    # cleanup[cleanup_head:cleanup_len] are still waiting
    cdef Py_ssize_t cleanup_len
    cdef Py_ssize_t cleanup_cap
    cdef readonly Py_ssize_t compaction_batch
    cdef Py_ssize_t write_compaction_batch

    cdef RevisionRecord *latest(self, int32_t key_id) noexcept
    cdef RevisionRecord *record_at(self, int32_t key_id, int64_t at) noexcept
    cdef int64_t view_revision(self) noexcept
    cdef RevisionRecord *append_record(self, int32_t key_id) except NULL
    cdef int reserve_log(self) except -1
    cdef int log_append(self, int64_t main, uint32_t sub, int32_t key_id) except -1
    cdef void end_write(self) noexcept
    cdef object key_value(self, int32_t key_id, RevisionRecord *rec, bint keys_only,
                          object key=*)
    cdef object do_range(self, bytes key, bytes range_end, int64_t revision, int64_t limit,
                         bint count_only, bint keys_only)
    cdef object write_put(self, bytes key, bytes value, int64_t lease, bint want_prev,
                          bint ignore_value, bint ignore_lease)
    cdef object write_delete(self, bytes key, bytes range_end, bint want_prev)
    cdef object do_put(self, object op)
    cdef object do_delete(self, object op)
    cdef object do_txn(self, object op, list path, Py_ssize_t *step)
    cdef object run_txn(self, list then_ops, list else_ops, list path, Py_ssize_t *step)
    cdef void attach_lease(self, int64_t lease, int32_t key_id) except *
    cdef void detach_lease(self, int64_t lease, int32_t key_id) except *
    cdef object event_at(self, Py_ssize_t log_index)
    cdef void materialize_pending(self) except *
    cdef int trim_records(self, Py_ssize_t budget) except -1
    cdef int finish_compaction(self) except -1
    cdef void compact_key(self, int32_t key_id, int64_t at) noexcept
    cdef int rebuild_log(self) except -1


# One watched range [start, end) in the interval treap (see WatchIndex).
cdef struct IntervalNode:
    char *start                 # malloc'd: start bytes then end bytes
    uint32_t start_len
    uint32_t end_len
    int32_t left
    int32_t right
    int32_t max_end_node        # the node of this subtree whose end is largest
    uint32_t priority
    bint open_end               # range_end b"\0": no upper bound
    int64_t watch_id


@cython.final
cdef class WatchIndex:
    cdef dict exact                 # key -> list of watch ids watching exactly that key
    cdef dict where                 # watch id -> bytes key (exact), node index (range) or None (empty)
    cdef IntervalNode *nodes
    cdef int32_t n_nodes
    cdef int32_t cap_nodes
    cdef int32_t free_node          # head of the free list, linked through `left`
    cdef int32_t root
    cdef uint32_t rng

    cdef int end_cmp(self, int32_t a, int32_t b) noexcept
    cdef bint node_less(self, int32_t a, int32_t b) noexcept
    cdef void pull(self, int32_t x) noexcept
    cdef int32_t insert_node(self, int32_t root, int32_t n) noexcept
    cdef int32_t merge(self, int32_t a, int32_t b) noexcept
    cdef int32_t delete_node(self, int32_t root, int32_t n) noexcept
    cdef int stab(self, int32_t x, const char *key, uint32_t key_len, list hits) except -1
