"""Per-node counts of the placed pods a label selector matches, kept up to date as pods come and
go, for the selectors of topology spread constraints and inter-pod terms: pods of one workload
share their selectors, so each is counted over the cluster once, not at every scheduling attempt.

An entry is found again by its selector, namespaces and whether terminating pods count; a placed
pod updates only the entries its labels can matter to (through one exact requirement of each
selector, or every "broad" selector that has none). Node indexes move when the node set changes:
entries are then recounted on next use."""
from __future__ import annotations

from array import array
from typing import TYPE_CHECKING, Iterable

if TYPE_CHECKING:
    from .state import ClusterState, PodRecord

MAX_ENTRIES = 256         # at 5,000 nodes: 10 MB of counts at most


class SelectorCounts:
    def __init__(self, state: "ClusterState", exact_operators: Iterable[str], all_namespaces: object) -> None:
        self.state = state
        self.exact = tuple(exact_operators)
        self.all = all_namespaces
        self.entries: dict[tuple, list] = {}     # key -> [epoch, counts, selector, namespaces, skip_terminating]
        self.watch: dict[tuple, set] = {}        # (namespace or ALL, label key, value) -> entry keys
        self.broad: set[tuple] = set()

    def clear(self) -> None:
        self.entries.clear()
        self.watch.clear()
        self.broad.clear()

    def get(self, selector, namespaces, skip_terminating: bool) -> array:
        """Per node index: placed pods in `namespaces` (None: all) that `selector` matches. The
        array is shared: read it, never change it."""
        state = self.state
        key = (str(selector), selector.matches_nothing, None if namespaces is None else frozenset(namespaces),
               skip_terminating)
        entry = self.entries.get(key)
        if entry is not None and entry[0] == state.node_epoch:
            return entry[1]
        if entry is None and len(self.entries) >= MAX_ENTRIES:
            self.clear()
        counts = state.zeros()
        index_of = state.table.index_of
        for r in state.candidates(selector, namespaces):
            if (namespaces is None or r.namespace in namespaces) and not (skip_terminating and r.terminating) \
                    and selector.matches(r.labels):
                i = index_of(r.node)
                if i >= 0:
                    counts[i] += 1
        if entry is None:
            self._register(key, selector, namespaces)
        self.entries[key] = [state.node_epoch, counts, selector, namespaces, skip_terminating]
        return counts

    def _register(self, key: tuple, selector, namespaces) -> None:
        requirement = next((r for r in selector.requirements if r.operator in self.exact), None)
        if requirement is None:
            self.broad.add(key)
            return
        for ns in ([self.all] if namespaces is None else namespaces):
            for value in requirement.values:
                self.watch.setdefault((ns, requirement.key, value), set()).add(key)

    def on_pod(self, record: "PodRecord", delta: int) -> None:
        """A pod was placed (delta 1) or left (-1)."""
        if not self.entries:
            return
        keys = set(self.broad)
        for k, v in record.labels.items():
            keys.update(self.watch.get((record.namespace, k, v), ()))
            keys.update(self.watch.get((self.all, k, v), ()))
        if not keys:
            return
        epoch, index = self.state.node_epoch, None
        for key in keys:
            entry = self.entries.get(key)
            if entry is None or entry[0] != epoch:
                continue
            _, counts, selector, namespaces, skip_terminating = entry
            if (namespaces is None or record.namespace in namespaces) and not (skip_terminating and record.terminating) \
                    and selector.matches(record.labels):
                if index is None:
                    index = self.state.table.index_of(record.node)
                if index >= 0:
                    counts[index] += delta
