# Declarations of the compiled Raft core (pykube_plane._raft). The implementation lives in
# raft.pyx and the .pxi files it includes, one job per file:
#   types.pxi      messages, entries, hard/soft state, snapshots, conf changes
#   storage.pxi    MemoryStorage: the stable log the application persisted
#   raft_log.pxi   RaftLog: stable storage + the unstable tail, commit and apply cursors
#   progress.pxi   Progress + Inflights: the leader's view of each follower (flow control)
#   read_only.pxi  ReadOnly: ReadIndex requests waiting for a heartbeat quorum
#   ready.pxi      Ready: what the application must persist, send and apply, in that order
#   node.pxi       RaftNode: roles as swapped step/tick functions
from libc.stdint cimport int64_t, uint64_t

# Numbering follows etcd's raftpb so transcripts and wire dumps read the same.
cpdef enum MessageType:
    MSG_HUP = 0
    MSG_BEAT = 1
    MSG_PROP = 2
    MSG_APP = 3
    MSG_APP_RESP = 4
    MSG_VOTE = 5
    MSG_VOTE_RESP = 6
    MSG_SNAP = 7
    MSG_HEARTBEAT = 8
    MSG_HEARTBEAT_RESP = 9
    MSG_UNREACHABLE = 10
    MSG_SNAP_STATUS = 11
    MSG_CHECK_QUORUM = 12
    MSG_TRANSFER_LEADER = 13
    MSG_TIMEOUT_NOW = 14
    MSG_READ_INDEX = 15
    MSG_READ_INDEX_RESP = 16
    MSG_PRE_VOTE = 17
    MSG_PRE_VOTE_RESP = 18

cpdef enum EntryType:
    ENTRY_NORMAL = 0
    ENTRY_CONF_CHANGE = 1

cpdef enum ConfChangeType:
    CONF_CHANGE_ADD_NODE = 0
    CONF_CHANGE_REMOVE_NODE = 1
    CONF_CHANGE_ADD_LEARNER_NODE = 3

cpdef enum Role:
    ROLE_FOLLOWER = 0
    ROLE_CANDIDATE = 1
    ROLE_LEADER = 2
    ROLE_PRE_CANDIDATE = 3

cpdef enum ProgressState:
    PROGRESS_PROBE = 0
    PROGRESS_REPLICATE = 1
    PROGRESS_SNAPSHOT = 2

cdef enum:
    NO_NODE = 0
    # Results of a term lookup that found no term (terms themselves are >= 0).
    TERM_COMPACTED = -1
    TERM_UNAVAILABLE = -2

cdef enum VoteResult:
    VOTE_PENDING = 0
    VOTE_LOST = 1
    VOTE_WON = 2

cdef enum CampaignType:
    CAMPAIGN_PRE_ELECTION = 0
    CAMPAIGN_ELECTION = 1
    CAMPAIGN_TRANSFER = 2


# --- types.pxi ---------------------------------------------------------------------------------

cdef class Entry:
    cdef readonly int64_t term
    cdef readonly int64_t index
    cdef readonly int type
    cdef readonly bytes data

cdef class HardState:
    cdef readonly int64_t term
    cdef readonly int64_t vote
    cdef readonly int64_t commit

cdef class SoftState:
    cdef readonly int64_t lead
    cdef readonly int role

cdef class ConfState:
    cdef readonly tuple voters
    cdef readonly tuple learners

cdef class Snapshot:
    cdef readonly int64_t index
    cdef readonly int64_t term
    cdef readonly ConfState conf_state
    cdef readonly bytes data

cdef class ConfChange:
    cdef readonly int type
    cdef readonly int64_t node_id
    cdef readonly bytes context
    cpdef bytes encode(self)

cdef class ReadState:
    cdef readonly int64_t index
    cdef readonly bytes ctx

cdef class Message:
    cdef public int type
    cdef public int64_t to
    cdef public int64_t from_
    cdef public int64_t term
    cdef public int64_t log_term
    cdef public int64_t index
    cdef public int64_t commit
    cdef public bint reject
    cdef public int64_t reject_hint
    cdef public list entries
    cdef public Snapshot snapshot
    cdef public bytes context

