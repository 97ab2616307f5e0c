"""Plain-Python reference of pykube_plane._raft: the same decisions, step for step, written
for clarity with no Cython. Two uses:

- differential checks: every transcript and a sample of simulation seeds must produce
  exactly the same output on both implementations (test_reference.py);
- the compiled-vs-Python speed ratio (benchmarks/bench_raft.py).

It mirrors csrc/raft/*.pxi function by function; when one changes, so must the other (the
differential tests say so immediately).
"""
from __future__ import annotations

# --- constants (numbering as in the compiled core / etcd raftpb) ------------------------------

MSG_HUP, MSG_BEAT, MSG_PROP, MSG_APP, MSG_APP_RESP, MSG_VOTE, MSG_VOTE_RESP, MSG_SNAP = range(8)
(MSG_HEARTBEAT, MSG_HEARTBEAT_RESP, MSG_UNREACHABLE, MSG_SNAP_STATUS, MSG_CHECK_QUORUM,
 MSG_TRANSFER_LEADER, MSG_TIMEOUT_NOW, MSG_READ_INDEX, MSG_READ_INDEX_RESP, MSG_PRE_VOTE,
 MSG_PRE_VOTE_RESP) = range(8, 19)
ENTRY_NORMAL, ENTRY_CONF_CHANGE = 0, 1
CONF_CHANGE_ADD_NODE, CONF_CHANGE_REMOVE_NODE, CONF_CHANGE_ADD_LEARNER_NODE = 0, 1, 3
ROLE_FOLLOWER, ROLE_CANDIDATE, ROLE_LEADER, ROLE_PRE_CANDIDATE = 0, 1, 2, 3
PROGRESS_PROBE, PROGRESS_REPLICATE, PROGRESS_SNAPSHOT = 0, 1, 2
NO_NODE = 0
TERM_COMPACTED, TERM_UNAVAILABLE = -1, -2
VOTE_PENDING, VOTE_LOST, VOTE_WON = 0, 1, 2
CAMPAIGN_PRE_ELECTION, CAMPAIGN_ELECTION, CAMPAIGN_TRANSFER = 0, 1, 2
(STEP_OK, DROPPED_NO_LEADER, DROPPED_TRANSFERRING, DROPPED_CONF_PENDING, DROPPED_NOT_MEMBER,
 DROPPED_INVALID_CONF_CHANGE, DROPPED_EMPTY) = range(7)
MASK64 = (1 << 64) - 1

MESSAGE_NAMES = {
    MSG_HUP: "MsgHup", MSG_BEAT: "MsgBeat", MSG_PROP: "MsgProp", MSG_APP: "MsgApp",
    MSG_APP_RESP: "MsgAppResp", MSG_VOTE: "MsgVote", MSG_VOTE_RESP: "MsgVoteResp",
    MSG_SNAP: "MsgSnap", MSG_HEARTBEAT: "MsgHeartbeat", MSG_HEARTBEAT_RESP: "MsgHeartbeatResp",
    MSG_UNREACHABLE: "MsgUnreachable", MSG_SNAP_STATUS: "MsgSnapStatus",
    MSG_CHECK_QUORUM: "MsgCheckQuorum", MSG_TRANSFER_LEADER: "MsgTransferLeader",
    MSG_TIMEOUT_NOW: "MsgTimeoutNow", MSG_READ_INDEX: "MsgReadIndex",
    MSG_READ_INDEX_RESP: "MsgReadIndexResp", MSG_PRE_VOTE: "MsgPreVote",
    MSG_PRE_VOTE_RESP: "MsgPreVoteResp",
}
ROLE_NAMES = {ROLE_FOLLOWER: "follower", ROLE_PRE_CANDIDATE: "pre-candidate",
              ROLE_CANDIDATE: "candidate", ROLE_LEADER: "leader"}
CONF_CHANGE_NAMES = {CONF_CHANGE_ADD_NODE: "add-node", CONF_CHANGE_REMOVE_NODE: "remove-node",
                     CONF_CHANGE_ADD_LEARNER_NODE: "add-learner"}
PROGRESS_NAMES = {PROGRESS_PROBE: "probe", PROGRESS_REPLICATE: "replicate",
                  PROGRESS_SNAPSHOT: "snapshot"}
DROP_REASONS = {
    DROPPED_NO_LEADER: "no leader is known",
    DROPPED_TRANSFERRING: "leadership transfer in progress",
    DROPPED_CONF_PENDING: "a configuration change is still pending",
    DROPPED_NOT_MEMBER: "this node is not a member any more",
    DROPPED_INVALID_CONF_CHANGE: "the configuration change would leave no voter",
    DROPPED_EMPTY: "empty proposal",
}
CAMPAIGN_TRANSFER_CONTEXT = b"CampaignTransfer"


class RaftError(Exception):
    pass


class ProposalDropped(RaftError):
    pass


class StorageError(RaftError):
    pass


class CompactedError(StorageError):
    pass


class UnavailableError(StorageError):
    pass


class SnapshotOutOfDateError(StorageError):
    pass


def _short_bytes(data: bytes) -> str:
    return repr(data)[1:]


# --- types -------------------------------------------------------------------------------------

class Entry:
    __slots__ = ("term", "index", "data", "type")

    def __init__(self, term, index, data=b"", type=ENTRY_NORMAL):
        self.term, self.index, self.data, self.type = term, index, data, type

    def __eq__(self, other):
        return (isinstance(other, Entry) and (self.term, self.index, self.type, self.data)
                == (other.term, other.index, other.type, other.data))

    def __hash__(self):
        return hash((self.term, self.index, self.type, self.data))

    def describe(self):
        text = "%d/%d" % (self.term, self.index)
        if self.type == ENTRY_CONF_CHANGE:
            return "%s conf(%s)" % (text, ConfChange.decode(self.data).describe())
        if self.data:
            return "%s %s" % (text, _short_bytes(self.data))
        return text

    def __repr__(self):
        return "Entry(%s)" % self.describe()


