# The key table: every key the store holds, its retained revision records, and the key order.
#
# Memory per key matters (150,000 pods in the API server; benchmarks use 1,000,000 keys):
# - one malloc per key holds the key bytes and its revision records (KeyEntry in mvcc.pxd);
#   each value is one malloc owned by its record (no PyObject per revision);
# - key ids (int32) index `entries`; the hash and the order hold ids, 4 bytes each;
# - the hash is open addressing with linear probing over ids, at most 70% full;
# - the order is a list of sorted chunks of up to CHUNK_CAP ids, a two-level B+tree: lookup is
#   two binary searches, inserting moves at most CHUNK_CAP ids (and the chunk table on a split,
#   once per CHUNK_CAP / 2 inserts), a range scan walks contiguous arrays. A flat sorted array
#   would move O(n) ids per new key (150,000 pods in random order: ~10^10 bytes moved); a skip
#   list costs two or more pointers per key and a pointer chase per step of every scan.

from libc.stdlib cimport free, malloc, realloc
from libc.string cimport memcmp, memcpy, memmove, memset

cdef enum:
    CHUNK_CAP = 512
    SLOT_EMPTY = -1
    SLOT_DELETED = -2


cdef inline size_t key_span(uint32_t key_len) noexcept nogil:
    return (<size_t>key_len + 7) & ~(<size_t>7)


cdef inline char *entry_key(KeyEntry *entry) noexcept nogil:
    return <char*>entry + sizeof(KeyEntry)


cdef inline RevisionRecord *entry_records(KeyEntry *entry) noexcept nogil:
    return <RevisionRecord*>(<char*>entry + sizeof(KeyEntry) + key_span(entry.key_len))


cdef inline size_t entry_size(uint32_t key_len, uint32_t cap) noexcept nogil:
    return sizeof(KeyEntry) + key_span(key_len) + <size_t>cap * sizeof(RevisionRecord)


cdef inline int compare_bytes(const char *a, size_t a_len, const char *b, size_t b_len) noexcept nogil:
    """Lexicographic order of byte strings, as Python compares bytes (a NULL empty value too)."""
    cdef size_t n = a_len if a_len < b_len else b_len
    cdef int c = memcmp(a, b, n) if n else 0
    if c != 0:
        return c
    return (a_len > b_len) - (a_len < b_len)


cdef inline uint64_t hash_bytes(const char *p, size_t n) noexcept nogil:
    """A fast 64-bit hash (multiply-xorshift over 8-byte words, murmur3's finalizer)."""
    cdef uint64_t h = 0x9E3779B97F4A7C15ULL ^ (<uint64_t>n * 0xFF51AFD7ED558CCDULL)
    cdef uint64_t word
    while n >= 8:
        memcpy(&word, p, 8)
        h = (h ^ word) * 0xC4CEB9FE1A85EC53ULL
        h ^= h >> 29
        p += 8
        n -= 8
    word = 0
    memcpy(&word, p, n)
    h = (h ^ word) * 0xFF51AFD7ED558CCDULL
    h ^= h >> 33
    h *= 0xC4CEB9FE1A85EC53ULL
    h ^= h >> 33
    return h


cdef void free_entry(KeyEntry *entry) noexcept nogil:
    cdef RevisionRecord *records = entry_records(entry)
    cdef uint32_t i
    for i in range(entry.nrevs):
        free(records[i].value)
    free(entry)


