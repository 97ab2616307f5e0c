# Plain data of the Raft protocol: entries, states, snapshots, conf changes and messages.
# All are cdef classes with typed fields; entry payloads and contexts are bytes.

class RaftError(Exception):
    """Base of the errors the Raft core raises to its caller."""


class ProposalDropped(RaftError):
    """The proposal was not appended: no known leader, a leader transfer is in progress, or a
    configuration change is still pending. The caller may retry."""


class StorageError(RaftError):
    pass


class CompactedError(StorageError):
    """The requested index is older than the storage's first index (compacted away)."""


class UnavailableError(StorageError):
    """The requested index is newer than the storage's last index."""


class SnapshotOutOfDateError(StorageError):
    """The snapshot is older than the one the storage already holds."""


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

ROLE_NAMES = {
    ROLE_FOLLOWER: "follower", ROLE_PRE_CANDIDATE: "pre-candidate",
    ROLE_CANDIDATE: "candidate", ROLE_LEADER: "leader",
}

CONF_CHANGE_NAMES = {
    CONF_CHANGE_ADD_NODE: "add-node", CONF_CHANGE_REMOVE_NODE: "remove-node",
    CONF_CHANGE_ADD_LEARNER_NODE: "add-learner",
}

PROGRESS_NAMES = {PROGRESS_PROBE: "probe", PROGRESS_REPLICATE: "replicate",
                  PROGRESS_SNAPSHOT: "snapshot"}


def _short_bytes(bytes data):
    """bytes as readable text for transcripts: printable ASCII kept, the rest escaped."""
    return repr(data)[1:]


cdef class Entry:
    """One log entry: `data` at position `index`, created by the leader of `term`.

    Field names match the WAL's Entry(term, index, data); `type` says whether `data` is an
    application command (ENTRY_NORMAL) or an encoded ConfChange (ENTRY_CONF_CHANGE).
    """

    def __init__(self, int64_t term, int64_t index, bytes data=b"", int type=ENTRY_NORMAL):
        self.term = term
        self.index = index
        self.data = data
        self.type = type

    def __eq__(self, other):
        if not isinstance(other, Entry):
            return NotImplemented
        cdef Entry o = <Entry>other
        return (self.term == o.term and self.index == o.index and self.type == o.type
                and self.data == o.data)

    def __hash__(self):
        return hash((self.term, self.index, self.type, self.data))

    def __reduce__(self):
        return (Entry, (self.term, self.index, self.data, self.type))

    def __repr__(self):
        return "Entry(%s)" % self.describe()

    def describe(self):
        """`term/index` plus the payload: `2/5 'put x'`, `2/6 conf(add-node 4)`."""
        text = "%d/%d" % (self.term, self.index)
        if self.type == ENTRY_CONF_CHANGE:
            return "%s conf(%s)" % (text, ConfChange.decode(self.data).describe())
        if self.data:
            return "%s %s" % (text, _short_bytes(self.data))
        return text


cdef Entry new_entry(int64_t term, int64_t index, int type, bytes data):
    cdef Entry e = Entry.__new__(Entry)
    e.term = term
    e.index = index
    e.type = type
    e.data = data
    return e


cdef class HardState:
    """What must be on stable storage before any message leaves: the current term, the vote
    cast in it, and the commit index (persisting commit lets a restart re-apply quickly)."""

    def __init__(self, int64_t term=0, int64_t vote=0, int64_t commit=0):
        self.term = term
        self.vote = vote
        self.commit = commit

    def __eq__(self, other):
        if not isinstance(other, HardState):
            return NotImplemented
        cdef HardState o = <HardState>other
        return self.term == o.term and self.vote == o.vote and self.commit == o.commit

    def __hash__(self):
        return hash((self.term, self.vote, self.commit))

    def __reduce__(self):
        return (HardState, (self.term, self.vote, self.commit))

    def __repr__(self):
        return "HardState(term=%d, vote=%d, commit=%d)" % (self.term, self.vote, self.commit)


