"""The Raft driver: runs the compiled RaftNode for a store member, on the event loop.

One task loops over the node's Readys, and for each one keeps this order (the correctness
contract of pykube_plane._raft.Ready; every step finishes before the next begins):

1. **Persist**: a snapshot received from the leader (snapshot file, then a WAL snapshot mark, then
   the state machine is rebuilt from it), then the new entries and hard state in one WAL save,
   fsynced when `must_sync`. Concurrent proposals meanwhile pile up for the next Ready: that is the
   group commit. Nothing below may happen before this: a vote or an acknowledgement sent before
   it is durable is a promise a crash can break.
2. **Send** the messages to the peers (the transport never blocks: it queues or drops).
3. **Apply** the committed entries in log order to the state machine (`StateMachine.apply_entry`),
   configuration changes through RaftNode.apply_conf_change, and resolve the waiter whose request
   id the entry carries, if this member proposed it. Watchers are notified once per Ready.
4. **Serve reads**: a ReadIndex answer releases its linearizable reads once applied >= its index.
5. `advance()`, then maybe cut a snapshot in the background (state machine payload -> snapshot
   file -> WAL mark -> compact the in-memory log, keeping `catch_up_entries` for slow followers ->
   release WAL segments before the previous snapshot; store/raft_snapshots.py).

Inputs reach the node only between Readys (`_feed`): timer ticks (100 ms, etcd's heartbeat; an
election takes 10 to 20 ticks), messages from peers, proposals and read requests.

A proposal on a follower is forwarded to the leader by Raft itself; the proposer recognises its
entry when it comes back committed by the request id inside it. What can go wrong is reported with
etcd's errors, never by hanging: a proposal made while no leader is known waits up to two
election timeouts, then fails with "etcdserver: no leader"; one in flight when the leader (or
term) changes fails with "etcdserver: leader changed" (it may still commit: the outcome is
unknown, as with etcd); anything still unanswered after `request_timeout` fails with
"etcdserver: request timed out".

A single-voter member (the embedded store) campaigns at once on start, and its linearizable reads
are served locally: every write it acknowledged is applied.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from pykube_plane._raft import (
    CONF_CHANGE_REMOVE_NODE, DROP_REASONS, ENTRY_CONF_CHANGE, MSG_PROP, ROLE_LEADER, ConfChange,
    ConfState, Entry, MemoryStorage, Message, ProposalDropped, RaftError, RaftNode, Snapshot,
)

from .kv import StoreClosedError, StoreError
from .raft_snapshots import SnapshotKeeper
from .requests import request_id_of
from .wal import WAL

log = logging.getLogger("pykube_plane.store.raft")

DEFAULT_TICK_INTERVAL = 0.1        # etcd --heartbeat-interval 100 ms
DEFAULT_ELECTION_TICKS = 10        # etcd --election-timeout 1000 ms
DEFAULT_CATCH_UP_ENTRIES = 5000    # entries kept before a snapshot for slow followers (etcd's)
ID_SUFFIX_BITS = 48
_DROPPED_INVALID_CONF_CHANGE = 5     # the Raft core's reason code: a change leaving no voter


class NoLeaderError(StoreError):
    message = "etcdserver: no leader"


class LeaderChangedError(StoreError):
    message = "etcdserver: leader changed"


class RequestTimeoutError(StoreError):
    message = "etcdserver: request timed out"


class MemberRemovedError(StoreError):
    message = "etcdserver: the member has been permanently removed from the cluster"


class StateMachine(Protocol):
    """What the driver needs from the store it replicates."""

    def apply_entry(self, entry: Entry, now: float) -> tuple[int, Any]:
        """Apply a committed normal entry: (request id, result or the StoreError it earned)."""

    def apply_conf_change(self, index: int, cc: ConfChange, conf_state: ConfState) -> int:
        """A conf change Raft applied; returns the request id its context carries (0: none)."""

    def applied_batch_done(self) -> None:
        """The entries of one Ready are applied (notify watchers)."""

    def snapshot_payload(self, index: int, term: int, conf_state: ConfState) -> bytes: ...

    def restore(self, payload: bytes, index: int, term: int) -> None:
        """Replace the whole state with a snapshot received from the leader."""

    def on_leadership(self, is_leader: bool) -> None: ...

    def peer_urls(self) -> dict[int, list[str]]: ...


@dataclass(slots=True)
class _Proposal:
    request_id: int
    data: bytes | None
    future: asyncio.Future
    deadline: float
    conf_change: ConfChange | None = None
    epoch: tuple[int, int] = (0, 0)   # (leader, term) when handed to Raft


@dataclass(slots=True)
class _ReadRound:
    futures: list[asyncio.Future]
    epoch: tuple[int, int]
    deadline: float


@dataclass
class DriverConfig:
    tick_interval: float = DEFAULT_TICK_INTERVAL
    election_ticks: int = DEFAULT_ELECTION_TICKS
    snapshot_count: int = 10_000
    catch_up_entries: int = DEFAULT_CATCH_UP_ENTRIES
    request_timeout: float = 7.0           # etcd: 5 s + 2 election timeouts

    @property
    def no_leader_timeout(self) -> float:
        return 2 * self.election_ticks * self.tick_interval


class RaftDriver:
    def __init__(self, node: RaftNode, storage: MemoryStorage, wal: WAL, fsm: StateMachine,
                 snap_dir: Path, config: DriverConfig, *, snapshot_index: int = 0) -> None:
        self.node = node
        self.id = node.id
        self.storage = storage
        self.wal = wal
        self.fsm = fsm
        self.config = config
        self.snapshots = SnapshotKeeper(node.id, snap_dir, wal, storage, config.catch_up_entries,
                                        snapshot_index)
        self.transport = None                  # a PeerTransport, set before start() if any
        self.applied_index = max(node.applied, snapshot_index)
        self.removed = False
        self.broken: BaseException | None = None
        self.local_reads = False                # single voter and leader: reads need no ReadIndex
        self._lead = 0
        self._term = node.term
        self._is_leader = False
        self._proposals: list[_Proposal] = []
        self._retry: list[_Proposal] = []
        self._inflight: dict[int, _Proposal] = {}
        self._inflight_deadlines: deque[tuple[float, int]] = deque()
        self._reads: list[tuple[asyncio.Future, float]] = []
        self._read_rounds: dict[bytes, _ReadRound] = {}
        self._reads_applied: list[tuple[int, list[asyncio.Future]]] = []
        self._inbox: list[Message] = []
        self._reports: list[tuple[int, int, bool]] = []  # (kind, peer, failed) from the transport
        self._ticks_due = 0
        self._wake = asyncio.Event()
        self._leader_changed = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._ticker: asyncio.TimerHandle | None = None
        self._stopping = False
        self._read_seq = 0
        self._id_prefix = (self.id & 0xFFFF) << ID_SUFFIX_BITS
        self._id_counter = random.getrandbits(40)
        self._loop = asyncio.get_running_loop()

    # =============================================================================================
    # Lifecycle

    async def recover(self) -> None:
        """Apply what the log already holds as committed (a restart's replay), synchronously."""
        while self.node.has_ready():
            await self._handle_ready(self.node.ready())

    async def start(self) -> None:
        node = self.node
        if node.voters == (self.id,):
            node.campaign()  # alone: no reason to wait for an election timeout
            await self.recover()
        elif len(node.voters) > 1:
            # etcd fast-forwards a (re)started member's clock to one tick short of an election,
            # so a cluster that lost its leader elects one promptly; PreVote keeps it harmless.
            for _ in range(self.config.election_ticks - 1):
                node.tick()
        self._observe_leader()
        self._task = self._loop.create_task(self._run(), name=f"raft-{self.id:x}")
        self._ticker = self._loop.call_later(self.config.tick_interval, self._on_tick)

    async def stop(self) -> None:
        """Finish what a single member can finish alone, fail the rest, stop the loop."""
        self._stopping = True
        if self._ticker is not None:
            self._ticker.cancel()
        deadline = self._loop.time() + 5.0
        if self._task is not None and self.local_reads and self.broken is None:
            while (self._proposals or self._inflight) and self._loop.time() < deadline:
                self._kick()
                await asyncio.sleep(0.001)
        self._fail_all(StoreClosedError())
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.snapshots.wait()
        if self.transport is not None:
            await self.transport.stop()

    # =============================================================================================
    # Requests

    def next_request_id(self) -> int:
        """A request id no other member generates: our id's low 16 bits, then a counter."""
        self._id_counter += 1
        return self._id_prefix | (self._id_counter & ((1 << ID_SUFFIX_BITS) - 1))

    def _check_usable(self) -> None:
        if self.broken is not None:
            raise StoreError(f"etcdserver: store failed: {self.broken}")
        if self.removed:
            raise MemberRemovedError()
        if self._stopping:
            raise StoreClosedError()

    def propose(self, request_id: int, data: bytes) -> asyncio.Future:
        """Queue an encoded request; the future resolves with its apply result."""
        self._check_usable()
        fut = self._loop.create_future()
        self._proposals.append(_Proposal(request_id, data, fut,
                                         self._loop.time() + self.config.no_leader_timeout))
        if len(self._proposals) == 1:
            self._kick()
        return fut

    async def propose_conf_change(self, cc: ConfChange, request_id: int) -> ConfState:
        self._check_usable()
        fut = self._loop.create_future()
        self._proposals.append(_Proposal(request_id, None, fut,
                                         self._loop.time() + self.config.request_timeout, cc))
        self._kick()
        return await fut

    async def read_barrier(self) -> None:
        """Return once this member has applied everything committed when the call started."""
        if self.local_reads:
            return
        self._check_usable()
        fut = self._loop.create_future()
        self._reads.append((fut, self._loop.time() + self.config.no_leader_timeout))
        self._kick()
        await fut

    async def transfer_leadership(self, target: int, timeout: float | None = None) -> None:
        """Hand leadership to `target` (a voter) and wait until it leads."""
        self._check_usable()
        deadline = self._loop.time() + (timeout or self.config.request_timeout)
        self.node.transfer_leader(target)
        self._kick()
        while self.node.lead != target:
            remaining = deadline - self._loop.time()
            if remaining <= 0:
                raise StoreError("etcdserver: request timed out, leader transfer took too long")
            self._leader_changed.clear()
            try:
                async with asyncio.timeout(min(remaining, 0.2)):
                    await self._leader_changed.wait()
            except asyncio.TimeoutError:
                pass

    def receive(self, m: Message) -> None:
        """A message from a peer (the transport's callback)."""
        self._inbox.append(m)
        if len(self._inbox) == 1:
            self._kick()

    def report_unreachable(self, peer: int) -> None:
        self._reports.append((0, peer, True))
        self._kick()

    def report_snapshot(self, peer: int, failed: bool) -> None:
        self._reports.append((1, peer, failed))
        self._kick()

    @property
    def is_leader(self) -> bool:
        return self._is_leader

    @property
    def leader(self) -> int:
        return self.node.lead

    # =============================================================================================
    # The loop

    def _kick(self) -> None:
        self._wake.set()

    def _on_tick(self) -> None:
        self._ticks_due += 1
        self._kick()
        if not self._stopping:
            self._ticker = self._loop.call_later(self.config.tick_interval, self._on_tick)

    async def _run(self) -> None:
        node = self.node
        try:
            while True:
                self._feed()
                if node.has_ready():
                    await self._handle_ready(node.ready())
                    continue
                self._wake.clear()
                await self._wake.wait()
        except asyncio.CancelledError:
            raise
        except BaseException as exc:  # noqa: BLE001 - a failed WAL write or a bug: stop, loudly
            self.broken = exc
            log.error("raft loop stopped: %s", exc, exc_info=True)
            self._fail_all(StoreError(f"etcdserver: store failed: {exc}"))

    def _feed(self) -> None:
        """Hand the node everything that arrived since the last Ready."""
        node = self.node
        if self._ticks_due:
            ticks, self._ticks_due = self._ticks_due, 0
            for _ in range(ticks):
                node.tick()
            if self._retry:
                self._proposals[:0], self._retry = self._retry, []
            self._expire(self._loop.time())
        if self._reports:
            reports, self._reports = self._reports, []
            for kind, peer, failed in reports:
                if kind == 0:
                    node.report_unreachable(peer)
                else:
                    node.report_snapshot(peer, failed)
        if self._inbox:
            inbox, self._inbox = self._inbox, []
            for m in inbox:
                try:
                    node.step(m)
                except (RaftError, ValueError) as exc:
                    log.warning("dropped message %s: %s", m.describe(), exc)
        if self._proposals and node.lead and not self.removed:
            self._propose_queued()
        if self._reads and node.lead and not self.removed:
            self._start_read_round()

    def _propose_queued(self) -> None:
        node = self.node
        queued, self._proposals = self._proposals, []
        normal = [p for p in queued if p.conf_change is None]
        epoch = (node.lead, node.term)
        deadline = self._loop.time() + self.config.request_timeout
        if normal:
            try:
                node.propose_batch([p.data for p in normal])
            except ProposalDropped:
                self._proposals.extend(normal)  # a transfer or an election: retry next tick
            else:
                inflight = self._inflight
                for p in normal:
                    p.epoch = epoch
                    p.deadline = deadline
                    inflight[p.request_id] = p
                self._inflight_deadlines.append((deadline, normal[-1].request_id))
        for p in queued:
            if p.conf_change is None:
                continue
            try:
                node.propose_conf_change(p.conf_change)
            except ProposalDropped as exc:
                if str(exc) == DROP_REASONS[_DROPPED_INVALID_CONF_CHANGE]:
                    if not p.future.done():
                        p.future.set_exception(StoreError(
                            "etcdserver: re-configuration failed due to not enough started members"))
                    continue
                self._proposals.append(p)  # another change still pending: retry next tick
                continue
            p.epoch = epoch
            self._inflight[p.request_id] = p
            self._inflight_deadlines.append((p.deadline, p.request_id))

    def _start_read_round(self) -> None:
        node = self.node
        self._read_seq += 1
        ctx = self._read_seq.to_bytes(8, "big")
        reads, self._reads = self._reads, []
        try:
            node.read_index(ctx)
        except ProposalDropped:
            self._reads = reads + self._reads
            return
        self._read_rounds[ctx] = _ReadRound([f for f, _ in reads], (node.lead, node.term),
                                            self._loop.time() + self.config.request_timeout)

    async def _handle_ready(self, rd) -> None:
        node = self.node
        if rd.soft_state is not None or node.term != self._term:
            self._observe_leader()
        # 1. persist
        if rd.snapshot is not None:
            await self._install_snapshot(rd.snapshot)
        if rd.entries or rd.hard_state is not None:
            await self.wal.save(rd.entries, rd.hard_state, must_sync=rd.must_sync)
            if rd.entries:
                self.storage.append(rd.entries)
            if rd.hard_state is not None:
                self.storage.set_hard_state(rd.hard_state)
        # 2. send
        if rd.messages and self.transport is not None:
            dropped = self.transport.send(rd.messages)
            if dropped:
                self._requeue_dropped_proposals(dropped)
        # 3. apply
        if rd.committed_entries:
            self._apply(rd.committed_entries)
        # 4. reads
        if rd.read_states:
            for rs in rd.read_states:
                read_round = self._read_rounds.pop(rs.ctx, None)
                if read_round is not None:
                    self._reads_applied.append((rs.index, read_round.futures))
        if self._reads_applied:
            self._release_reads()
        node.advance()
        # 5. snapshot
        if self.snapshots.due(self.applied_index, self.config.snapshot_count):
            self._start_snapshot()

    def _apply(self, entries: list[Entry]) -> None:
        node = self.node
        fsm = self.fsm
        inflight = self._inflight
        now = time.monotonic()
        for entry in entries:
            if entry.type == ENTRY_CONF_CHANGE:
                cc = ConfChange.decode(entry.data)
                conf_state = node.apply_conf_change(cc)
                request_id = fsm.apply_conf_change(entry.index, cc, conf_state)
                result: Any = conf_state
                if (cc.type == CONF_CHANGE_REMOVE_NODE and cc.node_id == self.id
                        and self.id not in conf_state.voters and self.id not in conf_state.learners):
                    self.removed = True
                    log.warning("this member was removed from the cluster at index %d", entry.index)
                if self.transport is not None:
                    self.transport.set_peers(fsm.peer_urls())
                self._update_local_reads()
            else:
                request_id, result = fsm.apply_entry(entry, now)
            self.applied_index = entry.index
            if inflight:
                p = inflight.pop(request_id, None)
                if p is not None and not p.future.done():
                    if isinstance(result, BaseException):
                        p.future.set_exception(result)
                    else:
                        p.future.set_result(result)
        fsm.applied_batch_done()
        if self.removed:
            self._fail_all(MemberRemovedError())

    def _requeue_dropped_proposals(self, dropped: list[Message]) -> None:
        """Forwarded proposals the transport could not even queue never reached the leader:
        propose them again (safe: they cannot be applied twice) instead of letting them time out."""
        deadline = self._loop.time() + self.config.no_leader_timeout
        for m in dropped:
            if m.type != MSG_PROP:
                continue
            for entry in m.entries:
                if entry.type == ENTRY_CONF_CHANGE:
                    continue
                p = self._inflight.pop(request_id_of(entry.data), None)
                if p is not None:
                    p.deadline = deadline
                    self._retry.append(p)  # at the next tick: the stream needs time to reconnect

    def _release_reads(self) -> None:
        applied = self.applied_index
        waiting = []
        for index, futures in self._reads_applied:
            if index <= applied:
                for fut in futures:
                    if not fut.done():
                        fut.set_result(None)
            else:
                waiting.append((index, futures))
        self._reads_applied = waiting

    # =============================================================================================
    # Leadership and failures

    def _observe_leader(self) -> None:
        node = self.node
        lead, term = node.lead, node.term
        if (lead, term) != (self._lead, self._term):
            if self._lead:
                self._fail_epoch((lead, term))
            self._lead, self._term = lead, term
            self._leader_changed.set()
            log.info("member %x: leader is %x at term %d", self.id, lead, term)
        is_leader = node.role == ROLE_LEADER
        if is_leader != self._is_leader:
            self._is_leader = is_leader
            self.fsm.on_leadership(is_leader)
        self._update_local_reads()

    def _update_local_reads(self) -> None:
        node = self.node
        self.local_reads = node.role == ROLE_LEADER and node.voters == (self.id,)

    def _fail_epoch(self, epoch: tuple[int, int]) -> None:
        """The leader changed: whatever was handed to the old one may be lost."""
        for request_id, p in list(self._inflight.items()):
            if p.epoch != epoch:
                del self._inflight[request_id]
                if not p.future.done():
                    p.future.set_exception(LeaderChangedError())
        for ctx, read_round in list(self._read_rounds.items()):
            if read_round.epoch != epoch:
                del self._read_rounds[ctx]
                for fut in read_round.futures:
                    if not fut.done():
                        fut.set_exception(LeaderChangedError())

    def _expire(self, now: float) -> None:
        no_leader = not self.node.lead
        if self._proposals and min(p.deadline for p in self._proposals) <= now:
            keep = []
            for p in self._proposals:
                if p.deadline <= now:
                    if not p.future.done():
                        p.future.set_exception(NoLeaderError() if no_leader else RequestTimeoutError())
                else:
                    keep.append(p)
            self._proposals = keep
        if self._reads and self._reads[0][1] <= now:
            keep_reads = []
            for fut, deadline in self._reads:
                if deadline <= now:
                    if not fut.done():
                        fut.set_exception(NoLeaderError() if no_leader else RequestTimeoutError())
                else:
                    keep_reads.append((fut, deadline))
            self._reads = keep_reads
        deadlines = self._inflight_deadlines
        if deadlines and deadlines[0][0] <= now:
            while deadlines and deadlines[0][0] <= now:
                deadlines.popleft()
            for request_id, p in list(self._inflight.items()):
                if p.deadline <= now:
                    del self._inflight[request_id]
                    if not p.future.done():
                        p.future.set_exception(RequestTimeoutError())
        for ctx, read_round in list(self._read_rounds.items()):
            if read_round.deadline <= now:
                del self._read_rounds[ctx]
                for fut in read_round.futures:
                    if not fut.done():
                        fut.set_exception(RequestTimeoutError())

    def _fail_all(self, exc: StoreError) -> None:
        for p in self._proposals + self._retry + list(self._inflight.values()):
            if not p.future.done():
                p.future.set_exception(exc)
        self._proposals = []
        self._retry = []
        self._inflight.clear()
        self._inflight_deadlines.clear()
        futures = [f for f, _ in self._reads]
        for read_round in self._read_rounds.values():
            futures.extend(read_round.futures)
        for _, waiting in self._reads_applied:
            futures.extend(waiting)
        for fut in futures:
            if not fut.done():
                fut.set_exception(exc)
        self._reads = []
        self._read_rounds.clear()
        self._reads_applied = []

    # =============================================================================================
    # Snapshots (their files, marks and log compaction: store/raft_snapshots.py)

    @property
    def snapshot_index(self) -> int:
        return self.snapshots.index

    @property
    def snapshots_installed(self) -> int:
        return self.snapshots.installed

    async def _install_snapshot(self, snap: Snapshot) -> None:
        """A snapshot from the leader: persist it, then rebuild the state machine from it."""
        await self.snapshots.install(snap)
        self.fsm.restore(snap.data, snap.index, snap.term)
        self.applied_index = snap.index
        log.info("member %x installed a snapshot at index %d (%d bytes) from the leader",
                 self.id, snap.index, len(snap.data))
        if self.transport is not None:
            self.transport.set_peers(self.fsm.peer_urls())
        self._update_local_reads()

    def _start_snapshot(self) -> None:
        index = self.applied_index
        term = self.node.term_at(index)
        if term is None:
            return
        conf_state = self.node.conf_state
        self.snapshots.start(index, term, conf_state,
                             self.fsm.snapshot_payload(index, term, conf_state))
