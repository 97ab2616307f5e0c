# Txn checks: the request is validated before anything runs (etcd's checkTxnRequest and
# checkIntervals), then the compares are evaluated along the path the txn takes
# (compareToPath), then that path is checked against the state (checkTxn), so a txn never
# half-applies. Included by mvcc.pyx.

cdef enum:
    TARGET_CODE_VERSION = 0
    TARGET_CODE_CREATE = 1
    TARGET_CODE_MOD = 2
    TARGET_CODE_VALUE = 3
    TARGET_CODE_LEASE = 4
    RESULT_CODE_EQUAL = 0
    RESULT_CODE_NOT_EQUAL = 1
    RESULT_CODE_LESS = 2
    RESULT_CODE_GREATER = 3

cdef dict TARGET_CODES = {TARGET_VERSION: TARGET_CODE_VERSION, TARGET_CREATE: TARGET_CODE_CREATE,
                          TARGET_MOD: TARGET_CODE_MOD, TARGET_VALUE: TARGET_CODE_VALUE,
                          TARGET_LEASE: TARGET_CODE_LEASE}
cdef dict RESULT_CODES = {RESULT_EQUAL: RESULT_CODE_EQUAL, RESULT_NOT_EQUAL: RESULT_CODE_NOT_EQUAL,
                          RESULT_LESS: RESULT_CODE_LESS, RESULT_GREATER: RESULT_CODE_GREATER}


cdef inline void check_key(bytes key) except *:
    if not key:
        raise InvalidRequestError(ERR_EMPTY_KEY)


cdef inline void check_bytes(object field) except *:
    if type(field) is not bytes:
        raise InvalidRequestError()


cdef inline void check_int64(object field) except *:
    if not isinstance(field, int) or not (INT64_MIN <= field <= INT64_MAX):
        raise InvalidRequestError()


cdef void validate_op(object op) except *:
    """etcd's checkRequestOp / checkTxnRequest, recursively; field types too, so that nothing
    can fail once the txn has started writing."""
    kind = type(op)
    if kind is PutOp:
        check_bytes(get_slot(op, PUT_KEY))
        check_key(get_slot(op, PUT_KEY))
        check_bytes(get_slot(op, PUT_VALUE))
        check_int64(get_slot(op, PUT_LEASE))
        if get_slot(op, PUT_IGNORE_VALUE) and get_slot(op, PUT_VALUE):
            raise InvalidRequestError(ERR_VALUE_PROVIDED)
        if get_slot(op, PUT_IGNORE_LEASE) and get_slot(op, PUT_LEASE):
            raise InvalidRequestError(ERR_LEASE_PROVIDED)
    elif kind is RangeOp:
        check_bytes(get_slot(op, RANGE_KEY))
        check_key(get_slot(op, RANGE_KEY))
        check_bytes(get_slot(op, RANGE_END))
        check_int64(get_slot(op, RANGE_REVISION))
        check_int64(get_slot(op, RANGE_LIMIT))
    elif kind is DeleteOp:
        check_bytes(get_slot(op, DEL_KEY))
        check_key(get_slot(op, DEL_KEY))
        check_bytes(get_slot(op, DEL_RANGE_END))
    elif kind is TxnOp:
        validate_txn(as_list(get_slot(op, TXN_COMPARE)), as_list(get_slot(op, TXN_SUCCESS)),
                     as_list(get_slot(op, TXN_FAILURE)))
    else:
        raise InvalidRequestError()


cdef void validate_txn(list compares, list then_ops, list else_ops) except *:
    for c in compares:
        if type(c) is not Compare:
            raise InvalidRequestError()
        check_bytes(get_slot(c, CMP_KEY))
        check_key(get_slot(c, CMP_KEY))
        check_bytes(get_slot(c, CMP_RANGE_END))
        target = TARGET_CODES.get(get_slot(c, CMP_TARGET))
        operand = get_slot(c, CMP_OPERAND)
        if target is None or get_slot(c, CMP_RESULT) not in RESULT_CODES:
            raise InvalidRequestError()
        if target == TARGET_CODE_VALUE:
            check_bytes(operand)
        else:
            check_int64(operand)
    for op in then_ops:
        validate_op(op)
    for op in else_ops:
        validate_op(op)


cdef tuple check_intervals(list ops):
    """etcd's checkIntervals: no key is put twice, or put and deleted, on one path of a txn.

    Returns (keys put, ranges deleted) by `ops`, for the enclosing level's check. A delete with
    range_end b"\0" covers every key from its key on (etcd's interval tree reads that end as the
    string "\0" and so misses such overlaps; the intent of the rule is the open range).
    """
    cdef list deletes = [(get_slot(op, DEL_KEY), get_slot(op, DEL_RANGE_END))
                         for op in ops if type(op) is DeleteOp]
    cdef set puts = set()
    cdef list nested_deletes = []
    for op in ops:
        if type(op) is not TxnOp:
            continue
        puts_then, deletes_then = check_intervals(as_list(get_slot(op, TXN_SUCCESS)))
        puts_else, deletes_else = check_intervals(as_list(get_slot(op, TXN_FAILURE)))
        for k in puts_then:
            if k in puts or deleted_by(k, deletes):
                raise InvalidRequestError(ERR_DUPLICATE_KEY)
            puts.add(k)
        for k in puts_else:
            # then and else exclude each other: a key both branches put is no conflict
            if (k in puts and k not in puts_then) or deleted_by(k, deletes):
                raise InvalidRequestError(ERR_DUPLICATE_KEY)
            puts.add(k)
        nested_deletes += deletes_then
        nested_deletes += deletes_else
    deletes += nested_deletes
    for op in ops:
        if type(op) is PutOp:
            k = get_slot(op, PUT_KEY)
            if k in puts or deleted_by(k, deletes):
                raise InvalidRequestError(ERR_DUPLICATE_KEY)
            puts.add(k)
    return puts, deletes


