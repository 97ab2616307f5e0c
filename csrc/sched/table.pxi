# NodeTable: the cache's nodes as a struct of arrays, and NodeTable.run, the filter/score pass.
# Included by sched.pyx.

cdef array.array _I32 = array.array('i')
cdef array.array _U32 = array.array('I')
cdef array.array _I64 = array.array('q')


cdef int32_t *_copy_triples(object items, int32_t width, int32_t *count) except? NULL:
    return _int32s([x for item in items for x in item], count)


cdef class NodeTable:
    """Nodes by dense index (a removed node's slot is filled by the last node), with the sums of
    the requests of the pods bound or assumed on each. Strings are interned in `interner`."""

    def __cinit__(self):
        self.interner = Interner()
        self.n = 0
        self.capacity = 0
        self.index = {}
        self.names = []
        self.image_nodes = NULL
        self.image_nodes_cap = 0

    def __init__(self):
        self.interner.intern("")
        self.interner.intern("0.0.0.0")
        self.interner.intern("node.kubernetes.io/unschedulable")
        self.interner.intern("kubernetes.io/hostname")

    def __dealloc__(self):
        cdef int32_t i
        for i in range(self.n):
            self._free_var(i)
        free(self.name_ids); free(self.alloc_cpu); free(self.alloc_mem); free(self.alloc_pods)
        free(self.alloc_eph); free(self.req_cpu); free(self.req_mem); free(self.req_eph)
        free(self.nz_cpu); free(self.nz_mem); free(self.n_pods); free(self.unschedulable)
        free(self.var); free(self.image_nodes)

    cdef void _grow(self, int32_t need):
        cdef int32_t cap = self.capacity
        if need <= cap:
            return
        while cap < need:
            cap = cap * 2 if cap else 64
        self.name_ids = <int32_t *> realloc(self.name_ids, cap * sizeof(int32_t))
        self.alloc_cpu = <int64_t *> realloc(self.alloc_cpu, cap * sizeof(int64_t))
        self.alloc_mem = <int64_t *> realloc(self.alloc_mem, cap * sizeof(int64_t))
        self.alloc_pods = <int64_t *> realloc(self.alloc_pods, cap * sizeof(int64_t))
        self.alloc_eph = <int64_t *> realloc(self.alloc_eph, cap * sizeof(int64_t))
        self.req_cpu = <int64_t *> realloc(self.req_cpu, cap * sizeof(int64_t))
        self.req_mem = <int64_t *> realloc(self.req_mem, cap * sizeof(int64_t))
        self.req_eph = <int64_t *> realloc(self.req_eph, cap * sizeof(int64_t))
        self.nz_cpu = <int64_t *> realloc(self.nz_cpu, cap * sizeof(int64_t))
        self.nz_mem = <int64_t *> realloc(self.nz_mem, cap * sizeof(int64_t))
        self.n_pods = <int64_t *> realloc(self.n_pods, cap * sizeof(int64_t))
        self.unschedulable = <char *> realloc(self.unschedulable, cap)
        self.var = <NodeVar *> realloc(self.var, cap * sizeof(NodeVar))
        self.capacity = cap

    cdef void _free_var(self, int32_t i):
        free(self.var[i].labels)
        free(self.var[i].taints)
        free(self.var[i].ports)
        free(self.var[i].images)
        free(self.var[i].image_sizes)
        memset(&self.var[i], 0, sizeof(NodeVar))

    cdef void _count_images(self, int32_t i, int32_t delta):
        cdef int32_t j, img, cap
        for j in range(self.var[i].n_images):
            img = self.var[i].images[j]
            if img >= self.image_nodes_cap:
                cap = max(img + 1, 2 * self.image_nodes_cap, 256)
                self.image_nodes = <int32_t *> realloc(self.image_nodes, cap * sizeof(int32_t))
                memset(self.image_nodes + self.image_nodes_cap, 0, (cap - self.image_nodes_cap) * sizeof(int32_t))
                self.image_nodes_cap = cap
            self.image_nodes[img] += delta

    def __len__(self):
        return self.n

    def __contains__(self, str name):
        return name in self.index

    def index_of(self, str name):
        """The node's current index, or -1."""
        return self.index.get(name, -1)

    def name_at(self, int32_t i):
        return self.names[i]

    def node_names(self):
        return list(self.names)

    def set_node(self, str name, allocatable, bint unschedulable, labels, taints, images):
        """Add or replace a node's own data; what its pods request is kept.
        allocatable: (milli cpu, memory bytes, pods, ephemeral bytes); labels: (key, value) ids;
        taints: (key, value, effect) ids; images: (name id, size bytes)."""
        cdef int32_t i
        cdef int32_t count
        found = self.index.get(name)
        if found is None:
            i = self.n
            self._grow(i + 1)
            self.n += 1
            self.index[name] = i
            self.names.append(name)
            memset(&self.var[i], 0, sizeof(NodeVar))
            self.req_cpu[i] = self.req_mem[i] = self.req_eph[i] = 0
            self.nz_cpu[i] = self.nz_mem[i] = self.n_pods[i] = 0
        else:
            i = found
            self._count_images(i, -1)
            free(self.var[i].labels)
            free(self.var[i].taints)
            free(self.var[i].images)
            free(self.var[i].image_sizes)
        self.name_ids[i] = self.interner.intern(name)
        self.alloc_cpu[i], self.alloc_mem[i], self.alloc_pods[i], self.alloc_eph[i] = allocatable
        self.unschedulable[i] = unschedulable
        self.var[i].labels = _copy_triples(labels, 2, &count)
        self.var[i].n_labels = count // 2
        self.var[i].taints = _copy_triples(taints, 3, &count)
        self.var[i].n_taints = count // 3
        self.var[i].images = _int32s([image for image, _ in images], &count)
        self.var[i].n_images = count
        self.var[i].image_sizes = <int64_t *> malloc((count + 1) * sizeof(int64_t))
        for j, (_, size) in enumerate(images):
            self.var[i].image_sizes[j] = size
        self._count_images(i, 1)
        return i

    def remove_node(self, str name):
        """Drop a node and what was counted on it; the last node takes its index."""
        found = self.index.pop(name, None)
        if found is None:
            return False
        cdef int32_t i = found, last = self.n - 1
        self._count_images(i, -1)
        self._free_var(i)
        if i != last:
            self.name_ids[i] = self.name_ids[last]
            self.alloc_cpu[i] = self.alloc_cpu[last]
            self.alloc_mem[i] = self.alloc_mem[last]
            self.alloc_pods[i] = self.alloc_pods[last]
            self.alloc_eph[i] = self.alloc_eph[last]
            self.req_cpu[i] = self.req_cpu[last]
            self.req_mem[i] = self.req_mem[last]
            self.req_eph[i] = self.req_eph[last]
            self.nz_cpu[i] = self.nz_cpu[last]
            self.nz_mem[i] = self.nz_mem[last]
            self.n_pods[i] = self.n_pods[last]
            self.unschedulable[i] = self.unschedulable[last]
            self.var[i] = self.var[last]
            memset(&self.var[last], 0, sizeof(NodeVar))
            moved = self.names[last]
            self.names[i] = moved
            self.index[moved] = i
        self.names.pop()
        self.n -= 1
        return True

    def add_pod(self, str node, requests, nonzero, ports=()):
        """Count a pod on a node: requests (milli cpu, memory, ephemeral), nonzero (cpu, memory:
        the requests with Kubernetes' defaults for containers that ask for nothing), host ports
        (ip, protocol, port) ids."""
        self._apply_pod(node, requests, nonzero, ports, 1)

    def remove_pod(self, str node, requests, nonzero, ports=()):
        self._apply_pod(node, requests, nonzero, ports, -1)

    def _apply_pod(self, str node, requests, nonzero, ports, int64_t sign):
        found = self.index.get(node)
        if found is None:
            return False
        cdef int32_t i = found, j, k
        cdef NodeVar *v = &self.var[i]
        cpu, mem, eph = requests
        self.req_cpu[i] += sign * cpu
        self.req_mem[i] += sign * mem
        self.req_eph[i] += sign * eph
        self.nz_cpu[i] += sign * nonzero[0]
        self.nz_mem[i] += sign * nonzero[1]
        self.n_pods[i] += sign
        for ip, protocol, port in ports:
            if sign > 0:
                if v.n_ports == v.cap_ports:
                    v.cap_ports = v.cap_ports * 2 if v.cap_ports else 4
                    v.ports = <int32_t *> realloc(v.ports, 3 * v.cap_ports * sizeof(int32_t))
                k = v.n_ports * 3
                v.ports[k], v.ports[k + 1], v.ports[k + 2] = ip, protocol, port
                v.n_ports += 1
            else:
                for j in range(v.n_ports):
                    k = j * 3
                    if v.ports[k] == ip and v.ports[k + 1] == protocol and v.ports[k + 2] == port:
                        v.n_ports -= 1
                        memcpy(v.ports + k, v.ports + 3 * v.n_ports, 3 * sizeof(int32_t))
                        break
        return True

    def node_state(self, int32_t i):
        """A node's counters as a dict (for tests and debugging)."""
        if not 0 <= i < self.n:
            raise IndexError(i)
        return {"name": self.names[i], "allocatable": (self.alloc_cpu[i], self.alloc_mem[i],
                self.alloc_pods[i], self.alloc_eph[i]), "requested": (self.req_cpu[i], self.req_mem[i],
                self.req_eph[i]), "nonzero": (self.nz_cpu[i], self.nz_mem[i]), "pods": self.n_pods[i],
                "unschedulable": bool(self.unschedulable[i]),
                "ports": [tuple(self.var[i].ports[3 * j + k] for k in range(3)) for j in range(self.var[i].n_ports)]}

    def taint_of(self, int32_t i, int32_t t):
        """(key, value, effect) strings and code of a node's t-th taint."""
        cdef int32_t *taint = self.var[i].taints + 3 * t
        return (self.interner.string(taint[0]), self.interner.string(taint[1]), taint[2])

    def run(self, PodQuery pod, int32_t start, int32_t num_to_find, uint32_t filters, weights,
            bint most_allocated=False, bint score=True, uint64_t tie_seed=0, int32_t max_visit=-1):
        """Filter the nodes from `start` (wrapping) until `num_to_find` are feasible, then score
        those. pod.spread = (hard, soft) lists of (topology key id, maxSkew, selfMatch, per-node
        matching pod counts); pod.interpod = dict of lists of (topology key id, per-node
        array('q')): "affinity" (pods matching all required affinity terms), "anti_affinity",
        "existing_anti_affinity", "score" (weights), and "affinity_self_match" (bool).
        result.best is the position in result.feasible of the highest total, ties broken by
        tie_seed (uniformly, given a random seed), -1 when nothing is feasible. max_visit >= 0
        stops the filters after that many nodes (preemption checks one node at a time)."""
        cdef int32_t n = self.n, n_strings = len(self.interner)
        cdef RunResult result = RunResult()
        cdef int64_t w[7]
        cdef int32_t k, j, ties, pick
        cdef int64_t *total
        cdef int64_t best_score
        cdef TableView view
        for k in range(N_SCORES):
            w[k] = weights[k]
        if start < 0 or (n and start >= n):
            start = 0
        hard, soft = pod.spread if filters & F_SPREAD else ((), ())
        ipa = pod.interpod if filters & F_INTERPOD else {}
        cdef Py_ssize_t n_hard = len(hard), n_soft = len(soft) if score else 0
        cdef Py_ssize_t n_aff = len(ipa.get("affinity", ())), n_anti = len(ipa.get("anti_affinity", ()))
        cdef Py_ssize_t n_exist = len(ipa.get("existing_anti_affinity", ()))
        cdef Py_ssize_t n_ipa_score = len(ipa.get("score", ())) if score else 0
        cdef bint affinity_self_match = ipa.get("affinity_self_match", False)
        cdef Domain *d_hard = NULL
        cdef Domain *d_soft = NULL
        cdef Domain *d_aff = NULL
        cdef Domain *d_anti = NULL
        cdef Domain *d_exist = NULL
        cdef Domain *d_ipa = NULL
        cdef int32_t *feasible = <int32_t *> malloc((n + 1) * sizeof(int32_t))
        cdef int32_t n_feasible = 0, processed = 0
        result.reasons = array.clone(_U32, n, zero=True)
        result.untolerated = array.clone(_I32, n, zero=True)
        cdef uint32_t *reasons = <uint32_t *> (<array.array> result.reasons).data.as_voidptr
        cdef int32_t *untolerated = <int32_t *> (<array.array> result.untolerated).data.as_voidptr
        cdef int64_t *scores = NULL
        try:
            d_hard = _domains(hard, n, n_strings, True)
            d_soft = _domains(soft[:n_soft], n, n_strings, True)
            d_aff = _domains(ipa.get("affinity", ()), n, n_strings, False)
            d_anti = _domains(ipa.get("anti_affinity", ()), n, n_strings, False)
            d_exist = _domains(ipa.get("existing_anti_affinity", ()), n, n_strings, False)
            d_ipa = _domains(ipa.get("score", ())[:n_ipa_score], n, n_strings, False)
            with nogil:
                self._prefilter(&pod.q, n, n_strings, d_hard, <int32_t> n_hard, d_aff, <int32_t> n_aff,
                                d_anti, <int32_t> n_anti, d_exist, <int32_t> n_exist)
                processed = self._filter(&pod.q, n if max_visit < 0 or max_visit > n else max_visit,
                                         n, start, num_to_find, filters, d_hard, <int32_t> n_hard,
                                         d_aff, <int32_t> n_aff, affinity_self_match, d_anti, <int32_t> n_anti,
                                         d_exist, <int32_t> n_exist, feasible, &n_feasible, reasons, untolerated)
            result.processed = processed
            result.feasible = array.clone(_I32, n_feasible, zero=False)
            if n_feasible:
                memcpy((<array.array> result.feasible).data.as_voidptr, feasible, n_feasible * sizeof(int32_t))
            result.total = array.clone(_I64, n_feasible, zero=True)
            result.plugin_scores = [array.clone(_I64, n_feasible, zero=True) for _ in range(N_SCORES)]
            if score and n_feasible:
                scores = <int64_t *> calloc(N_SCORES * n_feasible + 1, sizeof(int64_t))
                view = self._view()
                with nogil:
                    score_nodes(&view, &pod.q, n, n_strings, feasible, n_feasible, w, most_allocated,
                                d_soft, <int32_t> n_soft, d_ipa, <int32_t> n_ipa_score, scores)
                for k in range(N_SCORES):
                    memcpy((<array.array> result.plugin_scores[k]).data.as_voidptr, scores + k * n_feasible,
                           n_feasible * sizeof(int64_t))
                total = <int64_t *> (<array.array> result.total).data.as_voidptr
                for j in range(n_feasible):
                    for k in range(N_SCORES):
                        total[j] += w[k] * scores[k * n_feasible + j]
            result.best = -1
            if n_feasible:
                total = <int64_t *> (<array.array> result.total).data.as_voidptr
                best_score = total[0]
                ties = 0
                for j in range(n_feasible):
                    if total[j] > best_score:
                        best_score = total[j]
                        ties = 0
                    if total[j] == best_score:
                        ties += 1
                pick = <int32_t> (tie_seed % <uint64_t> ties)
                for j in range(n_feasible):
                    if total[j] == best_score:
                        if pick == 0:
                            result.best = j
                            break
                        pick -= 1
        finally:
            free(feasible)
            free(scores)
            _free_domains(d_hard, n_hard)
            _free_domains(d_soft, n_soft)
            _free_domains(d_aff, n_aff)
            _free_domains(d_anti, n_anti)
            _free_domains(d_exist, n_exist)
            _free_domains(d_ipa, n_ipa_score)
        return result

    cdef void _aggregate(self, Domain *d, int32_t m, int32_t n, int32_t i) noexcept nogil:
        """Add node i's counts into each domain it belongs to (it has the topology key)."""
        cdef int32_t c, val
        for c in range(m):
            val = node_label(&self.var[i], d[c].key)
            if val >= 0:
                d[c].per_value[val] += d[c].per_node[i] * d[c].mult
                d[c].present[val] = 1

    cdef void _prefilter(self, Query *q, int32_t n, int32_t n_strings, Domain *hard, int32_t n_hard,
                         Domain *aff, int32_t n_aff, Domain *anti, int32_t n_anti,
                         Domain *exist, int32_t n_exist) noexcept nogil:
        cdef int32_t i, c, val
        cdef int64_t *numbers = self.interner.numbers
        cdef char *is_number = self.interner.is_number
        if n_hard + n_aff + n_anti + n_exist == 0:
            return
        for i in range(n):
            if n_hard and has_all_keys(&self.var[i], hard, n_hard) and \
                    affinity_matches(q, &self.var[i], self.name_ids[i], numbers, is_number):
                self._aggregate(hard, n_hard, n, i)
            self._aggregate(aff, n_aff, n, i)
            self._aggregate(anti, n_anti, n, i)
            self._aggregate(exist, n_exist, n, i)
        for c in range(n_hard):
            hard[c].min_match = 2147483647
            for val in range(n_strings):
                if hard[c].present[val] and hard[c].per_value[val] < hard[c].min_match:
                    hard[c].min_match = hard[c].per_value[val]

    cdef int32_t _filter(self, Query *q, int32_t visit, int32_t n, int32_t start, int32_t num_to_find,
                         uint32_t filters,
                         Domain *hard, int32_t n_hard, Domain *aff, int32_t n_aff, bint aff_self_match,
                         Domain *anti, int32_t n_anti, Domain *exist, int32_t n_exist,
                         int32_t *feasible, int32_t *n_feasible, uint32_t *reasons,
                         int32_t *untolerated) noexcept nogil:
        cdef int32_t k, i, j, t, c, val, any_ip = 1, unsched_key = 2, empty = 0
        cdef uint32_t r
        cdef NodeVar *v
        cdef int32_t *port
        cdef int32_t *own
        cdef int64_t *numbers = self.interner.numbers
        cdef char *is_number = self.interner.is_number
        cdef bint any_affinity_pod = False, pods_exist
        # Were pods matching the required affinity found in any domain at all?
        for i in range(n if n_aff else 0):
            for c in range(n_aff):
                if node_label(&self.var[i], aff[c].key) >= 0 and aff[c].per_node[i] > 0:
                    any_affinity_pod = True
        for k in range(visit):
            i = (start + k) % n
            v = &self.var[i]
            r = 0
            if filters & F_UNSCHEDULABLE and self.unschedulable[i] and \
                    not tolerates(q, unsched_key, empty, EFFECT_NO_SCHEDULE):
                r = R_UNSCHEDULABLE
            elif filters & F_NODE_NAME and q.node_name >= 0 and q.node_name != self.name_ids[i]:
                r = R_NODE_NAME
            if r == 0 and filters & F_TAINT:
                for t in range(v.n_taints):
                    if (v.taints[3 * t + 2] == EFFECT_NO_SCHEDULE or v.taints[3 * t + 2] == EFFECT_NO_EXECUTE) and \
                            not tolerates(q, v.taints[3 * t], v.taints[3 * t + 1], v.taints[3 * t + 2]):
                        r = R_TAINT
                        untolerated[i] = t
                        break
            if r == 0 and filters & F_AFFINITY and not affinity_matches(q, v, self.name_ids[i], numbers, is_number):
                r = R_AFFINITY
            if r == 0 and filters & F_PORTS:
                for j in range(q.n_ports):
                    port = q.ports + 3 * j
                    for t in range(v.n_ports):
                        own = v.ports + 3 * t
                        if own[1] == port[1] and own[2] == port[2] and \
                                (own[0] == port[0] or own[0] == any_ip or port[0] == any_ip):
                            r = R_PORTS
                            break
                    if r:
                        break
            if r == 0 and filters & F_FIT:
                if self.n_pods[i] + 1 > self.alloc_pods[i]:
                    r |= R_TOO_MANY_PODS
                if q.req_cpu > 0 and q.req_cpu > self.alloc_cpu[i] - self.req_cpu[i]:
                    r |= R_CPU
                if q.req_mem > 0 and q.req_mem > self.alloc_mem[i] - self.req_mem[i]:
                    r |= R_MEMORY
                if q.req_eph > 0 and q.req_eph > self.alloc_eph[i] - self.req_eph[i]:
                    r |= R_EPHEMERAL
            if r == 0:
                for c in range(n_hard):
                    val = node_label(v, hard[c].key)
                    if val < 0:
                        r = R_SPREAD_LABEL
                        break
                    if hard[c].per_value[val] + hard[c].self_match - hard[c].min_match > hard[c].max_skew:
                        r = R_SPREAD_SKEW
                        break
            if r == 0 and n_aff:
                pods_exist = True
                for c in range(n_aff):
                    val = node_label(v, aff[c].key)
                    if val < 0:
                        r = R_POD_AFFINITY
                        break
                    if aff[c].per_value[val] <= 0:
                        pods_exist = False
                if r == 0 and not pods_exist and not (not any_affinity_pod and aff_self_match):
                    r = R_POD_AFFINITY
            if r == 0:
                for c in range(n_anti):
                    val = node_label(v, anti[c].key)
                    if val >= 0 and anti[c].per_value[val] > 0:
                        r = R_POD_ANTI_AFFINITY
                        break
            if r == 0:
                for c in range(n_exist):
                    val = node_label(v, exist[c].key)
                    if val >= 0 and exist[c].per_value[val] > 0:
                        r = R_EXISTING_ANTI_AFFINITY
                        break
            reasons[i] = r
            if r == 0:
                feasible[n_feasible[0]] = i
                n_feasible[0] += 1
                if n_feasible[0] >= num_to_find:
                    return k + 1
        return visit

    cdef TableView _view(self) noexcept:
        cdef TableView v
        v.var = self.var
        v.name_ids = self.name_ids
        v.alloc_cpu, v.alloc_mem = self.alloc_cpu, self.alloc_mem
        v.req_cpu, v.req_mem = self.req_cpu, self.req_mem
        v.nz_cpu, v.nz_mem = self.nz_cpu, self.nz_mem
        v.image_nodes = self.image_nodes
        v.numbers, v.is_number = self.interner.numbers, self.interner.is_number
        return v


include "score.pxi"
