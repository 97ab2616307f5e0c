"""Kubernetes' texts for why a node was filtered out, and the FailedScheduling message."""
from __future__ import annotations

from collections import Counter
from typing import Iterable

from pykube_plane import _sched

REASONS = [
    (_sched.R_UNSCHEDULABLE, "node(s) were unschedulable"),
    (_sched.R_NODE_NAME, "node(s) didn't match the requested node name"),
    (_sched.R_AFFINITY, "node(s) didn't match Pod's node affinity/selector"),
    (_sched.R_PORTS, "node(s) didn't have free ports for the requested pod ports"),
    (_sched.R_TOO_MANY_PODS, "Too many pods"),
    (_sched.R_CPU, "Insufficient cpu"),
    (_sched.R_MEMORY, "Insufficient memory"),
    (_sched.R_EPHEMERAL, "Insufficient ephemeral-storage"),
    (_sched.R_SPREAD_LABEL, "node(s) didn't match pod topology spread constraints (missing required label)"),
    (_sched.R_SPREAD_SKEW, "node(s) didn't match pod topology spread constraints"),
    (_sched.R_POD_AFFINITY, "node(s) didn't match pod affinity rules"),
    (_sched.R_POD_ANTI_AFFINITY, "node(s) didn't match pod anti-affinity rules"),
    (_sched.R_EXISTING_ANTI_AFFINITY, "node(s) didn't satisfy existing pods anti-affinity rules"),
]
# Reasons that no preemption can cure (UnschedulableAndUnresolvable in Kubernetes).
UNRESOLVABLE = (_sched.R_UNSCHEDULABLE | _sched.R_NODE_NAME | _sched.R_AFFINITY | _sched.R_SPREAD_LABEL
                | _sched.R_POD_AFFINITY | _sched.R_TAINT)


def taint_reason(key: str, value: str) -> str:
    return f"node(s) had untolerated taint {{{key}: {value}}}"


def node_reasons(table, result, i: int) -> list[str]:
    bits = result.reasons[i]
    out = [text for bit, text in REASONS if bits & bit]
    if bits & _sched.R_TAINT:
        key, value, _ = table.taint_of(i, result.untolerated[i])
        out.append(taint_reason(key, value))
    return out


def fit_error(n_nodes: int, reasons: Iterable[str], preemption: str | None = None) -> str:
    """"0/5 nodes are available: 3 Insufficient cpu, 2 node(s) had untolerated taint {k: v}." """
    counts = Counter(reasons)
    parts = sorted(f"{count} {reason}" for reason, count in counts.items())
    message = f"0/{n_nodes} nodes are available: {', '.join(parts)}."
    if preemption:
        message += f" preemption: {preemption}"
    return message