cdef Entry new_entry(int64_t term, int64_t index, int type, bytes data)
cdef Message new_message(int type, int64_t to, int64_t term)


# --- storage.pxi -------------------------------------------------------------------------------

cdef class MemoryStorage:
    cdef HardState _hard_state
    cdef Snapshot _snapshot
    # _entries[0] is a placeholder at the snapshot position (index and term of the snapshot);
    # invariant: _entries[i].index == _entries[0].index + i.
    cdef list _entries

    cdef int64_t c_first_index(self)
    cdef int64_t c_last_index(self)
    cdef int64_t c_term(self, int64_t index)
    cdef list c_slice(self, int64_t lo, int64_t hi, int64_t max_size)


# --- raft_log.pxi ------------------------------------------------------------------------------

cdef class RaftLog:
    cdef MemoryStorage storage
    # An incoming snapshot not yet persisted (replaces everything below it).
    cdef Snapshot unstable_snapshot
    # Entries not yet persisted; invariant: unstable_entries[i].index == unstable_offset + i.
    cdef list unstable_entries
    cdef int64_t unstable_offset
    # Invariant: applied <= committed <= last_index().
    cdef int64_t committed
    cdef int64_t applied

    cdef int64_t first_index(self)
    cdef int64_t last_index(self)
    cdef int64_t last_term(self)
    cdef int64_t term_at(self, int64_t index)
    cdef bint match_term(self, int64_t index, int64_t term)
    cdef bint is_up_to_date(self, int64_t last_index, int64_t last_term)
    cdef int64_t maybe_append(self, int64_t index, int64_t log_term, int64_t committed,
                              list entries) except -3
    cdef int append(self, list entries) except -1
    cdef int64_t find_conflict(self, list entries)
    cdef int64_t find_conflict_by_term(self, int64_t index, int64_t term)
    cdef list slice(self, int64_t lo, int64_t hi, int64_t max_size)
    cdef int commit_to(self, int64_t index) except -1
    cdef bint maybe_commit(self, int64_t index, int64_t term) except -1
    cdef void restore(self, Snapshot snapshot)
    cdef bint has_committed_to_apply(self)
    cdef list committed_to_apply(self)
    cdef void stable_to(self, int64_t index, int64_t term)
    cdef void stable_snapshot_to(self, int64_t index)
    cdef void applied_to(self, int64_t index)


# --- progress.pxi ------------------------------------------------------------------------------

cdef class Inflights:
    # Ring buffer of the last index of each MsgApp in flight, oldest first.
    cdef int64_t* buffer
    cdef int start
    cdef int count
    cdef int capacity

    cdef void add(self, int64_t last_index)
    cdef void free_le(self, int64_t index)
    cdef bint full(self)
    cdef void reset(self)

cdef class Progress:
    # Invariant: 0 <= match < next; entries in (match, next) are in flight.
    cdef readonly int64_t match
    cdef readonly int64_t next
    cdef readonly int state
    cdef readonly int64_t pending_snapshot
    # The highest commit index already sent to it (to know when it needs a fresh one).
    cdef readonly int64_t sent_commit
    cdef readonly bint recent_active
    # In PROGRESS_PROBE: one MsgApp was sent since the last heartbeat response; wait.
    cdef readonly bint probe_sent
    cdef readonly bint is_learner
    cdef Inflights inflights

    cdef void reset_state(self, int state)
    cdef void become_probe(self)
    cdef void become_replicate(self)
    cdef void become_snapshot(self, int64_t snapshot_index)
    cdef bint maybe_update(self, int64_t index)
    cdef bint maybe_decr_to(self, int64_t rejected, int64_t match_hint)
    cdef void sent_entries(self, int64_t last_index)
    cdef bint is_paused(self)


# --- read_only.pxi -----------------------------------------------------------------------------

cdef class PendingRead:
    cdef int64_t seq
    cdef int64_t index
    cdef int64_t from_
    cdef bytes ctx

