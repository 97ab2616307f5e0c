# RaftLog: the node's whole log = what storage holds durably + an unstable tail (entries, or
# an incoming snapshot) that the application has been handed in a Ready but not yet confirmed
# by advance().
#
#   storage:   [snap 5] 6 7 8 9          (persisted)
#   unstable:            8' 9' 10'        unstable_offset == 8: a new leader overwrote 8, 9
#   the log:   [snap 5] 6 7 8' 9' 10'    term_at(i) looks at unstable first, then storage
#
#   applied <= committed <= last_index()


cdef class RaftLog:

    def __cinit__(self, MemoryStorage storage not None):
        self.storage = storage
        self.unstable_snapshot = None
        self.unstable_entries = []
        self.unstable_offset = storage.c_last_index() + 1
        self.committed = storage._hard_state.commit
        # A restart re-applies everything after the snapshot (the state machine restarts
        # from the snapshot; the log may keep a few entries before it for slow followers).
        self.applied = max(storage.c_first_index() - 1, storage._snapshot.index)
        if self.committed < self.applied:
            self.committed = self.applied

    cdef int64_t first_index(self):
        if self.unstable_snapshot is not None:
            return self.unstable_snapshot.index + 1
        return self.storage.c_first_index()

    cdef int64_t last_index(self):
        cdef Py_ssize_t n = len(self.unstable_entries)
        if n:
            return self.unstable_offset + n - 1
        if self.unstable_snapshot is not None:
            return self.unstable_snapshot.index
        return self.storage.c_last_index()

    cdef int64_t last_term(self):
        return self.term_at(self.last_index())

    cdef int64_t term_at(self, int64_t index):
        cdef Py_ssize_t n = len(self.unstable_entries)
        if n and index >= self.unstable_offset:
            if index - self.unstable_offset < n:
                return (<Entry>self.unstable_entries[index - self.unstable_offset]).term
            return TERM_UNAVAILABLE
        if self.unstable_snapshot is not None:
            if index == self.unstable_snapshot.index:
                return self.unstable_snapshot.term
            if index < self.unstable_snapshot.index:
                return TERM_COMPACTED
            return TERM_UNAVAILABLE
        return self.storage.c_term(index)

    cdef bint match_term(self, int64_t index, int64_t term):
        return term >= 0 and self.term_at(index) == term

    cdef bint is_up_to_date(self, int64_t last_index, int64_t last_term):
        """Is a candidate's log (ending at last_term/last_index) at least as up to date as
        ours? Compare the last terms, then the lengths (Raft §5.4.1)."""
        cdef int64_t my_term = self.last_term()
        return last_term > my_term or (last_term == my_term and last_index >= self.last_index())

    cdef int64_t find_conflict(self, list entries):
        """Index of the first entry that is new or disagrees with our log, 0 if none."""
        cdef Entry e
        for e in entries:
            if not self.match_term(e.index, e.term):
                return e.index
        return 0

    cdef int64_t find_conflict_by_term(self, int64_t index, int64_t term):
        """The largest index <= `index` whose term is <= `term` (or that is compacted): the
        first place where a log whose entry at `index` has `term` could agree with ours.
        Lets one rejection skip a whole divergent term instead of one entry per round trip."""
        cdef int64_t t
        while index > 0:
            t = self.term_at(index)
            if t <= term:  # includes TERM_COMPACTED: we cannot look further back
                return index
            index -= 1
        return 0

    cdef int64_t maybe_append(self, int64_t index, int64_t log_term, int64_t committed,
                              list entries) except -3:
        """Follower side of AppendEntries: if our entry at `index` has `log_term`, merge
        `entries` after it (truncating a conflicting tail) and advance commit. Returns the
        index of the last entry of the message, or -1 when the consistency check fails."""
        if not self.match_term(index, log_term):
            return -1
        cdef int64_t last_new = index + len(entries)
        cdef int64_t conflict = self.find_conflict(entries)
        if conflict:
            if conflict <= self.committed:
                raise AssertionError("entry %d conflicts with committed entry (committed %d)"
                                     % (conflict, self.committed))
            self.append(entries[conflict - index - 1:])
        self.commit_to(min(committed, last_new))
        return last_new

    cdef int append(self, list entries) except -1:
        """Put `entries` (consecutive) into the unstable tail, truncating whatever follows
        the position of their first entry."""
        if not entries:
            return 0
        cdef int64_t after = (<Entry>entries[0]).index
        if after - 1 < self.committed:
            raise AssertionError("append at %d would overwrite committed %d"
                                 % (after, self.committed))
        cdef Py_ssize_t n = len(self.unstable_entries)
        if after == self.unstable_offset + n:
            self.unstable_entries.extend(entries)
        elif after <= self.unstable_offset:
            # Replaces the whole unstable tail (and shadows storage from `after` on).
            self.unstable_offset = after
            self.unstable_entries = list(entries)
        else:
            self.unstable_entries = self.unstable_entries[:after - self.unstable_offset]
            self.unstable_entries.extend(entries)
        return 0

    cdef list slice(self, int64_t lo, int64_t hi, int64_t max_size):
        """Entries [lo, hi): at least one, then up to max_size bytes of data (< 0: no limit).
        The caller guarantees first_index() <= lo < hi <= last_index() + 1."""
        cdef list out
        cdef int64_t size = 0
        cdef Py_ssize_t i, n
        cdef Entry e
        if lo < self.unstable_offset:
            out = self.storage.c_slice(lo, min(hi, self.unstable_offset), max_size)
            if hi <= self.unstable_offset or len(out) < min(hi, self.unstable_offset) - lo:
                return out
        else:
            out = []
        # Continue into the unstable tail.
        if max_size >= 0:
            for e in out:
                size += len(e.data)
        i = max(lo, self.unstable_offset) - self.unstable_offset
        n = hi - self.unstable_offset
        while i < n:
            e = <Entry>self.unstable_entries[i]
            size += len(e.data)
            if max_size >= 0 and out and size > max_size:
                break
            out.append(e)
            i += 1
        return out

    cdef int commit_to(self, int64_t index) except -1:
        if index > self.committed:
            if index > self.last_index():
                raise AssertionError("commit %d is out of range [last index %d]"
                                     % (index, self.last_index()))
            self.committed = index
        return 0

    cdef bint maybe_commit(self, int64_t index, int64_t term) except -1:
        """Commit up to `index` if the entry there is of `term` (Raft §5.4.2: a leader only
        commits entries of its own term by counting replicas)."""
        if index > self.committed and self.term_at(index) == term:
            self.commit_to(index)
            return True
        return False

    cdef void restore(self, Snapshot snapshot):
        self.committed = snapshot.index
        self.unstable_snapshot = snapshot
        self.unstable_entries = []
        self.unstable_offset = snapshot.index + 1

    cdef bint has_committed_to_apply(self):
        return self.committed > self.applied and self.committed >= self.first_index()

    cdef list committed_to_apply(self):
        cdef int64_t lo = max(self.applied + 1, self.first_index())
        if self.committed < lo:
            return []
        return self.slice(lo, self.committed + 1, -1)

    cdef void stable_to(self, int64_t index, int64_t term):
        """Entries up to `index` were persisted, unless meanwhile replaced (term differs)."""
        cdef Py_ssize_t n = len(self.unstable_entries)
        if n == 0 or index < self.unstable_offset or index >= self.unstable_offset + n:
            return
        if (<Entry>self.unstable_entries[index - self.unstable_offset]).term != term:
            return
        del self.unstable_entries[:index + 1 - self.unstable_offset]
        self.unstable_offset = index + 1

    cdef void stable_snapshot_to(self, int64_t index):
        if self.unstable_snapshot is not None and self.unstable_snapshot.index == index:
            self.unstable_snapshot = None

    cdef void applied_to(self, int64_t index):
        if index > self.applied:
            self.applied = index
