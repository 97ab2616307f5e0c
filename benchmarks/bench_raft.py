"""Raft core step throughput: the compiled core (pykube_plane._raft) against the plain-Python
reference (tests/raft/reference_raft.py), same workloads, same run. Both are driven by the
same Python glue (persist to MemoryStorage, hand messages over), as the real driver will.

- replicate_1: a 3-node cluster in memory, one proposal at a time, each replicated,
  committed and applied everywhere before the next (every step of the protocol, no batching);
- replicate_batch64: the same with proposals batched 64 at a time (propose_batch);
- follower_append: a follower stepping a prepared stream of 1-entry MsgApps (the hottest
  path: consistency check, append, Ready, advance).
Figures are CPU-time medians of 3 rounds; payloads are 128 B.
"""
from __future__ import annotations

import statistics
import time

from pykube_plane import _raft as compiled
from tests.raft import reference_raft as reference

PAYLOAD = b"p" * 128
IMPLS = {"compiled": compiled, "python": reference}


class Cluster:
    def __init__(self, impl, n: int = 3, max_inflight: int = 256) -> None:
        ids = list(range(1, n + 1))
        self.storages = {i: impl.MemoryStorage() for i in ids}
        self.nodes = {i: impl.RaftNode(i, ids, storage=self.storages[i],
                                       max_inflight=max_inflight) for i in ids}
        self.steps = 0
        self.pump()  # apply the bootstrap configuration first: nobody campaigns before that
        self.nodes[1].campaign()
        self.pump()

    def pump(self, drop_to: int = 0) -> None:
        """Persist, deliver and advance until nothing moves."""
        queue = []
        while True:
            for i, node in self.nodes.items():
                while node.has_ready():
                    rd = node.ready()
                    storage = self.storages[i]
                    if rd.entries:
                        storage.append(rd.entries)
                    if rd.hard_state is not None:
                        storage.set_hard_state(rd.hard_state)
                    queue.extend(rd.messages)
                    node.advance()
            if not queue:
                return
            for m in queue:
                if m.to != drop_to:
                    self.nodes[m.to].step(m)
                    self.steps += 1
            queue = []


def replicate(impl, proposals: int, batch: int) -> dict:
    cluster = Cluster(impl)
    leader = cluster.nodes[1]
    steps_before = cluster.steps
    t0 = time.process_time()
    for _ in range(proposals // batch):
        if batch == 1:
            leader.propose(PAYLOAD)
        else:
            leader.propose_batch([PAYLOAD] * batch)
        cluster.pump()
    elapsed = time.process_time() - t0
    assert all(n.applied == leader.last_index() for n in cluster.nodes.values())
    steps = cluster.steps - steps_before
    return {"proposals_per_s": proposals / elapsed, "steps_per_s": steps / elapsed,
            "us_per_step": elapsed / steps * 1e6}


def follower_append(impl, count: int) -> dict:
    cluster = Cluster(impl, max_inflight=count + 1)
    leader, follower, storage = cluster.nodes[1], cluster.nodes[2], cluster.storages[2]
    # Record the MsgApps the leader sends node 2 for `count` single-entry proposals.
    stream = []
    for _ in range(count):
        leader.propose(PAYLOAD)
        rd = leader.ready()
        cluster.storages[1].append(rd.entries)
        stream.extend(m for m in rd.messages if m.to == 2)
        leader.advance()
    t0 = time.process_time()
    for m in stream:
        follower.step(m)
        rd = follower.ready()
        storage.append(rd.entries)
        follower.advance()
    elapsed = time.process_time() - t0
    assert follower.last_index() == leader.last_index()
    return {"appends_per_s": len(stream) / elapsed, "us_per_append": elapsed / len(stream) * 1e6}


def median_of(rounds: list[dict]) -> dict:
    return {k: round(statistics.median(r[k] for r in rounds), 3) for k in rounds[0]}


def compare(workload, **kwargs) -> dict:
    out = {name: median_of([workload(impl, **kwargs) for _ in range(3)])
           for name, impl in IMPLS.items()}
    first_key = next(iter(out["compiled"]))
    out["compiled_over_python"] = round(out["compiled"][first_key] / out["python"][first_key], 1)
    return out


def test_raft_step_throughput(benchmark, result_writer):
    def run():
        return {
            "replicate_1": compare(replicate, proposals=10000, batch=1),
            "replicate_batch64": compare(replicate, proposals=64 * 1000, batch=64),
            "follower_append": compare(follower_append, count=20000),
        }

    figures = benchmark.pedantic(run, rounds=1, iterations=1)
    result_writer("raft", {
        "workloads": figures,
        "note": "CPU-time medians of 3 rounds; compiled pykube_plane._raft vs the plain-Python "
                "reference tests/raft/reference_raft.py, same Python glue, 3 nodes in memory, "
                "128 B payloads; pytest benchmarks/bench_raft.py --benchmark-only",
    })
