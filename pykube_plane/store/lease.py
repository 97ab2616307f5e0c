"""The lessor: lease TTLs and expiry, as etcd's lease/lessor.go keeps them.

Grant and revoke are log entries (applied identically on every member and on replay); keepalive and
expiry are not: they depend on a clock, which the caller passes in (`now`, monotonic seconds) so
this class stays deterministic under test. Which keys a lease holds is the MVCC index's business
(`MVCC.lease_keys`), so there is one source of truth for attachments.

After a restart every lease gets its full TTL again (`promote`), like etcd: the previous member's
clock is meaningless here, and expiring leases early would delete keys their owners still renew.
"""
from __future__ import annotations

import heapq
import math
import struct

from .kv import LeaseExistsError, LeaseNotFoundError, StoreError

# etcd: minimum TTL = ceil(3/2 * election timeout) = 2 s with its defaults; maximum 9e9 s.
MIN_TTL = 2
MAX_TTL = 9_000_000_000


class LeaseTTLTooLargeError(StoreError):
    message = "etcdserver: too large lease TTL"


class Lease:
    __slots__ = ("id", "ttl", "expiry")

    def __init__(self, lease_id: int, ttl: int, expiry: float) -> None:
        self.id = lease_id
        self.ttl = ttl          # granted TTL, seconds
        self.expiry = expiry    # monotonic deadline


class Lessor:
    def __init__(self) -> None:
        self._leases: dict[int, Lease] = {}
        # (expiry, id) min-heap; stale entries (renewed or revoked leases) are skipped lazily.
        self._deadlines: list[tuple[float, int]] = []

    def __contains__(self, lease_id: int) -> bool:
        return lease_id in self._leases

    def __len__(self) -> int:
        return len(self._leases)

    def ids(self) -> list[int]:
        return sorted(self._leases)

    @staticmethod
    def effective_ttl(ttl: int) -> int:
        if ttl > MAX_TTL:
            raise LeaseTTLTooLargeError()
        return max(ttl, MIN_TTL)

    def grant(self, lease_id: int, ttl: int, now: float) -> Lease:
        if lease_id in self._leases:
            raise LeaseExistsError()
        ttl = self.effective_ttl(ttl)
        lease = Lease(lease_id, ttl, now + ttl)
        self._leases[lease_id] = lease
        heapq.heappush(self._deadlines, (lease.expiry, lease_id))
        return lease

    def revoke(self, lease_id: int) -> None:
        if self._leases.pop(lease_id, None) is None:
            raise LeaseNotFoundError()

    def renew(self, lease_id: int, now: float) -> int:
        """KeepAlive: restart the lease's clock; returns its TTL."""
        lease = self._leases.get(lease_id)
        if lease is None or lease.expiry <= now:
            raise LeaseNotFoundError()
        lease.expiry = now + lease.ttl
        heapq.heappush(self._deadlines, (lease.expiry, lease_id))
        return lease.ttl

    def remaining(self, lease_id: int, now: float) -> tuple[int, int]:
        """(remaining TTL rounded up, granted TTL); raises LeaseNotFoundError."""
        lease = self._leases.get(lease_id)
        if lease is None:
            raise LeaseNotFoundError()
        return max(0, math.ceil(lease.expiry - now)), lease.ttl

    def expired(self, now: float, limit: int = 1000) -> list[int]:
        """Leases whose deadline passed (at most `limit`: revoking is bounded per tick)."""
        out: list[int] = []
        heap = self._deadlines
        while heap and heap[0][0] <= now and len(out) < limit:
            expiry, lease_id = heapq.heappop(heap)
            lease = self._leases.get(lease_id)
            if lease is not None and lease.expiry == expiry:
                out.append(lease_id)
        return out

    def requeue(self, lease_id: int) -> None:
        """Put an expired lease back on the heap (its revoke failed to commit; try again later)."""
        lease = self._leases.get(lease_id)
        if lease is not None:
            heapq.heappush(self._deadlines, (lease.expiry, lease_id))

    def promote(self, now: float) -> None:
        """Give every lease a full TTL from `now` (after recovery or on becoming leader)."""
        self._deadlines = []
        for lease in self._leases.values():
            lease.expiry = now + lease.ttl
            self._deadlines.append((lease.expiry, lease.id))
        heapq.heapify(self._deadlines)

    # --- snapshots -------------------------------------------------------------------------------
    _RECORD = struct.Struct("<qq")

    def dump(self) -> bytes:
        out = bytearray(struct.pack("<I", len(self._leases)))
        for lease in self._leases.values():
            out += self._RECORD.pack(lease.id, lease.ttl)
        return bytes(out)

    def load(self, data: bytes, now: float) -> None:
        (n,) = struct.unpack_from("<I", data, 0)
        self._leases.clear()
        pos = 4
        for _ in range(n):
            lease_id, ttl = self._RECORD.unpack_from(data, pos)
            pos += self._RECORD.size
            self._leases[lease_id] = Lease(lease_id, ttl, now + ttl)
        self.promote(now)
