# The MVCC state as bytes: dump / load (a Raft snapshot carries it) and the hash etcd's
# HashKV reports, computed over the same encoding. Included by mvcc.pyx.

# The dump format (little endian), shared with the model:
#   magic, revision (i64), compact_revision (i64), key count (u64);
#   per key in key order: key length (u32), key, record count (u32), then per record, oldest
#   first: main (i64), sub (u32), value length (u32), create_revision, version, lease (i64
#   each), value;  finally a CRC-32 (zlib's) of everything before it.
DUMP_MAGIC = b"PKMVCC01"
cdef const char *DUMP_MAGIC_TEXT = b"PKMVCC01"
cdef enum:
    DUMP_HEAD_SIZE = 32
    DUMP_RECORD_SIZE = 40
    DUMP_CRC_SIZE = 4
    CRC_BUFFER_SIZE = 65536


# ----------------------------------------------------------------------------------- encoding

cdef inline void put_u32(char *p, uint32_t v) noexcept nogil:
    cdef int i
    for i in range(4):
        p[i] = <char>((v >> (8 * i)) & 0xFF)


cdef inline void put_i64(char *p, int64_t v) noexcept nogil:
    cdef uint64_t u = <uint64_t>v
    cdef int i
    for i in range(8):
        p[i] = <char>((u >> (8 * i)) & 0xFF)


cdef inline uint32_t get_u32(const char *p) noexcept nogil:
    cdef uint32_t v = 0
    cdef int i
    for i in range(4):
        v |= (<uint32_t><uint8_t>p[i]) << (8 * i)
    return v


cdef inline int64_t get_i64(const char *p) noexcept nogil:
    cdef uint64_t v = 0
    cdef int i
    for i in range(8):
        v |= (<uint64_t><uint8_t>p[i]) << (8 * i)
    return <int64_t>v


cdef inline void put_record(char *p, RevisionRecord *rec) noexcept nogil:
    put_i64(p, rec.main)
    put_u32(p + 8, rec.sub)
    put_u32(p + 12, rec.value_len)
    put_i64(p + 16, rec.create_revision)
    put_i64(p + 24, rec.version)
    put_i64(p + 32, rec.lease)


# A CRC-32 fed in pieces: small pieces are batched so zlib is called once per 64 KiB.
cdef struct CrcStream:
    char *buffer
    size_t used
    uint32_t crc


cdef int crc_flush(CrcStream *stream) except -1:
    if stream.used:
        stream.crc = _crc32(PyBytes_FromStringAndSize(stream.buffer, stream.used), stream.crc)
        stream.used = 0
    return 0


cdef int crc_feed(CrcStream *stream, const char *p, size_t n) except -1:
    if stream.used + n > CRC_BUFFER_SIZE:
        crc_flush(stream)
        if n > CRC_BUFFER_SIZE:
            stream.crc = _crc32(PyBytes_FromStringAndSize(p, n), stream.crc)
            return 0
    memcpy(stream.buffer + stream.used, p, n)
    stream.used += n
    return 0


cdef int log_order(const void *a, const void *b) noexcept nogil:
    cdef const LogEntry *x = <const LogEntry*>a
    cdef const LogEntry *y = <const LogEntry*>b
    if x.main != y.main:
        return -1 if x.main < y.main else 1
    return (x.sub > y.sub) - (x.sub < y.sub)


# ----------------------------------------------------------------------------------- dump, load, hash


cdef bytes dump_state(MVCC mvcc):
    """The whole state (every retained record, both revisions); MVCC.load reverses it."""
    mvcc.finish_compaction()
    cdef Py_ssize_t size = DUMP_HEAD_SIZE + DUMP_CRC_SIZE
    cdef Cursor cursor
    cdef int32_t key_id
    cdef KeyEntry *entry
    cdef RevisionRecord *records
    cdef uint32_t i
    cursor.chunk = 0
    cursor.offset = 0
    while True:
        key_id = mvcc.table.id_at(&cursor)
        if key_id < 0:
            break
        entry = mvcc.table.entries[key_id]
        records = entry_records(entry)
        size += 8 + entry.key_len
        for i in range(entry.nrevs):
            size += DUMP_RECORD_SIZE + records[i].value_len
        mvcc.table.advance(&cursor)
    data = PyBytes_FromStringAndSize(NULL, size)
    cdef char *p = PyBytes_AS_STRING(data)
    memcpy(p, DUMP_MAGIC_TEXT, 8)
    put_i64(p + 8, mvcc.revision)
    put_i64(p + 16, mvcc.compact_revision)
    put_i64(p + 24, mvcc.table.n_keys)
    p += DUMP_HEAD_SIZE
    cursor.chunk = 0
    cursor.offset = 0
    while True:
        key_id = mvcc.table.id_at(&cursor)
        if key_id < 0:
            break
        entry = mvcc.table.entries[key_id]
        records = entry_records(entry)
        put_u32(p, entry.key_len)
        memcpy(p + 4, entry_key(entry), entry.key_len)
        p += 4 + entry.key_len
        put_u32(p, entry.nrevs)
        p += 4
        for i in range(entry.nrevs):
            put_record(p, &records[i])
            p += DUMP_RECORD_SIZE
            if records[i].value_len:
                memcpy(p, records[i].value, records[i].value_len)
                p += records[i].value_len
        mvcc.table.advance(&cursor)
    put_u32(p, _crc32(memoryview(data)[:size - DUMP_CRC_SIZE]))
    return data


