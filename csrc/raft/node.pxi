# RaftNode: the Raft state machine. Inputs are tick(), step(message) and the propose /
# read_index / transfer_leader requests; outputs are collected into a Ready. No I/O, no clock.
#
# The role is a swapped pair of functions, as in etcd-io/raft:
#   follower, pre-candidate, candidate, leader  ->  step_follower / step_candidate / step_leader
#                                                   tick_election / tick_heartbeat
# step_message() first handles what every role does the same way (terms, votes) and then
# hands the message to the role's step function.

# Results of stepping a proposal (MsgProp / MsgReadIndex); anything but STEP_OK drops it.
cdef enum:
    STEP_OK = 0
    DROPPED_NO_LEADER = 1
    DROPPED_TRANSFERRING = 2
    DROPPED_CONF_PENDING = 3
    DROPPED_NOT_MEMBER = 4
    DROPPED_INVALID_CONF_CHANGE = 5
    DROPPED_EMPTY = 6

DROP_REASONS = {
    DROPPED_NO_LEADER: "no leader is known",
    DROPPED_TRANSFERRING: "leadership transfer in progress",
    DROPPED_CONF_PENDING: "a configuration change is still pending",
    DROPPED_NOT_MEMBER: "this node is not a member any more",
    DROPPED_INVALID_CONF_CHANGE: "the configuration change would leave no voter",
    DROPPED_EMPTY: "empty proposal",
}

cdef bytes CAMPAIGN_TRANSFER_CONTEXT = b"CampaignTransfer"


cdef int compare_desc(const void* a, const void* b) noexcept nogil:
    cdef int64_t x = (<const int64_t*>a)[0]
    cdef int64_t y = (<const int64_t*>b)[0]
    return (x < y) - (x > y)


