# The compiled scheduler core: a struct-of-arrays table of nodes (resources, labels, taints,
# host ports, images, all strings interned to ints) and the default plugins' filter and score
# kernels over it. No I/O, no clock; the kernels run without the GIL.

from libc.stdint cimport int32_t, int64_t, uint32_t, uint64_t


# Per-node variable-length data; each array is malloc'd and owned by its node slot.
cdef struct NodeVar:
    int32_t *labels         # key, value pairs
    int32_t n_labels
    int32_t *taints         # key, value, effect triples
    int32_t n_taints
    int32_t *ports          # ip, protocol, port triples, one per (pod, host port) in use
    int32_t n_ports
    int32_t cap_ports
    int32_t *images         # image name ids
    int64_t *image_sizes
    int32_t n_images


# A pod's request as the kernels read it (built once per scheduling attempt by PodQuery).
cdef struct Query:
    int64_t req_cpu, req_mem, req_eph
    int64_t nz_cpu, nz_mem
    int32_t node_name
    int32_t *ports
    int32_t n_ports
    int32_t *tolerations    # key (-1: any), operator (0 Equal, 1 Exists), value, effect (0: any)
    int32_t n_tolerations
    int32_t *selector       # nodeSelector key, value pairs: all must be present
    int32_t n_selector
    int32_t has_required
    int32_t n_required_terms
    int32_t *required_starts    # n_required_terms + 1 offsets into reqs
    int32_t n_preferred_terms
    int32_t *preferred_starts
    int32_t *preferred_weights
    int32_t *reqs           # key, operator, values offset, values count (4 per requirement)
    int64_t *req_numbers    # the Gt/Lt bound, one per requirement
    int32_t *values
    int32_t *images
    int32_t n_images
    int32_t n_containers


# One topology-keyed count array handed in from Python (per node), aggregated by the node's value
# of `key` into a dense per-value array.
cdef struct Domain:
    int32_t key
    int32_t max_skew
    int32_t self_match
    int64_t *per_node
    int64_t mult            # inter-pod entries: each counted pod weighs this much (default 1)
    int64_t *per_value      # calloc'd, one per interned string
    char *present           # calloc'd: the value was seen on an eligible node
    int64_t min_match
    double weight


cdef class PodQuery:
    cdef Query q
    cdef readonly object spread         # (hard, soft): lists of (key, max_skew, self_match, counts)
    cdef readonly object interpod       # dict, see NodeTable.run


cdef class RunResult:
    cdef readonly object feasible       # array('i') node indexes, in the order visited
    cdef readonly object total          # array('q'), weighted total per feasible node
    cdef readonly object plugin_scores  # N_SCORES array('q'): normalised, unweighted
    cdef readonly object reasons        # array('I') per node: why it was filtered (0: feasible or not visited)
    cdef readonly object untolerated    # array('i') per node: index of the untolerated taint
    cdef readonly int32_t processed     # nodes the filters visited
    cdef readonly int32_t best          # position in feasible of the chosen node, -1: none


# The arrays the score pass reads, for free functions without the GIL.
cdef struct TableView:
    NodeVar *var
    int32_t *name_ids
    int64_t *alloc_cpu
    int64_t *alloc_mem
    int64_t *req_cpu
    int64_t *req_mem
    int64_t *nz_cpu
    int64_t *nz_mem
    int32_t *image_nodes
    int64_t *numbers
    char *is_number


cdef class Interner:
    cdef dict ids
    cdef list strings
    cdef int64_t *numbers
    cdef char *is_number
    cdef int32_t capacity
    cpdef int32_t intern(self, str text)
    cdef void _grow(self, int32_t need)


cdef class NodeTable:
    cdef readonly Interner interner
    cdef readonly int32_t n
    cdef int32_t capacity
    cdef dict index
    cdef list names
    cdef int32_t *name_ids
    cdef int64_t *alloc_cpu
    cdef int64_t *alloc_mem
    cdef int64_t *alloc_pods
    cdef int64_t *alloc_eph
    cdef int64_t *req_cpu
    cdef int64_t *req_mem
    cdef int64_t *req_eph
    cdef int64_t *nz_cpu
    cdef int64_t *nz_mem
    cdef int64_t *n_pods
    cdef char *unschedulable
    cdef NodeVar *var
    cdef int32_t *image_nodes   # per interned image name: how many nodes have it
    cdef int32_t image_nodes_cap
    cdef void _grow(self, int32_t need)
    cdef void _free_var(self, int32_t i)
    cdef void _count_images(self, int32_t i, int32_t delta)
    cdef void _aggregate(self, Domain *d, int32_t m, int32_t n, int32_t i) noexcept nogil
    cdef void _prefilter(self, Query *q, int32_t n, int32_t n_strings, Domain *hard, int32_t n_hard,
                         Domain *aff, int32_t n_aff, Domain *anti, int32_t n_anti,
                         Domain *exist, int32_t n_exist) noexcept nogil
    cdef int32_t _filter(self, Query *q, int32_t visit, int32_t n, int32_t start, int32_t num_to_find,
                         uint32_t filters,
                         Domain *hard, int32_t n_hard, Domain *aff, int32_t n_aff, bint aff_self_match,
                         Domain *anti, int32_t n_anti, Domain *exist, int32_t n_exist,
                         int32_t *feasible, int32_t *n_feasible, uint32_t *reasons,
                         int32_t *untolerated) noexcept nogil
    cdef TableView _view(self) noexcept