class HardState:
    __slots__ = ("term", "vote", "commit")

    def __init__(self, term=0, vote=0, commit=0):
        self.term, self.vote, self.commit = term, vote, commit

    def __eq__(self, other):
        return isinstance(other, HardState) and (self.term, self.vote, self.commit) == (
            other.term, other.vote, other.commit)

    def __repr__(self):
        return "HardState(term=%d, vote=%d, commit=%d)" % (self.term, self.vote, self.commit)


class SoftState:
    __slots__ = ("lead", "role")

    def __init__(self, lead=0, role=ROLE_FOLLOWER):
        self.lead, self.role = lead, role


class ConfState:
    __slots__ = ("voters", "learners")

    def __init__(self, voters=(), learners=()):
        self.voters = tuple(sorted(voters))
        self.learners = tuple(sorted(learners))

    def __eq__(self, other):
        return isinstance(other, ConfState) and (self.voters, self.learners) == (
            other.voters, other.learners)

    def __hash__(self):
        return hash((self.voters, self.learners))

    def __repr__(self):
        return "ConfState(voters=%r, learners=%r)" % (self.voters, self.learners)


EMPTY_CONF_STATE = ConfState()


class Snapshot:
    __slots__ = ("index", "term", "conf_state", "data")

    def __init__(self, index=0, term=0, conf_state=None, data=b""):
        self.index, self.term, self.data = index, term, data
        self.conf_state = conf_state if conf_state is not None else EMPTY_CONF_STATE


EMPTY_SNAPSHOT = Snapshot()


class ConfChange:
    __slots__ = ("type", "node_id", "context")

    def __init__(self, type, node_id, context=b""):
        if type not in CONF_CHANGE_NAMES:
            raise ValueError("unknown conf change type %r" % type)
        if node_id <= 0:
            raise ValueError("node ids are positive, got %d" % node_id)
        self.type, self.node_id, self.context = type, node_id, context

    def encode(self):
        return bytes((self.type,)) + self.node_id.to_bytes(8, "big") + self.context

    @staticmethod
    def decode(data):
        if len(data) < 9:
            raise ValueError("conf change payload too short: %d bytes" % len(data))
        return ConfChange(data[0], int.from_bytes(data[1:9], "big"), data[9:])

    def describe(self):
        return "%s %d" % (CONF_CHANGE_NAMES[self.type], self.node_id)


class ReadState:
    __slots__ = ("index", "ctx")

    def __init__(self, index, ctx):
        self.index, self.ctx = index, ctx


class Message:
    __slots__ = ("type", "to", "from_", "term", "log_term", "index", "commit", "reject",
                 "reject_hint", "entries", "snapshot", "context")

    def __init__(self, type, to=0, from_=0, term=0, log_term=0, index=0, commit=0,
                 entries=None, reject=False, reject_hint=0, snapshot=None, context=b""):
        self.type, self.to, self.from_, self.term = type, to, from_, term
        self.log_term, self.index, self.commit = log_term, index, commit
        self.entries = list(entries) if entries is not None else []
        self.reject, self.reject_hint = reject, reject_hint
        self.snapshot, self.context = snapshot, context

    def copy(self):
        m = Message(self.type, self.to, self.from_, self.term, self.log_term, self.index,
                    self.commit, self.entries, self.reject, self.reject_hint, self.snapshot,
                    self.context)
        return m

    def describe(self):
        parts = ["%d->%d %s term=%d" % (self.from_, self.to,
                                        MESSAGE_NAMES.get(self.type, str(self.type)), self.term)]
        t = self.type
        if t in (MSG_APP, MSG_VOTE, MSG_PRE_VOTE):
            parts.append("log=%d/%d" % (self.log_term, self.index))
        elif self.index or t in (MSG_APP_RESP, MSG_READ_INDEX_RESP):
            parts.append("index=%d" % self.index)
        if t in (MSG_APP, MSG_HEARTBEAT) or self.commit:
            parts.append("commit=%d" % self.commit)
        if self.reject:
            if t == MSG_APP_RESP:
                parts.append("rejected hint=%d/%d" % (self.log_term, self.reject_hint))
            else:
                parts.append("rejected")
        if self.context:
            parts.append("ctx=%s" % _short_bytes(self.context))
        if self.entries:
            parts.append("[%s]" % ", ".join(e.describe() for e in self.entries))
        if self.snapshot is not None:
            parts.append("snapshot=%d/%d voters=%r learners=%r" % (
                self.snapshot.term, self.snapshot.index, self.snapshot.conf_state.voters,
                self.snapshot.conf_state.learners))
        return " ".join(parts)


def new_message(type, to, term):
    return Message(type, to, 0, term)


# --- storage -----------------------------------------------------------------------------------