cdef class ReadOnly:
    cdef list pending
    cdef dict acks
    cdef int64_t last_seq

    cdef int64_t add_request(self, int64_t index, int64_t from_, bytes ctx)
    cdef void recv_ack(self, int64_t voter, int64_t seq)
    cdef list pop_confirmed(self, tuple voters, int64_t self_id)
    cdef void reset(self)


# --- ready.pxi ---------------------------------------------------------------------------------

cdef class Ready:
    cdef readonly SoftState soft_state
    cdef readonly HardState hard_state
    cdef readonly list entries
    cdef readonly Snapshot snapshot
    cdef readonly list committed_entries
    cdef readonly list messages
    cdef readonly list read_states
    cdef readonly bint must_sync


# --- node.pxi ----------------------------------------------------------------------------------

cdef class RaftNode

ctypedef int (*StepFunc)(RaftNode node, Message m) except -1
ctypedef int (*TickFunc)(RaftNode node) except -1

cdef class RaftNode:
    cdef readonly int64_t id
    cdef readonly int64_t term
    cdef readonly int64_t vote
    cdef readonly int64_t lead
    cdef readonly int role
    cdef readonly int64_t lead_transferee
    cdef RaftLog log
    cdef dict progress
    cdef tuple _voters
    cdef tuple _learners
    cdef int64_t pending_conf_index
    cdef int election_elapsed
    cdef int heartbeat_elapsed
    cdef int election_timeout
    cdef int heartbeat_timeout
    cdef int randomized_election_timeout
    cdef bint pre_vote
    cdef bint check_quorum
    cdef int max_inflight
    cdef int64_t max_size_per_msg
    cdef dict votes
    cdef list msgs
    cdef list pending_read_states
    cdef list pending_read_index
    cdef ReadOnly read_only
    cdef uint64_t rng_state
    cdef StepFunc step_fn
    cdef TickFunc tick_fn
    # Ready / advance bookkeeping
    cdef bint awaiting_advance
    cdef HardState prev_hard_state
    cdef int64_t prev_lead
    cdef int prev_role
    cdef int64_t ready_entries_index
    cdef int64_t ready_entries_term
    cdef int64_t ready_snapshot_index
    cdef int64_t ready_applied_index

    cdef int step_message(self, Message m) except -1
    cdef int send(self, Message m) except -1
    cdef int quorum(self)
    cdef bint promotable(self)
    cdef uint64_t next_random(self)
    cdef void reset_randomized_election_timeout(self)
    cdef int reset(self, int64_t term) except -1
    cdef int become_follower(self, int64_t term, int64_t lead) except -1
    cdef int become_pre_candidate(self) except -1
    cdef int become_candidate(self) except -1
    cdef int become_leader(self) except -1
    cdef int hup(self, int campaign_type) except -1
    cdef int run_campaign(self, int campaign_type) except -1
    cdef int propose_entries(self, list entries) except -1
    cdef int poll(self, int64_t voter, bint granted)
    cdef int append_entries_as_leader(self, list entries) except -1
    cdef bint maybe_commit(self) except -1
    cdef bint maybe_send_append(self, int64_t to, bint send_if_empty) except -1
    cdef int send_empty_append(self, int64_t to, Progress pr) except -1
    cdef int bcast_append(self) except -1
    cdef int bcast_heartbeat(self) except -1
    cdef int send_heartbeat(self, int64_t to, int64_t read_seq) except -1
    cdef int send_timeout_now(self, int64_t to) except -1
    cdef int abort_leader_transfer(self) except -1
    cdef int handle_append_entries(self, Message m) except -1
    cdef int handle_heartbeat(self, Message m) except -1
    cdef int handle_snapshot(self, Message m) except -1
    cdef bint restore(self, Snapshot snapshot) except -1
    cdef int handle_read_index(self, Message m) except -1
    cdef int respond_read_index(self, int64_t to, int64_t index, bytes ctx) except -1
    cdef int release_pending_read_index(self) except -1
    cdef bint committed_entry_in_current_term(self)
    cdef bint has_unapplied_conf_change(self)
    cdef int apply_conf_state(self, tuple voters, tuple learners) except -1
    cdef int reset_progress(self, int64_t id, bint is_learner) except -1
    cdef HardState current_hard_state(self)