cdef MVCC load_state(bytes data):
    """The MVCC a dump describes. A damaged dump raises StoreError, never half-loads."""
    cdef Py_ssize_t size = len(data)
    cdef const char *base = data
    if size < DUMP_HEAD_SIZE + DUMP_CRC_SIZE or memcmp(base, DUMP_MAGIC_TEXT, 8) != 0:
        raise StoreError(ERR_CORRUPT_DUMP)
    if _crc32(memoryview(data)[:size - DUMP_CRC_SIZE]) != get_u32(base + size - DUMP_CRC_SIZE):
        raise StoreError(ERR_CORRUPT_DUMP)
    cdef MVCC mvcc = MVCC()
    mvcc.revision = get_i64(base + 8)
    mvcc.compact_revision = get_i64(base + 16)
    cdef int64_t n_keys = get_i64(base + 24)
    cdef const char *p = base + DUMP_HEAD_SIZE
    cdef const char *stop = base + size - DUMP_CRC_SIZE
    cdef const char *prev_key = NULL
    cdef uint32_t prev_len = 0, key_len, n_records, r
    cdef int32_t key_id
    cdef RevisionRecord *rec
    cdef int64_t previous_main
    if mvcc.revision < 1 or mvcc.compact_revision < 0 or mvcc.compact_revision > mvcc.revision:
        raise StoreError(ERR_CORRUPT_DUMP)
    for _ in range(n_keys):
        if stop - p < 8:
            raise StoreError(ERR_CORRUPT_DUMP)
        key_len = get_u32(p)
        if key_len == 0 or <size_t>(stop - p) < 8 + <size_t>key_len:
            raise StoreError(ERR_CORRUPT_DUMP)
        if prev_key != NULL and compare_bytes(prev_key, prev_len, p + 4, key_len) >= 0:
            raise StoreError(ERR_CORRUPT_DUMP)  # keys must come in strictly rising order
        prev_key = p + 4
        prev_len = key_len
        key_id = mvcc.table.append_sorted(p + 4, key_len)
        p += 4 + key_len
        n_records = get_u32(p)
        p += 4
        if n_records == 0:
            raise StoreError(ERR_CORRUPT_DUMP)
        mvcc.table.reserve_records(key_id, n_records)
        previous_main = 0
        for r in range(n_records):
            if stop - p < DUMP_RECORD_SIZE:
                raise StoreError(ERR_CORRUPT_DUMP)
            rec = mvcc.append_record(key_id)
            rec.value = NULL
            rec.main = get_i64(p)
            rec.sub = get_u32(p + 8)
            rec.value_len = get_u32(p + 12)
            rec.create_revision = get_i64(p + 16)
            rec.version = get_i64(p + 24)
            rec.lease = get_i64(p + 32)
            p += DUMP_RECORD_SIZE
            if (rec.main <= previous_main or rec.main > mvcc.revision or rec.version < 0
                    or <size_t>(stop - p) < rec.value_len):
                rec.value_len = 0
                raise StoreError(ERR_CORRUPT_DUMP)
            previous_main = rec.main
            if rec.value_len:
                rec.value = <char*>malloc(rec.value_len)
                if rec.value == NULL:
                    rec.value_len = 0
                    raise MemoryError()
                memcpy(rec.value, p, rec.value_len)
                p += rec.value_len
                mvcc.value_bytes += rec.value_len
            if rec.main >= mvcc.compact_revision:
                mvcc.log_append(rec.main, rec.sub, key_id)
        rec = mvcc.latest(key_id)
        if rec != NULL and rec.lease:
            mvcc.attach_lease(rec.lease, key_id)
    if p != stop:
        raise StoreError(ERR_CORRUPT_DUMP)
    qsort(mvcc.log, mvcc.log_len, sizeof(LogEntry), log_order)
    mvcc.events_taken = mvcc.log_len  # loaded history is not news
    return mvcc


cdef tuple hash_state(MVCC mvcc, int64_t revision):
    """(CRC-32 over every retained record <= revision in key order, compact_revision)."""
    mvcc.finish_compaction()
    if revision > mvcc.revision:
        raise FutureRevisionError()
    cdef int64_t at = revision if revision > 0 else mvcc.revision
    if at < mvcc.compact_revision:
        raise CompactedError(mvcc.compact_revision)
    cdef CrcStream stream
    stream.buffer = <char*>malloc(CRC_BUFFER_SIZE)
    if stream.buffer == NULL:
        raise MemoryError()
    stream.used = 0
    stream.crc = 0
    cdef char head[4]
    cdef char fixed[DUMP_RECORD_SIZE]
    cdef Cursor cursor
    cdef int32_t key_id
    cdef KeyEntry *entry
    cdef RevisionRecord *records
    cdef uint32_t i
    cursor.chunk = 0
    cursor.offset = 0
    try:
        while True:
            key_id = mvcc.table.id_at(&cursor)
            if key_id < 0:
                break
            entry = mvcc.table.entries[key_id]
            records = entry_records(entry)
            for i in range(entry.nrevs):
                if records[i].main > at:
                    break
                put_u32(head, entry.key_len)
                crc_feed(&stream, head, 4)
                crc_feed(&stream, entry_key(entry), entry.key_len)
                put_record(fixed, &records[i])
                crc_feed(&stream, fixed, DUMP_RECORD_SIZE)
                if records[i].value_len:
                    crc_feed(&stream, records[i].value, records[i].value_len)
            mvcc.table.advance(&cursor)
        crc_flush(&stream)
    finally:
        free(stream.buffer)
    return stream.crc, mvcc.compact_revision