class MemoryStorage:
    def __init__(self):
        self._hard_state = HardState()
        self._snapshot = EMPTY_SNAPSHOT
        self._entries = [Entry(0, 0)]

    def c_first_index(self):
        return self._entries[0].index + 1

    def c_last_index(self):
        return self._entries[0].index + len(self._entries) - 1

    def c_term(self, index):
        offset = self._entries[0].index
        if index < offset:
            return TERM_COMPACTED
        if index - offset >= len(self._entries):
            return TERM_UNAVAILABLE
        return self._entries[index - offset].term

    def c_slice(self, lo, hi, max_size):
        offset = self._entries[0].index
        start, stop = lo - offset, hi - offset
        if max_size < 0 or stop - start <= 1:
            return self._entries[start:stop]
        size = len(self._entries[start].data)
        i = start + 1
        while i < stop:
            size += len(self._entries[i].data)
            if size > max_size:
                break
            i += 1
        return self._entries[start:i]

    @property
    def hard_state(self):
        return self._hard_state

    def initial_state(self):
        return self._hard_state, self._snapshot.conf_state

    def set_hard_state(self, hard_state):
        self._hard_state = hard_state

    def first_index(self):
        return self.c_first_index()

    def last_index(self):
        return self.c_last_index()

    def term(self, index):
        t = self.c_term(index)
        if t == TERM_COMPACTED:
            raise CompactedError("index %d is compacted" % index)
        if t == TERM_UNAVAILABLE:
            raise UnavailableError("index %d is beyond the last index" % index)
        return t

    def entries(self, lo, hi, max_size=None):
        if lo < self.c_first_index():
            raise CompactedError("index %d is compacted" % lo)
        if hi > self.c_last_index() + 1:
            raise UnavailableError("index %d is beyond the last index" % (hi - 1))
        if hi <= lo:
            return []
        return self.c_slice(lo, hi, -1 if max_size is None else max_size)

    def snapshot(self):
        return self._snapshot

    def append(self, entries):
        ents = list(entries)
        if not ents:
            return
        first = self.c_first_index()
        if ents[-1].index < first:
            return
        start = ents[0].index
        if start < first:
            ents = ents[first - start:]
            start = first
        keep = start - self._entries[0].index
        if keep > len(self._entries):
            raise UnavailableError("missing log entry at %d" % start)
        del self._entries[keep:]
        self._entries.extend(ents)

    def apply_snapshot(self, snapshot):
        if snapshot.index <= self._snapshot.index:
            raise SnapshotOutOfDateError("snapshot is not newer")
        self._snapshot = snapshot
        self._entries = [Entry(snapshot.term, snapshot.index)]

    def create_snapshot(self, index, conf_state, data):
        if index <= self._snapshot.index:
            raise SnapshotOutOfDateError("snapshot is not newer")
        if index > self.c_last_index():
            raise UnavailableError("snapshot index beyond the last index")
        self._snapshot = Snapshot(index, self.c_term(index), conf_state, data)
        return self._snapshot

    def compact(self, index):
        offset = self._entries[0].index
        if index <= offset:
            raise CompactedError("index %d is already compacted" % index)
        if index > self._snapshot.index:
            raise UnavailableError("compact index beyond the snapshot")
        at = self._entries[index - offset]
        self._entries = [Entry(at.term, at.index)] + self._entries[index - offset + 1:]


# --- log ---------------------------------------------------------------------------------------

class RaftLog:
    def __init__(self, storage):
        self.storage = storage
        self.unstable_snapshot = None
        self.unstable_entries = []
        self.unstable_offset = storage.c_last_index() + 1
        self.committed = storage._hard_state.commit
        self.applied = max(storage.c_first_index() - 1, storage._snapshot.index)
        if self.committed < self.applied:
            self.committed = self.applied

    def first_index(self):
        if self.unstable_snapshot is not None:
            return self.unstable_snapshot.index + 1
        return self.storage.c_first_index()

    def last_index(self):
        n = len(self.unstable_entries)
        if n:
            return self.unstable_offset + n - 1
        if self.unstable_snapshot is not None:
            return self.unstable_snapshot.index
        return self.storage.c_last_index()

    def last_term(self):
        return self.term_at(self.last_index())

    def term_at(self, index):
        n = len(self.unstable_entries)
        if n and index >= self.unstable_offset:
            if index - self.unstable_offset < n:
                return self.unstable_entries[index - self.unstable_offset].term
            return TERM_UNAVAILABLE
        if self.unstable_snapshot is not None:
            if index == self.unstable_snapshot.index:
                return self.unstable_snapshot.term
            if index < self.unstable_snapshot.index:
                return TERM_COMPACTED
            return TERM_UNAVAILABLE
        return self.storage.c_term(index)

    def match_term(self, index, term):
        return term >= 0 and self.term_at(index) == term

    def is_up_to_date(self, last_index, last_term):
        my_term = self.last_term()
        return last_term > my_term or (last_term == my_term and last_index >= self.last_index())

    def find_conflict(self, entries):
        for e in entries:
            if not self.match_term(e.index, e.term):
                return e.index
        return 0

    def find_conflict_by_term(self, index, term):
        while index > 0:
            if self.term_at(index) <= term:
                return index
            index -= 1
        return 0

    def maybe_append(self, index, log_term, committed, entries):
        if not self.match_term(index, log_term):
            return -1
        last_new = index + len(entries)
        conflict = self.find_conflict(entries)
        if conflict:
            if conflict <= self.committed:
                raise AssertionError("entry %d conflicts with committed entry" % conflict)
            self.append(entries[conflict - index - 1:])
        self.commit_to(min(committed, last_new))
        return last_new

    def append(self, entries):
        if not entries:
            return
        after = entries[0].index
        if after - 1 < self.committed:
            raise AssertionError("append at %d would overwrite committed %d"
                                 % (after, self.committed))
        n = len(self.unstable_entries)
        if after == self.unstable_offset + n:
            self.unstable_entries.extend(entries)
        elif after <= self.unstable_offset:
            self.unstable_offset = after
            self.unstable_entries = list(entries)
        else:
            self.unstable_entries = self.unstable_entries[:after - self.unstable_offset]
            self.unstable_entries.extend(entries)

    def slice(self, lo, hi, max_size):
        size = 0
        if lo < self.unstable_offset:
            out = self.storage.c_slice(lo, min(hi, self.unstable_offset), max_size)
            if hi <= self.unstable_offset or len(out) < min(hi, self.unstable_offset) - lo:
                return out
        else:
            out = []
        if max_size >= 0:
            for e in out:
                size += len(e.data)
        i = max(lo, self.unstable_offset) - self.unstable_offset
        n = hi - self.unstable_offset
        while i < n:
            e = self.unstable_entries[i]
            size += len(e.data)
            if max_size >= 0 and out and size > max_size:
                break
            out.append(e)
            i += 1
        return out

    def commit_to(self, index):
        if index > self.committed:
            if index > self.last_index():
                raise AssertionError("commit %d is out of range [last index %d]"
                                     % (index, self.last_index()))
            self.committed = index

    def maybe_commit(self, index, term):
        if index > self.committed and self.term_at(index) == term:
            self.commit_to(index)
            return True
        return False

    def restore(self, snapshot):
        self.committed = snapshot.index
        self.unstable_snapshot = snapshot
        self.unstable_entries = []
        self.unstable_offset = snapshot.index + 1

    def has_committed_to_apply(self):
        return self.committed > self.applied and self.committed >= self.first_index()

    def committed_to_apply(self):
        lo = max(self.applied + 1, self.first_index())
        if self.committed < lo:
            return []
        return self.slice(lo, self.committed + 1, -1)

    def stable_to(self, index, term):
        n = len(self.unstable_entries)
        if n == 0 or index < self.unstable_offset or index >= self.unstable_offset + n:
            return
        if self.unstable_entries[index - self.unstable_offset].term != term:
            return
        del self.unstable_entries[:index + 1 - self.unstable_offset]
        self.unstable_offset = index + 1

    def stable_snapshot_to(self, index):
        if self.unstable_snapshot is not None and self.unstable_snapshot.index == index:
            self.unstable_snapshot = None

    def applied_to(self, index):
        if index > self.applied:
            self.applied = index


