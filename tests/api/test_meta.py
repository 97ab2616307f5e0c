"""Metadata helpers: uids, times, generated names, owner references, keys."""
from __future__ import annotations

import datetime
import re
import uuid

import pytest

from pykube_plane.api.meta import (controller_ref, generate_name, get_path, is_controlled_by, namespaced_key,
                                   new_controller_ref, new_uid, now_rfc3339, now_rfc3339_micro, owner_uids,
                                   parse_rfc3339, split_key)


def test_uid_is_a_uuid4():
    uid = new_uid()
    assert uuid.UUID(uid).version == 4
    assert uid != new_uid()


def test_times():
    when = datetime.datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=datetime.timezone.utc)
    assert now_rfc3339(when) == "2024-05-01T12:00:00Z"
    assert now_rfc3339_micro(when) == "2024-05-01T12:00:00.123456Z"
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", now_rfc3339())
    assert parse_rfc3339("2024-05-01T12:00:00Z") == when.replace(microsecond=0)
    assert parse_rfc3339("2024-05-01T14:00:00+02:00") == when.replace(microsecond=0)
    assert parse_rfc3339(now_rfc3339_micro(when)) == when
    for bad in ("", "yesterday", "2024-05-01T12:00:00", None):
        with pytest.raises(ValueError):
            parse_rfc3339(bad)


def test_generate_name_like_simple_name_generator():
    name = generate_name("web-")
    assert re.fullmatch(r"web-[bcdfghjklmnpqrstvwxz2456789]{5}", name)
    assert len({generate_name("x-") for _ in range(50)}) > 40
    long = generate_name("a" * 80)
    assert len(long) == 63 and long.startswith("a" * 58)


def test_owner_references():
    owner = {"metadata": {"name": "rs", "uid": "u1"}}
    ref = new_controller_ref(owner, "apps/v1", "ReplicaSet")
    assert ref == {"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "rs", "uid": "u1", "controller": True,
                   "blockOwnerDeletion": True}
    pod = {"metadata": {"ownerReferences": [{"uid": "u0"}, ref, "junk"]}}
    assert owner_uids(pod) == ["u0", "u1"]
    assert controller_ref(pod) == ref
    assert is_controlled_by(pod, owner)
    assert not is_controlled_by(pod, {"metadata": {"uid": "u0"}})
    assert not is_controlled_by({"metadata": {}}, owner)
    assert owner_uids({"metadata": {"ownerReferences": "bad"}}) == []


def test_keys_and_paths():
    assert namespaced_key({"metadata": {"namespace": "ns", "name": "a"}}) == "ns/a"
    assert namespaced_key({"metadata": {"name": "node1"}}) == "node1"
    assert split_key("ns/a") == ("ns", "a")
    assert split_key("node1") == ("", "node1")
    obj = {"spec": {"containers": [{"name": "c"}]}}
    assert get_path(obj, "spec", "containers", 0, "name") == "c"
    assert get_path(obj, "spec", "containers", 3, "name", default="?") == "?"
    assert get_path(obj, "spec", "containers", "x") is None
