# NodeTable's score pass over the feasible nodes (free functions over a TableView, included by table.pxi):
# every default score plugin, then Kubernetes' normalisation of each.


cdef void aggregate(TableView *self, Domain *d, int32_t m, int32_t n, int32_t i) noexcept nogil:
    """Add node i's counts into each domain it belongs to (it has the topology key)."""
    cdef int32_t c, val
    for c in range(m):
        val = node_label(&self.var[i], d[c].key)
        if val >= 0:
            d[c].per_value[val] += d[c].per_node[i] * d[c].mult
            d[c].present[val] = 1


cdef void score_nodes(TableView *self, Query *q, int32_t n, int32_t n_strings, int32_t *feasible,
                      int32_t m, int64_t *w, bint most_allocated, Domain *soft, int32_t n_soft,
                      Domain *ipa, int32_t n_ipa, int64_t *out) noexcept nogil:
    cdef int32_t j, i, t, c, val, img, hostname = 3
    cdef NodeVar *v
    cdef int64_t s, alloc, req, total, lo, hi
    cdef int64_t *taint = out + S_TAINT * m
    cdef int64_t *naff = out + S_NODE_AFFINITY * m
    cdef int64_t *fit = out + S_FIT * m
    cdef int64_t *bal = out + S_BALANCED * m
    cdef int64_t *image = out + S_IMAGE * m
    cdef int64_t *spread = out + S_SPREAD * m
    cdef int64_t *inter = out + S_INTERPOD * m
    cdef int64_t *numbers = self.numbers
    cdef char *is_number = self.is_number
    cdef double f_cpu, f_mem, std, fs
    cdef int64_t sum_img, max_threshold
    cdef char *ignored = NULL
    cdef int64_t *topo_size = NULL
    for j in range(m):
        i = feasible[j]
        v = &self.var[i]
        if w[<int> S_TAINT]:
            s = 0
            for t in range(v.n_taints):
                if v.taints[3 * t + 2] == EFFECT_PREFER_NO_SCHEDULE and \
                        not tolerates(q, v.taints[3 * t], v.taints[3 * t + 1], EFFECT_PREFER_NO_SCHEDULE):
                    s += 1
            taint[j] = s
        if w[<int> S_NODE_AFFINITY]:
            s = 0
            for t in range(q.n_preferred_terms):
                if term_matches(q, v, self.name_ids[i], q.preferred_starts[t], q.preferred_starts[t + 1],
                                numbers, is_number):
                    s += q.preferred_weights[t]
            naff[j] = s
        if w[<int> S_FIT]:
            total = 0
            for t in range(2):
                alloc = self.alloc_cpu[i] if t == 0 else self.alloc_mem[i]
                req = (self.nz_cpu[i] + q.nz_cpu) if t == 0 else (self.nz_mem[i] + q.nz_mem)
                if alloc == 0:
                    req = 0
                    s = 0
                elif most_allocated:
                    s = (alloc if req > alloc else req) * MAX_NODE_SCORE / alloc
                else:
                    s = 0 if req > alloc else (alloc - req) * MAX_NODE_SCORE / alloc
                total += s
            fit[j] = total / 2
        if w[<int> S_BALANCED] and (q.req_cpu or q.req_mem):
            c = 0
            f_cpu = f_mem = 0
            if self.alloc_cpu[i]:
                f_cpu = <double> (self.req_cpu[i] + q.req_cpu) / <double> self.alloc_cpu[i]
                if f_cpu > 1:
                    f_cpu = 1
                c += 1
            if self.alloc_mem[i]:
                f_mem = <double> (self.req_mem[i] + q.req_mem) / <double> self.alloc_mem[i]
                if f_mem > 1:
                    f_mem = 1
                c += 1
            std = fabs((f_cpu - f_mem) / 2) if c == 2 else 0
            bal[j] = <int64_t> ((1 - std) * <double> MAX_NODE_SCORE)
        if w[<int> S_IMAGE] and q.n_containers:
            sum_img = 0
            for t in range(q.n_images):
                img = q.images[t]
                for c in range(v.n_images):
                    if v.images[c] == img:
                        sum_img += <int64_t> (<double> v.image_sizes[c] *
                                              (<double> self.image_nodes[img] / <double> n))
                        break
            max_threshold = IMAGE_MAX_CONTAINER_THRESHOLD * q.n_containers
            if sum_img < IMAGE_MIN_THRESHOLD:
                sum_img = IMAGE_MIN_THRESHOLD
            elif sum_img > max_threshold:
                sum_img = max_threshold
            image[j] = MAX_NODE_SCORE * (sum_img - IMAGE_MIN_THRESHOLD) / (max_threshold - IMAGE_MIN_THRESHOLD)
    if w[<int> S_TAINT]:
        default_normalize(taint, m, True)
    if w[<int> S_NODE_AFFINITY]:
        default_normalize(naff, m, False)
    if w[<int> S_SPREAD] and n_soft:
        score_spread(self, q, n, n_strings, feasible, m, soft, n_soft, spread)
    if w[<int> S_INTERPOD] and n_ipa:
        for i in range(n):
            aggregate(self, ipa, n_ipa, n, i)
        lo = 9223372036854775807
        hi = -lo - 1
        for j in range(m):
            s = 0
            for c in range(n_ipa):
                val = node_label(&self.var[feasible[j]], ipa[c].key)
                if val >= 0:
                    s += ipa[c].per_value[val]
            inter[j] = s
            if s < lo:
                lo = s
            if s > hi:
                hi = s
        for j in range(m):
            fs = 0
            if hi - lo > 0:
                fs = <double> MAX_NODE_SCORE * (<double> (inter[j] - lo) / <double> (hi - lo))
            inter[j] = <int64_t> fs

