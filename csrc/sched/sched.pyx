# cython: language_level=3
"""The scheduler's compiled core: NodeTable (nodes as a struct of arrays, strings interned) and
the default plugins' filters and scores in one pass without the GIL. See sched.pxd."""

from cpython cimport array
from libc.math cimport log, round as c_round, sqrt, fabs
from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t
from libc.stdlib cimport calloc, free, malloc, realloc
from libc.string cimport memcpy, memset

import array as py_array
import re

# Filter plugins (bits of the enabled mask) and the reasons a node is filtered out.
cpdef enum _Codes1:
    F_UNSCHEDULABLE = 1
    F_NODE_NAME = 2
    F_TAINT = 4
    F_AFFINITY = 8
    F_PORTS = 16
    F_FIT = 32
    F_SPREAD = 64
    F_INTERPOD = 128
    F_ALL = 255

cpdef enum _Codes2:
    R_UNSCHEDULABLE = 1
    R_NODE_NAME = 2
    R_TAINT = 4
    R_AFFINITY = 8
    R_PORTS = 16
    R_TOO_MANY_PODS = 32
    R_CPU = 64
    R_MEMORY = 128
    R_EPHEMERAL = 256
    R_SPREAD_LABEL = 512
    R_SPREAD_SKEW = 1024
    R_POD_AFFINITY = 2048
    R_POD_ANTI_AFFINITY = 4096
    R_EXISTING_ANTI_AFFINITY = 8192

# Score plugins: index into the weights and the per-plugin score arrays.
cpdef enum _Codes3:
    S_TAINT = 0
    S_NODE_AFFINITY = 1
    S_FIT = 2
    S_BALANCED = 3
    S_IMAGE = 4
    S_SPREAD = 5
    S_INTERPOD = 6
    N_SCORES = 7

# Node selector operators and taint effects as the kernels see them.
cpdef enum _Codes4:
    OP_IN = 0
    OP_NOT_IN = 1
    OP_EXISTS = 2
    OP_DOES_NOT_EXIST = 3
    OP_GT = 4
    OP_LT = 5
    EFFECT_ANY = 0
    EFFECT_NO_SCHEDULE = 1
    EFFECT_PREFER_NO_SCHEDULE = 2
    EFFECT_NO_EXECUTE = 3
    KEY_NODE_NAME = -2


cdef int64_t MAX_NODE_SCORE = 100
cdef int64_t MB = 1024 * 1024
cdef int64_t IMAGE_MIN_THRESHOLD = 23 * 1024 * 1024
cdef int64_t IMAGE_MAX_CONTAINER_THRESHOLD = 1000 * 1024 * 1024

_INT64 = re.compile(r"[+-]?[0-9]+\Z")


cdef class Interner:
    """Strings to dense ids (labels, taints, ports' IPs, images share one space). Each id also
    remembers whether its string is a Go int64 (for the Gt/Lt node selector operators)."""

    def __cinit__(self):
        self.ids = {}
        self.strings = []
        self.numbers = NULL
        self.is_number = NULL
        self.capacity = 0

    def __dealloc__(self):
        free(self.numbers)
        free(self.is_number)

    cdef void _grow(self, int32_t need):
        cdef int32_t cap = self.capacity
        if need <= cap:
            return
        while cap < need:
            cap = cap * 2 if cap else 256
        self.numbers = <int64_t *> realloc(self.numbers, cap * sizeof(int64_t))
        self.is_number = <char *> realloc(self.is_number, cap)
        if self.numbers == NULL or self.is_number == NULL:
            raise MemoryError()
        self.capacity = cap

    cpdef int32_t intern(self, str text):
        cdef object found = self.ids.get(text)
        if found is not None:
            return found
        cdef int32_t i = len(self.strings)
        self._grow(i + 1)
        self.ids[text] = i
        self.strings.append(text)
        self.is_number[i] = 0
        self.numbers[i] = 0
        if _INT64.match(text):
            value = int(text)
            if -(1 << 63) <= value < (1 << 63):
                self.is_number[i] = 1
                self.numbers[i] = value
        return i

    def lookup(self, str text):
        """The id of an already interned string, or -1 (never adds)."""
        return self.ids.get(text, -1)

    def string(self, int32_t i):
        return self.strings[i]

    def __len__(self):
        return len(self.strings)


