"""ClusterState: the scheduler's view of nodes and the pods on them, kept in the compiled
NodeTable (pykube_plane._sched), and the translation of one pod into a PodQuery for the kernels
(interned strings, node affinity terms, and the per-node counts topology spread and inter-pod
affinity need)."""
from __future__ import annotations

from array import array
from typing import Any, Iterable, Mapping

from pykube_plane import _sched
from pykube_plane.api.labels import DOUBLE_EQUALS, EQUALS, IN, SelectorError, selector_from_label_selector

from . import podinfo
from .selector_counts import SelectorCounts

OPERATORS = {"In": _sched.OP_IN, "NotIn": _sched.OP_NOT_IN, "Exists": _sched.OP_EXISTS,
             "DoesNotExist": _sched.OP_DOES_NOT_EXIST, "Gt": _sched.OP_GT, "Lt": _sched.OP_LT}
HARD_POD_AFFINITY_WEIGHT = 1
EXACT_OPERATORS = (EQUALS, DOUBLE_EQUALS, IN)
ALL = object()          # the all-namespaces bucket of ClusterState.by_label


def label_selector(spec: Any):
    try:
        return selector_from_label_selector(spec)
    except SelectorError:
        return selector_from_label_selector(None)   # an invalid selector selects nothing


class PodRecord:
    """A pod counted on a node: what was added to the table, to take the same off again."""
    __slots__ = ("pod", "node", "requests", "nonzero", "ports", "labels", "namespace", "terminating",
                 "has_affinity", "assumed", "terms", "priority")

    def __init__(self, pod: Mapping, node: str, ports: list) -> None:
        meta = pod.get("metadata") or {}
        self.pod = pod
        self.node = node
        self.requests = podinfo.pod_requests(pod)
        self.nonzero = podinfo.pod_requests(pod, nonzero=True)[:2]
        self.ports = ports
        self.labels = meta.get("labels") or {}
        self.namespace = meta.get("namespace") or ""
        self.terminating = bool(meta.get("deletionTimestamp"))
        self.has_affinity = podinfo.has_pod_affinity(pod)
        self.assumed = False        # counted by the scheduler before the API server confirmed it
        self.priority = podinfo.priority(pod)
        self.terms = _existing_terms(pod, self.namespace) if self.has_affinity else None


class AffinityTerm:
    """A pod (anti-)affinity term resolved against its owner's namespace."""
    __slots__ = ("selector", "namespaces", "all_namespaces", "key", "signature")

    def __init__(self, term: Mapping, owner_namespace: str) -> None:
        self.selector = label_selector(term.get("labelSelector"))
        self.namespaces = set(term.get("namespaces") or ())
        # An empty namespaceSelector means every namespace; a non-empty one is not evaluated
        # (the scheduler does not watch namespaces) and adds nothing beyond `namespaces`.
        self.all_namespaces = term.get("namespaceSelector") == {}
        if not self.namespaces and term.get("namespaceSelector") is None:
            self.namespaces = {owner_namespace}
        self.key = term.get("topologyKey") or ""
        # Terms that select the same pods share a signature (whatever their topology key).
        self.signature = (str(self.selector), self.selector.matches_nothing, frozenset(self.namespaces),
                          self.all_namespaces)

    def namespace_filter(self):
        return None if self.all_namespaces else self.namespaces

    def matches(self, namespace: str, labels: Mapping) -> bool:
        return (self.all_namespaces or namespace in self.namespaces) and self.selector.matches(labels)


def _existing_terms(pod: Mapping, namespace: str) -> dict:
    """An assigned pod's own (anti-)affinity terms, parsed once: how it judges incoming pods."""
    return {
        "anti_required": [AffinityTerm(t, namespace) for t in podinfo.pod_affinity_terms(pod, "podAntiAffinity", True)],
        "affinity_required": [AffinityTerm(t, namespace) for t in podinfo.pod_affinity_terms(pod, "podAffinity", True)],
        "preferred": [(w, AffinityTerm(t, namespace)) for w, t in podinfo.pod_affinity_terms(pod, "podAffinity", False)]
        + [(-w, AffinityTerm(t, namespace)) for w, t in podinfo.pod_affinity_terms(pod, "podAntiAffinity", False)],
    }


