# Building the result types of pykube_plane.store.kv without running their Python __init__.
#
# Every range returns one KeyValue per key; calling the class runs a Python-level __init__ (about
# ten times the cost of the rest of the work per key). These classes use __slots__, so each field
# lives at a fixed offset in the instance, published by its member descriptor. We allocate the
# instance with PyType_GenericAlloc (what `class` statements use) and store each field there,
# exactly as the descriptor's __set__ would. Import fails loudly if a class stops fitting this.

from cpython.object cimport PyObject, PyTypeObject
from cpython.ref cimport Py_INCREF, Py_XDECREF

cdef extern from "Python.h":
    object PyType_GenericAlloc(PyTypeObject *type, Py_ssize_t n_items)
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

cdef PyTypeObject *KEY_VALUE_TYPE = <PyTypeObject*>KeyValue
cdef PyTypeObject *EVENT_TYPE = <PyTypeObject*>Event
cdef PyTypeObject *RANGE_RESULT_TYPE = <PyTypeObject*>RangeResult
cdef PyTypeObject *PUT_RESULT_TYPE = <PyTypeObject*>PutResult
cdef PyTypeObject *DELETE_RESULT_TYPE = <PyTypeObject*>DeleteResult
cdef PyTypeObject *TXN_RESULT_TYPE = <PyTypeObject*>TxnResult

cdef object EVENT_PUT = _kv.EVENT_PUT
cdef object EVENT_DELETE = _kv.EVENT_DELETE


cdef inline void set_slot(object obj, Py_ssize_t offset, object value) noexcept:
    cdef PyObject **field = <PyObject**>((<char*><PyObject*>obj) + offset)
    Py_INCREF(value)
    Py_XDECREF(field[0])
    field[0] = <PyObject*>value


cdef inline object new_key_value(object key, object value, int64_t create_revision,
                                 int64_t mod_revision, int64_t version, int64_t lease):
    kv = PyType_GenericAlloc(KEY_VALUE_TYPE, 0)
    set_slot(kv, KV_KEY, key)
    set_slot(kv, KV_VALUE, value)
    set_slot(kv, KV_CREATE, create_revision)
    set_slot(kv, KV_MOD, mod_revision)
    set_slot(kv, KV_VERSION, version)
    set_slot(kv, KV_LEASE, lease)
    return kv


cdef inline object new_event(object kind, object kv, object prev_kv):
    event = PyType_GenericAlloc(EVENT_TYPE, 0)
    set_slot(event, EV_TYPE, kind)
    set_slot(event, EV_KV, kv)
    set_slot(event, EV_PREV, prev_kv)
    return event


cdef inline object new_range_result(list kvs, Py_ssize_t count, bint more, int64_t revision):
    result = PyType_GenericAlloc(RANGE_RESULT_TYPE, 0)
    set_slot(result, RR_KVS, kvs)
    set_slot(result, RR_COUNT, count)
    set_slot(result, RR_MORE, more)
    set_slot(result, RR_REVISION, revision)
    return result


cdef inline object new_put_result(int64_t revision, object prev_kv):
    result = PyType_GenericAlloc(PUT_RESULT_TYPE, 0)
    set_slot(result, PR_REVISION, revision)
    set_slot(result, PR_PREV, prev_kv)
    return result


cdef inline object new_delete_result(int64_t revision, Py_ssize_t deleted, list prev_kvs):
    result = PyType_GenericAlloc(DELETE_RESULT_TYPE, 0)
    set_slot(result, DR_REVISION, revision)
    set_slot(result, DR_DELETED, deleted)
    set_slot(result, DR_PREVS, prev_kvs)
    return result


cdef inline object new_txn_result(bint succeeded, list responses, int64_t revision):
    result = PyType_GenericAlloc(TXN_RESULT_TYPE, 0)
    set_slot(result, TR_SUCCEEDED, succeeded)
    set_slot(result, TR_RESPONSES, responses)
    set_slot(result, TR_REVISION, revision)
    return result