cdef class RaftNode:
    """One Raft member; what to do with its output is documented on Ready.

    `seed` drives the randomized election timeout (no global random state). `applied` is
    for restarts whose state machine is already persisted beyond the snapshot.

    peers / learners bootstrap a new cluster when `storage` is empty: every member of a new
    cluster starts with the same list, which becomes identical configuration entries at
    indices 1..n (term 1), already committed. A node joining an existing cluster starts with
    no peers and an empty storage, and learns everything (configuration included) from the
    leader's log or snapshot. A restart passes the storage it persisted; peers are ignored.
    """

    def __init__(self, int64_t id, peers=(), *, int election_tick=10, int heartbeat_tick=1,
                 bint pre_vote=True, bint check_quorum=True, int max_inflight=256,
                 int64_t max_size_per_msg=1 << 20, learners=(), MemoryStorage storage=None,
                 uint64_t seed=0, int64_t applied=0):
        if id <= 0:
            raise ValueError("node id must be positive, got %d" % id)
        if heartbeat_tick <= 0:
            raise ValueError("heartbeat_tick must be positive")
        if election_tick <= heartbeat_tick:
            raise ValueError("election_tick must be greater than heartbeat_tick")
        if max_inflight <= 0:
            raise ValueError("max_inflight must be positive")
        peers, learners = list(peers), list(learners)
        voter_ids = sorted(set(int(p) for p in peers))
        learner_ids = sorted(set(int(p) for p in learners))
        if len(voter_ids) != len(peers) or len(learner_ids) != len(learners):
            raise ValueError("duplicate ids in peers or learners")
        if set(voter_ids) & set(learner_ids):
            raise ValueError("a node cannot be both voter and learner")
        if any(p <= 0 for p in voter_ids + learner_ids):
            raise ValueError("node ids must be positive")
        if storage is None:
            storage = MemoryStorage()
        if applied and applied > max(storage._hard_state.commit, storage._snapshot.index):
            raise ValueError("applied %d is beyond the persisted commit index %d"
                             % (applied, storage._hard_state.commit))
        self.id = id
        self.election_timeout = election_tick
        self.heartbeat_timeout = heartbeat_tick
        self.pre_vote = pre_vote
        self.check_quorum = check_quorum
        self.max_inflight = max_inflight
        self.max_size_per_msg = max_size_per_msg
        # splitmix64 stream per (seed, id): reproducible, independent of any global RNG.
        self.rng_state = seed * <uint64_t>0x9E3779B97F4A7C15 + <uint64_t>id
        self.log = RaftLog(storage)
        # A state machine persisted past the snapshot (etcd's Config.Applied) is not fed
        # those entries again.
        self.log.applied_to(applied)
        self.progress = {}
        self._voters = ()
        self._learners = ()
        self.votes = {}
        self.msgs = []
        self.pending_read_states = []
        self.pending_read_index = []
        self.read_only = ReadOnly()
        self.term = 0
        self.vote = NO_NODE
        cdef HardState hs = storage._hard_state
        cdef ConfState cs = storage._snapshot.conf_state
        cdef bint fresh = (storage.c_last_index() == 0 and hs.term == 0
                           and storage._snapshot.index == 0)
        cdef list bootstrap = []
        cdef int64_t i
        if fresh and (voter_ids or learner_ids):
            for p in voter_ids:
                bootstrap.append(ConfChange(CONF_CHANGE_ADD_NODE, p).encode())
            for p in learner_ids:
                bootstrap.append(ConfChange(CONF_CHANGE_ADD_LEARNER_NODE, p).encode())
            self.become_follower(1, NO_NODE)
            self.log.append([new_entry(1, i + 1, ENTRY_CONF_CHANGE, bootstrap[i])
                             for i in range(len(bootstrap))])
            self.log.committed = len(bootstrap)
            self.apply_conf_state(tuple(voter_ids), tuple(learner_ids))
            self.prev_hard_state = HardState()
        else:
            self.apply_conf_state(cs.voters, cs.learners)
            self.become_follower(hs.term, NO_NODE)
            self.vote = hs.vote
            self.prev_hard_state = hs
        self.prev_lead = NO_NODE
        self.prev_role = ROLE_FOLLOWER
        self.awaiting_advance = False

    # --- small helpers ---------------------------------------------------------------------

    cdef int quorum(self):
        return len(self._voters) // 2 + 1

    cdef bint promotable(self):
        return self.id in self._voters

    cdef uint64_t next_random(self):
        cdef uint64_t z
        self.rng_state += <uint64_t>0x9E3779B97F4A7C15
        z = self.rng_state
        z = (z ^ (z >> 30)) * <uint64_t>0xBF58476D1CE4E5B9
        z = (z ^ (z >> 27)) * <uint64_t>0x94D049BB133111EB
        return z ^ (z >> 31)

    cdef void reset_randomized_election_timeout(self):
        # Uniform in [election_timeout, 2 * election_timeout): spreads candidates apart so
        # split votes resolve (Raft §5.2).
        self.randomized_election_timeout = self.election_timeout + <int>(
            self.next_random() % <uint64_t>self.election_timeout)

    cdef HardState current_hard_state(self):
        cdef HardState hs = HardState.__new__(HardState)
        hs.term = self.term
        hs.vote = self.vote
        hs.commit = self.log.committed
        return hs

    cdef int send(self, Message m) except -1:
        if m.from_ == NO_NODE:
            m.from_ = self.id
        if m.type in (MSG_VOTE, MSG_VOTE_RESP, MSG_PRE_VOTE, MSG_PRE_VOTE_RESP):
            # Vote messages carry the term they are about, set by the caller.
            if m.term == 0:
                raise AssertionError("vote message without a term: %r" % m)
        elif m.type != MSG_PROP and m.type != MSG_READ_INDEX:
            m.term = self.term
        self.msgs.append(m)
        return 0

    # --- role transitions ------------------------------------------------------------------

    cdef int reset(self, int64_t term) except -1:
        if self.term != term:
            self.term = term
            self.vote = NO_NODE
        self.lead = NO_NODE
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.reset_randomized_election_timeout()
        self.abort_leader_transfer()
        self.votes = {}
        for pid in list(self.progress):
            self.reset_progress(pid, (<Progress>self.progress[pid]).is_learner)
        self.pending_conf_index = 0
        self.read_only.reset()
        self.pending_read_index = []
        return 0

    cdef int reset_progress(self, int64_t id, bint is_learner) except -1:
        cdef int64_t last = self.log.last_index()
        cdef Progress pr = Progress(0, last + 1, self.max_inflight, is_learner)
        if id == self.id:
            pr.match = last
            pr.recent_active = True
        self.progress[id] = pr
        return 0

    cdef int become_follower(self, int64_t term, int64_t lead) except -1:
        self.step_fn = step_follower
        self.tick_fn = tick_election
        self.reset(term)
        self.lead = lead
        self.role = ROLE_FOLLOWER
        return 0

    cdef int become_pre_candidate(self) except -1:
        if self.role == ROLE_LEADER:
            raise AssertionError("leader cannot become pre-candidate")
        # Neither term nor vote change: a pre-election must be harmless if it fails.
        self.step_fn = step_candidate
        self.tick_fn = tick_election
        self.votes = {}
        self.lead = NO_NODE
        self.role = ROLE_PRE_CANDIDATE
        return 0

    cdef int become_candidate(self) except -1:
        if self.role == ROLE_LEADER:
            raise AssertionError("leader cannot become candidate")
        self.step_fn = step_candidate
        self.tick_fn = tick_election
        self.reset(self.term + 1)
        self.vote = self.id
        self.role = ROLE_CANDIDATE
        return 0

    cdef int become_leader(self) except -1:
        if self.role == ROLE_FOLLOWER:
            raise AssertionError("follower cannot become leader without an election")
        self.step_fn = step_leader
        self.tick_fn = tick_heartbeat
        self.reset(self.term)
        self.lead = self.id
        self.role = ROLE_LEADER
        cdef Progress pr = self.progress.get(self.id)
        if pr is not None:
            pr.become_replicate()
            pr.recent_active = True
        # Conf changes may be in the uncommitted tail we inherit; refuse new ones until our
        # own first entry is applied. This is also the fix for single-server changes across
        # leader changes (Ongaro, raft-dev 2015): no change before a current-term commit.
        self.pending_conf_index = self.log.last_index()
        self.append_entries_as_leader([new_entry(0, 0, ENTRY_NORMAL, b"")])
        return 0

    # --- elections -------------------------------------------------------------------------

    cdef bint has_unapplied_conf_change(self):
        cdef Entry e
        if self.log.committed <= self.log.applied:
            return False
        for e in self.log.slice(max(self.log.applied + 1, self.log.first_index()),
                                self.log.committed + 1, -1):
            if e.type == ENTRY_CONF_CHANGE:
                return True
        return False

    cdef int hup(self, int campaign_type) except -1:
        if self.role == ROLE_LEADER or not self.promotable():
            return 0
        if self.has_unapplied_conf_change():
            # Our configuration may be about to change: wait until it is applied.
            return 0
        return self.run_campaign(campaign_type)

    cdef int run_campaign(self, int campaign_type) except -1:
        cdef int vote_type
        cdef int64_t term
        cdef Message m
        if campaign_type == CAMPAIGN_PRE_ELECTION:
            self.become_pre_candidate()
            vote_type = MSG_PRE_VOTE
            term = self.term + 1  # the term we would campaign for
        else:
            self.become_candidate()
            vote_type = MSG_VOTE
            term = self.term
        if self.poll(self.id, True) == VOTE_WON:
            # A cluster of one: we won on our own vote.
            if campaign_type == CAMPAIGN_PRE_ELECTION:
                return self.run_campaign(CAMPAIGN_ELECTION)
            return self.become_leader()
        for pid in self._voters:
            if pid == self.id:
                continue
            m = new_message(vote_type, pid, term)
            m.index = self.log.last_index()
            m.log_term = self.log.last_term()
            if campaign_type == CAMPAIGN_TRANSFER:
                m.context = CAMPAIGN_TRANSFER_CONTEXT
            self.send(m)
        return 0

    cdef int poll(self, int64_t voter, bint granted):
        cdef int yes = 0, no = 0
        if voter not in self.votes:
            self.votes[voter] = granted
        for pid in self._voters:
            v = self.votes.get(pid)
            if v is None:
                continue
            if v:
                yes += 1
            else:
                no += 1
        cdef int q = self.quorum()
        if yes >= q:
            return VOTE_WON
        if len(self._voters) - no < q:
            return VOTE_LOST
        return VOTE_PENDING

    # --- replication (leader) --------------------------------------------------------------

    cdef int append_entries_as_leader(self, list entries) except -1:
        cdef int64_t last = self.log.last_index()
        cdef list stamped = []
        cdef Entry e
        cdef Py_ssize_t i = 0
        for e in entries:
            i += 1
            stamped.append(new_entry(self.term, last + i, e.type, e.data))
        self.log.append(stamped)
        cdef Progress pr = self.progress.get(self.id)
        if pr is not None:
            pr.maybe_update(last + i)
        self.maybe_commit()
        return 0

    cdef bint maybe_commit(self) except -1:
        """Advance commit to the highest index a quorum of voters has (current term only)."""
        cdef Py_ssize_t n = len(self._voters)
        cdef int64_t small[16]
        cdef int64_t* matches = small
        cdef Py_ssize_t i = 0
        cdef Progress pr
        if n == 0:
            return False
        if n > 16:
            matches = <int64_t*>malloc(n * sizeof(int64_t))
            if matches == NULL:
                raise MemoryError()
        for pid in self._voters:
            pr = self.progress.get(pid)
            matches[i] = pr.match if pr is not None else 0
            i += 1
        qsort(matches, n, sizeof(int64_t), compare_desc)
        cdef int64_t quorum_index = matches[self.quorum() - 1]
        if matches != small:
            free(matches)
        if self.log.maybe_commit(quorum_index, self.term):
            self.release_pending_read_index()
            return True
        return False

    cdef bint maybe_send_append(self, int64_t to, bint send_if_empty) except -1:
        """Send `to` the entries it lacks (or a snapshot when they are compacted), within the
        flow-control window. Returns whether a message was sent."""
        cdef Progress pr = self.progress.get(to)
        if pr is None or pr.is_paused():
            return False
        cdef int64_t last = self.log.last_index()
        cdef int64_t prev_index = pr.next - 1
        cdef int64_t prev_term = self.log.term_at(prev_index)
        cdef list ents
        cdef Message m
        cdef Snapshot snap
        if prev_term < 0 or pr.next < self.log.first_index():
            # What the follower needs is compacted: send the snapshot instead.
            if not pr.recent_active:
                return False
            snap = self.log.unstable_snapshot
            if snap is None:
                snap = self.log.storage._snapshot
            if snap.index == 0:
                return False
            m = new_message(MSG_SNAP, to, 0)
            m.snapshot = snap
            self.send(m)
            pr.become_snapshot(snap.index)
            return True
        if pr.next <= last:
            ents = self.log.slice(pr.next, last + 1, self.max_size_per_msg)
        else:
            ents = []
        if not ents and not send_if_empty:
            return False
        m = new_message(MSG_APP, to, 0)
        m.index = prev_index
        m.log_term = prev_term
        m.entries = ents
        m.commit = self.log.committed
        self.send(m)
        cdef int64_t last_sent
        if ents:
            last_sent = (<Entry>ents[len(ents) - 1]).index
            pr.sent_commit = max(pr.sent_commit, min(m.commit, last_sent))
            pr.sent_entries(last_sent)
        else:
            pr.sent_commit = max(pr.sent_commit, min(m.commit, prev_index))
            if pr.state == PROGRESS_PROBE:
                pr.probe_sent = True
        return True

    cdef int send_empty_append(self, int64_t to, Progress pr) except -1:
        # Beyond the window: an empty MsgApp at next-1 is either accepted (freeing the whole
        # window) or rejected (back to probing), so lost MsgApps cannot wedge the flow.
        cdef int64_t prev_term = self.log.term_at(pr.next - 1)
        cdef Message m
        if prev_term < 0:
            # Compacted meanwhile: restart from what it acknowledged (probe, or snapshot).
            pr.become_probe()
            self.maybe_send_append(to, True)
            return 0
        m = new_message(MSG_APP, to, 0)
        m.index = pr.next - 1
        m.log_term = prev_term
        m.commit = self.log.committed
        self.send(m)
        return 0

    cdef int bcast_append(self) except -1:
        for pid in self.progress:
            if pid != self.id:
                self.maybe_send_append(pid, True)
        return 0

    cdef int bcast_heartbeat(self) except -1:
        cdef int64_t read_seq = self.read_only.last_seq if self.read_only.pending else 0
        for pid in self.progress:
            if pid != self.id:
                self.send_heartbeat(pid, read_seq)
        return 0

    cdef int send_heartbeat(self, int64_t to, int64_t read_seq) except -1:
        cdef Progress pr = self.progress[to]
        cdef Message m = new_message(MSG_HEARTBEAT, to, 0)
        # Never tell a follower to commit past what it is known to hold.
        m.commit = min(pr.match, self.log.committed)
        pr.sent_commit = max(pr.sent_commit, m.commit)
        m.index = read_seq
        self.send(m)
        return 0

    cdef int send_timeout_now(self, int64_t to) except -1:
        self.send(new_message(MSG_TIMEOUT_NOW, to, 0))
        return 0

    cdef int abort_leader_transfer(self) except -1:
        self.lead_transferee = NO_NODE
        return 0

    # --- follower side ---------------------------------------------------------------------

    cdef int handle_append_entries(self, Message m) except -1:
        cdef Message resp = new_message(MSG_APP_RESP, m.from_, 0)
        cdef int64_t last_new, hint
        if m.index < self.log.committed:
            # Already committed here; tell the leader where we are.
            resp.index = self.log.committed
            return self.send(resp)
        last_new = self.log.maybe_append(m.index, m.log_term, m.commit, m.entries)
        if last_new >= 0:
            resp.index = last_new
            return self.send(resp)
        # Consistency check failed: hint the largest index at which we could match.
        hint = min(m.index, self.log.last_index())
        hint = self.log.find_conflict_by_term(hint, m.log_term)
        resp.index = m.index
        resp.reject = True
        resp.reject_hint = hint
        resp.log_term = max(self.log.term_at(hint), 0)
        return self.send(resp)

    cdef int handle_heartbeat(self, Message m) except -1:
        self.log.commit_to(m.commit)
        cdef Message resp = new_message(MSG_HEARTBEAT_RESP, m.from_, 0)
        resp.index = m.index
        return self.send(resp)

    cdef int handle_snapshot(self, Message m) except -1:
        cdef Message resp = new_message(MSG_APP_RESP, m.from_, 0)
        if m.snapshot is not None and self.restore(m.snapshot):
            resp.index = self.log.last_index()
        else:
            resp.index = self.log.committed
        return self.send(resp)

    cdef bint restore(self, Snapshot snapshot) except -1:
        if snapshot.index <= self.log.committed:
            return False
        if self.log.match_term(snapshot.index, snapshot.term):
            # We already hold that prefix: just learn that it is committed.
            self.log.commit_to(snapshot.index)
            return False
        self.log.restore(snapshot)
        self.apply_conf_state(snapshot.conf_state.voters, snapshot.conf_state.learners)
        return True

    # --- ReadIndex -------------------------------------------------------------------------

    cdef bint committed_entry_in_current_term(self):
        return self.log.term_at(self.log.committed) == self.term

    cdef int handle_read_index(self, Message m) except -1:
        if len(self._voters) == 1 and self.promotable():
            return self.respond_read_index(m.from_, self.log.committed, m.context)
        if not self.committed_entry_in_current_term():
            # Our commit index may lag the previous leader's until our first entry commits.
            self.pending_read_index.append(m)
            return 0
        self.read_only.add_request(self.log.committed, m.from_, m.context)
        return self.bcast_heartbeat()

    cdef int respond_read_index(self, int64_t to, int64_t index, bytes ctx) except -1:
        cdef Message m
        if to == NO_NODE or to == self.id:
            self.pending_read_states.append(ReadState(index, ctx))
            return 0
        m = new_message(MSG_READ_INDEX_RESP, to, 0)
        m.index = index
        m.context = ctx
        return self.send(m)

    cdef int release_pending_read_index(self) except -1:
        cdef list waiting
        cdef Message m
        if not self.pending_read_index or not self.committed_entry_in_current_term():
            return 0
        waiting = self.pending_read_index
        self.pending_read_index = []
        for m in waiting:
            self.read_only.add_request(self.log.committed, m.from_, m.context)
        return self.bcast_heartbeat()

    # --- membership ------------------------------------------------------------------------

    cdef int apply_conf_state(self, tuple voters, tuple learners) except -1:
        cdef Progress pr
        self._voters = tuple(sorted(voters))
        self._learners = tuple(sorted(learners))
        members = set(self._voters) | set(self._learners)
        for pid in list(self.progress):
            if pid not in members:
                del self.progress[pid]
        for pid in members:
            pr = self.progress.get(pid)
            if pr is None:
                self.reset_progress(pid, pid in self._learners)
                # Newly added: count it as active so CheckQuorum gives it a chance to answer.
                (<Progress>self.progress[pid]).recent_active = True
            else:
                pr.is_learner = pid in self._learners
        return 0

    # --- Python face -----------------------------------------------------------------------

    def tick(self):
        """Advance the logical clock by one tick (the driver's timer calls this)."""
        self.tick_fn(self)

    def campaign(self):
        """Start an election now instead of waiting for the election timeout."""
        cdef Message m = new_message(MSG_HUP, self.id, 0)
        m.from_ = self.id
        self.step_message(m)

    def step(self, Message m not None):
        """Feed one message received from a peer."""
        if m.type in (MSG_HUP, MSG_BEAT, MSG_CHECK_QUORUM, MSG_UNREACHABLE, MSG_SNAP_STATUS):
            raise ValueError("%s is a local message type, not stepped from the network"
                             % MESSAGE_NAMES.get(m.type, m.type))
        self.step_message(m)

    cdef int propose_entries(self, list entries) except -1:
        cdef Message m = new_message(MSG_PROP, self.id, 0)
        m.from_ = self.id
        m.entries = entries
        cdef int result = self.step_message(m)
        if result != STEP_OK:
            raise ProposalDropped(DROP_REASONS[result])
        return 0

    def propose(self, bytes data not None):
        """Propose one command. Raises ProposalDropped when it cannot be appended now."""
        self.propose_entries([new_entry(0, 0, ENTRY_NORMAL, data)])

    def propose_batch(self, datas):
        """Propose several commands at once: one append, one MsgApp per follower."""
        cdef list entries = [new_entry(0, 0, ENTRY_NORMAL, <bytes?>d) for d in datas]
        if entries:
            self.propose_entries(entries)

    def propose_conf_change(self, ConfChange cc not None):
        """Propose a single membership change; it takes effect when the application, having
        found the committed entry, calls apply_conf_change(). One change at a time: another
        is refused (ProposalDropped) until the previous one has been applied."""
        self.propose_entries([new_entry(0, 0, ENTRY_CONF_CHANGE, cc.encode())])

    def read_index(self, bytes ctx not None):
        """Request a linearizable read; a ReadState with this ctx comes in a later Ready."""
        cdef Message m = new_message(MSG_READ_INDEX, self.id, 0)
        m.from_ = self.id
        m.context = ctx
        cdef int result = self.step_message(m)
        if result != STEP_OK:
            raise ProposalDropped(DROP_REASONS[result])

    def transfer_leader(self, int64_t to):
        """Ask the leader (this node or, forwarded, the one we know) to hand over to `to`."""
        cdef Message m = new_message(MSG_TRANSFER_LEADER, self.id, 0)
        m.from_ = to
        self.step_message(m)

    def report_unreachable(self, int64_t id):
        """The transport failed to send to `id`: stop streaming to it optimistically."""
        cdef Message m = new_message(MSG_UNREACHABLE, self.id, 0)
        m.from_ = id
        self.step_message(m)

    def report_snapshot(self, int64_t id, bint failed):
        """The transport finished (or failed) sending a MsgSnap to `id`."""
        cdef Message m = new_message(MSG_SNAP_STATUS, self.id, 0)
        m.from_ = id
        m.reject = failed
        self.step_message(m)

    def apply_conf_change(self, ConfChange cc not None):
        """Apply a committed membership change; returns the new ConfState (persist it with
        the next snapshot). A change that would leave no voter is ignored, identically on
        every member."""
        voters = set(self._voters)
        learners = set(self._learners)
        if cc.type == CONF_CHANGE_ADD_NODE:
            learners.discard(cc.node_id)
            voters.add(cc.node_id)
        elif cc.type == CONF_CHANGE_ADD_LEARNER_NODE:
            voters.discard(cc.node_id)
            learners.add(cc.node_id)
        elif cc.type == CONF_CHANGE_REMOVE_NODE:
            voters.discard(cc.node_id)
            learners.discard(cc.node_id)
        if not voters:
            return ConfState(self._voters, self._learners)
        known = set(self.progress)
        self.apply_conf_state(tuple(voters), tuple(learners))
        if self.role == ROLE_LEADER:
            if not self.promotable():
                # Removed or demoted: stop leading; the rest elect a leader among themselves.
                self.become_follower(self.term, NO_NODE)
            else:
                if self.lead_transferee != NO_NODE and self.lead_transferee not in voters:
                    self.abort_leader_transfer()
                if self.maybe_commit():
                    self.bcast_append()
                # Probe new members now rather than at the next heartbeat.
                for pid in self.progress:
                    if pid not in known:
                        self.maybe_send_append(pid, True)
        return ConfState(self._voters, self._learners)

    def has_ready(self):
        """Is there anything to persist, send, apply or report?"""
        if self.awaiting_advance:
            return False
        if self.msgs or self.pending_read_states:
            return True
        if self.log.unstable_entries or self.log.unstable_snapshot is not None:
            return True
        if self.log.has_committed_to_apply():
            return True
        cdef HardState prev = self.prev_hard_state
        if (prev.term != self.term or prev.vote != self.vote
                or prev.commit != self.log.committed):
            return True
        return self.prev_lead != self.lead or self.prev_role != self.role

    def ready(self):
        """Collect the work to do (see Ready); call advance() once it is done."""
        if self.awaiting_advance:
            raise RuntimeError("advance() must follow the previous ready()")
        cdef Ready rd = Ready.__new__(Ready)
        cdef HardState hs = self.current_hard_state()
        cdef HardState prev = self.prev_hard_state
        cdef Entry last
        rd.entries = list(self.log.unstable_entries)
        rd.snapshot = self.log.unstable_snapshot
        rd.committed_entries = self.log.committed_to_apply()
        rd.messages = self.msgs
        self.msgs = []
        rd.read_states = self.pending_read_states
        self.pending_read_states = []
        if hs.term != prev.term or hs.vote != prev.vote or hs.commit != prev.commit:
            rd.hard_state = hs
        rd.must_sync = (bool(rd.entries) or rd.snapshot is not None
                        or hs.term != prev.term or hs.vote != prev.vote)
        if self.prev_lead != self.lead or self.prev_role != self.role:
            rd.soft_state = SoftState(self.lead, self.role)
            self.prev_lead = self.lead
            self.prev_role = self.role
        self.prev_hard_state = hs
        if rd.entries:
            last = <Entry>rd.entries[len(rd.entries) - 1]
            self.ready_entries_index = last.index
            self.ready_entries_term = last.term
        else:
            self.ready_entries_index = 0
            self.ready_entries_term = 0
        self.ready_snapshot_index = rd.snapshot.index if rd.snapshot is not None else 0
        if rd.committed_entries:
            self.ready_applied_index = (<Entry>rd.committed_entries[
                len(rd.committed_entries) - 1]).index
        else:
            self.ready_applied_index = self.ready_snapshot_index
        self.awaiting_advance = True
        return rd

    def advance(self):
        """The last Ready was persisted, sent and applied."""
        if not self.awaiting_advance:
            raise RuntimeError("advance() without a ready()")
        if (self.ready_entries_index
                and self.log.storage.c_term(self.ready_entries_index) != self.ready_entries_term
                and self.log.term_at(self.ready_entries_index) == self.ready_entries_term):
            raise RuntimeError("the Ready's entries were not appended to the storage")
        if (self.ready_snapshot_index
                and self.log.storage._snapshot.index < self.ready_snapshot_index):
            raise RuntimeError("the Ready's snapshot was not applied to the storage")
        if self.ready_snapshot_index:
            self.log.stable_snapshot_to(self.ready_snapshot_index)
        if self.ready_entries_index:
            self.log.stable_to(self.ready_entries_index, self.ready_entries_term)
        if self.ready_applied_index:
            self.log.applied_to(self.ready_applied_index)
        self.awaiting_advance = False

    # --- introspection ---------------------------------------------------------------------

    @property
    def commit(self):
        return self.log.committed

    @property
    def applied(self):
        return self.log.applied

    @property
    def voters(self):
        return self._voters

    @property
    def learners(self):
        return self._learners

    @property
    def conf_state(self):
        return ConfState(self._voters, self._learners)

    @property
    def role_name(self):
        return ROLE_NAMES[self.role]

    def last_index(self):
        return self.log.last_index()

    def first_index(self):
        return self.log.first_index()

    def term_at(self, int64_t index):
        """Term of the entry at `index`, or None if it is compacted or beyond the log."""
        cdef int64_t t = self.log.term_at(index)
        return None if t < 0 else t

    def entries(self, int64_t lo, int64_t hi):
        """Log entries [lo, hi) (stable and unstable), clipped to what the log holds."""
        lo = max(lo, self.log.first_index())
        hi = min(hi, self.log.last_index() + 1)
        if hi <= lo:
            return []
        return self.log.slice(lo, hi, -1)

    def progress_of(self, int64_t id):
        """The leader's view of `id` as a dict, or None."""
        pr = self.progress.get(id)
        return None if pr is None else (<Progress>pr).as_dict()

    def status(self):
        return {
            "id": self.id, "term": self.term, "vote": self.vote, "lead": self.lead,
            "role": ROLE_NAMES[self.role], "commit": self.log.committed,
            "applied": self.log.applied, "first_index": self.log.first_index(),
            "last_index": self.log.last_index(), "voters": self._voters,
            "learners": self._learners, "lead_transferee": self.lead_transferee,
            "progress": ({pid: (<Progress>pr).as_dict() for pid, pr in self.progress.items()}
                         if self.role == ROLE_LEADER else {}),
        }

    def __repr__(self):
        return "RaftNode(id=%d, term=%d, role=%s, lead=%d, commit=%d, last=%d)" % (
            self.id, self.term, ROLE_NAMES[self.role], self.lead, self.log.committed,
            self.log.last_index())

    # --- the shared part of step -----------------------------------------------------------

    cdef int step_message(self, Message m) except -1:
        cdef bint force, in_lease, can_vote
        cdef Message resp
        if m.term == 0:
            pass  # local, or a forwarded request
        elif m.term > self.term:
            if m.type == MSG_VOTE or m.type == MSG_PRE_VOTE:
                force = m.context == CAMPAIGN_TRANSFER_CONTEXT
                in_lease = (self.check_quorum and self.lead != NO_NODE
                            and self.election_elapsed < self.election_timeout)
                if in_lease and not force:
                    # We heard from a leader within the election timeout: a node that cannot
                    # hear it must not depose it (CheckQuorum's lease, Raft §6 / §9.6).
                    return STEP_OK
            if m.type == MSG_PRE_VOTE:
                pass  # a pre-vote never changes our term
            elif m.type == MSG_PRE_VOTE_RESP and not m.reject:
                pass  # the term is bumped when the pre-election is won
            elif m.type == MSG_APP or m.type == MSG_HEARTBEAT or m.type == MSG_SNAP:
                self.become_follower(m.term, m.from_)
            else:
                self.become_follower(m.term, NO_NODE)
        elif m.term < self.term:
            if (self.check_quorum or self.pre_vote) and (
                    m.type == MSG_HEARTBEAT or m.type == MSG_APP):
                # A stale leader (e.g. back from a partition) learns our term from this and
                # steps down; without it, CheckQuorum/PreVote could leave it stuck forever.
                self.send(new_message(MSG_APP_RESP, m.from_, 0))
            elif m.type == MSG_PRE_VOTE:
                resp = new_message(MSG_PRE_VOTE_RESP, m.from_, self.term)
                resp.reject = True
                self.send(resp)
            return STEP_OK

        if m.type == MSG_HUP:
            return self.hup(CAMPAIGN_PRE_ELECTION if self.pre_vote else CAMPAIGN_ELECTION)
        if m.type == MSG_VOTE or m.type == MSG_PRE_VOTE:
            can_vote = (self.vote == m.from_
                        or (self.vote == NO_NODE and self.lead == NO_NODE)
                        or (m.type == MSG_PRE_VOTE and m.term > self.term))
            if can_vote and self.log.is_up_to_date(m.index, m.log_term):
                # Answer with the message's term: a pre-vote grant is for the future term.
                resp = new_message(MSG_VOTE_RESP if m.type == MSG_VOTE else MSG_PRE_VOTE_RESP,
                                   m.from_, m.term)
                self.send(resp)
                if m.type == MSG_VOTE:
                    self.election_elapsed = 0
                    self.vote = m.from_
            else:
                resp = new_message(MSG_VOTE_RESP if m.type == MSG_VOTE else MSG_PRE_VOTE_RESP,
                                   m.from_, self.term)
                resp.reject = True
                self.send(resp)
            return STEP_OK
        return self.step_fn(self, m)


