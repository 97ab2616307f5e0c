# ReadIndex (Raft §6.4): a leader answers a linearizable read with its commit index only after
# a quorum has acknowledged a heartbeat sent *after* the read arrived, which proves no newer
# leader existed at that moment.
#
# Each request gets a sequence number; heartbeats carry the newest one (Message.index) and
# followers echo it back. When a quorum of voters has echoed seq >= s, every request with
# seq <= s is confirmed at once:
#
#   requests:  r1(seq 1, commit 7)  r2(seq 2, commit 9)
#   acks:      leader=2 (itself)  A=2  B=1        (3 voters, quorum 2)
#   quorum seq = 2 (second highest)  ->  r1 and r2 confirmed


cdef class PendingRead:

    def __repr__(self):
        return "PendingRead(seq=%d, index=%d, from=%d, ctx=%r)" % (
            self.seq, self.index, self.from_, self.ctx)


cdef class ReadOnly:

    def __cinit__(self):
        self.pending = []
        self.acks = {}
        self.last_seq = 0

    cdef int64_t add_request(self, int64_t index, int64_t from_, bytes ctx):
        cdef PendingRead r = PendingRead.__new__(PendingRead)
        # Sequence numbers never restart, so an echo from an older term cannot confirm a
        # newer request even if it slipped past the term check.
        self.last_seq += 1
        r.seq = self.last_seq
        r.index = index
        r.from_ = from_
        r.ctx = ctx
        self.pending.append(r)
        return r.seq

    cdef void recv_ack(self, int64_t voter, int64_t seq):
        if seq > self.acks.get(voter, 0):
            self.acks[voter] = seq

    cdef list pop_confirmed(self, tuple voters, int64_t self_id):
        """Requests confirmed by a quorum of `voters` (the leader counts as acking all)."""
        if not self.pending:
            return []
        cdef list seqs = []
        cdef object voter
        for voter in voters:
            if voter == self_id:
                seqs.append(self.last_seq)
            else:
                seqs.append(self.acks.get(voter, 0))
        seqs.sort(reverse=True)
        cdef int64_t quorum_seq = seqs[len(voters) // 2]
        cdef Py_ssize_t n = 0
        while n < len(self.pending) and (<PendingRead>self.pending[n]).seq <= quorum_seq:
            n += 1
        if n == 0:
            return []
        cdef list done = self.pending[:n]
        del self.pending[:n]
        return done

    cdef void reset(self):
        self.pending = []
        self.acks = {}