cdef class SoftState:
    """Volatile state worth reporting when it changes: who leads, and this node's role."""

    def __init__(self, int64_t lead=0, int role=ROLE_FOLLOWER):
        self.lead = lead
        self.role = role

    def __eq__(self, other):
        if not isinstance(other, SoftState):
            return NotImplemented
        return self.lead == (<SoftState>other).lead and self.role == (<SoftState>other).role

    def __hash__(self):
        return hash((self.lead, self.role))

    def __repr__(self):
        return "SoftState(lead=%d, role=%s)" % (self.lead, ROLE_NAMES[self.role])


cdef class ConfState:
    """The membership: voting members and learners (non-voting, replicated to)."""

    def __init__(self, voters=(), learners=()):
        self.voters = tuple(sorted(voters))
        self.learners = tuple(sorted(learners))

    def __eq__(self, other):
        if not isinstance(other, ConfState):
            return NotImplemented
        return (self.voters == (<ConfState>other).voters
                and self.learners == (<ConfState>other).learners)

    def __hash__(self):
        return hash((self.voters, self.learners))

    def __reduce__(self):
        return (ConfState, (self.voters, self.learners))

    def __repr__(self):
        return "ConfState(voters=%r, learners=%r)" % (self.voters, self.learners)


cdef ConfState EMPTY_CONF_STATE = ConfState()


cdef class Snapshot:
    """The application state as of log position (`index`, `term`), with the membership at that
    point; `data` is opaque to Raft. index == 0 means "no snapshot"."""

    def __init__(self, int64_t index=0, int64_t term=0, ConfState conf_state=None,
                 bytes data=b""):
        self.index = index
        self.term = term
        self.conf_state = conf_state if conf_state is not None else EMPTY_CONF_STATE
        self.data = data

    def __eq__(self, other):
        if not isinstance(other, Snapshot):
            return NotImplemented
        cdef Snapshot o = <Snapshot>other
        return (self.index == o.index and self.term == o.term
                and self.conf_state == o.conf_state and self.data == o.data)

    def __hash__(self):
        return hash((self.index, self.term, self.conf_state, self.data))

    def __reduce__(self):
        return (Snapshot, (self.index, self.term, self.conf_state, self.data))

    def __repr__(self):
        return "Snapshot(index=%d, term=%d, voters=%r, learners=%r, %d bytes)" % (
            self.index, self.term, self.conf_state.voters, self.conf_state.learners,
            len(self.data))


cdef Snapshot EMPTY_SNAPSHOT = Snapshot()


cdef class ConfChange:
    """A single membership change: add a voter, add a learner (or demote a voter to one), or
    remove a node. Carried in the log as an ENTRY_CONF_CHANGE entry (`encode()`), applied by
    the application through RaftNode.apply_conf_change() when that entry is committed."""

    def __init__(self, int type, int64_t node_id, bytes context=b""):
        if type not in CONF_CHANGE_NAMES:
            raise ValueError("unknown conf change type %r" % type)
        if node_id <= 0:
            raise ValueError("node ids are positive, got %d" % node_id)
        self.type = type
        self.node_id = node_id
        self.context = context

    cpdef bytes encode(self):
        # One byte of type, eight of node id (big endian), then the context.
        return bytes((self.type,)) + (<object>self.node_id).to_bytes(8, "big") + self.context

    @staticmethod
    def decode(bytes data):
        if len(data) < 9:
            raise ValueError("conf change payload too short: %d bytes" % len(data))
        return ConfChange(data[0], int.from_bytes(data[1:9], "big"), data[9:])

    def describe(self):
        return "%s %d" % (CONF_CHANGE_NAMES[self.type], self.node_id)

    def __eq__(self, other):
        if not isinstance(other, ConfChange):
            return NotImplemented
        cdef ConfChange o = <ConfChange>other
        return self.type == o.type and self.node_id == o.node_id and self.context == o.context

    def __hash__(self):
        return hash((self.type, self.node_id, self.context))

    def __repr__(self):
        return "ConfChange(%s)" % self.describe()