# --- progress ----------------------------------------------------------------------------------

class Inflights:
    def __init__(self, capacity):
        self.buffer = [0] * capacity
        self.capacity = capacity
        self.start = 0
        self.count = 0

    def add(self, last_index):
        if self.count == self.capacity:
            self.start = (self.start + 1) % self.capacity
            self.count -= 1
        self.buffer[(self.start + self.count) % self.capacity] = last_index
        self.count += 1

    def free_le(self, index):
        while self.count > 0 and self.buffer[self.start] <= index:
            self.start = (self.start + 1) % self.capacity
            self.count -= 1
        if self.count == 0:
            self.start = 0

    def full(self):
        return self.count == self.capacity

    def reset(self):
        self.start = 0
        self.count = 0


class Progress:
    def __init__(self, match, next, max_inflight, is_learner):
        self.match = match
        self.next = next
        self.state = PROGRESS_PROBE
        self.pending_snapshot = 0
        self.sent_commit = 0
        self.recent_active = False
        self.probe_sent = False
        self.is_learner = is_learner
        self.inflights = Inflights(max_inflight)

    def reset_state(self, state):
        self.probe_sent = False
        self.pending_snapshot = 0
        self.state = state
        self.inflights.reset()

    def become_probe(self):
        if self.state == PROGRESS_SNAPSHOT:
            pending = self.pending_snapshot
            self.reset_state(PROGRESS_PROBE)
            self.next = max(self.match + 1, pending + 1)
        else:
            self.reset_state(PROGRESS_PROBE)
            self.next = self.match + 1

    def become_replicate(self):
        self.reset_state(PROGRESS_REPLICATE)
        self.next = self.match + 1

    def become_snapshot(self, snapshot_index):
        self.reset_state(PROGRESS_SNAPSHOT)
        self.pending_snapshot = snapshot_index

    def maybe_update(self, index):
        updated = False
        if index > self.match:
            self.match = index
            updated = True
            self.probe_sent = False
        if self.next < index + 1:
            self.next = index + 1
        return updated

    def maybe_decr_to(self, rejected, match_hint):
        if self.state == PROGRESS_REPLICATE:
            if rejected <= self.match:
                return False
            self.next = self.match + 1
            return True
        if self.next - 1 != rejected:
            return False
        self.next = max(min(rejected, match_hint + 1), 1)
        if self.next < self.match + 1:
            self.next = self.match + 1
        self.probe_sent = False
        return True

    def sent_entries(self, last_index):
        if self.state == PROGRESS_REPLICATE:
            self.next = last_index + 1
            self.inflights.add(last_index)
        elif self.state == PROGRESS_PROBE:
            self.probe_sent = True

    def is_paused(self):
        if self.state == PROGRESS_PROBE:
            return self.probe_sent
        if self.state == PROGRESS_REPLICATE:
            return self.inflights.full()
        return True

    def as_dict(self):
        return {"match": self.match, "next": self.next, "state": PROGRESS_NAMES[self.state],
                "pending_snapshot": self.pending_snapshot, "recent_active": self.recent_active,
                "inflight": self.inflights.count, "is_learner": self.is_learner}


# --- ReadIndex ---------------------------------------------------------------------------------

class PendingRead:
    __slots__ = ("seq", "index", "from_", "ctx")

    def __init__(self, seq, index, from_, ctx):
        self.seq, self.index, self.from_, self.ctx = seq, index, from_, ctx