cdef bint deleted_by(bytes k, list deletes) except -1:
    for key, range_end in deletes:
        if in_range(k, len(k), key, range_end):
            return True
    return False


cdef inline void check_branch(list ops) except *:
    # one op (the usual Kubernetes txn) cannot conflict with itself
    if len(ops) > 1 or (len(ops) == 1 and type(ops[0]) is TxnOp):
        check_intervals(ops)


cdef inline list as_list(object ops):
    return ops if type(ops) is list else list(ops)


cdef inline bint result_holds(int result, int order) noexcept:
    if result == RESULT_CODE_EQUAL:
        return order == 0
    if result == RESULT_CODE_NOT_EQUAL:
        return order != 0
    if result == RESULT_CODE_LESS:
        return order < 0
    return order > 0


cdef bint compare_record(RevisionRecord *rec, int target, int result, object operand) except -1:
    """Compare one record (NULL: a missing key, all zero) with a Compare's operand."""
    cdef int64_t left, right
    cdef bytes expected
    if target == TARGET_CODE_VALUE:
        if rec == NULL:
            return False  # a missing key has no value to compare
        expected = <bytes>operand
        return result_holds(result, compare_bytes(rec.value, rec.value_len,
                                                  expected, len(expected)))
    if rec == NULL:
        left = 0
    elif target == TARGET_CODE_VERSION:
        left = rec.version
    elif target == TARGET_CODE_CREATE:
        left = rec.create_revision
    elif target == TARGET_CODE_MOD:
        left = rec.main
    else:
        left = rec.lease
    right = operand
    return result_holds(result, (left > right) - (left < right))


# ----------------------------------------------------------------------------------- the taken path


cdef void compare_path(MVCC mvcc, object op, list path) except *:
    compare_path_of(mvcc, as_list(get_slot(op, TXN_COMPARE)), as_list(get_slot(op, TXN_SUCCESS)),
                    as_list(get_slot(op, TXN_FAILURE)), path)


cdef void compare_path_of(MVCC mvcc, list compares, list then_ops, list else_ops,
                          list path) except *:
    """Compare outcomes along the taken path, pre-order (etcd's compareToPath)."""
    cdef bint succeeded = True
    for c in compares:
        if not compare_holds(mvcc, c):
            succeeded = False
            break
    path.append(succeeded)
    for op in (then_ops if succeeded else else_ops):
        if type(op) is TxnOp:
            compare_path(mvcc, op, path)


cdef bint compare_holds(MVCC mvcc, object c) except -1:
    cdef int target = TARGET_CODES[get_slot(c, CMP_TARGET)]
    cdef int result = RESULT_CODES[get_slot(c, CMP_RESULT)]
    cdef bytes key = get_slot(c, CMP_KEY)
    cdef bytes range_end = get_slot(c, CMP_RANGE_END)
    operand = get_slot(c, CMP_OPERAND)
    cdef const char *k = key
    cdef uint32_t k_len = <uint32_t>len(key)
    cdef int32_t key_id
    cdef RevisionRecord *rec
    cdef RangeScan scan
    cdef bint found = False
    if len(range_end) == 0:
        key_id = mvcc.table.find(k, k_len, hash_bytes(k, k_len))
        rec = mvcc.latest(key_id) if key_id >= 0 else NULL
        return compare_record(rec, target, result, operand)
    # over a range the compare must hold for every key in it
    range_scan_start(&scan, mvcc.table, key, range_end)
    while True:
        key_id = range_scan_next(&scan, mvcc.table)
        if key_id < 0:
            break
        rec = mvcc.latest(key_id)
        if rec != NULL:
            found = True
            if not compare_record(rec, target, result, operand):
                return False
    return True if found else compare_record(NULL, target, result, operand)


cdef void check_path(MVCC mvcc, object op, list path, Py_ssize_t *step) except *:
    check_path_of(mvcc, as_list(get_slot(op, TXN_SUCCESS)), as_list(get_slot(op, TXN_FAILURE)),
                  path, step)


cdef void check_path_of(MVCC mvcc, list then_ops, list else_ops, list path,
                        Py_ssize_t *step) except *:
    """etcd's checkTxn: fail the taken path before any write, so a txn never half-applies."""
    cdef bint succeeded = path[step[0]]
    step[0] += 1
    for op in (then_ops if succeeded else else_ops):
        kind = type(op)
        if kind is RangeOp:
            revision = get_slot(op, RANGE_REVISION)
            if revision > mvcc.revision:
                raise FutureRevisionError()
            if 0 < revision < mvcc.compact_revision:
                raise CompactedError(mvcc.compact_revision)
        elif kind is PutOp:
            check_put(mvcc, op)
        elif kind is TxnOp:
            check_path(mvcc, op, path, step)


cdef void check_put(MVCC mvcc, object op) except *:
    cdef bytes key
    cdef int32_t key_id
    if get_slot(op, PUT_IGNORE_VALUE) or get_slot(op, PUT_IGNORE_LEASE):
        key = get_slot(op, PUT_KEY)
        key_id = mvcc.table.find(key, <uint32_t>len(key), hash_bytes(key, len(key)))
        if key_id < 0 or mvcc.latest(key_id) == NULL:
            raise KeyNotFoundError()
