# Building the result types of pykube_plane.store.kv without running their Python __init__.
#
# Every range returns one KeyValue per key; calling the class runs a Python-level __init__ (about
# ten times the cost of the rest of the work per key). These classes use __slots__, so each field
# lives at a fixed offset in the instance, published by its member descriptor. We allocate the
# instance with PyType_GenericAlloc (what `class` statements use) and store each field there,
# exactly as the descriptor's __set__ would. Import fails loudly if a class stops fitting this.
#
# A KeyValue built here holds only bytes and ints, and an Event only KeyValues and an int: neither
# can be part of a reference cycle, so both are born untracked by the cycle collector (as CPython
# does for tuples of atomic values); a 1,000-key range otherwise makes every collection re-scan a
# thousand fresh objects, about a third of the range's cost. Refcounting still frees them. Their
# memory is not zeroed: every field is computed first, then all are stored, with nothing that
# can fail in between.

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF

cdef extern from "Python.h":
    object PyType_GenericAlloc(PyTypeObject *type, Py_ssize_t n_items)
    object _PyObject_GC_New(PyTypeObject *type)  # what PyObject_GC_New expands to: untracked
    ctypedef struct PyMemberDef:
        const char *name
        int type
        Py_ssize_t offset
        int flags
    ctypedef struct PyMemberDescrObject:
        PyMemberDef *d_member

cdef extern from "structmember.h":
    int T_OBJECT_EX
    int READONLY

import types as _types

from pykube_plane.store import kv as _kv

cdef object KeyValue = _kv.KeyValue
cdef object Event = _kv.Event
cdef object RangeResult = _kv.RangeResult
cdef object PutResult = _kv.PutResult
cdef object DeleteResult = _kv.DeleteResult
cdef object TxnResult = _kv.TxnResult
cdef object Compare = _kv.Compare
cdef object RangeOp = _kv.RangeOp
cdef object PutOp = _kv.PutOp
cdef object DeleteOp = _kv.DeleteOp
cdef object TxnOp = _kv.TxnOp


cdef Py_ssize_t slot_offset(object cls, str name) except -1:
    descriptor = cls.__dict__.get(name)
    if type(descriptor) is not _types.MemberDescriptorType:
        raise ImportError(f"pykube_plane._mvcc: {cls.__name__}.{name} is not a __slots__ field")
    cdef PyMemberDef *member = (<PyMemberDescrObject*><PyObject*>descriptor).d_member
    if member.type != T_OBJECT_EX or member.flags & READONLY:
        raise ImportError(f"pykube_plane._mvcc: {cls.__name__}.{name} is not a writable object slot")
    return member.offset


cdef check_fields(object cls, tuple names):
    fields = tuple(cls.__slots__)
    if sorted(fields) != sorted(names) or hasattr(cls, "__post_init__"):
        raise ImportError(f"pykube_plane._mvcc: {cls.__name__} has fields {fields}, expected {names}")


check_fields(KeyValue, ("key", "value", "create_revision", "mod_revision", "version", "lease"))
check_fields(Event, ("type", "kv", "prev_kv"))
check_fields(RangeResult, ("kvs", "count", "more", "revision"))
check_fields(PutResult, ("revision", "prev_kv"))
check_fields(DeleteResult, ("revision", "deleted", "prev_kvs"))
check_fields(TxnResult, ("succeeded", "responses", "revision"))
check_fields(Compare, ("key", "target", "result", "operand", "range_end"))
check_fields(RangeOp, ("key", "range_end", "revision", "limit", "count_only", "keys_only"))
check_fields(PutOp, ("key", "value", "lease", "prev_kv", "ignore_value", "ignore_lease"))
check_fields(DeleteOp, ("key", "range_end", "prev_kv"))
check_fields(TxnOp, ("compare", "success", "failure"))