cdef class KeyTable:
    """Key bytes -> key id (hash), key ids in key order (chunks), key id -> KeyEntry."""

    def __cinit__(self):
        self.cap_ids = 64
        self.entries = <KeyEntry**>malloc(self.cap_ids * sizeof(KeyEntry*))
        self.cap_free = 64
        self.free_ids = <int32_t*>malloc(self.cap_free * sizeof(int32_t))
        self.slot_mask = 63
        self.slots = <int32_t*>malloc((self.slot_mask + 1) * sizeof(int32_t))
        self.cap_chunks = 16
        self.chunks = <int32_t**>malloc(self.cap_chunks * sizeof(int32_t*))
        self.chunk_len = <int32_t*>malloc(self.cap_chunks * sizeof(int32_t))
        if (self.entries == NULL or self.free_ids == NULL or self.slots == NULL
                or self.chunks == NULL or self.chunk_len == NULL):
            raise MemoryError()
        memset(self.slots, 0xFF, (self.slot_mask + 1) * sizeof(int32_t))  # all SLOT_EMPTY

    def __dealloc__(self):
        cdef int32_t i
        cdef Py_ssize_t c
        if self.entries != NULL:
            for i in range(self.n_ids):
                if self.entries[i] != NULL:
                    free_entry(self.entries[i])
        if self.chunks != NULL:
            for c in range(self.n_chunks):
                free(self.chunks[c])
        free(self.entries)
        free(self.free_ids)
        free(self.slots)
        free(self.chunks)
        free(self.chunk_len)

    # ------------------------------------------------------------------------------ keys

    cdef int32_t find(self, const char *key, uint32_t key_len, uint64_t h) noexcept:
        """The key's id, or -1."""
        cdef uint64_t i = h & self.slot_mask
        cdef int32_t key_id
        cdef KeyEntry *entry
        while True:
            key_id = self.slots[i]
            if key_id == SLOT_EMPTY:
                return -1
            if key_id >= 0:
                entry = self.entries[key_id]
                if (entry.hash == h and entry.key_len == key_len
                        and memcmp(entry_key(entry), key, key_len) == 0):
                    return key_id
            i = (i + 1) & self.slot_mask

    cdef int32_t new_id(self) except -1:
        cdef int32_t cap
        cdef KeyEntry **entries
        if self.n_free:
            self.n_free -= 1
            return self.free_ids[self.n_free]
        if self.n_ids == self.cap_ids:
            cap = self.cap_ids * 2
            entries = <KeyEntry**>realloc(self.entries, cap * sizeof(KeyEntry*))
            if entries == NULL:
                raise MemoryError()
            self.entries = entries
            self.cap_ids = cap
        self.n_ids += 1
        return self.n_ids - 1

    cdef int32_t add(self, const char *key, uint32_t key_len, uint64_t h) except -1:
        """A new key with room for one record, placed in the hash and the order."""
        cdef size_t size = entry_size(key_len, 1)
        cdef KeyEntry *entry = <KeyEntry*>malloc(size)
        if entry == NULL:
            raise MemoryError()
        entry.hash = h
        entry.key_len = key_len
        entry.nrevs = 0
        entry.cap = 1
        entry.mark = 0
        memcpy(entry_key(entry), key, key_len)
        cdef int32_t key_id
        try:
            key_id = self.new_id()
        except MemoryError:
            free(entry)
            raise
        self.entries[key_id] = entry
        self.hash_insert(key_id)
        self.order_insert(key_id)
        self.n_keys += 1
        self.entry_bytes += size
        return key_id

    cdef int32_t append_sorted(self, const char *key, uint32_t key_len) except -1:
        """Like add, for a key known to sort after every key present (loading a dump)."""
        cdef size_t size = entry_size(key_len, 1)
        cdef KeyEntry *entry = <KeyEntry*>malloc(size)
        cdef int32_t *ids
        if entry == NULL:
            raise MemoryError()
        entry.hash = hash_bytes(key, key_len)
        entry.key_len = key_len
        entry.nrevs = 0
        entry.cap = 1
        entry.mark = 0
        memcpy(entry_key(entry), key, key_len)
        cdef int32_t key_id
        try:
            key_id = self.new_id()
        except MemoryError:
            free(entry)
            raise
        self.entries[key_id] = entry
        self.hash_insert(key_id)
        if self.n_chunks == 0 or self.chunk_len[self.n_chunks - 1] == CHUNK_CAP:
            ids = <int32_t*>malloc(CHUNK_CAP * sizeof(int32_t))
            if ids == NULL:
                raise MemoryError()
            ids[0] = key_id
            self.insert_chunk(self.n_chunks, ids, 1)
        else:
            self.chunks[self.n_chunks - 1][self.chunk_len[self.n_chunks - 1]] = key_id
            self.chunk_len[self.n_chunks - 1] += 1
        self.n_keys += 1
        self.entry_bytes += size
        return key_id

    cdef int reserve_records(self, int32_t key_id, uint32_t need) except -1:
        """Room for `need` records; the entry may move (re-read entries[key_id] afterwards)."""
        cdef KeyEntry *entry = self.entries[key_id]
        if need <= entry.cap:
            return 0
        cdef uint32_t cap = entry.cap * 2 if entry.cap else 1
        while cap < need:
            cap *= 2
        cdef KeyEntry *grown = <KeyEntry*>realloc(entry, entry_size(entry.key_len, cap))
        if grown == NULL:
            raise MemoryError()
        self.entry_bytes += <Py_ssize_t>(cap - grown.cap) * sizeof(RevisionRecord)
        grown.cap = cap
        self.entries[key_id] = grown
        return 0

    cdef void fit_records(self, int32_t key_id) noexcept:
        """Give back the record slots a compaction emptied."""
        cdef KeyEntry *entry = self.entries[key_id]
        if entry.cap <= entry.nrevs:
            return
        cdef KeyEntry *shrunk = <KeyEntry*>realloc(entry, entry_size(entry.key_len, entry.nrevs))
        if shrunk == NULL:
            return  # keeping the larger block is harmless
        self.entry_bytes -= <Py_ssize_t>(shrunk.cap - shrunk.nrevs) * sizeof(RevisionRecord)
        shrunk.cap = shrunk.nrevs
        self.entries[key_id] = shrunk

    cdef int reserve_drops(self, Py_ssize_t n) except -1:
        """Room to drop `n` keys, taken before a compaction starts so that it cannot fail midway."""
        cdef Py_ssize_t cap = self.cap_free
        cdef int32_t *free_ids
        while cap < self.n_free + n:
            cap = cap * 2 + 64
        if cap != self.cap_free:
            free_ids = <int32_t*>realloc(self.free_ids, cap * sizeof(int32_t))
            if free_ids == NULL:
                raise MemoryError()
            self.free_ids = free_ids
            self.cap_free = <int32_t>cap
        return 0

    cdef void drop(self, int32_t key_id) noexcept:
        """Forget a key entirely (compaction removed its last record; reserve_drops made room)."""
        cdef KeyEntry *entry = self.entries[key_id]
        self.hash_remove(key_id)
        self.order_remove(key_id)
        self.entry_bytes -= entry_size(entry.key_len, entry.cap)
        free_entry(entry)
        self.entries[key_id] = NULL
        self.free_ids[self.n_free] = key_id
        self.n_free += 1
        self.n_keys -= 1

    # ------------------------------------------------------------------------------ hash

    cdef int hash_insert(self, int32_t key_id) except -1:
        cdef uint64_t n_slots
        if (self.slots_used + 1) * 10 > (self.slot_mask + 1) * 7:
            # grow, or just sweep deleted slots: afterwards the table is at most half full
            n_slots = 64
            while n_slots < <uint64_t>(self.n_keys + 1) * 2:
                n_slots *= 2
            self.rehash(n_slots)
        cdef uint64_t i = self.entries[key_id].hash & self.slot_mask
        while self.slots[i] >= 0:
            i = (i + 1) & self.slot_mask
        if self.slots[i] == SLOT_EMPTY:
            self.slots_used += 1
        self.slots[i] = key_id
        return 0

    cdef void hash_remove(self, int32_t key_id) noexcept:
        cdef uint64_t i = self.entries[key_id].hash & self.slot_mask
        while self.slots[i] != key_id:
            i = (i + 1) & self.slot_mask
        self.slots[i] = SLOT_DELETED

    cdef int rehash(self, uint64_t n_slots) except -1:
        """Rebuild the hash from the slots in use (the id being inserted is not in them yet)."""
        cdef int32_t *slots = <int32_t*>malloc(n_slots * sizeof(int32_t))
        if slots == NULL:
            raise MemoryError()
        memset(slots, 0xFF, n_slots * sizeof(int32_t))
        cdef uint64_t mask = n_slots - 1
        cdef uint64_t old, i
        cdef uint64_t used = 0
        cdef int32_t key_id
        for old in range(self.slot_mask + 1):
            key_id = self.slots[old]
            if key_id < 0:
                continue
            i = self.entries[key_id].hash & mask
            while slots[i] != SLOT_EMPTY:
                i = (i + 1) & mask
            slots[i] = key_id
            used += 1
        free(self.slots)
        self.slots = slots
        self.slot_mask = mask
        self.slots_used = used
        return 0

    # ------------------------------------------------------------------------------ order

    cdef void seek(self, const char *key, uint32_t key_len, Cursor *cursor) noexcept:
        """Place `cursor` on the first key >= `key` (chunk == n_chunks when there is none)."""
        cdef Py_ssize_t lo = 0, hi = self.n_chunks, mid
        cdef KeyEntry *entry
        cdef int32_t *ids
        while lo < hi:  # the first chunk whose last key is >= key
            mid = (lo + hi) >> 1
            entry = self.entries[self.chunks[mid][self.chunk_len[mid] - 1]]
            if compare_bytes(entry_key(entry), entry.key_len, key, key_len) < 0:
                lo = mid + 1
            else:
                hi = mid
        cursor.chunk = lo
        cursor.offset = 0
        if lo == self.n_chunks:
            return
        ids = self.chunks[lo]
        lo = 0
        hi = self.chunk_len[cursor.chunk]
        while lo < hi:
            mid = (lo + hi) >> 1
            entry = self.entries[ids[mid]]
            if compare_bytes(entry_key(entry), entry.key_len, key, key_len) < 0:
                lo = mid + 1
            else:
                hi = mid
        cursor.offset = lo

    cdef int32_t id_at(self, Cursor *cursor) noexcept:
        if cursor.chunk >= self.n_chunks:
            return -1
        return self.chunks[cursor.chunk][cursor.offset]

    cdef void advance(self, Cursor *cursor) noexcept:
        cursor.offset += 1
        if cursor.offset >= self.chunk_len[cursor.chunk]:
            cursor.chunk += 1
            cursor.offset = 0

    cdef int order_insert(self, int32_t key_id) except -1:
        cdef KeyEntry *entry = self.entries[key_id]
        cdef Cursor cursor
        cdef int32_t *ids
        cdef int32_t half = CHUNK_CAP // 2
        if self.n_chunks == 0:
            ids = <int32_t*>malloc(CHUNK_CAP * sizeof(int32_t))
            if ids == NULL:
                raise MemoryError()
            ids[0] = key_id
            self.insert_chunk(0, ids, 1)
            return 0
        self.seek(entry_key(entry), entry.key_len, &cursor)
        if cursor.chunk == self.n_chunks:  # after every key: the end of the last chunk
            cursor.chunk = self.n_chunks - 1
            cursor.offset = self.chunk_len[cursor.chunk]
        if (self.chunk_len[cursor.chunk] == CHUNK_CAP and cursor.chunk == self.n_chunks - 1
                and cursor.offset == CHUNK_CAP):
            # appending after the last key (keys arriving in order): a new chunk, so the full
            # ones stay full instead of being split into half-empty ones
            ids = <int32_t*>malloc(CHUNK_CAP * sizeof(int32_t))
            if ids == NULL:
                raise MemoryError()
            ids[0] = key_id
            self.insert_chunk(self.n_chunks, ids, 1)
            return 0
        if self.chunk_len[cursor.chunk] == CHUNK_CAP:  # full: split in two halves
            ids = <int32_t*>malloc(CHUNK_CAP * sizeof(int32_t))
            if ids == NULL:
                raise MemoryError()
            memcpy(ids, self.chunks[cursor.chunk] + half, (CHUNK_CAP - half) * sizeof(int32_t))
            self.insert_chunk(cursor.chunk + 1, ids, CHUNK_CAP - half)
            self.chunk_len[cursor.chunk] = half
            if cursor.offset > half:
                cursor.chunk += 1
                cursor.offset -= half
        ids = self.chunks[cursor.chunk]
        memmove(ids + cursor.offset + 1, ids + cursor.offset,
                (self.chunk_len[cursor.chunk] - cursor.offset) * sizeof(int32_t))
        ids[cursor.offset] = key_id
        self.chunk_len[cursor.chunk] += 1
        return 0

    cdef void order_remove(self, int32_t key_id) noexcept:
        cdef KeyEntry *entry = self.entries[key_id]
        cdef Cursor cursor
        self.seek(entry_key(entry), entry.key_len, &cursor)
        cdef Py_ssize_t c = cursor.chunk
        cdef int32_t *ids = self.chunks[c]
        memmove(ids + cursor.offset, ids + cursor.offset + 1,
                (self.chunk_len[c] - cursor.offset - 1) * sizeof(int32_t))
        self.chunk_len[c] -= 1
        if self.chunk_len[c] == 0:
            free(ids)
            self.remove_chunk(c)
            return
        # merge small neighbours, so churn does not leave many near-empty chunks behind
        if c > 0 and self.chunk_len[c - 1] + self.chunk_len[c] <= CHUNK_CAP // 2:
            c -= 1
        elif not (c + 1 < self.n_chunks and self.chunk_len[c] + self.chunk_len[c + 1] <= CHUNK_CAP // 2):
            return
        memcpy(self.chunks[c] + self.chunk_len[c], self.chunks[c + 1],
               self.chunk_len[c + 1] * sizeof(int32_t))
        self.chunk_len[c] += self.chunk_len[c + 1]
        free(self.chunks[c + 1])
        self.remove_chunk(c + 1)

    cdef int insert_chunk(self, Py_ssize_t at, int32_t *ids, int32_t n) except -1:
        cdef Py_ssize_t cap
        cdef int32_t **chunks
        cdef int32_t *lens
        if self.n_chunks == self.cap_chunks:
            cap = self.cap_chunks * 2
            chunks = <int32_t**>realloc(self.chunks, cap * sizeof(int32_t*))
            if chunks == NULL:
                free(ids)
                raise MemoryError()
            self.chunks = chunks
            lens = <int32_t*>realloc(self.chunk_len, cap * sizeof(int32_t))
            if lens == NULL:
                free(ids)
                raise MemoryError()
            self.chunk_len = lens
            self.cap_chunks = cap
        memmove(self.chunks + at + 1, self.chunks + at, (self.n_chunks - at) * sizeof(int32_t*))
        memmove(self.chunk_len + at + 1, self.chunk_len + at, (self.n_chunks - at) * sizeof(int32_t))
        self.chunks[at] = ids
        self.chunk_len[at] = n
        self.n_chunks += 1
        return 0

    cdef void remove_chunk(self, Py_ssize_t at) noexcept:
        memmove(self.chunks + at, self.chunks + at + 1, (self.n_chunks - at - 1) * sizeof(int32_t*))
        memmove(self.chunk_len + at, self.chunk_len + at + 1,
                (self.n_chunks - at - 1) * sizeof(int32_t))
        self.n_chunks -= 1

    def memory_bytes(self) -> int:
        """Bytes held by the table's own structures (entries and records, not values)."""
        return (self.entry_bytes + self.cap_ids * sizeof(KeyEntry*) + self.cap_free * sizeof(int32_t)
                + (self.slot_mask + 1) * sizeof(int32_t)
                + self.n_chunks * CHUNK_CAP * sizeof(int32_t))
