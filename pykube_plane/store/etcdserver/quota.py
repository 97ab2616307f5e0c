"""Space quota and alarms, as etcd's v3rpc quota wrapper and alarm store keep them.

- Before a Put, a Txn that writes, or a LeaseGrant, the quota checks `db size + cost <= quota`.
  A request that would cross it raises the NOSPACE alarm and fails with
  "etcdserver: mvcc: database space exceeded" (ResourceExhausted).
- While NOSPACE is active every such request fails, even after space was freed, until an
  operator disarms the alarm (`etcdctl alarm disarm`) — etcd's rule, so an operator looks first.
  Deletes, compaction and defragmentation keep working: they are how space comes back.
- Active alarms survive restarts: they are kept in DATA/member/alarms.json when a path is given.
"""
from __future__ import annotations

import json
import os
import time
from pathlib import Path
from typing import Callable

from ..etcdpb import rpc_pb2 as pb
from ..kv import NoSpaceError

DEFAULT_QUOTA_BYTES = 2 * 1024 * 1024 * 1024   # etcd's default --quota-backend-bytes (2 GiB)
# etcd's rough per-key overhead in its backend (key index + revision keys) for the cost estimate.
KV_OVERHEAD_BYTES = 256


class Alarms:
    """Active (member id, alarm type) pairs, optionally persisted."""

    def __init__(self, path: Path | None = None) -> None:
        self._path = path
        self._active: set[tuple[int, int]] = set()
        if path is not None and path.exists():
            try:
                for item in json.loads(path.read_text()):
                    self._active.add((int(item["memberID"]), int(item["alarm"])))
            except (ValueError, KeyError, TypeError):
                self._active = set()  # unreadable: start clean rather than refuse to start

    def active(self, alarm: int = pb.NONE) -> list[tuple[int, int]]:
        return sorted(a for a in self._active if alarm == pb.NONE or a[1] == alarm)

    def has(self, alarm: int) -> bool:
        return bool(self._active) and any(a[1] == alarm for a in self._active)

    def activate(self, member_id: int, alarm: int) -> list[tuple[int, int]]:
        pair = (member_id, alarm)
        if pair not in self._active:
            self._active.add(pair)
            self._save()
        return [pair]

    def deactivate(self, member_id: int, alarm: int) -> list[tuple[int, int]]:
        """Disarm one (member, alarm) pair, exactly as etcd does (no wildcards)."""
        pair = (member_id, alarm)
        if pair not in self._active:
            return []
        self._active.discard(pair)
        self._save()
        return [pair]

    def _save(self) -> None:
        if self._path is None:
            return
        tmp = self._path.with_name(self._path.name + ".tmp")
        tmp.write_text(json.dumps([{"memberID": m, "alarm": a} for m, a in sorted(self._active)]))
        os.replace(tmp, self._path)


class SpaceQuota:
    """The size is measured at most every SIZE_REFRESH_SECONDS (it costs a walk of store stats);
    between measurements, admitted costs are added to the estimate, so it errs on the full side."""

    SIZE_REFRESH_SECONDS = 0.1

    def __init__(self, quota_bytes: int, db_size: Callable[[], int], alarms: Alarms,
                 member_id: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.quota_bytes = quota_bytes if quota_bytes > 0 else DEFAULT_QUOTA_BYTES
        self._db_size = db_size
        self._alarms = alarms
        self._member_id = member_id
        self._clock = clock
        self._estimate = 0
        self._measured_at = float("-inf")

    def check(self, cost: int) -> None:
        """Raise NoSpaceError (and the NOSPACE alarm) if a write of `cost` bytes does not fit."""
        if self._alarms.has(pb.NOSPACE):
            raise NoSpaceError()
        now = self._clock()
        if now - self._measured_at >= self.SIZE_REFRESH_SECONDS \
                or self._estimate + cost > self.quota_bytes:
            self._estimate = self._db_size()
            self._measured_at = now
        if self._estimate + cost > self.quota_bytes:
            self._alarms.activate(self._member_id, pb.NOSPACE)
            raise NoSpaceError()
        self._estimate += cost

    @staticmethod
    def put_cost(key: bytes, value: bytes) -> int:
        return len(key) + len(value) + KV_OVERHEAD_BYTES
