"""The lessor: TTL floors and ceilings, renewal, expiry order, snapshots; time is passed in."""
import pytest

from pykube_plane.store.kv import LeaseExistsError, LeaseNotFoundError
from pykube_plane.store.lease import MIN_TTL, Lessor, LeaseTTLTooLargeError


def test_grant_applies_etcd_minimum_ttl():
    lessor = Lessor()
    assert lessor.grant(1, 1, now=0.0).ttl == MIN_TTL
    assert lessor.grant(2, 60, now=0.0).ttl == 60
    with pytest.raises(LeaseExistsError):
        lessor.grant(1, 5, now=0.0)
    with pytest.raises(LeaseTTLTooLargeError):
        Lessor.effective_ttl(10**10)


def test_expiry_and_renewal():
    lessor = Lessor()
    lessor.grant(1, 10, now=0.0)
    lessor.grant(2, 5, now=0.0)
    assert lessor.expired(4.9) == []
    assert lessor.expired(5.0) == [2]
    assert lessor.renew(1, now=8.0) == 10          # deadline moves to 18
    assert lessor.expired(12.0) == []              # the stale deadline at 10 is skipped
    assert lessor.remaining(1, now=12.0) == (6, 10)
    assert lessor.expired(18.0) == [1]


def test_renew_of_expired_or_unknown_lease_fails():
    lessor = Lessor()
    lessor.grant(1, 5, now=0.0)
    with pytest.raises(LeaseNotFoundError):
        lessor.renew(1, now=6.0)
    with pytest.raises(LeaseNotFoundError):
        lessor.renew(2, now=0.0)
    with pytest.raises(LeaseNotFoundError):
        lessor.revoke(2)


def test_requeue_retries_an_expiry():
    lessor = Lessor()
    lessor.grant(1, 5, now=0.0)
    assert lessor.expired(6.0) == [1]
    assert lessor.expired(6.0) == []
    lessor.requeue(1)
    assert lessor.expired(6.0) == [1]


def test_dump_load_gives_full_ttl_again():
    lessor = Lessor()
    lessor.grant(7, 30, now=0.0)
    lessor.grant(8, 5, now=0.0)
    restored = Lessor()
    restored.load(lessor.dump(), now=100.0)
    assert restored.ids() == [7, 8]
    assert restored.remaining(7, now=100.0) == (30, 30)
    assert restored.expired(104.9) == []
    assert restored.expired(105.0) == [8]
