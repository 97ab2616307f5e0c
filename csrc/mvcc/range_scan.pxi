# Ranges of keys: [key, range_end) in key order, etcd's conventions for range_end (b"":
# the single key; b"\0": every key from `key` on). One cursor serves every scan (Range,
# DeleteRange, a Compare over a range). Included by mvcc.pyx.

cdef inline bint is_open_end(bytes range_end) noexcept:
    """range_end b"\\0": every key from `key` on."""
    return len(range_end) == 1 and (<const char*>range_end)[0] == 0


cdef bint in_range(const char *k, size_t k_len, bytes key, bytes range_end) noexcept:
    cdef Py_ssize_t end_len = len(range_end)
    if end_len == 0:
        return compare_bytes(k, k_len, key, len(key)) == 0
    if compare_bytes(k, k_len, key, len(key)) < 0:
        return False
    return is_open_end(range_end) or compare_bytes(k, k_len, range_end, end_len) < 0


# A scan over the keys of a non-empty range_end, in key order. It points into range_end's
# bytes: the caller keeps range_end alive while scanning. Nothing may add or drop keys during
# a scan (the callers collect ids first, then write).
cdef struct RangeScan:
    Cursor cursor
    const char *end
    Py_ssize_t end_len
    bint open_end
    bint done


cdef inline void range_scan_start(RangeScan *scan, KeyTable table, bytes key,
                                  bytes range_end) noexcept:
    """Position `scan` at the first key >= `key`; a range_end not after `key` is empty."""
    cdef const char *k = key
    cdef uint32_t k_len = <uint32_t>len(key)
    scan.end = range_end
    scan.end_len = len(range_end)
    scan.open_end = is_open_end(range_end)
    scan.done = not scan.open_end and compare_bytes(scan.end, scan.end_len, k, k_len) <= 0
    if not scan.done:
        table.seek(k, k_len, &scan.cursor)


cdef inline int32_t range_scan_next(RangeScan *scan, KeyTable table) noexcept:
    """The id of the next key in the range, -1 once past its end."""
    cdef int32_t key_id
    cdef KeyEntry *entry
    if scan.done:
        return -1
    key_id = table.id_at(&scan.cursor)
    if key_id >= 0 and not scan.open_end:
        entry = table.entries[key_id]
        if compare_bytes(entry_key(entry), entry.key_len, scan.end, scan.end_len) >= 0:
            key_id = -1
    if key_id < 0:
        scan.done = True
        return -1
    table.advance(&scan.cursor)
    return key_id