cdef int32_t *_int32s(object values, int32_t *count) except? NULL:
    """A malloc'd copy of a sequence of ints (NULL when empty)."""
    cdef Py_ssize_t n = len(values), i
    count[0] = <int32_t> n
    if n == 0:
        return NULL
    cdef int32_t *out = <int32_t *> malloc(n * sizeof(int32_t))
    if out == NULL:
        raise MemoryError()
    for i in range(n):
        out[i] = values[i]
    return out


cdef class PodQuery:
    """One pod's scheduling-relevant content with every string interned (see scheduler/podinfo.py)."""

    def __cinit__(self):
        memset(&self.q, 0, sizeof(Query))
        self.q.node_name = -1

    def __init__(self, requests=(0, 0, 0), nonzero=(0, 0), int32_t node_name=-1, ports=(),
                 tolerations=(), selector=(), required=None, preferred=(), images=(),
                 int32_t n_containers=0, spread=None, interpod=None):
        cdef int32_t n
        self.q.req_cpu, self.q.req_mem, self.q.req_eph = requests
        self.q.nz_cpu, self.q.nz_mem = nonzero
        self.q.node_name = node_name
        self.q.ports = _int32s([x for port in ports for x in port], &n)
        self.q.n_ports = n // 3
        self.q.tolerations = _int32s([x for t in tolerations for x in t], &n)
        self.q.n_tolerations = n // 4
        self.q.selector = _int32s([x for pair in selector for x in pair], &n)
        self.q.n_selector = n // 2
        self.q.images = _int32s(images, &n)
        self.q.n_images = n
        self.q.n_containers = n_containers
        # Requirements of the required terms, then of the preferred ones, in one array.
        reqs, numbers, values, required_starts, preferred_starts, weights = [], [], [], [0], [], []
        def add_term(term):
            for key, op, vals in term:
                if op == OP_GT or op == OP_LT:
                    reqs.extend((key, op, len(values), 0))
                    numbers.append(vals)
                else:
                    reqs.extend((key, op, len(values), len(vals)))
                    numbers.append(0)
                    values.extend(vals)
        self.q.has_required = required is not None
        for term in (required or ()):
            add_term(term)
            required_starts.append(len(reqs) // 4)
        preferred_starts.append(len(reqs) // 4)
        for weight, term in preferred:
            add_term(term)
            preferred_starts.append(len(reqs) // 4)
            weights.append(weight)
        self.q.required_starts = _int32s(required_starts, &n)
        self.q.n_required_terms = n - 1
        self.q.preferred_starts = _int32s(preferred_starts, &n)
        self.q.n_preferred_terms = n - 1
        self.q.preferred_weights = _int32s(weights, &n)
        self.q.reqs = _int32s(reqs, &n)
        self.q.values = _int32s(values, &n)
        self.q.req_numbers = <int64_t *> malloc((len(numbers) + 1) * sizeof(int64_t))
        for n in range(len(numbers)):
            self.q.req_numbers[n] = numbers[n]
        self.spread = spread or ((), ())
        self.interpod = interpod or {}

    def __dealloc__(self):
        free(self.q.ports)
        free(self.q.tolerations)
        free(self.q.selector)
        free(self.q.images)
        free(self.q.required_starts)
        free(self.q.preferred_starts)
        free(self.q.preferred_weights)
        free(self.q.reqs)
        free(self.q.values)
        free(self.q.req_numbers)


cdef class RunResult:
    """What NodeTable.run found: the feasible node indexes (in the order visited), their total
    and per-plugin scores, and per visited node the reason bits (0 = feasible)."""


cdef inline int32_t node_label(NodeVar *v, int32_t key) noexcept nogil:
    cdef int32_t j
    for j in range(v.n_labels):
        if v.labels[2 * j] == key:
            return v.labels[2 * j + 1]
    return -1


cdef inline bint tolerates(Query *q, int32_t key, int32_t value, int32_t effect) noexcept nogil:
    cdef int32_t j
    cdef int32_t *t
    for j in range(q.n_tolerations):
        t = q.tolerations + 4 * j
        if t[3] != EFFECT_ANY and t[3] != effect:
            continue
        if t[0] != -1 and t[0] != key:
            continue
        if t[1] == 1 or t[2] == value:
            return True
    return False


cdef inline bint requirement_matches(Query *q, NodeVar *v, int32_t name_id, int32_t r,
                                     int64_t *numbers, char *is_number) noexcept nogil:
    cdef int32_t *req = q.reqs + 4 * r
    cdef int32_t key = req[0], op = req[1], j
    cdef int32_t value = name_id if key == KEY_NODE_NAME else node_label(v, key)
    cdef bint found = False
    if op == OP_EXISTS:
        return value >= 0
    if op == OP_DOES_NOT_EXIST:
        return value < 0
    if op == OP_GT or op == OP_LT:
        if value < 0 or not is_number[value]:
            return False
        if op == OP_GT:
            return numbers[value] > q.req_numbers[r]
        return numbers[value] < q.req_numbers[r]
    if value >= 0:
        for j in range(req[3]):
            if q.values[req[2] + j] == value:
                found = True
                break
    return found if op == OP_IN else not found


cdef inline bint term_matches(Query *q, NodeVar *v, int32_t name_id, int32_t start, int32_t end,
                              int64_t *numbers, char *is_number) noexcept nogil:
    cdef int32_t r
    if start == end:
        return False        # an empty term matches no node
    for r in range(start, end):
        if not requirement_matches(q, v, name_id, r, numbers, is_number):
            return False
    return True


cdef inline bint affinity_matches(Query *q, NodeVar *v, int32_t name_id, int64_t *numbers,
                                  char *is_number) noexcept nogil:
    """nodeSelector and requiredDuringSchedulingIgnoredDuringExecution (terms ORed)."""
    cdef int32_t j
    for j in range(q.n_selector):
        if node_label(v, q.selector[2 * j]) != q.selector[2 * j + 1]:
            return False
    if not q.has_required:
        return True
    for j in range(q.n_required_terms):
        if term_matches(q, v, name_id, q.required_starts[j], q.required_starts[j + 1], numbers, is_number):
            return True
    return False


cdef int64_t *_counts_pointer(object counts, int32_t n) except NULL:
    if not isinstance(counts, array.array) or counts.typecode != 'q' or len(counts) != n:
        raise ValueError("per-node counts must be array('q') with one entry per node")
    return <int64_t *> (<array.array> counts).data.as_voidptr


cdef Domain *_domains(object entries, int32_t n, int32_t n_strings, bint with_skew) except? NULL:
    cdef Py_ssize_t m = len(entries), i
    if m == 0:
        return NULL
    cdef Domain *out = <Domain *> calloc(m, sizeof(Domain))
    for i in range(m):
        entry = entries[i]
        out[i].key = entry[0]
        if with_skew:
            out[i].max_skew = entry[1]
            out[i].self_match = entry[2]
            out[i].per_node = _counts_pointer(entry[3], n)
            out[i].mult = 1
        else:
            out[i].per_node = _counts_pointer(entry[1], n)
            out[i].mult = entry[2] if len(entry) > 2 else 1
        out[i].per_value = <int64_t *> calloc(n_strings + 1, sizeof(int64_t))
        out[i].present = <char *> calloc(n_strings + 1, 1)
    return out


cdef void _free_domains(Domain *d, Py_ssize_t m) noexcept:
    cdef Py_ssize_t i
    if d == NULL:
        return
    for i in range(m):
        free(d[i].per_value)
        free(d[i].present)
    free(d)


cdef inline bint has_all_keys(NodeVar *v, Domain *d, int32_t m) noexcept nogil:
    cdef int32_t c
    for c in range(m):
        if node_label(v, d[c].key) < 0:
            return False
    return True


cdef void default_normalize(int64_t *s, int32_t m, bint reverse) noexcept nogil:
    cdef int64_t top = 0
    cdef int32_t i
    for i in range(m):
        if s[i] > top:
            top = s[i]
    if top == 0:
        if reverse:
            for i in range(m):
                s[i] = MAX_NODE_SCORE
        return
    for i in range(m):
        s[i] = MAX_NODE_SCORE * s[i] / top
        if reverse:
            s[i] = MAX_NODE_SCORE - s[i]


include "table.pxi"


# The codes as plain module-level ints for Python callers.
globals().update({member.name: int(member) for codes in (_Codes1, _Codes2, _Codes3, _Codes4) for member in codes})