cdef class ReadState:
    """A linearizable read may be served once the local state machine has applied `index`;
    `ctx` is the caller's request id given to read_index()."""

    def __init__(self, int64_t index, bytes ctx):
        self.index = index
        self.ctx = ctx

    def __eq__(self, other):
        if not isinstance(other, ReadState):
            return NotImplemented
        return self.index == (<ReadState>other).index and self.ctx == (<ReadState>other).ctx

    def __hash__(self):
        return hash((self.index, self.ctx))

    def __repr__(self):
        return "ReadState(index=%d, ctx=%r)" % (self.index, self.ctx)


cdef class Message:
    """One Raft message. Which fields matter depends on `type`:

    - MSG_APP: (`log_term`, `index`) is the entry preceding `entries`; `commit` the leader's.
    - MSG_APP_RESP: `index` is the follower's last matching index; on `reject`, `index` is the
      rejected MsgApp's index and (`reject_hint`, `log_term`) the follower's hint of where
      its log could match.
    - MSG_VOTE / MSG_PRE_VOTE: (`log_term`, `index`) the candidate's last entry; a `context` of
      b"CampaignTransfer" marks an election started by leader transfer.
    - MSG_HEARTBEAT: `commit`; `index` carries the ReadIndex round being confirmed (0 = none),
      echoed back by MSG_HEARTBEAT_RESP.
    - MSG_SNAP: `snapshot`. MSG_READ_INDEX / _RESP: `context` (and `index` in the response).
    MSG_PROP and MSG_READ_INDEX travel with term 0: they are forwarded requests, not
    statements about the sender's term.
    """

    def __init__(self, int type, int64_t to=0, int64_t from_=0, int64_t term=0,
                 int64_t log_term=0, int64_t index=0, int64_t commit=0, entries=None,
                 bint reject=False, int64_t reject_hint=0, Snapshot snapshot=None,
                 bytes context=b""):
        self.type = type
        self.to = to
        self.from_ = from_
        self.term = term
        self.log_term = log_term
        self.index = index
        self.commit = commit
        self.entries = list(entries) if entries is not None else []
        self.reject = reject
        self.reject_hint = reject_hint
        self.snapshot = snapshot
        self.context = context

    def copy(self):
        cdef Message m = Message.__new__(Message)
        m.type = self.type
        m.to = self.to
        m.from_ = self.from_
        m.term = self.term
        m.log_term = self.log_term
        m.index = self.index
        m.commit = self.commit
        m.entries = list(self.entries)
        m.reject = self.reject
        m.reject_hint = self.reject_hint
        m.snapshot = self.snapshot
        m.context = self.context
        return m

    def __eq__(self, other):
        if not isinstance(other, Message):
            return NotImplemented
        return self._key() == (<Message>other)._key()

    def __hash__(self):
        return hash(self._key())

    def _key(self):
        return (self.type, self.to, self.from_, self.term, self.log_term, self.index,
                self.commit, tuple(self.entries), self.reject, self.reject_hint, self.snapshot,
                self.context)

    def __reduce__(self):
        return (Message, (self.type, self.to, self.from_, self.term, self.log_term, self.index,
                          self.commit, self.entries, self.reject, self.reject_hint,
                          self.snapshot, self.context))

    def describe(self):
        """One line for logs and transcripts: `1->2 MsgApp term=2 log=1/3 commit=3 [2/4]`."""
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
            parts.append("[%s]" % ", ".join([(<Entry>e).describe() for e in self.entries]))
        if self.snapshot is not None:
            parts.append("snapshot=%d/%d voters=%r learners=%r" % (
                self.snapshot.term, self.snapshot.index, self.snapshot.conf_state.voters,
                self.snapshot.conf_state.learners))
        return " ".join(parts)

    def __repr__(self):
        return "Message(%s)" % self.describe()


cdef Message new_message(int type, int64_t to, int64_t term):
    cdef Message m = Message.__new__(Message)
    m.type = type
    m.to = to
    m.term = term
    m.entries = []
    m.context = b""
    return m