# --- ticks -----------------------------------------------------------------------------------

cdef int tick_election(RaftNode r) except -1:
    cdef Message m
    r.election_elapsed += 1
    if r.promotable() and r.election_elapsed >= r.randomized_election_timeout:
        r.election_elapsed = 0
        m = new_message(MSG_HUP, r.id, 0)
        m.from_ = r.id
        r.step_message(m)
    return 0


cdef int tick_heartbeat(RaftNode r) except -1:
    cdef Message m
    r.heartbeat_elapsed += 1
    r.election_elapsed += 1
    if r.election_elapsed >= r.election_timeout:
        r.election_elapsed = 0
        if r.check_quorum:
            m = new_message(MSG_CHECK_QUORUM, r.id, 0)
            m.from_ = r.id
            r.step_message(m)
        # A transfer that did not finish within an election timeout is abandoned.
        if r.role == ROLE_LEADER and r.lead_transferee != NO_NODE:
            r.abort_leader_transfer()
    if r.role != ROLE_LEADER:
        return 0
    if r.heartbeat_elapsed >= r.heartbeat_timeout:
        r.heartbeat_elapsed = 0
        m = new_message(MSG_BEAT, r.id, 0)
        m.from_ = r.id
        r.step_message(m)
    return 0


# --- step functions per role -----------------------------------------------------------------