cdef void score_spread(TableView *self, Query *q, int32_t n, int32_t n_strings, int32_t *feasible,
                       int32_t m, Domain *soft, int32_t n_soft, int64_t *out) noexcept nogil:
    cdef int32_t j, i, c, val, hostname = 3, n_ignored = 0
    cdef char *ignored = <char *> calloc(m + 1, 1)
    cdef int64_t *size = <int64_t *> calloc(n_soft + 1, sizeof(int64_t))
    cdef int64_t lo = 9223372036854775807, hi = 0, cnt, s
    cdef double score
    cdef int64_t *numbers = self.numbers
    cdef char *is_number = self.is_number
    for j in range(m):
        i = feasible[j]
        if not has_all_keys(&self.var[i], soft, n_soft):
            ignored[j] = 1
            n_ignored += 1
            continue
        for c in range(n_soft):
            if soft[c].key == hostname:
                continue
            val = node_label(&self.var[i], soft[c].key)
            if not soft[c].present[val]:
                soft[c].present[val] = 1
                size[c] += 1
    for c in range(n_soft):
        if soft[c].key == hostname:
            size[c] = m - n_ignored
        soft[c].weight = log(<double> (size[c] + 2))
    for i in range(n):
        if not has_all_keys(&self.var[i], soft, n_soft) or \
                not affinity_matches(q, &self.var[i], self.name_ids[i], numbers, is_number):
            continue
        for c in range(n_soft):
            if soft[c].key == hostname:
                continue
            val = node_label(&self.var[i], soft[c].key)
            if soft[c].present[val]:
                soft[c].per_value[val] += soft[c].per_node[i]
    for j in range(m):
        if ignored[j]:
            continue
        i = feasible[j]
        score = 0
        for c in range(n_soft):
            if soft[c].key == hostname:
                cnt = soft[c].per_node[i]
            else:
                cnt = soft[c].per_value[node_label(&self.var[i], soft[c].key)]
            score += <double> cnt * soft[c].weight + <double> (soft[c].max_skew - 1)
        s = <int64_t> c_round(score)
        out[j] = s
        if s < lo:
            lo = s
        if s > hi:
            hi = s
    for j in range(m):
        if ignored[j]:
            out[j] = 0
        elif hi == 0:
            out[j] = MAX_NODE_SCORE
        else:
            out[j] = MAX_NODE_SCORE * (hi + lo - out[j]) / hi
    free(ignored)
    free(size)
