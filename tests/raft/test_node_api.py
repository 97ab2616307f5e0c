"""The RaftNode contract beyond the protocol scenarios: construction, the Ready/advance
alternation, proposals, restarts, and what a caller gets for misuse."""
from __future__ import annotations

import pytest

from pykube_plane._raft import (
    MSG_APP,
    MSG_BEAT,
    ROLE_LEADER,
    ConfChange,
    CONF_CHANGE_REMOVE_NODE,
    Entry,
    MemoryStorage,
    Message,
    ProposalDropped,
    RaftNode,
)


def settle(node: RaftNode, storage: MemoryStorage) -> list:
    applied = []
    while node.has_ready():
        rd = node.ready()
        if rd.snapshot is not None:
            storage.apply_snapshot(rd.snapshot)
        storage.append(rd.entries)
        if rd.hard_state is not None:
            storage.set_hard_state(rd.hard_state)
        for e in rd.committed_entries:
            if e.type == 1:
                node.apply_conf_change(ConfChange.decode(e.data))
            applied.append(e)
        node.advance()
    return applied


def single_node_leader() -> tuple[RaftNode, MemoryStorage]:
    storage = MemoryStorage()
    node = RaftNode(1, [1], storage=storage)
    settle(node, storage)
    node.campaign()
    settle(node, storage)
    assert node.role == ROLE_LEADER
    return node, storage


@pytest.mark.parametrize("kwargs", [
    {"id": 0}, {"id": 1, "heartbeat_tick": 0}, {"id": 1, "election_tick": 1},
    {"id": 1, "max_inflight": 0}, {"id": 1, "peers": [1, 1]},
    {"id": 1, "peers": [1, 2], "learners": [2]},
])
def test_invalid_configuration_is_refused(kwargs):
    with pytest.raises(ValueError):
        RaftNode(**kwargs)


def test_a_single_node_commits_alone():
    node, storage = single_node_leader()
    node.propose(b"one")
    node.propose_batch([b"two", b"three"])
    applied = settle(node, storage)
    assert [e.data for e in applied] == [b"one", b"two", b"three"]
    assert node.commit == node.applied == storage.last_index()


def test_ready_and_advance_must_alternate():
    node, storage = single_node_leader()
    with pytest.raises(RuntimeError):
        node.advance()
    node.propose(b"x")
    node.ready()
    assert not node.has_ready()
    with pytest.raises(RuntimeError):
        node.ready()


def test_advance_notices_entries_that_were_not_persisted():
    node, storage = single_node_leader()
    node.propose(b"x")
    node.ready()
    with pytest.raises(RuntimeError, match="not appended"):
        node.advance()


def test_must_sync_only_when_entries_term_or_vote_change():
    storage = MemoryStorage()
    node = RaftNode(1, [1, 2, 3], storage=storage)
    rd = node.ready()
    assert rd.must_sync and rd.entries
    storage.append(rd.entries)
    storage.set_hard_state(rd.hard_state)
    node.advance()
    # Learning a higher commit index alone does not need an fsync.
    node.step(Message(MSG_APP, to=1, from_=2, term=1, log_term=1, index=3, commit=3,
                      entries=[Entry(1, 4)]))
    rd = node.ready()
    assert rd.must_sync and rd.hard_state is None  # a new entry; term, vote, commit unchanged
    storage.append(rd.entries)
    node.advance()
    node.step(Message(MSG_APP, to=1, from_=2, term=1, log_term=1, index=4, commit=4))
    rd = node.ready()
    assert rd.hard_state.commit == 4 and not rd.must_sync


def test_proposal_without_leader_is_dropped():
    node = RaftNode(1, [1, 2, 3])
    with pytest.raises(ProposalDropped, match="no leader"):
        node.propose(b"x")
    with pytest.raises(ProposalDropped):
        node.read_index(b"ctx")


def test_removing_the_last_voter_is_refused():
    node, storage = single_node_leader()
    with pytest.raises(ProposalDropped, match="no voter"):
        node.propose_conf_change(ConfChange(CONF_CHANGE_REMOVE_NODE, 1))


def test_local_message_types_cannot_be_stepped_from_the_network():
    with pytest.raises(ValueError):
        RaftNode(1, [1]).step(Message(MSG_BEAT, to=1, from_=2))


def test_single_node_read_index_answers_at_once():
    node, storage = single_node_leader()
    node.read_index(b"r1")
    rd = node.ready()
    assert [(rs.index, rs.ctx) for rs in rd.read_states] == [(node.commit, b"r1")]


def test_restart_replays_committed_entries_after_the_snapshot():
    node, storage = single_node_leader()
    for i in range(5):
        node.propose(b"e%d" % i)
    settle(node, storage)
    storage.create_snapshot(4, node.conf_state, b"state@4")
    restarted = RaftNode(1, [], storage=storage)
    replayed = settle(restarted, storage)
    assert [e.index for e in replayed] == list(range(5, storage.last_index() + 1))
    assert restarted.term == node.term and restarted.voters == (1,)


def test_applied_option_skips_what_the_state_machine_already_has():
    node, storage = single_node_leader()
    for i in range(5):
        node.propose(b"e%d" % i)
    settle(node, storage)
    last = storage.last_index()
    restarted = RaftNode(1, [], storage=storage, applied=last - 1)
    assert [e.index for e in settle(restarted, storage)] == [last]
    with pytest.raises(ValueError):
        RaftNode(1, [], storage=storage, applied=last + 1)


def test_status_describes_the_node():
    node, storage = single_node_leader()
    status = node.status()
    assert status["role"] == "leader" and status["voters"] == (1,)
    assert status["progress"][1]["state"] == "replicate"


def test_same_seed_same_election_timeouts():
    def first_campaign_tick(seed: int) -> int:
        storage = MemoryStorage()
        node = RaftNode(2, [1, 2, 3], storage=storage, seed=seed)
        settle(node, storage)
        for tick in range(1, 100):
            node.tick()
            if node.has_ready():
                return tick
        raise AssertionError("never campaigned")

    assert first_campaign_tick(5) == first_campaign_tick(5)
    assert len({first_campaign_tick(s) for s in range(20)}) > 1  # randomized across seeds
    assert all(10 <= first_campaign_tick(s) < 20 for s in range(20))
