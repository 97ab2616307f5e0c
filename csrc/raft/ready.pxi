# Ready: the batch of work the application must do for a RaftNode, and in which order.


cdef class Ready:
    """Everything the node needs done since the previous advance(). The application handles a
    Ready in this order, then calls RaftNode.advance():

    1. Persist, durably before step 2 when `must_sync` (fsync; group commit welcome):
       - `snapshot` (or None): an InstallSnapshot received from the leader. Persist it and
         restore the state machine from `snapshot.data` (MemoryStorage.apply_snapshot).
       - `entries`: new log entries; they may overwrite a conflicting tail starting at
         entries[0].index (MemoryStorage.append).
       - `hard_state` (or None when unchanged): term, vote, commit (set_hard_state).
    2. Send `messages` to their `to` peers. Sending only after step 1 is what makes a vote
       or an acknowledgement a promise that survives a crash. This holds for the leader too:
       etcd lets a leader write its own entries in parallel with sending them, this core does
       not ask for that, so one rule serves every role (the leader counts its own entries
       towards the quorum as soon as it appends them; nothing built on that count leaves the
       node before step 1 has run).
    3. Apply `committed_entries` in order to the state machine. Entries of type
       ENTRY_CONF_CHANGE are applied with RaftNode.apply_conf_change(ConfChange.decode(...)).
       They are already durable (they were persisted in this or an earlier Ready).
    4. Serve the `read_states`: a read with that ctx may answer once the state machine has
       applied `index`.
    Fields also given:
    - `soft_state` (or None when unchanged): current leader and this node's role.
    - `must_sync`: True when entries, term or vote changed (a commit-only change may be
      written lazily: losing it only costs re-applying after a restart).

    ready() then advance() must alternate; messages generated in between (by step(),
    tick(), propose()) wait for the next Ready.
    """

    def __repr__(self):
        return ("Ready(soft_state=%r, hard_state=%r, entries=%d, snapshot=%r, committed=%d, "
                "messages=%d, read_states=%d, must_sync=%r)" % (
                    self.soft_state, self.hard_state, len(self.entries), self.snapshot,
                    len(self.committed_entries), len(self.messages), len(self.read_states),
                    self.must_sync))