cdef int step_leader(RaftNode r, Message m) except -1:
    cdef int t = m.type
    cdef Entry e
    cdef Py_ssize_t i
    cdef ConfChange cc
    cdef Progress pr
    cdef int64_t next_probe, seq
    cdef int active

    if t == MSG_BEAT:
        return r.bcast_heartbeat()
    if t == MSG_CHECK_QUORUM:
        active = 0
        for pid in r._voters:
            pr = r.progress.get(pid)
            if pid == r.id or (pr is not None and pr.recent_active):
                active += 1
        if active < r.quorum():
            r.become_follower(r.term, NO_NODE)
        for pid, pr_obj in r.progress.items():
            if pid != r.id:
                (<Progress>pr_obj).recent_active = False
        return STEP_OK
    if t == MSG_PROP:
        if not m.entries:
            return DROPPED_EMPTY
        if r.id not in r.progress:
            return DROPPED_NOT_MEMBER
        if r.lead_transferee != NO_NODE:
            return DROPPED_TRANSFERRING
        i = 0
        for e in m.entries:
            i += 1
            if e.type != ENTRY_CONF_CHANGE:
                continue
            if r.pending_conf_index > r.log.applied:
                return DROPPED_CONF_PENDING
            cc = ConfChange.decode(e.data)
            if cc.type != CONF_CHANGE_ADD_NODE and r._voters == (cc.node_id,):
                return DROPPED_INVALID_CONF_CHANGE
            r.pending_conf_index = r.log.last_index() + i
        r.append_entries_as_leader(m.entries)
        r.bcast_append()
        return STEP_OK
    if t == MSG_READ_INDEX:
        return r.handle_read_index(m)

    # The rest concern one peer's progress.
    pr = r.progress.get(m.from_)
    if pr is None:
        return STEP_OK
    if t == MSG_APP_RESP:
        pr.recent_active = True
        if m.reject:
            next_probe = m.reject_hint
            if m.log_term > 0:
                # Skip every index whose term in our log is above the follower's term there:
                # none of them can match (terms only grow along a log).
                next_probe = r.log.find_conflict_by_term(m.reject_hint, m.log_term)
            if pr.maybe_decr_to(m.index, next_probe):
                if pr.state == PROGRESS_REPLICATE:
                    pr.become_probe()
                r.maybe_send_append(m.from_, True)
            return STEP_OK
        if pr.maybe_update(m.index) or (pr.match == m.index and pr.state == PROGRESS_PROBE):
            if pr.state == PROGRESS_PROBE:
                pr.become_replicate()
            elif pr.state == PROGRESS_SNAPSHOT and pr.match + 1 >= r.log.first_index():
                pr.become_probe()
                pr.become_replicate()
            elif pr.state == PROGRESS_REPLICATE:
                pr.inflights.free_le(m.index)
            if r.maybe_commit():
                r.bcast_append()
            elif pr.sent_commit < min(pr.match, r.log.committed):
                # It holds entries it does not know are committed: tell it now rather than
                # at the next heartbeat.
                r.maybe_send_append(m.from_, True)
            while r.maybe_send_append(m.from_, False):
                pass
            if m.from_ == r.lead_transferee and pr.match == r.log.last_index():
                r.send_timeout_now(m.from_)
        return STEP_OK
    if t == MSG_HEARTBEAT_RESP:
        pr.recent_active = True
        pr.probe_sent = False
        if pr.state == PROGRESS_REPLICATE and pr.inflights.full():
            r.send_empty_append(m.from_, pr)
        elif pr.match < r.log.last_index() or pr.state == PROGRESS_PROBE:
            r.maybe_send_append(m.from_, True)
        if m.index > 0 and m.from_ in r._voters:
            r.read_only.recv_ack(m.from_, m.index)
            for done in r.read_only.pop_confirmed(r._voters, r.id):
                r.respond_read_index((<PendingRead>done).from_, (<PendingRead>done).index,
                                     (<PendingRead>done).ctx)
        return STEP_OK
    if t == MSG_SNAP_STATUS:
        if pr.state != PROGRESS_SNAPSHOT:
            return STEP_OK
        if m.reject:
            # Failed: probe again from what we know it has, after a heartbeat interval.
            pr.pending_snapshot = 0
        pr.become_probe()
        pr.probe_sent = True
        return STEP_OK
    if t == MSG_UNREACHABLE:
        if pr.state == PROGRESS_REPLICATE:
            pr.become_probe()
        return STEP_OK
    if t == MSG_TRANSFER_LEADER:
        # m.from_ is the transferee.
        if pr.is_learner or m.from_ == r.id:
            return STEP_OK
        if r.lead_transferee != NO_NODE:
            if r.lead_transferee == m.from_:
                return STEP_OK
            r.abort_leader_transfer()
        r.election_elapsed = 0  # the transfer has one election timeout to finish
        r.lead_transferee = m.from_
        if pr.match == r.log.last_index():
            r.send_timeout_now(m.from_)
        else:
            r.maybe_send_append(m.from_, True)
        return STEP_OK
    return STEP_OK


