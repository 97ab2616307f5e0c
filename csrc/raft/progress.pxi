# The leader's view of one follower, and the flow control over it.
#
# A Progress is in one of three states:
#   PROGRESS_PROBE      we do not know where the follower's log matches ours: send one MsgApp
#                       per heartbeat interval and wait for its answer (accept or reject+hint).
#   PROGRESS_REPLICATE  the follower matched: stream MsgApps optimistically (next jumps past
#                       what was sent) up to `max_inflight` unacknowledged messages.
#   PROGRESS_SNAPSHOT   the entries it needs are compacted: a MsgSnap is on its way, send
#                       nothing else until the follower answers from the snapshot's index.


cdef class Inflights:
    """Sliding window of MsgApps in flight to one follower (their last entry indices)."""

    def __cinit__(self, int capacity):
        if capacity <= 0:
            raise ValueError("max_inflight must be positive")
        self.buffer = <int64_t*>malloc(capacity * sizeof(int64_t))
        if self.buffer == NULL:
            raise MemoryError()
        self.capacity = capacity
        self.start = 0
        self.count = 0

    def __dealloc__(self):
        free(self.buffer)

    cdef void add(self, int64_t last_index):
        # Callers check full() first; a full window silently drops the oldest (never happens).
        cdef int slot
        if self.count == self.capacity:
            self.start = (self.start + 1) % self.capacity
            self.count -= 1
        slot = (self.start + self.count) % self.capacity
        self.buffer[slot] = last_index
        self.count += 1

    cdef void free_le(self, int64_t index):
        """Acknowledged up to `index`: free every message whose last entry is <= index."""
        while self.count > 0 and self.buffer[self.start] <= index:
            self.start = (self.start + 1) % self.capacity
            self.count -= 1
        if self.count == 0:
            self.start = 0

    cdef bint full(self):
        return self.count == self.capacity

    cdef void reset(self):
        self.start = 0
        self.count = 0

    def __len__(self):
        return self.count


cdef class Progress:

    def __cinit__(self, int64_t match, int64_t next, int max_inflight, bint is_learner):
        self.match = match
        self.next = next
        self.state = PROGRESS_PROBE
        self.pending_snapshot = 0
        self.sent_commit = 0
        self.recent_active = False
        self.probe_sent = False
        self.is_learner = is_learner
        self.inflights = Inflights(max_inflight)

    cdef void reset_state(self, int state):
        self.probe_sent = False
        self.pending_snapshot = 0
        self.state = state
        self.inflights.reset()

    cdef void become_probe(self):
        cdef int64_t pending
        if self.state == PROGRESS_SNAPSHOT:
            # The snapshot got there: probe right after it.
            pending = self.pending_snapshot
            self.reset_state(PROGRESS_PROBE)
            self.next = max(self.match + 1, pending + 1)
        else:
            self.reset_state(PROGRESS_PROBE)
            self.next = self.match + 1

    cdef void become_replicate(self):
        self.reset_state(PROGRESS_REPLICATE)
        self.next = self.match + 1

    cdef void become_snapshot(self, int64_t snapshot_index):
        self.reset_state(PROGRESS_SNAPSHOT)
        self.pending_snapshot = snapshot_index

    cdef bint maybe_update(self, int64_t index):
        """An acknowledgement up to `index`; False if it is stale (already known)."""
        cdef bint updated = False
        if index > self.match:
            self.match = index
            updated = True
            self.probe_sent = False
        if self.next < index + 1:
            self.next = index + 1
        return updated

    cdef bint maybe_decr_to(self, int64_t rejected, int64_t match_hint):
        """A rejection of the MsgApp at `rejected`; the follower hints its log could match
        at `match_hint`. False if the rejection is stale (reordered or duplicated)."""
        if self.state == PROGRESS_REPLICATE:
            if rejected <= self.match:
                return False
            self.next = self.match + 1
            return True
        # Probes go one at a time: only a rejection of the latest one is news.
        if self.next - 1 != rejected:
            return False
        self.next = max(min(rejected, match_hint + 1), 1)
        if self.next < self.match + 1:
            self.next = self.match + 1
        self.probe_sent = False
        return True

    cdef void sent_entries(self, int64_t last_index):
        if self.state == PROGRESS_REPLICATE:
            self.next = last_index + 1
            self.inflights.add(last_index)
        elif self.state == PROGRESS_PROBE:
            self.probe_sent = True

    cdef bint is_paused(self):
        if self.state == PROGRESS_PROBE:
            return self.probe_sent
        if self.state == PROGRESS_REPLICATE:
            return self.inflights.full()
        return True

    def as_dict(self):
        return {"match": self.match, "next": self.next, "state": PROGRESS_NAMES[self.state],
                "pending_snapshot": self.pending_snapshot, "recent_active": self.recent_active,
                "inflight": self.inflights.count, "is_learner": self.is_learner}

    def __repr__(self):
        return "Progress(%r)" % self.as_dict()