cdef Py_ssize_t KV_KEY = slot_offset(KeyValue, "key")
cdef Py_ssize_t KV_VALUE = slot_offset(KeyValue, "value")
cdef Py_ssize_t KV_CREATE = slot_offset(KeyValue, "create_revision")
cdef Py_ssize_t KV_MOD = slot_offset(KeyValue, "mod_revision")
cdef Py_ssize_t KV_VERSION = slot_offset(KeyValue, "version")
cdef Py_ssize_t KV_LEASE = slot_offset(KeyValue, "lease")
cdef Py_ssize_t EV_TYPE = slot_offset(Event, "type")
cdef Py_ssize_t EV_KV = slot_offset(Event, "kv")
cdef Py_ssize_t EV_PREV = slot_offset(Event, "prev_kv")
cdef Py_ssize_t RR_KVS = slot_offset(RangeResult, "kvs")
cdef Py_ssize_t RR_COUNT = slot_offset(RangeResult, "count")
cdef Py_ssize_t RR_MORE = slot_offset(RangeResult, "more")
cdef Py_ssize_t RR_REVISION = slot_offset(RangeResult, "revision")
cdef Py_ssize_t PR_REVISION = slot_offset(PutResult, "revision")
cdef Py_ssize_t PR_PREV = slot_offset(PutResult, "prev_kv")
cdef Py_ssize_t DR_REVISION = slot_offset(DeleteResult, "revision")
cdef Py_ssize_t DR_DELETED = slot_offset(DeleteResult, "deleted")
cdef Py_ssize_t DR_PREVS = slot_offset(DeleteResult, "prev_kvs")
cdef Py_ssize_t TR_SUCCEEDED = slot_offset(TxnResult, "succeeded")
cdef Py_ssize_t TR_RESPONSES = slot_offset(TxnResult, "responses")
cdef Py_ssize_t TR_REVISION = slot_offset(TxnResult, "revision")

# Requests are read the same way (after an exact type check), sparing a txn a few dozen
# attribute lookups.
cdef Py_ssize_t CMP_KEY = slot_offset(Compare, "key")
cdef Py_ssize_t CMP_TARGET = slot_offset(Compare, "target")
cdef Py_ssize_t CMP_RESULT = slot_offset(Compare, "result")
cdef Py_ssize_t CMP_OPERAND = slot_offset(Compare, "operand")
cdef Py_ssize_t CMP_RANGE_END = slot_offset(Compare, "range_end")
cdef Py_ssize_t RANGE_KEY = slot_offset(RangeOp, "key")
cdef Py_ssize_t RANGE_END = slot_offset(RangeOp, "range_end")
cdef Py_ssize_t RANGE_REVISION = slot_offset(RangeOp, "revision")
cdef Py_ssize_t RANGE_LIMIT = slot_offset(RangeOp, "limit")
cdef Py_ssize_t RANGE_COUNT_ONLY = slot_offset(RangeOp, "count_only")
cdef Py_ssize_t RANGE_KEYS_ONLY = slot_offset(RangeOp, "keys_only")
cdef Py_ssize_t PUT_KEY = slot_offset(PutOp, "key")
cdef Py_ssize_t PUT_VALUE = slot_offset(PutOp, "value")
cdef Py_ssize_t PUT_LEASE = slot_offset(PutOp, "lease")
cdef Py_ssize_t PUT_PREV_KV = slot_offset(PutOp, "prev_kv")
cdef Py_ssize_t PUT_IGNORE_VALUE = slot_offset(PutOp, "ignore_value")
cdef Py_ssize_t PUT_IGNORE_LEASE = slot_offset(PutOp, "ignore_lease")
cdef Py_ssize_t DEL_KEY = slot_offset(DeleteOp, "key")
cdef Py_ssize_t DEL_RANGE_END = slot_offset(DeleteOp, "range_end")
cdef Py_ssize_t DEL_PREV_KV = slot_offset(DeleteOp, "prev_kv")
cdef Py_ssize_t TXN_COMPARE = slot_offset(TxnOp, "compare")
cdef Py_ssize_t TXN_SUCCESS = slot_offset(TxnOp, "success")
cdef Py_ssize_t TXN_FAILURE = slot_offset(TxnOp, "failure")

