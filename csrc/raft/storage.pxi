# MemoryStorage: the part of the log the application has made durable, held in memory.
#
# The application owns it: after persisting a Ready it calls append(ready.entries),
# set_hard_state(ready.hard_state) and apply_snapshot(ready.snapshot); the Raft core only
# reads from it. A restart rebuilds it from the WAL (or, in the simulation, simply keeps the
# object) and hands it to a new RaftNode.
#
# Layout, with a snapshot at index 5 (term 2) and entries 6..8:
#
#     _entries:  [ (2/5 placeholder) | 2/6 | 3/7 | 3/8 ]
#     first_index() == 6, last_index() == 8, term(5) == 2 (the snapshot's), term(4) compacted


cdef class MemoryStorage:
    """The stable log: hard state, latest snapshot and the entries after it."""

    def __init__(self):
        self._hard_state = HardState()
        self._snapshot = EMPTY_SNAPSHOT
        self._entries = [new_entry(0, 0, ENTRY_NORMAL, b"")]

    # --- reads used by the core (C level) ---

    cdef int64_t c_first_index(self):
        return (<Entry>self._entries[0]).index + 1

    cdef int64_t c_last_index(self):
        return (<Entry>self._entries[0]).index + len(self._entries) - 1

    cdef int64_t c_term(self, int64_t index):
        cdef int64_t offset = (<Entry>self._entries[0]).index
        if index < offset:
            return TERM_COMPACTED
        if index - offset >= len(self._entries):
            return TERM_UNAVAILABLE
        return (<Entry>self._entries[index - offset]).term

    cdef list c_slice(self, int64_t lo, int64_t hi, int64_t max_size):
        """Entries [lo, hi), at least one, then as many as fit in max_size bytes of data.
        The caller guarantees first_index <= lo <= hi <= last_index + 1."""
        cdef int64_t offset = (<Entry>self._entries[0]).index
        cdef Py_ssize_t start = lo - offset
        cdef Py_ssize_t stop = hi - offset
        cdef Py_ssize_t i
        cdef int64_t size
        if max_size < 0 or stop - start <= 1:
            return self._entries[start:stop]
        size = len((<Entry>self._entries[start]).data)
        i = start + 1
        while i < stop:
            size += len((<Entry>self._entries[i]).data)
            if size > max_size:
                break
            i += 1
        return self._entries[start:i]

    # --- Python face ---

    @property
    def hard_state(self):
        return self._hard_state

    def initial_state(self):
        """(HardState, ConfState) a restarting node starts from."""
        return self._hard_state, self._snapshot.conf_state

    def set_hard_state(self, HardState hard_state not None):
        self._hard_state = hard_state

    def first_index(self):
        return self.c_first_index()

    def last_index(self):
        return self.c_last_index()

    def term(self, int64_t index):
        cdef int64_t t = self.c_term(index)
        if t == TERM_COMPACTED:
            raise CompactedError("index %d is compacted (first index %d)"
                                 % (index, self.c_first_index()))
        if t == TERM_UNAVAILABLE:
            raise UnavailableError("index %d is beyond the last index %d"
                                   % (index, self.c_last_index()))
        return t

    def entries(self, int64_t lo, int64_t hi, max_size=None):
        """Entries with lo <= index < hi, limited to max_size bytes of data (at least one)."""
        if lo < self.c_first_index():
            raise CompactedError("index %d is compacted (first index %d)"
                                 % (lo, self.c_first_index()))
        if hi > self.c_last_index() + 1:
            raise UnavailableError("index %d is beyond the last index %d"
                                   % (hi - 1, self.c_last_index()))
        if hi <= lo:
            return []
        return self.c_slice(lo, hi, -1 if max_size is None else max_size)

    def snapshot(self):
        return self._snapshot

    def append(self, entries):
        """Persisted entries: a suffix that may overwrite a conflicting tail. Entries already
        covered by the snapshot are ignored."""
        cdef list ents = list(entries)
        if not ents:
            return
        cdef int64_t first = self.c_first_index()
        cdef int64_t last = (<Entry>ents[len(ents) - 1]).index
        if last < first:
            return
        cdef int64_t start = (<Entry>ents[0]).index
        if start < first:
            ents = ents[first - start:]
            start = first
        cdef int64_t offset = (<Entry>self._entries[0]).index
        cdef Py_ssize_t keep = start - offset
        if keep > len(self._entries):
            raise UnavailableError("missing log entry: last index %d, appending at %d"
                                   % (self.c_last_index(), start))
        del self._entries[keep:]
        self._entries.extend(ents)

    def apply_snapshot(self, Snapshot snapshot not None):
        """Replace everything with the snapshot's state (an InstallSnapshot received)."""
        if snapshot.index <= self._snapshot.index:
            raise SnapshotOutOfDateError("snapshot at %d is not newer than %d"
                                         % (snapshot.index, self._snapshot.index))
        self._snapshot = snapshot
        self._entries = [new_entry(snapshot.term, snapshot.index, ENTRY_NORMAL, b"")]

    def create_snapshot(self, int64_t index, ConfState conf_state not None, bytes data):
        """Record the application's state as of applied `index` (log compaction step 1)."""
        if index <= self._snapshot.index:
            raise SnapshotOutOfDateError("snapshot at %d is not newer than %d"
                                         % (index, self._snapshot.index))
        if index > self.c_last_index():
            raise UnavailableError("snapshot index %d is beyond the last index %d"
                                   % (index, self.c_last_index()))
        self._snapshot = Snapshot(index, self.c_term(index), conf_state, data)
        return self._snapshot

    def compact(self, int64_t index):
        """Drop entries up to and including `index` (log compaction step 2). Never beyond the
        snapshot, so a lagging follower can always be caught up by snapshot plus log."""
        cdef int64_t offset = (<Entry>self._entries[0]).index
        if index <= offset:
            raise CompactedError("index %d is already compacted" % index)
        if index > self._snapshot.index:
            raise UnavailableError("compact index %d is beyond the snapshot at %d"
                                   % (index, self._snapshot.index))
        if index > self.c_last_index():
            # Only reachable if entries under the snapshot were overwritten, which Raft never does
            # to committed entries; refuse cleanly (etcd panics here).
            raise UnavailableError("compact index %d is beyond the last index %d"
                                   % (index, self.c_last_index()))
        cdef Entry at = <Entry>self._entries[index - offset]
        self._entries = [new_entry(at.term, at.index, ENTRY_NORMAL, b"")] + \
            self._entries[index - offset + 1:]

    def __repr__(self):
        return "MemoryStorage(first=%d, last=%d, %r, snapshot=%d)" % (
            self.c_first_index(), self.c_last_index(), self._hard_state, self._snapshot.index)