class ClusterState:
    def __init__(self) -> None:
        self.table = _sched.NodeTable()
        self.intern = self.table.interner.intern
        self.nodes: dict[str, Mapping] = {}
        self.pods: dict[str, PodRecord] = {}                 # "ns/name" -> record
        self.pods_by_node: dict[str, dict[str, PodRecord]] = {}
        self.affinity_pods: dict[str, PodRecord] = {}        # pods with pod (anti-)affinity
        # Pods by namespace and by (namespace or ALL, label key, value): the candidates a term's
        # selector can match, so a query looks at those pods rather than at every pod.
        self.by_namespace: dict[str, dict[str, PodRecord]] = {}
        self.by_label: dict[tuple, dict[str, PodRecord]] = {}
        # Assigned pods' own terms grouped by what they select: signature -> [a term, {pod key:
        # [(kind, weight, topology key)]}]; an incoming pod is matched once per group.
        self.term_groups: dict[tuple, list] = {}
        # Per group, its per-node sums by (kind, topology key) as the kernel takes them, built on
        # first use and kept up to date; node indexes move when the node set changes (epoch).
        self.group_arrays: dict[tuple, tuple[int, dict]] = {}
        self.node_epoch = 0
        self.counts = SelectorCounts(self, EXACT_OPERATORS, ALL)

    # -- nodes ---------------------------------------------------------------------------------
    def set_node(self, node: Mapping) -> None:
        name = node["metadata"]["name"]
        intern = self.intern
        self.nodes[name] = node
        new = self.table.index_of(name) < 0
        if new:
            self.node_epoch += 1
        self.table.set_node(
            name, podinfo.node_allocatable(node), bool((node.get("spec") or {}).get("unschedulable")),
            [(intern(k), intern(v)) for k, v in ((node.get("metadata") or {}).get("labels") or {}).items()],
            [(intern(k), intern(v), e) for k, v, e in podinfo.node_taints(node)],
            [(intern(n), size) for n, size in podinfo.node_images(node)])
        if new:     # pods seen before their node (or kept across its removal) count now
            for record in self.pods_by_node.get(name, {}).values():
                self.table.add_pod(name, record.requests, record.nonzero, record.ports)

    def remove_node(self, name: str) -> None:
        self.node_epoch += 1
        self.nodes.pop(name, None)
        self.table.remove_node(name)

    # -- pods ----------------------------------------------------------------------------------
    def record(self, pod: Mapping, node: str) -> PodRecord:
        """What counting `pod` on `node` takes (parsed once; add it with add_record)."""
        intern = self.intern
        return PodRecord(pod, node, [(intern(ip), intern(proto), port) for ip, proto, port in podinfo.host_ports(pod)])

    def add_pod(self, pod: Mapping, node: str) -> PodRecord:
        return self.add_record(self.record(pod, node))

    def add_record(self, record: PodRecord) -> PodRecord:
        key = podinfo.pod_key(record.pod)
        if key in self.pods:
            self.remove_pod(key)
        node, ports = record.node, record.ports
        self.pods[key] = record
        self.pods_by_node.setdefault(node, {})[key] = record
        if record.has_affinity:
            self.affinity_pods[key] = record
            for kind, weight, term in self._own_terms(record):
                group = self.term_groups.setdefault(term.signature, [term, {}])
                group[1].setdefault(key, []).append((kind, weight, term.key))
                self._bump_group(term.signature, node, kind, term.key, weight)
        self.by_namespace.setdefault(record.namespace, {})[key] = record
        for k, v in record.labels.items():
            self.by_label.setdefault((record.namespace, k, v), {})[key] = record
            self.by_label.setdefault((ALL, k, v), {})[key] = record
        self.table.add_pod(node, record.requests, record.nonzero, ports)
        self.counts.on_pod(record, 1)
        return record

    def confirm(self, key: str, pod: Mapping) -> bool:
        """The API server shows an assumed pod bound where it was assumed, as it was assumed:
        keep what is counted and just hold the server's object (no re-parse)."""
        record = self.pods.get(key)
        if record is None or not record.assumed or record.node != (pod.get("spec") or {}).get("nodeName"):
            return False
        old_spec, new_spec = record.pod.get("spec") or {}, pod.get("spec") or {}
        if ((pod.get("metadata") or {}).get("labels") or {}) != record.labels or any(
                old_spec.get(f) != new_spec.get(f) for f in ("containers", "initContainers", "overhead", "affinity")):
            return False
        record.pod = pod
        record.assumed = False
        return True

    def remove_pod(self, key: str) -> PodRecord | None:
        record = self.pods.pop(key, None)
        if record is None:
            return None
        on_node = self.pods_by_node.get(record.node)
        if on_node is not None:
            on_node.pop(key, None)
            if not on_node:
                del self.pods_by_node[record.node]
        if self.affinity_pods.pop(key, None) is not None:
            for kind, weight, term in self._own_terms(record):
                group = self.term_groups.get(term.signature)
                if group is not None:
                    group[1].pop(key, None)
                    self._bump_group(term.signature, record.node, kind, term.key, -weight)
                    if not group[1]:
                        del self.term_groups[term.signature]
                        self.group_arrays.pop(term.signature, None)
        self._unindex(self.by_namespace, record.namespace, key)
        for k, v in record.labels.items():
            self._unindex(self.by_label, (record.namespace, k, v), key)
            self._unindex(self.by_label, (ALL, k, v), key)
        self.table.remove_pod(record.node, record.requests, record.nonzero, record.ports)
        self.counts.on_pod(record, -1)
        return record

    def _bump_group(self, signature: tuple, node: str, kind: str, key: str, weight: int) -> None:
        cached = self.group_arrays.get(signature)
        if cached is None or cached[0] != self.node_epoch:
            return                          # rebuilt on next use
        i = self.table.index_of(node)
        if i >= 0:
            arrays = cached[1]
            arr = arrays.get((kind, key))
            if arr is None:
                arr = arrays[(kind, key)] = self.zeros()
            arr[i] += weight

    def _group_sums(self, signature: tuple, members: dict) -> dict:
        cached = self.group_arrays.get(signature)
        if cached is not None and cached[0] == self.node_epoch:
            return cached[1]
        arrays: dict = {}
        index_of, pods = self.table.index_of, self.pods
        for pod_key, entries in members.items():
            i = index_of(pods[pod_key].node)
            if i < 0:
                continue
            for kind, weight, key in entries:
                arr = arrays.get((kind, key))
                if arr is None:
                    arr = arrays[(kind, key)] = self.zeros()
                arr[i] += weight
        self.group_arrays[signature] = (self.node_epoch, arrays)
        return arrays

    @staticmethod
    def _own_terms(record: PodRecord):
        for term in record.terms["anti_required"]:
            yield "exist", 1, term
        for term in record.terms["affinity_required"]:
            yield "score", HARD_POD_AFFINITY_WEIGHT, term
        for weight, term in record.terms["preferred"]:
            yield "score", weight, term

    @staticmethod
    def _unindex(index: dict, bucket, key: str) -> None:
        entries = index.get(bucket)
        if entries is not None:
            entries.pop(key, None)
            if not entries:
                del index[bucket]

    def candidates(self, selector, namespaces) -> Iterable[PodRecord]:
        """Pods that may match `selector` in `namespaces` (None: all); callers still match."""
        if selector.matches_nothing:
            return ()
        spaces = [ALL] if namespaces is None else list(namespaces)
        best = None
        for requirement in selector.requirements:
            if requirement.operator in EXACT_OPERATORS:
                found = [r for ns in spaces for v in requirement.values
                         for r in self.by_label.get((ns, requirement.key, v), {}).values()]
                if best is None or len(found) < len(best):
                    best = found
        if best is not None:
            return best
        if namespaces is None:
            return list(self.pods.values())
        return [r for ns in spaces for r in self.by_namespace.get(ns, {}).values()]

    # -- one pod as the kernels see it ---------------------------------------------------------
    def _requirements(self, term: Mapping) -> list:
        intern = self.intern
        out = []
        for expr in term.get("matchExpressions") or ():
            op = OPERATORS.get(expr.get("operator"))
            values = list(expr.get("values") or ())
            key = intern(expr.get("key") or "")
            if op in (_sched.OP_GT, _sched.OP_LT):
                try:
                    if len(values) != 1:
                        raise ValueError
                    out.append((key, op, int(values[0])))
                except (TypeError, ValueError):
                    out.append((key, _sched.OP_IN, []))     # an invalid requirement matches nothing
            elif op is None:
                out.append((key, _sched.OP_IN, []))
            else:
                out.append((key, op, [intern(str(v)) for v in values]))
        for field in term.get("matchFields") or ():
            op = OPERATORS.get(field.get("operator"))
            if field.get("key") != "metadata.name" or op not in (_sched.OP_IN, _sched.OP_NOT_IN):
                out.append((_sched.KEY_NODE_NAME, _sched.OP_IN, []))
            else:
                out.append((_sched.KEY_NODE_NAME, op, [intern(str(v)) for v in field.get("values") or ()]))
        return out

    def query(self, pod: Mapping) -> "_sched.PodQuery":
        intern = self.intern
        spec = pod.get("spec") or {}
        affinity = podinfo.node_affinity(pod)
        required = affinity.get("requiredDuringSchedulingIgnoredDuringExecution")
        required_terms = None
        if required is not None:
            required_terms = [self._requirements(t) for t in required.get("nodeSelectorTerms") or ()]
        preferred = [(p.get("weight", 0), self._requirements(p.get("preference") or {}))
                     for p in affinity.get("preferredDuringSchedulingIgnoredDuringExecution") or ()]
        tolerations = []
        for t in spec.get("tolerations") or ():
            key = t.get("key") or ""
            tolerations.append((intern(key) if key else -1, 1 if t.get("operator") == "Exists" else 0,
                                intern(t.get("value") or ""), podinfo.EFFECTS.get(t.get("effect"), 0)))
        images, n_containers = podinfo.pod_images(pod)
        node_name = spec.get("nodeName")
        return _sched.PodQuery(
            requests=podinfo.pod_requests(pod), nonzero=podinfo.pod_requests(pod, nonzero=True)[:2],
            node_name=intern(node_name) if node_name else -1,
            ports=[(intern(ip), intern(proto), port) for ip, proto, port in podinfo.host_ports(pod)],
            tolerations=tolerations,
            selector=[(intern(k), intern(str(v))) for k, v in (spec.get("nodeSelector") or {}).items()],
            required=required_terms, preferred=preferred,
            images=[intern(i) for i in images], n_containers=n_containers,
            spread=self._spread(pod), interpod=self._interpod(pod))

    def zeros(self) -> array:
        return array("q", bytes(8 * len(self.table)))

    def _spread(self, pod: Mapping):
        constraints = (pod.get("spec") or {}).get("topologySpreadConstraints") or ()
        if not constraints:
            return None
        meta = pod.get("metadata") or {}
        namespace, labels = meta.get("namespace") or "", meta.get("labels") or {}
        hard, soft = [], []
        for c in constraints:
            selector = label_selector(c.get("labelSelector"))
            counts = self.counts.get(selector, (namespace,), True)
            entry = (self.intern(c.get("topologyKey") or ""), int(c.get("maxSkew") or 1),
                     1 if selector.matches(labels) else 0, counts)
            (hard if c.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule" else soft).append(entry)
        return hard, soft

    def _interpod(self, pod: Mapping):
        meta = pod.get("metadata") or {}
        namespace, labels = meta.get("namespace") or "", meta.get("labels") or {}
        affinity = [AffinityTerm(t, namespace) for t in podinfo.pod_affinity_terms(pod, "podAffinity", True)]
        anti = [AffinityTerm(t, namespace) for t in podinfo.pod_affinity_terms(pod, "podAntiAffinity", True)]
        preferred = [(w, AffinityTerm(t, namespace)) for w, t in podinfo.pod_affinity_terms(pod, "podAffinity", False)]
        preferred += [(-w, AffinityTerm(t, namespace))
                      for w, t in podinfo.pod_affinity_terms(pod, "podAntiAffinity", False)]
        if not (affinity or anti or preferred or self.term_groups):
            return None
        index_of, intern = self.table.index_of, self.intern
        by_key: dict[str, dict[str, array]] = {"affinity": {}}

        def counts(kind: str, key: str) -> array:
            found = by_key[kind].get(key)
            if found is None:
                found = by_key[kind][key] = self.zeros()
            return found

        if len(affinity) == 1:  # the usual case: one term, its counts kept like the others'
            term = affinity[0]
            by_key["affinity"][term.key] = self.counts.get(term.selector, term.namespace_filter(), False)
        elif affinity:          # a pod counts only if it matches every term
            for t in affinity:  # every term's key is checked, matched by pods or not
                counts("affinity", t.key)
            for r in self.candidates(affinity[0].selector, affinity[0].namespace_filter()):
                i = index_of(r.node)
                if i >= 0 and all(t.matches(r.namespace, r.labels) for t in affinity):
                    for t in affinity:
                        counts("affinity", t.key)[i] += 1
        anti_entries = [(term, self.counts.get(term.selector, term.namespace_filter(), False)) for term in anti]
        preferred_entries = [(intern(term.key), self.counts.get(term.selector, term.namespace_filter(), False), weight)
                             for weight, term in preferred]
        # Assigned pods' terms that select this pod: their groups' per-node sums go to the kernel
        # as extra entries (it adds entries that share a topology key).
        existing: dict[str, list] = {"exist": [], "score": []}
        for signature, (term, members) in self.term_groups.items():
            if term.matches(namespace, labels):
                for (kind, key), arr in self._group_sums(signature, members).items():
                    existing[kind].append((intern(key), arr))
        return {
            "affinity": [(intern(k), a) for k, a in by_key["affinity"].items()],
            "affinity_self_match": bool(affinity) and all(t.matches(namespace, labels) for t in affinity),
            "anti_affinity": [(intern(t.key), a) for t, a in anti_entries],
            "existing_anti_affinity": existing["exist"],
            "score": preferred_entries + existing["score"],
        }