cdef PyTypeObject *KEY_VALUE_TYPE = <PyTypeObject*>KeyValue
cdef PyTypeObject *EVENT_TYPE = <PyTypeObject*>Event
cdef PyTypeObject *RANGE_RESULT_TYPE = <PyTypeObject*>RangeResult
cdef PyTypeObject *PUT_RESULT_TYPE = <PyTypeObject*>PutResult
cdef PyTypeObject *DELETE_RESULT_TYPE = <PyTypeObject*>DeleteResult
cdef PyTypeObject *TXN_RESULT_TYPE = <PyTypeObject*>TxnResult

cdef object EVENT_PUT = _kv.EVENT_PUT
cdef object EVENT_DELETE = _kv.EVENT_DELETE


cdef inline object get_slot(object obj, Py_ssize_t offset):
    """A field of an object of the exact class the offset was taken from."""
    cdef PyObject *value = (<PyObject**>((<char*><PyObject*>obj) + offset))[0]
    if value == NULL:
        raise _kv.InvalidRequestError()  # a field deleted after construction
    return <object>value


cdef inline void init_slot(object obj, Py_ssize_t offset, object value) noexcept:
    """Store a field of a fresh, unzeroed instance."""
    Py_INCREF(value)
    (<PyObject**>((<char*><PyObject*>obj) + offset))[0] = <PyObject*>value


cdef inline void set_slot(object obj, Py_ssize_t offset, object value) noexcept:
    cdef PyObject **field = <PyObject**>((<char*><PyObject*>obj) + offset)
    Py_INCREF(value)
    Py_XDECREF(field[0])
    field[0] = <PyObject*>value


# Most results carry the current revision (headers, the mod_revision of fresh writes and their
# events): the last revision turned into an int is kept and handed out again.
cdef int64_t _last_revision = -1
cdef object _last_revision_object = None


cdef inline object revision_object(int64_t revision):
    global _last_revision, _last_revision_object
    if revision != _last_revision:
        _last_revision_object = revision
        _last_revision = revision
    return _last_revision_object


cdef inline object new_key_value(object key, object value, int64_t create_revision,
                                 int64_t mod_revision, int64_t version, int64_t lease):
    mod = revision_object(mod_revision)
    create = mod if create_revision == mod_revision else create_revision
    version_object = version
    lease_object = lease
    kv = _PyObject_GC_New(KEY_VALUE_TYPE)
    init_slot(kv, KV_KEY, key)
    init_slot(kv, KV_VALUE, value)
    init_slot(kv, KV_CREATE, create)
    init_slot(kv, KV_MOD, mod)
    init_slot(kv, KV_VERSION, version_object)
    init_slot(kv, KV_LEASE, lease_object)
    return kv


cdef inline object new_event(object kind, object kv, object prev_kv):
    event = _PyObject_GC_New(EVENT_TYPE)
    init_slot(event, EV_TYPE, kind)
    init_slot(event, EV_KV, kv)
    init_slot(event, EV_PREV, prev_kv)
    return event


cdef inline object new_range_result(list kvs, Py_ssize_t count, bint more, int64_t revision):
    result = PyType_GenericAlloc(RANGE_RESULT_TYPE, 0)
    set_slot(result, RR_KVS, kvs)
    set_slot(result, RR_COUNT, count)
    set_slot(result, RR_MORE, more)
    set_slot(result, RR_REVISION, revision_object(revision))
    return result


cdef inline object new_put_result(int64_t revision, object prev_kv):
    result = PyType_GenericAlloc(PUT_RESULT_TYPE, 0)
    set_slot(result, PR_REVISION, revision_object(revision))
    set_slot(result, PR_PREV, prev_kv)
    return result


cdef inline object new_delete_result(int64_t revision, Py_ssize_t deleted, list prev_kvs):
    result = PyType_GenericAlloc(DELETE_RESULT_TYPE, 0)
    set_slot(result, DR_REVISION, revision_object(revision))
    set_slot(result, DR_DELETED, deleted)
    set_slot(result, DR_PREVS, prev_kvs)
    return result


cdef inline object new_txn_result(bint succeeded, list responses, int64_t revision):
    result = PyType_GenericAlloc(TXN_RESULT_TYPE, 0)
    set_slot(result, TR_SUCCEEDED, succeeded)
    set_slot(result, TR_RESPONSES, responses)
    set_slot(result, TR_REVISION, revision_object(revision))
    return result
