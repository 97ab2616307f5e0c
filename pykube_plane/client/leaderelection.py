"""Leader election on a coordination.k8s.io/v1 Lease, after client-go's tools/leaderelection.

    elector = LeaderElector(client, "kube-system", "kube-scheduler", identity="sched-a",
                            on_started_leading=run_scheduler, on_stopped_leading=stop_scheduler)
    await elector.run()        # returns when leadership is lost (or the task is cancelled)

The Lease is the lock: spec.holderIdentity names the leader, spec.renewTime says when it last
renewed, spec.leaseDurationSeconds how long others must wait. Every write is a compare-and-swap
on the Lease's resourceVersion, so two candidates never both succeed in one round.

Timing (client-go's names and meaning):
- lease_duration: a candidate takes over a Lease only after seeing it unchanged for this long,
  measured on its own clock from when it *observed* the last change (clocks are never compared).
- renew_deadline: the leader gives up if it could not renew for this long (< lease_duration).
- retry_period: how often candidates try to acquire, and the leader to renew.

Acting safely: `is_leader()` is true only while the last successful renewal is younger than
renew_deadline, measured from the moment that renewal was *sent*. A rival acquires no sooner than
lease_duration after it saw that renewal, which was after it was sent; so as long as clocks run
at about the same rate, a leader that checks `is_leader()` before each act never acts while a
rival does, even after a long pause (GC, SIGSTOP) of its own process. The margin is
lease_duration - renew_deadline.
"""
from __future__ import annotations

import asyncio
import datetime
import inspect
import logging
import random
import socket
import time
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from pykube_plane.aio import cancel_and_wait

from .errors import ApiError, Conflict, NotFound
from .resources import LEASES

if TYPE_CHECKING:
    from .api import APIClient

log = logging.getLogger(__name__)

JITTER_FACTOR = 1.2     # client-go's: retries spread over [retry_period, 2.2 * retry_period]


