"""events.k8s.io/v1 <-> core/v1 Event: one stored object, two API shapes.

Kubernetes stores every Event once (under /registry/events) and serves it in both groups; the
two versions name the same fields differently (regarding / involvedObject, note / message...).
These two functions are that conversion, field for field, both ways.
"""
from __future__ import annotations

from typing import Any

# events.k8s.io/v1 name -> core/v1 name, for the fields that differ
_RENAMED = (
    ("regarding", "involvedObject"),
    ("note", "message"),
    ("deprecatedSource", "source"),
    ("deprecatedFirstTimestamp", "firstTimestamp"),
    ("deprecatedLastTimestamp", "lastTimestamp"),
    ("deprecatedCount", "count"),
    ("reportingController", "reportingComponent"),
)
_SHARED = ("metadata", "eventTime", "series", "action", "reason", "type", "related", "reportingInstance")


def events_v1_to_core(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "Event", "apiVersion": "v1"}
    for name in _SHARED:
        if name in obj:
            out[name] = obj[name]
    for new, old in _RENAMED:
        if new in obj:
            out[old] = obj[new]
    if "series" in out and isinstance(out["series"], dict):
        # core's EventSeries keeps `state`-less {count, lastObservedTime}: the same keys
        out["series"] = dict(out["series"])
    return out


def core_to_events_v1(obj: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {"kind": "Event", "apiVersion": "events.k8s.io/v1"}
    for name in _SHARED:
        if name in obj:
            out[name] = obj[name]
    for new, old in _RENAMED:
        if old in obj:
            out[new] = obj[old]
    return out