class ReadOnly:
    def __init__(self):
        self.pending = []
        self.acks = {}
        self.last_seq = 0

    def add_request(self, index, from_, ctx):
        self.last_seq += 1
        self.pending.append(PendingRead(self.last_seq, index, from_, ctx))
        return self.last_seq

    def recv_ack(self, voter, seq):
        if seq > self.acks.get(voter, 0):
            self.acks[voter] = seq

    def pop_confirmed(self, voters, self_id):
        if not self.pending:
            return []
        seqs = sorted((self.last_seq if v == self_id else self.acks.get(v, 0) for v in voters),
                      reverse=True)
        quorum_seq = seqs[len(voters) // 2]
        n = 0
        while n < len(self.pending) and self.pending[n].seq <= quorum_seq:
            n += 1
        done = self.pending[:n]
        del self.pending[:n]
        return done

    def reset(self):
        self.pending = []
        self.acks = {}


# --- Ready -------------------------------------------------------------------------------------

class Ready:
    __slots__ = ("soft_state", "hard_state", "entries", "snapshot", "committed_entries",
                 "messages", "read_states", "must_sync")


# --- the node ----------------------------------------------------------------------------------

class RaftNode:
    def __init__(self, id, peers=(), *, election_tick=10, heartbeat_tick=1, pre_vote=True,
                 check_quorum=True, max_inflight=256, max_size_per_msg=1 << 20, learners=(),
                 storage=None, seed=0, applied=0):
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
        if storage is None:
            storage = MemoryStorage()
        if applied and applied > max(storage._hard_state.commit, storage._snapshot.index):
            raise ValueError("applied is beyond the persisted commit index")
        self.id = id
        self.election_timeout = election_tick
        self.heartbeat_timeout = heartbeat_tick
        self.pre_vote = pre_vote
        self.check_quorum = check_quorum
        self.max_inflight = max_inflight
        self.max_size_per_msg = max_size_per_msg
        self.rng_state = (seed * 0x9E3779B97F4A7C15 + id) & MASK64
        self.log = RaftLog(storage)
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
        self.lead = NO_NODE
        self.role = ROLE_FOLLOWER
        self.lead_transferee = NO_NODE
        self.pending_conf_index = 0
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.randomized_election_timeout = 0
        hs = storage._hard_state
        cs = storage._snapshot.conf_state
        fresh = storage.c_last_index() == 0 and hs.term == 0 and storage._snapshot.index == 0
        if fresh and (voter_ids or learner_ids):
            bootstrap = [ConfChange(CONF_CHANGE_ADD_NODE, p).encode() for p in voter_ids]
            bootstrap += [ConfChange(CONF_CHANGE_ADD_LEARNER_NODE, p).encode()
                          for p in learner_ids]
            self.become_follower(1, NO_NODE)
            self.log.append([Entry(1, i + 1, data, ENTRY_CONF_CHANGE)
                             for i, data in enumerate(bootstrap)])
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
        self.ready_entries_index = self.ready_entries_term = 0
        self.ready_snapshot_index = self.ready_applied_index = 0

    # helpers

    def quorum(self):
        return len(self._voters) // 2 + 1

    def promotable(self):
        return self.id in self._voters

    def next_random(self):
        self.rng_state = (self.rng_state + 0x9E3779B97F4A7C15) & MASK64
        z = self.rng_state
        z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & MASK64
        z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & MASK64
        return z ^ (z >> 31)

    def reset_randomized_election_timeout(self):
        self.randomized_election_timeout = (self.election_timeout
                                            + self.next_random() % self.election_timeout)

    def send(self, m):
        if m.from_ == NO_NODE:
            m.from_ = self.id
        if m.type in (MSG_VOTE, MSG_VOTE_RESP, MSG_PRE_VOTE, MSG_PRE_VOTE_RESP):
            if m.term == 0:
                raise AssertionError("vote message without a term")
        elif m.type != MSG_PROP and m.type != MSG_READ_INDEX:
            m.term = self.term
        self.msgs.append(m)

    # role transitions

    def reset(self, term):
        if self.term != term:
            self.term = term
            self.vote = NO_NODE
        self.lead = NO_NODE
        self.election_elapsed = 0
        self.heartbeat_elapsed = 0
        self.reset_randomized_election_timeout()
        self.lead_transferee = NO_NODE
        self.votes = {}
        for pid in list(self.progress):
            self.reset_progress(pid, self.progress[pid].is_learner)
        self.pending_conf_index = 0
        self.read_only.reset()
        self.pending_read_index = []

    def reset_progress(self, id, is_learner):
        last = self.log.last_index()
        pr = Progress(0, last + 1, self.max_inflight, is_learner)
        if id == self.id:
            pr.match = last
            pr.recent_active = True
        self.progress[id] = pr

    def become_follower(self, term, lead):
        self.step_fn = step_follower
        self.tick_fn = tick_election
        self.reset(term)
        self.lead = lead
        self.role = ROLE_FOLLOWER

    def become_pre_candidate(self):
        self.step_fn = step_candidate
        self.tick_fn = tick_election
        self.votes = {}
        self.lead = NO_NODE
        self.role = ROLE_PRE_CANDIDATE

    def become_candidate(self):
        self.step_fn = step_candidate
        self.tick_fn = tick_election
        self.reset(self.term + 1)
        self.vote = self.id
        self.role = ROLE_CANDIDATE

    def become_leader(self):
        self.step_fn = step_leader
        self.tick_fn = tick_heartbeat
        self.reset(self.term)
        self.lead = self.id
        self.role = ROLE_LEADER
        pr = self.progress.get(self.id)
        if pr is not None:
            pr.become_replicate()
            pr.recent_active = True
        self.pending_conf_index = self.log.last_index()
        self.append_entries_as_leader([Entry(0, 0)])

    # elections

    def has_unapplied_conf_change(self):
        if self.log.committed <= self.log.applied:
            return False
        lo = max(self.log.applied + 1, self.log.first_index())
        return any(e.type == ENTRY_CONF_CHANGE
                   for e in self.log.slice(lo, self.log.committed + 1, -1))

    def hup(self, campaign_type):
        if self.role == ROLE_LEADER or not self.promotable():
            return STEP_OK
        if self.has_unapplied_conf_change():
            return STEP_OK
        return self.run_campaign(campaign_type)

    def run_campaign(self, campaign_type):
        if campaign_type == CAMPAIGN_PRE_ELECTION:
            self.become_pre_candidate()
            vote_type, term = MSG_PRE_VOTE, self.term + 1
        else:
            self.become_candidate()
            vote_type, term = MSG_VOTE, self.term
        if self.poll(self.id, True) == VOTE_WON:
            if campaign_type == CAMPAIGN_PRE_ELECTION:
                return self.run_campaign(CAMPAIGN_ELECTION)
            self.become_leader()
            return STEP_OK
        for pid in self._voters:
            if pid == self.id:
                continue
            m = new_message(vote_type, pid, term)
            m.index = self.log.last_index()
            m.log_term = self.log.last_term()
            if campaign_type == CAMPAIGN_TRANSFER:
                m.context = CAMPAIGN_TRANSFER_CONTEXT
            self.send(m)
        return STEP_OK

    def poll(self, voter, granted):
        if voter not in self.votes:
            self.votes[voter] = granted
        yes = no = 0
        for pid in self._voters:
            v = self.votes.get(pid)
            if v is None:
                continue
            if v:
                yes += 1
            else:
                no += 1
        q = self.quorum()
        if yes >= q:
            return VOTE_WON
        if len(self._voters) - no < q:
            return VOTE_LOST
        return VOTE_PENDING

    # replication

    def append_entries_as_leader(self, entries):
        last = self.log.last_index()
        stamped = [Entry(self.term, last + i + 1, e.data, e.type) for i, e in enumerate(entries)]
        self.log.append(stamped)
        pr = self.progress.get(self.id)
        if pr is not None:
            pr.maybe_update(last + len(stamped))
        self.maybe_commit()

    def maybe_commit(self):
        n = len(self._voters)
        if n == 0:
            return False
        matches = sorted((self.progress[p].match if p in self.progress else 0
                          for p in self._voters), reverse=True)
        if self.log.maybe_commit(matches[self.quorum() - 1], self.term):
            self.release_pending_read_index()
            return True
        return False

    def maybe_send_append(self, to, send_if_empty):
        pr = self.progress.get(to)
        if pr is None or pr.is_paused():
            return False
        last = self.log.last_index()
        prev_index = pr.next - 1
        prev_term = self.log.term_at(prev_index)
        if prev_term < 0 or pr.next < self.log.first_index():
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
        ents = self.log.slice(pr.next, last + 1, self.max_size_per_msg) if pr.next <= last else []
        if not ents and not send_if_empty:
            return False
        m = new_message(MSG_APP, to, 0)
        m.index = prev_index
        m.log_term = prev_term
        m.entries = ents
        m.commit = self.log.committed
        self.send(m)
        if ents:
            last_sent = ents[-1].index
            pr.sent_commit = max(pr.sent_commit, min(m.commit, last_sent))
            pr.sent_entries(last_sent)
        else:
            pr.sent_commit = max(pr.sent_commit, min(m.commit, prev_index))
            if pr.state == PROGRESS_PROBE:
                pr.probe_sent = True
        return True

    def send_empty_append(self, to, pr):
        prev_term = self.log.term_at(pr.next - 1)
        if prev_term < 0:
            pr.become_probe()
            self.maybe_send_append(to, True)
            return
        m = new_message(MSG_APP, to, 0)
        m.index = pr.next - 1
        m.log_term = prev_term
        m.commit = self.log.committed
        self.send(m)

    def bcast_append(self):
        for pid in self.progress:
            if pid != self.id:
                self.maybe_send_append(pid, True)

    def bcast_heartbeat(self):
        read_seq = self.read_only.last_seq if self.read_only.pending else 0
        for pid in self.progress:
            if pid != self.id:
                self.send_heartbeat(pid, read_seq)
        return STEP_OK

    def send_heartbeat(self, to, read_seq):
        pr = self.progress[to]
        m = new_message(MSG_HEARTBEAT, to, 0)
        m.commit = min(pr.match, self.log.committed)
        pr.sent_commit = max(pr.sent_commit, m.commit)
        m.index = read_seq
        self.send(m)

    # follower side

    def handle_append_entries(self, m):
        resp = new_message(MSG_APP_RESP, m.from_, 0)
        if m.index < self.log.committed:
            resp.index = self.log.committed
            return self.send(resp)
        last_new = self.log.maybe_append(m.index, m.log_term, m.commit, m.entries)
        if last_new >= 0:
            resp.index = last_new
            return self.send(resp)
        hint = self.log.find_conflict_by_term(min(m.index, self.log.last_index()), m.log_term)
        resp.index = m.index
        resp.reject = True
        resp.reject_hint = hint
        resp.log_term = max(self.log.term_at(hint), 0)
        self.send(resp)

    def handle_heartbeat(self, m):
        self.log.commit_to(m.commit)
        resp = new_message(MSG_HEARTBEAT_RESP, m.from_, 0)
        resp.index = m.index
        self.send(resp)

    def handle_snapshot(self, m):
        resp = new_message(MSG_APP_RESP, m.from_, 0)
        if m.snapshot is not None and self.restore(m.snapshot):
            resp.index = self.log.last_index()
        else:
            resp.index = self.log.committed
        self.send(resp)

    def restore(self, snapshot):
        if snapshot.index <= self.log.committed:
            return False
        if self.log.match_term(snapshot.index, snapshot.term):
            self.log.commit_to(snapshot.index)
            return False
        self.log.restore(snapshot)
        self.apply_conf_state(snapshot.conf_state.voters, snapshot.conf_state.learners)
        return True

    # ReadIndex

    def committed_entry_in_current_term(self):
        return self.log.term_at(self.log.committed) == self.term

    def handle_read_index(self, m):
        if len(self._voters) == 1 and self.promotable():
            return self.respond_read_index(m.from_, self.log.committed, m.context)
        if not self.committed_entry_in_current_term():
            self.pending_read_index.append(m)
            return STEP_OK
        self.read_only.add_request(self.log.committed, m.from_, m.context)
        return self.bcast_heartbeat()

    def respond_read_index(self, to, index, ctx):
        if to == NO_NODE or to == self.id:
            self.pending_read_states.append(ReadState(index, ctx))
            return STEP_OK
        m = new_message(MSG_READ_INDEX_RESP, to, 0)
        m.index = index
        m.context = ctx
        self.send(m)
        return STEP_OK

    def release_pending_read_index(self):
        if not self.pending_read_index or not self.committed_entry_in_current_term():
            return
        waiting, self.pending_read_index = self.pending_read_index, []
        for m in waiting:
            self.read_only.add_request(self.log.committed, m.from_, m.context)
        self.bcast_heartbeat()

    # membership

    def apply_conf_state(self, voters, learners):
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
                self.progress[pid].recent_active = True
            else:
                pr.is_learner = pid in self._learners

    # public face

    def tick(self):
        self.tick_fn(self)

    def campaign(self):
        m = new_message(MSG_HUP, self.id, 0)
        m.from_ = self.id
        self.step_message(m)

    def step(self, m):
        if m.type in (MSG_HUP, MSG_BEAT, MSG_CHECK_QUORUM, MSG_UNREACHABLE, MSG_SNAP_STATUS):
            raise ValueError("local message type")
        self.step_message(m)

    def propose_entries(self, entries):
        m = new_message(MSG_PROP, self.id, 0)
        m.from_ = self.id
        m.entries = entries
        result = self.step_message(m)
        if result != STEP_OK:
            raise ProposalDropped(DROP_REASONS[result])

    def propose(self, data):
        self.propose_entries([Entry(0, 0, data)])

    def propose_batch(self, datas):
        entries = [Entry(0, 0, d) for d in datas]
        if entries:
            self.propose_entries(entries)

    def propose_conf_change(self, cc):
        self.propose_entries([Entry(0, 0, cc.encode(), ENTRY_CONF_CHANGE)])

    def read_index(self, ctx):
        m = new_message(MSG_READ_INDEX, self.id, 0)
        m.from_ = self.id
        m.context = ctx
        result = self.step_message(m)
        if result != STEP_OK:
            raise ProposalDropped(DROP_REASONS[result])

    def transfer_leader(self, to):
        m = new_message(MSG_TRANSFER_LEADER, self.id, 0)
        m.from_ = to
        self.step_message(m)

    def report_unreachable(self, id):
        m = new_message(MSG_UNREACHABLE, self.id, 0)
        m.from_ = id
        self.step_message(m)

    def report_snapshot(self, id, failed):
        m = new_message(MSG_SNAP_STATUS, self.id, 0)
        m.from_ = id
        m.reject = failed
        self.step_message(m)

    def apply_conf_change(self, cc):
        voters, learners = set(self._voters), set(self._learners)
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
                self.become_follower(self.term, NO_NODE)
            else:
                if self.lead_transferee != NO_NODE and self.lead_transferee not in voters:
                    self.lead_transferee = NO_NODE
                if self.maybe_commit():
                    self.bcast_append()
                for pid in self.progress:
                    if pid not in known:
                        self.maybe_send_append(pid, True)
        return ConfState(self._voters, self._learners)

    def has_ready(self):
        if self.awaiting_advance:
            return False
        if self.msgs or self.pending_read_states:
            return True
        if self.log.unstable_entries or self.log.unstable_snapshot is not None:
            return True
        if self.log.has_committed_to_apply():
            return True
        prev = self.prev_hard_state
        if prev.term != self.term or prev.vote != self.vote or prev.commit != self.log.committed:
            return True
        return self.prev_lead != self.lead or self.prev_role != self.role

    def ready(self):
        if self.awaiting_advance:
            raise RuntimeError("advance() must follow the previous ready()")
        rd = Ready()
        hs = HardState(self.term, self.vote, self.log.committed)
        prev = self.prev_hard_state
        rd.entries = list(self.log.unstable_entries)
        rd.snapshot = self.log.unstable_snapshot
        rd.committed_entries = self.log.committed_to_apply()
        rd.messages, self.msgs = self.msgs, []
        rd.read_states, self.pending_read_states = self.pending_read_states, []
        changed = hs.term != prev.term or hs.vote != prev.vote or hs.commit != prev.commit
        rd.hard_state = hs if changed else None
        rd.must_sync = (bool(rd.entries) or rd.snapshot is not None
                        or hs.term != prev.term or hs.vote != prev.vote)
        rd.soft_state = None
        if self.prev_lead != self.lead or self.prev_role != self.role:
            rd.soft_state = SoftState(self.lead, self.role)
            self.prev_lead, self.prev_role = self.lead, self.role
        self.prev_hard_state = hs
        if rd.entries:
            self.ready_entries_index = rd.entries[-1].index
            self.ready_entries_term = rd.entries[-1].term
        else:
            self.ready_entries_index = self.ready_entries_term = 0
        self.ready_snapshot_index = rd.snapshot.index if rd.snapshot is not None else 0
        self.ready_applied_index = (rd.committed_entries[-1].index if rd.committed_entries
                                    else self.ready_snapshot_index)
        self.awaiting_advance = True
        return rd

    def advance(self):
        if not self.awaiting_advance:
            raise RuntimeError("advance() without a ready()")
        if (self.ready_entries_index
                and self.log.storage.c_term(self.ready_entries_index) != self.ready_entries_term
                and self.log.term_at(self.ready_entries_index) == self.ready_entries_term):
            raise RuntimeError("the Ready's entries were not appended to the storage")
        if self.ready_snapshot_index and (
                self.log.storage._snapshot.index < self.ready_snapshot_index):
            raise RuntimeError("the Ready's snapshot was not applied to the storage")
        if self.ready_snapshot_index:
            self.log.stable_snapshot_to(self.ready_snapshot_index)
        if self.ready_entries_index:
            self.log.stable_to(self.ready_entries_index, self.ready_entries_term)
        if self.ready_applied_index:
            self.log.applied_to(self.ready_applied_index)
        self.awaiting_advance = False

    # introspection

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

    def last_index(self):
        return self.log.last_index()

    def first_index(self):
        return self.log.first_index()

    def term_at(self, index):
        t = self.log.term_at(index)
        return None if t < 0 else t

    def entries(self, lo, hi):
        lo = max(lo, self.log.first_index())
        hi = min(hi, self.log.last_index() + 1)
        return [] if hi <= lo else self.log.slice(lo, hi, -1)

    def progress_of(self, id):
        pr = self.progress.get(id)
        return None if pr is None else pr.as_dict()

    def __repr__(self):
        return "RaftNode(id=%d, term=%d, role=%s, lead=%d, commit=%d, last=%d)" % (
            self.id, self.term, ROLE_NAMES[self.role], self.lead, self.log.committed,
            self.log.last_index())

    # the shared part of step

    def step_message(self, m):
        if m.term == 0:
            pass
        elif m.term > self.term:
            if m.type == MSG_VOTE or m.type == MSG_PRE_VOTE:
                force = m.context == CAMPAIGN_TRANSFER_CONTEXT
                in_lease = (self.check_quorum and self.lead != NO_NODE
                            and self.election_elapsed < self.election_timeout)
                if in_lease and not force:
                    return STEP_OK
            if m.type == MSG_PRE_VOTE:
                pass
            elif m.type == MSG_PRE_VOTE_RESP and not m.reject:
                pass
            elif m.type in (MSG_APP, MSG_HEARTBEAT, MSG_SNAP):
                self.become_follower(m.term, m.from_)
            else:
                self.become_follower(m.term, NO_NODE)
        elif m.term < self.term:
            if (self.check_quorum or self.pre_vote) and m.type in (MSG_HEARTBEAT, MSG_APP):
                self.send(new_message(MSG_APP_RESP, m.from_, 0))
            elif m.type == MSG_PRE_VOTE:
                resp = new_message(MSG_PRE_VOTE_RESP, m.from_, self.term)
                resp.reject = True
                self.send(resp)
            return STEP_OK

        if m.type == MSG_HUP:
            return self.hup(CAMPAIGN_PRE_ELECTION if self.pre_vote else CAMPAIGN_ELECTION)
        if m.type == MSG_VOTE or m.type == MSG_PRE_VOTE:
            resp_type = MSG_VOTE_RESP if m.type == MSG_VOTE else MSG_PRE_VOTE_RESP
            can_vote = (self.vote == m.from_
                        or (self.vote == NO_NODE and self.lead == NO_NODE)
                        or (m.type == MSG_PRE_VOTE and m.term > self.term))
            if can_vote and self.log.is_up_to_date(m.index, m.log_term):
                self.send(new_message(resp_type, m.from_, m.term))
                if m.type == MSG_VOTE:
                    self.election_elapsed = 0
                    self.vote = m.from_
            else:
                resp = new_message(resp_type, m.from_, self.term)
                resp.reject = True
                self.send(resp)
            return STEP_OK
        return self.step_fn(self, m) or STEP_OK


def tick_election(r):
    r.election_elapsed += 1
    if r.promotable() and r.election_elapsed >= r.randomized_election_timeout:
        r.election_elapsed = 0
        m = new_message(MSG_HUP, r.id, 0)
        m.from_ = r.id
        r.step_message(m)


def tick_heartbeat(r):
    r.heartbeat_elapsed += 1
    r.election_elapsed += 1
    if r.election_elapsed >= r.election_timeout:
        r.election_elapsed = 0
        if r.check_quorum:
            m = new_message(MSG_CHECK_QUORUM, r.id, 0)
            m.from_ = r.id
            r.step_message(m)
        if r.role == ROLE_LEADER and r.lead_transferee != NO_NODE:
            r.lead_transferee = NO_NODE
    if r.role != ROLE_LEADER:
        return
    if r.heartbeat_elapsed >= r.heartbeat_timeout:
        r.heartbeat_elapsed = 0
        m = new_message(MSG_BEAT, r.id, 0)
        m.from_ = r.id
        r.step_message(m)


def step_leader(r, m):
    t = m.type
    if t == MSG_BEAT:
        return r.bcast_heartbeat()
    if t == MSG_CHECK_QUORUM:
        active = sum(1 for pid in r._voters
                     if pid == r.id or (pid in r.progress and r.progress[pid].recent_active))
        if active < r.quorum():
            r.become_follower(r.term, NO_NODE)
        for pid, pr in r.progress.items():
            if pid != r.id:
                pr.recent_active = False
        return STEP_OK
    if t == MSG_PROP:
        if not m.entries:
            return DROPPED_EMPTY
        if r.id not in r.progress:
            return DROPPED_NOT_MEMBER
        if r.lead_transferee != NO_NODE:
            return DROPPED_TRANSFERRING
        for i, e in enumerate(m.entries, 1):
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

    pr = r.progress.get(m.from_)
    if pr is None:
        return STEP_OK
    if t == MSG_APP_RESP:
        pr.recent_active = True
        if m.reject:
            next_probe = m.reject_hint
            if m.log_term > 0:
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
                r.maybe_send_append(m.from_, True)
            while r.maybe_send_append(m.from_, False):
                pass
            if m.from_ == r.lead_transferee and pr.match == r.log.last_index():
                r.send(new_message(MSG_TIMEOUT_NOW, m.from_, 0))
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
                r.respond_read_index(done.from_, done.index, done.ctx)
        return STEP_OK
    if t == MSG_SNAP_STATUS:
        if pr.state != PROGRESS_SNAPSHOT:
            return STEP_OK
        if m.reject:
            pr.pending_snapshot = 0
        pr.become_probe()
        pr.probe_sent = True
        return STEP_OK
    if t == MSG_UNREACHABLE:
        if pr.state == PROGRESS_REPLICATE:
            pr.become_probe()
        return STEP_OK
    if t == MSG_TRANSFER_LEADER:
        if pr.is_learner or m.from_ == r.id:
            return STEP_OK
        if r.lead_transferee != NO_NODE:
            if r.lead_transferee == m.from_:
                return STEP_OK
            r.lead_transferee = NO_NODE
        r.election_elapsed = 0
        r.lead_transferee = m.from_
        if pr.match == r.log.last_index():
            r.send(new_message(MSG_TIMEOUT_NOW, m.from_, 0))
        else:
            r.maybe_send_append(m.from_, True)
        return STEP_OK
    return STEP_OK


def step_candidate(r, m):
    t = m.type
    my_vote_resp = MSG_PRE_VOTE_RESP if r.role == ROLE_PRE_CANDIDATE else MSG_VOTE_RESP
    if t == MSG_PROP or t == MSG_READ_INDEX:
        return DROPPED_NO_LEADER
    if t == MSG_APP:
        r.become_follower(m.term, m.from_)
        r.handle_append_entries(m)
    elif t == MSG_HEARTBEAT:
        r.become_follower(m.term, m.from_)
        r.handle_heartbeat(m)
    elif t == MSG_SNAP:
        r.become_follower(m.term, m.from_)
        r.handle_snapshot(m)
    elif t == my_vote_resp:
        result = r.poll(m.from_, not m.reject)
        if result == VOTE_WON:
            if r.role == ROLE_PRE_CANDIDATE:
                return r.run_campaign(CAMPAIGN_ELECTION)
            r.become_leader()
            r.bcast_append()
        elif result == VOTE_LOST:
            r.become_follower(r.term, NO_NODE)
    return STEP_OK


def step_follower(r, m):
    t = m.type
    if t in (MSG_PROP, MSG_READ_INDEX, MSG_TRANSFER_LEADER):
        if r.lead == NO_NODE:
            return DROPPED_NO_LEADER
        fwd = m.copy()
        fwd.to = r.lead
        r.send(fwd)
    elif t in (MSG_APP, MSG_HEARTBEAT, MSG_SNAP):
        r.election_elapsed = 0
        r.lead = m.from_
        if t == MSG_APP:
            r.handle_append_entries(m)
        elif t == MSG_HEARTBEAT:
            r.handle_heartbeat(m)
        else:
            r.handle_snapshot(m)
    elif t == MSG_TIMEOUT_NOW:
        return r.hup(CAMPAIGN_TRANSFER)
    elif t == MSG_READ_INDEX_RESP:
        r.pending_read_states.append(ReadState(m.index, m.context))
    return STEP_OK