def micro_time(at: float | None = None) -> str:
    """metav1.MicroTime: RFC 3339 with microseconds, UTC."""
    moment = datetime.datetime.fromtimestamp(time.time() if at is None else at, datetime.timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def default_identity() -> str:
    return f"{socket.gethostname()}_{uuid.uuid4()}"


@dataclass(frozen=True)
class LeaderElectionRecord:
    holder_identity: str = ""
    lease_duration_seconds: int = 0
    acquire_time: str | None = None
    renew_time: str | None = None
    leader_transitions: int = 0

    @classmethod
    def from_lease(cls, lease: dict) -> "LeaderElectionRecord":
        spec = lease.get("spec") or {}
        return cls(spec.get("holderIdentity") or "", int(spec.get("leaseDurationSeconds") or 0),
                   spec.get("acquireTime"), spec.get("renewTime"), int(spec.get("leaseTransitions") or 0))

    def to_spec(self) -> dict[str, Any]:
        spec: dict[str, Any] = {"holderIdentity": self.holder_identity,
                                "leaseDurationSeconds": self.lease_duration_seconds,
                                "leaseTransitions": self.leader_transitions}
        if self.acquire_time:
            spec["acquireTime"] = self.acquire_time
        if self.renew_time:
            spec["renewTime"] = self.renew_time
        return spec


class LeaseLock:
    """The Lease as a lock: get / create / compare-and-swap update of the election record."""

    def __init__(self, client: "APIClient", namespace: str, name: str) -> None:
        self.client = client
        self.namespace = namespace
        self.name = name
        self.lease: dict | None = None      # the last Lease read or written: updates are CAS on it

    async def get(self) -> LeaderElectionRecord:
        self.lease = await self.client.get(LEASES, self.name, namespace=self.namespace)
        return LeaderElectionRecord.from_lease(self.lease)

    async def create(self, record: LeaderElectionRecord) -> None:
        self.lease = await self.client.create(
            {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
             "metadata": {"name": self.name, "namespace": self.namespace}, "spec": record.to_spec()},
            resource=LEASES, namespace=self.namespace)

    async def update(self, record: LeaderElectionRecord) -> None:
        if self.lease is None:
            raise RuntimeError("update before get/create")
        lease = {"apiVersion": "coordination.k8s.io/v1", "kind": "Lease",
                 "metadata": dict(self.lease["metadata"]), "spec": record.to_spec()}
        self.lease = await self.client.update(lease, resource=LEASES, namespace=self.namespace)

    def describe(self) -> str:
        return f"{self.namespace}/{self.name}"


class LeaderElector:
    def __init__(self, client: "APIClient", namespace: str, name: str, *, identity: str | None = None,
                 lease_duration: float = 15.0, renew_deadline: float = 10.0, retry_period: float = 2.0,
                 on_started_leading: Callable[[], Any] | None = None,
                 on_stopped_leading: Callable[[], Any] | None = None,
                 on_new_leader: Callable[[str], Any] | None = None, release_on_cancel: bool = True,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if lease_duration <= renew_deadline:
            raise ValueError("lease_duration must be greater than renew_deadline")
        if renew_deadline <= JITTER_FACTOR * retry_period:
            raise ValueError("renew_deadline must be greater than retry_period * 1.2")
        if lease_duration < 1:
            raise ValueError("lease_duration must be at least 1 second (the Lease counts whole seconds)")
        self.lock = LeaseLock(client, namespace, name)
        self.identity = identity or default_identity()
        self.lease_duration = lease_duration
        self.renew_deadline = renew_deadline
        self.retry_period = retry_period
        self.on_started_leading = on_started_leading
        self.on_stopped_leading = on_stopped_leading
        self.on_new_leader = on_new_leader
        self.release_on_cancel = release_on_cancel
        self.clock = clock
        self.observed_record = LeaderElectionRecord()
        self.observed_time = 0.0          # our clock when observed_record last changed
        self.reported_leader = ""
        self._renewed_at: float | None = None   # our clock when the last successful write was sent
        self.attempts_after_expiry = 0    # acquire attempts made once the holder's lease had expired

    # -- state -----------------------------------------------------------------------------------

    @property
    def leader(self) -> str:
        """The holder we last observed ("" when none)."""
        return self.observed_record.holder_identity

    @property
    def leading_until(self) -> float:
        """Our clock's time until which acting as leader is safe (see the module docstring)."""
        if self._renewed_at is None or self.observed_record.holder_identity != self.identity:
            return float("-inf")
        return self._renewed_at + self.renew_deadline

    def is_leader(self) -> bool:
        return self.clock() < self.leading_until

    # -- the loop --------------------------------------------------------------------------------

    async def run(self) -> None:
        """Acquire (waiting as long as it takes), lead until renewal fails, then stop leading.
        Cancelling the task running this releases the Lease (when release_on_cancel)."""
        leading: asyncio.Task | None = None
        try:
            await self._acquire()
            log.info("%s: %s acquired the lease", self.lock.describe(), self.identity)
            if self.on_started_leading is not None:
                leading = asyncio.get_running_loop().create_task(self._lead(), name=f"leading {self.identity}")
            await self._renew()
            log.info("%s: %s lost the lease", self.lock.describe(), self.identity)
        finally:
            was_leading = self._renewed_at is not None
            await cancel_and_wait(leading, ignore_errors=True)
            if was_leading:
                self._renewed_at = None
                if self.release_on_cancel:
                    await asyncio.shield(self._release())
                if self.on_stopped_leading is not None:
                    await _call(self.on_stopped_leading)

    async def _lead(self) -> None:
        try:
            assert self.on_started_leading is not None
            await _call(self.on_started_leading)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("%s: on_started_leading failed", self.lock.describe())

    async def _acquire(self) -> None:
        while True:
            if await self._try_acquire_or_renew():
                return
            await asyncio.sleep(self.retry_period * (1 + JITTER_FACTOR * random.random()))

    async def _renew(self) -> None:
        while True:
            deadline = self.clock() + self.renew_deadline
            renewed = False
            while True:
                remaining = deadline - self.clock()
                if remaining <= 0:
                    break
                try:
                    async with asyncio.timeout(remaining):
                        renewed = await self._try_acquire_or_renew()
                except TimeoutError:
                    break
                if renewed:
                    break
                await asyncio.sleep(min(self.retry_period, max(0.0, deadline - self.clock())))
            if not renewed:
                return
            await asyncio.sleep(self.retry_period)

    async def _try_acquire_or_renew(self) -> bool:
        sent_at = self.clock()
        now = micro_time()
        record = LeaderElectionRecord(self.identity, max(1, int(self.lease_duration)), now, now, 0)
        lock = self.lock
        # 1. fast path: we lead and our view is fresh; CAS on the Lease we last wrote.
        if self.observed_record.holder_identity == self.identity and self.is_leader():
            observed = self.observed_record
            record = LeaderElectionRecord(self.identity, record.lease_duration_seconds, observed.acquire_time, now,
                                          observed.leader_transitions)
            try:
                await lock.update(record)
                self._observe(record, sent_at)
                self._renewed_at = sent_at
                return True
            except ApiError as e:
                log.info("%s: optimistic renewal failed (%s); reading the lease", lock.describe(), e.reason)
        # 2. read (or create) the record.
        try:
            old = await lock.get()
        except NotFound:
            try:
                await lock.create(record)
            except ApiError as e:
                log.info("%s: create failed: %s", lock.describe(), e.message)
                return False
            self._observe(record, sent_at)
            self._renewed_at = sent_at
            return True
        except ApiError as e:
            log.info("%s: cannot read the lease: %s", lock.describe(), e.message)
            return False
        if old != self.observed_record:
            self._observe(old, self.clock())
        # 3. held by someone else whose lease has not run out (on our clock): wait.
        expires = self.observed_time + old.lease_duration_seconds
        if old.holder_identity and old.holder_identity != self.identity:
            if self.clock() < expires:
                return False
            self.attempts_after_expiry += 1
        # 4. take it (or renew it).
        if old.holder_identity == self.identity:
            record = LeaderElectionRecord(self.identity, record.lease_duration_seconds, old.acquire_time, now,
                                          old.leader_transitions)
        else:
            record = LeaderElectionRecord(self.identity, record.lease_duration_seconds, now, now,
                                          old.leader_transitions + 1)
        try:
            await lock.update(record)
        except Conflict:
            return False        # someone else wrote first
        except ApiError as e:
            log.info("%s: update failed: %s", lock.describe(), e.message)
            return False
        self._observe(record, sent_at)
        self._renewed_at = sent_at
        return True

    def _observe(self, record: LeaderElectionRecord, at: float) -> None:
        self.observed_record = record
        self.observed_time = at
        if record.holder_identity != self.reported_leader:
            self.reported_leader = record.holder_identity
            if self.on_new_leader is not None and record.holder_identity:
                try:
                    result = self.on_new_leader(record.holder_identity)
                    if inspect.isawaitable(result):
                        asyncio.ensure_future(result)
                except Exception:
                    log.exception("%s: on_new_leader failed", self.lock.describe())

    async def _release(self) -> None:
        """Hand the Lease back so a standby need not wait out lease_duration."""
        observed = self.observed_record
        if observed.holder_identity != self.identity:
            return
        now = micro_time()
        record = LeaderElectionRecord("", 1, now, now, observed.leader_transitions)
        try:
            await self.lock.update(record)
            self._observe(record, self.clock())
        except ApiError as e:
            log.info("%s: release failed: %s", self.lock.describe(), e.message)


async def _call(fn: Callable[[], Any]) -> Any:
    result = fn()
    if inspect.isawaitable(result):
        return await result
    return result
