# WatchIndex: which watchers does a changed key concern?


cdef inline uint32_t xorshift32(uint32_t *state) noexcept nogil:
    cdef uint32_t x = state[0]
    x ^= x << 13
    x ^= x >> 17
    x ^= x << 5
    state[0] = x
    return x


cdef inline char *node_end(IntervalNode *node) noexcept nogil:
    return node.start + node.start_len


cdef object _NOT_WATCHED = object()


cdef class WatchIndex:
    """Maps keys to the watchers whose [key, range_end) covers them, without scanning all watchers.

    - single-key watches (range_end b""): a dict key -> watch ids, one lookup;
    - ranges and prefixes: a treap (a binary search tree kept balanced by random priorities,
      drawn from a fixed-seed generator so runs repeat) ordered by (start, watch id), where each
      node also knows the node of largest end in its subtree. A stabbing query for key k skips
      every subtree whose largest end is <= k and, to the right, every node starting after k:
      it visits O(log n) nodes plus O(log n) per hit, never the watchers that cannot match.
    - an empty range (range_end <= key) is remembered but matches nothing.
    """

    def __cinit__(self):
        self.exact = {}
        self.where = {}
        self.nodes = NULL
        self.n_nodes = 0
        self.cap_nodes = 0
        self.free_node = -1
        self.root = -1
        self.rng = 0x9E3779B9

    def __dealloc__(self):
        cdef int32_t i
        if self.nodes != NULL:
            for i in range(self.n_nodes):
                free(self.nodes[i].start)  # NULL for nodes on the free list
            free(self.nodes)

    def add(self, int64_t watch_id, bytes key not None, bytes range_end not None) -> None:
        if watch_id in self.where:
            raise InvalidRequestError(ERR_DUPLICATE_WATCH)
        cdef Py_ssize_t key_len = len(key), end_len = len(range_end)
        if end_len == 0:
            ids = self.exact.get(key)
            if ids is None:
                self.exact[key] = [watch_id]
            else:
                (<list>ids).append(watch_id)
            self.where[watch_id] = key
            return
        cdef bint open_end = end_len == 1 and (<const char*>range_end)[0] == 0
        if not open_end and compare_bytes(range_end, end_len, key, key_len) <= 0:
            self.where[watch_id] = None
            return
        cdef int32_t n
        cdef IntervalNode *grown
        cdef char *text = <char*>malloc(key_len + end_len + 1)
        if text == NULL:
            raise MemoryError()
        if self.free_node >= 0:
            n = self.free_node
            self.free_node = self.nodes[n].left
        else:
            if self.n_nodes == self.cap_nodes:
                grown = <IntervalNode*>realloc(
                    self.nodes, (self.cap_nodes * 2 + 16) * sizeof(IntervalNode))
                if grown == NULL:
                    free(text)
                    raise MemoryError()
                self.nodes = grown
                self.cap_nodes = self.cap_nodes * 2 + 16
            n = self.n_nodes
            self.n_nodes += 1
        cdef IntervalNode *node = &self.nodes[n]
        memcpy(text, <const char*>key, key_len)
        memcpy(text + key_len, <const char*>range_end, end_len)
        node.start = text
        node.start_len = <uint32_t>key_len
        node.end_len = 0 if open_end else <uint32_t>end_len
        node.open_end = open_end
        node.left = -1
        node.right = -1
        node.max_end_node = n
        node.priority = xorshift32(&self.rng)
        node.watch_id = watch_id
        self.root = self.insert_node(self.root, n)
        self.where[watch_id] = n

    def remove(self, int64_t watch_id) -> None:
        """Forget a watcher; unknown ids are ignored (cancel is idempotent)."""
        place = self.where.pop(watch_id, _NOT_WATCHED)
        if place is _NOT_WATCHED or place is None:
            return
        if type(place) is bytes:
            ids = <list>self.exact[place]
            ids.remove(watch_id)
            if not ids:
                del self.exact[place]
            return
        cdef int32_t n = place
        self.root = self.delete_node(self.root, n)
        free(self.nodes[n].start)
        self.nodes[n].start = NULL
        self.nodes[n].left = self.free_node
        self.free_node = n

    def match(self, bytes key not None) -> list:
        """Ids of the watchers whose range covers `key` (in no particular order)."""
        ids = self.exact.get(key)
        cdef list hits = list(<list>ids) if ids is not None else []
        if self.root >= 0:
            self.stab(self.root, key, <uint32_t>len(key), hits)
        return hits

    def __len__(self) -> int:
        return len(self.where)

    # ------------------------------------------------------------------------------ the treap

    cdef int end_cmp(self, int32_t a, int32_t b) noexcept:
        cdef IntervalNode *x = &self.nodes[a]
        cdef IntervalNode *y = &self.nodes[b]
        if x.open_end or y.open_end:
            return <int>x.open_end - <int>y.open_end
        return compare_bytes(node_end(x), x.end_len, node_end(y), y.end_len)

    cdef bint node_less(self, int32_t a, int32_t b) noexcept:
        cdef IntervalNode *x = &self.nodes[a]
        cdef IntervalNode *y = &self.nodes[b]
        cdef int c = compare_bytes(x.start, x.start_len, y.start, y.start_len)
        return c < 0 or (c == 0 and x.watch_id < y.watch_id)

    cdef void pull(self, int32_t x) noexcept:
        """Recompute x's largest-end node from its children."""
        cdef int32_t best = x
        cdef int32_t child = self.nodes[x].left
        if child >= 0 and self.end_cmp(self.nodes[child].max_end_node, best) > 0:
            best = self.nodes[child].max_end_node
        child = self.nodes[x].right
        if child >= 0 and self.end_cmp(self.nodes[child].max_end_node, best) > 0:
            best = self.nodes[child].max_end_node
        self.nodes[x].max_end_node = best

    cdef int32_t insert_node(self, int32_t root, int32_t n) noexcept:
        cdef int32_t child
        if root < 0:
            return n
        if self.node_less(n, root):
            child = self.insert_node(self.nodes[root].left, n)
            self.nodes[root].left = child
            if self.nodes[child].priority > self.nodes[root].priority:  # rotate right
                self.nodes[root].left = self.nodes[child].right
                self.nodes[child].right = root
                self.pull(root)
                root = child
        else:
            child = self.insert_node(self.nodes[root].right, n)
            self.nodes[root].right = child
            if self.nodes[child].priority > self.nodes[root].priority:  # rotate left
                self.nodes[root].right = self.nodes[child].left
                self.nodes[child].left = root
                self.pull(root)
                root = child
        self.pull(root)
        return root

    cdef int32_t merge(self, int32_t a, int32_t b) noexcept:
        """Join two treaps, every node of `a` ordered before every node of `b`."""
        if a < 0:
            return b
        if b < 0:
            return a
        if self.nodes[a].priority > self.nodes[b].priority:
            self.nodes[a].right = self.merge(self.nodes[a].right, b)
            self.pull(a)
            return a
        self.nodes[b].left = self.merge(a, self.nodes[b].left)
        self.pull(b)
        return b

    cdef int32_t delete_node(self, int32_t root, int32_t n) noexcept:
        if root == n:
            return self.merge(self.nodes[n].left, self.nodes[n].right)
        if self.node_less(n, root):
            self.nodes[root].left = self.delete_node(self.nodes[root].left, n)
        else:
            self.nodes[root].right = self.delete_node(self.nodes[root].right, n)
        self.pull(root)
        return root

    cdef int stab(self, int32_t x, const char *key, uint32_t key_len, list hits) except -1:
        """Append the watch ids of every range in subtree x that contains key."""
        cdef IntervalNode *node
        cdef IntervalNode *widest
        while x >= 0:
            node = &self.nodes[x]
            widest = &self.nodes[node.max_end_node]
            if not widest.open_end and compare_bytes(node_end(widest), widest.end_len,
                                                     key, key_len) <= 0:
                return 0  # every range here ends at or before key
            if node.left >= 0:
                self.stab(node.left, key, key_len, hits)
                node = &self.nodes[x]
            if compare_bytes(node.start, node.start_len, key, key_len) > 0:
                return 0  # this range and everything to its right start after key
            if node.open_end or compare_bytes(node_end(node), node.end_len, key, key_len) > 0:
                hits.append(node.watch_id)
            x = node.right
        return 0