cdef int step_candidate(RaftNode r, Message m) except -1:
    # Shared by pre-candidates and candidates; only the vote response type differs.
    cdef int t = m.type
    cdef int my_vote_resp = MSG_PRE_VOTE_RESP if r.role == ROLE_PRE_CANDIDATE else MSG_VOTE_RESP
    cdef int result
    if t == MSG_PROP or t == MSG_READ_INDEX:
        return DROPPED_NO_LEADER
    if t == MSG_APP:
        r.become_follower(m.term, m.from_)
        return r.handle_append_entries(m)
    if t == MSG_HEARTBEAT:
        r.become_follower(m.term, m.from_)
        return r.handle_heartbeat(m)
    if t == MSG_SNAP:
        r.become_follower(m.term, m.from_)
        return r.handle_snapshot(m)
    if t == my_vote_resp:
        result = r.poll(m.from_, not m.reject)
        if result == VOTE_WON:
            if r.role == ROLE_PRE_CANDIDATE:
                return r.run_campaign(CAMPAIGN_ELECTION)
            r.become_leader()
            return r.bcast_append()
        if result == VOTE_LOST:
            r.become_follower(r.term, NO_NODE)
    return STEP_OK


cdef int step_follower(RaftNode r, Message m) except -1:
    cdef int t = m.type
    cdef Message fwd
    if t == MSG_PROP or t == MSG_READ_INDEX or t == MSG_TRANSFER_LEADER:
        if r.lead == NO_NODE:
            return DROPPED_NO_LEADER
        # Forward to the leader (a copy: the network may hold the same object twice).
        fwd = m.copy()
        fwd.to = r.lead
        return r.send(fwd)
    if t == MSG_APP:
        r.election_elapsed = 0
        r.lead = m.from_
        return r.handle_append_entries(m)
    if t == MSG_HEARTBEAT:
        r.election_elapsed = 0
        r.lead = m.from_
        return r.handle_heartbeat(m)
    if t == MSG_SNAP:
        r.election_elapsed = 0
        r.lead = m.from_
        return r.handle_snapshot(m)
    if t == MSG_TIMEOUT_NOW:
        # The leader asks us to take over now: skip the pre-vote, force past leases.
        return r.hup(CAMPAIGN_TRANSFER)
    if t == MSG_READ_INDEX_RESP:
        r.pending_read_states.append(ReadState(m.index, m.context))
    return STEP_OK
