"""A plain-Python reference of the default filter and score plugins, written from
kube-scheduler's plugin semantics over Node and Pod dicts, one node at a time. It shares no code
with pykube_plane.scheduler.state or the compiled kernels: the differential tests run both."""
from __future__ import annotations

import math
from typing import Mapping

from pykube_plane.api.labels import SelectorError, selector_from_label_selector
from pykube_plane.api.quantity import parse_quantity_value

MAX = 100
MB = 1024 * 1024
WEIGHTS = {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1,
           "ImageLocality": 1, "PodTopologySpread": 2, "InterPodAffinity": 2}


def q(value, milli=False):
    try:
        v = parse_quantity_value(value)
    except Exception:
        return 0
    return v.milli_value() if milli else v.value()


def sel(spec):
    try:
        return selector_from_label_selector(spec)
    except SelectorError:
        return selector_from_label_selector(None)


def labels_of(obj):
    return (obj.get("metadata") or {}).get("labels") or {}


def ns_of(obj):
    return (obj.get("metadata") or {}).get("namespace") or ""


def requests(pod, nonzero):
    spec = pod.get("spec") or {}

    def one(c):
        r = (c.get("resources") or {}).get("requests") or {}
        cpu = q(r["cpu"], True) if "cpu" in r else (100 if nonzero else 0)
        mem = q(r["memory"]) if "memory" in r else (200 * MB if nonzero else 0)
        eph = q(r["ephemeral-storage"]) if "ephemeral-storage" in r else 0
        return [cpu, mem, eph]
    total = [0, 0, 0]
    for c in spec.get("containers") or []:
        total = [a + b for a, b in zip(total, one(c))]
    for c in spec.get("initContainers") or []:
        total = [max(a, b) for a, b in zip(total, one(c))]
    return total


def allocatable(node):
    a = (node.get("status") or {}).get("allocatable") or {}
    return {"cpu": q(a.get("cpu", 0), True), "memory": q(a.get("memory", 0)), "pods": q(a.get("pods", 0)),
            "eph": q(a.get("ephemeral-storage", 0))}


def tolerated(tolerations, taint):
    for t in tolerations:
        if t.get("effect") and t["effect"] != taint.get("effect"):
            continue
        if t.get("key") and t["key"] != taint.get("key"):
            continue
        if t.get("operator") == "Exists" or (t.get("value") or "") == (taint.get("value") or ""):
            return True
    return False


def requirement_ok(req, node, field=False):
    name = node["metadata"]["name"]
    labels = labels_of(node)
    if field:
        if req.get("key") != "metadata.name" or req.get("operator") not in ("In", "NotIn"):
            return False
        has, value = True, name
    else:
        has, value = req.get("key") in labels, labels.get(req.get("key"))
    op, values = req.get("operator"), req.get("values") or []
    if op == "In":
        return has and value in values
    if op == "NotIn":
        return not has or value not in values
    if op == "Exists":
        return has
    if op == "DoesNotExist":
        return not has
    if op in ("Gt", "Lt"):
        try:
            if len(values) != 1:
                return False
            bound = int(values[0])
        except ValueError:
            return False
        if not has:
            return False
        import re
        if not re.fullmatch(r"[+-]?[0-9]+", value) or not -(1 << 63) <= int(value) < (1 << 63):
            return False
        return int(value) > bound if op == "Gt" else int(value) < bound
    return False


def term_ok(term, node):
    exprs, fields = term.get("matchExpressions") or [], term.get("matchFields") or []
    if not exprs and not fields:
        return False
    return all(requirement_ok(r, node) for r in exprs) and all(requirement_ok(r, node, True) for r in fields)


def required_affinity_ok(pod, node):
    spec = pod.get("spec") or {}
    labels = labels_of(node)
    for k, v in (spec.get("nodeSelector") or {}).items():
        if labels.get(k) != v:
            return False
    na = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
    required = na.get("requiredDuringSchedulingIgnoredDuringExecution")
    if required is None:
        return True
    return any(term_ok(t, node) for t in required.get("nodeSelectorTerms") or [])


class Term:
    def __init__(self, term, owner_ns):
        self.selector = sel(term.get("labelSelector"))
        self.all = term.get("namespaceSelector") == {}
        self.namespaces = set(term.get("namespaces") or [])
        if not self.namespaces and term.get("namespaceSelector") is None:
            self.namespaces = {owner_ns}
        self.key = term.get("topologyKey") or ""

    def matches(self, pod):
        return (self.all or ns_of(pod) in self.namespaces) and self.selector.matches(labels_of(pod))


def terms(pod, kind, required):
    section = ((pod.get("spec") or {}).get("affinity") or {}).get(kind) or {}
    if required:
        return [Term(t, ns_of(pod)) for t in section.get("requiredDuringSchedulingIgnoredDuringExecution") or []]
    return [(p.get("weight", 0), Term(p.get("podAffinityTerm") or {}, ns_of(pod)))
            for p in section.get("preferredDuringSchedulingIgnoredDuringExecution") or []]


def host_ports(pod):
    return [(p.get("hostIP") or "0.0.0.0", p.get("protocol") or "TCP", p["hostPort"])
            for c in (pod.get("spec") or {}).get("containers") or [] for p in c.get("ports") or []
            if (p.get("hostPort") or 0) > 0]


def image_name(name):
    return name + ":latest" if name.rfind(":") <= name.rfind("/") else name


class Reference:
    def __init__(self, nodes: list[Mapping], pods_on: Mapping[str, list[Mapping]]):
        self.nodes = nodes
        self.pods_on = {n["metadata"]["name"]: list(pods_on.get(n["metadata"]["name"], [])) for n in nodes}

    # ---- filters: the reasons of the first failing plugin, [] when the node fits ----
    def filter(self, pod, node, prefilter):
        spec = pod.get("spec") or {}
        name = node["metadata"]["name"]
        nspec = node.get("spec") or {}
        tolerations = spec.get("tolerations") or []
        if nspec.get("unschedulable") and not tolerated(
                tolerations, {"key": "node.kubernetes.io/unschedulable", "effect": "NoSchedule"}):
            return ["node(s) were unschedulable"]
        if spec.get("nodeName") and spec["nodeName"] != name:
            return ["node(s) didn't match the requested node name"]
        for taint in nspec.get("taints") or []:
            if taint.get("effect") in ("NoSchedule", "NoExecute") and not tolerated(tolerations, taint):
                return [f"node(s) had untolerated taint {{{taint.get('key') or ''}: {taint.get('value') or ''}}}"]
        if not required_affinity_ok(pod, node):
            return ["node(s) didn't match Pod's node affinity/selector"]
        used = [hp for p in self.pods_on[name] for hp in host_ports(p)]
        for ip, proto, port in host_ports(pod):
            for uip, uproto, uport in used:
                if proto == uproto and port == uport and (ip == uip or "0.0.0.0" in (ip, uip)):
                    return ["node(s) didn't have free ports for the requested pod ports"]
        alloc = allocatable(node)
        have = [requests(p, False) for p in self.pods_on[name]]
        used_r = [sum(h[i] for h in have) for i in range(3)]
        want = requests(pod, False)
        out = []
        if len(self.pods_on[name]) + 1 > alloc["pods"]:
            out.append("Too many pods")
        for i, (res, text) in enumerate((("cpu", "Insufficient cpu"), ("memory", "Insufficient memory"),
                                          ("eph", "Insufficient ephemeral-storage"))):
            if want[i] > 0 and want[i] > alloc[res] - used_r[i]:
                out.append(text)
        if out:
            return out
        labels = labels_of(node)
        for c in prefilter["hard"]:
            if c["key"] not in labels:
                return ["node(s) didn't match pod topology spread constraints (missing required label)"]
            count = c["counts"].get(labels[c["key"]], 0)
            if count + c["self"] - c["min"] > c["maxSkew"]:
                return ["node(s) didn't match pod topology spread constraints"]
        aff = prefilter["affinity"]
        if aff:
            exist = True
            for t in aff:
                if t.key not in labels:
                    return ["node(s) didn't match pod affinity rules"]
                if prefilter["aff_counts"].get((t.key, labels[t.key]), 0) <= 0:
                    exist = False
            if not exist and not (not prefilter["aff_counts"] and prefilter["aff_self"]):
                return ["node(s) didn't match pod affinity rules"]
        for t in prefilter["anti"]:
            if t.key in labels and prefilter["anti_counts"].get((t.key, labels[t.key]), 0) > 0:
                return ["node(s) didn't match pod anti-affinity rules"]
        for k, v in labels.items():
            if prefilter["exist_counts"].get((k, v), 0) > 0:
                return ["node(s) didn't satisfy existing pods anti-affinity rules"]
        return []

    def prefilter(self, pod):
        pl = labels_of(pod)
        hard = []
        constraints = [c for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []
                       if c.get("whenUnsatisfiable", "DoNotSchedule") == "DoNotSchedule"]
        keys = [c.get("topologyKey") or "" for c in constraints]
        for c in constraints:
            s = sel(c.get("labelSelector"))
            counts = {}
            for node in self.nodes:
                labels = labels_of(node)
                if not all(k in labels for k in keys) or not required_affinity_ok(pod, node):
                    continue
                v = labels[c.get("topologyKey") or ""]
                counts[v] = counts.get(v, 0) + sum(
                    1 for p in self.pods_on[node["metadata"]["name"]]
                    if not p["metadata"].get("deletionTimestamp") and ns_of(p) == ns_of(pod)
                    and s.matches(labels_of(p)))
            hard.append({"key": c.get("topologyKey") or "", "maxSkew": int(c.get("maxSkew") or 1),
                         "self": 1 if s.matches(pl) else 0, "counts": counts,
                         "min": min(counts.values()) if counts else 2147483647})
        affinity = terms(pod, "podAffinity", True)
        anti = terms(pod, "podAntiAffinity", True)
        aff_counts, anti_counts, exist_counts = {}, {}, {}
        for node in self.nodes:
            labels = labels_of(node)
            for p in self.pods_on[node["metadata"]["name"]]:
                if affinity and all(t.matches(p) for t in affinity):
                    for t in affinity:
                        if t.key in labels:
                            aff_counts[(t.key, labels[t.key])] = aff_counts.get((t.key, labels[t.key]), 0) + 1
                for t in anti:
                    if t.matches(p) and t.key in labels:
                        anti_counts[(t.key, labels[t.key])] = anti_counts.get((t.key, labels[t.key]), 0) + 1
                for t in terms(p, "podAntiAffinity", True):
                    if t.matches(pod) and t.key in labels:
                        exist_counts[(t.key, labels[t.key])] = exist_counts.get((t.key, labels[t.key]), 0) + 1
        return {"hard": hard, "affinity": affinity, "anti": anti, "aff_counts": aff_counts,
                "anti_counts": anti_counts, "exist_counts": exist_counts,
                "aff_self": bool(affinity) and all(t.matches(pod) for t in affinity)}

    # ---- scores over the feasible nodes, normalised, unweighted ----
    def scores(self, pod, feasible, most_allocated=False):
        spec = pod.get("spec") or {}
        out = {}
        # TaintToleration
        prefer = [t for t in spec.get("tolerations") or [] if not t.get("effect") or t["effect"] == "PreferNoSchedule"]
        raw = [sum(1 for t in (n.get("spec") or {}).get("taints") or []
                   if t.get("effect") == "PreferNoSchedule" and not tolerated(prefer, t)) for n in feasible]
        out["TaintToleration"] = normalize(raw, reverse=True)
        # NodeAffinity
        na = ((spec.get("affinity") or {}).get("nodeAffinity") or {})
        raw = [sum(p.get("weight", 0) for p in na.get("preferredDuringSchedulingIgnoredDuringExecution") or []
                   if term_ok(p.get("preference") or {}, n)) for n in feasible]
        out["NodeAffinity"] = normalize(raw)
        # NodeResourcesFit (cpu, memory: weight 1 each) on requests with the defaults
        want = requests(pod, True)
        fit = []
        for n in feasible:
            a = allocatable(n)
            have = [requests(p, True) for p in self.pods_on[n["metadata"]["name"]]]
            total = 0
            for i, res in enumerate(("cpu", "memory")):
                cap, req = a[res], sum(h[i] for h in have) + want[i]
                if cap == 0:
                    s = 0
                elif most_allocated:
                    s = min(req, cap) * MAX // cap
                else:
                    s = 0 if req > cap else (cap - req) * MAX // cap
                total += s
            fit.append(total // 2)
        out["NodeResourcesFit"] = fit
        # BalancedAllocation on real requests; a pod asking for nothing is not scored
        want0 = requests(pod, False)
        bal = []
        for n in feasible:
            if not (want0[0] or want0[1]):
                bal.append(0)
                continue
            a = allocatable(n)
            have = [requests(p, False) for p in self.pods_on[n["metadata"]["name"]]]
            fr = []
            for i, res in enumerate(("cpu", "memory")):
                if a[res]:
                    fr.append(min(1.0, (sum(h[i] for h in have) + want0[i]) / a[res]))
            std = abs((fr[0] - fr[1]) / 2) if len(fr) == 2 else 0.0
            bal.append(int((1 - std) * MAX))
        out["NodeResourcesBalancedAllocation"] = bal
        # ImageLocality
        containers = list(spec.get("initContainers") or []) + list(spec.get("containers") or [])
        spread_count = {}
        for n in self.nodes:
            seen = set()
            for img in (n.get("status") or {}).get("images") or []:
                for nm in img.get("names") or []:
                    if nm not in seen:
                        seen.add(nm)
                        spread_count[nm] = spread_count.get(nm, 0) + 1
        img_scores = []
        for n in feasible:
            sizes = {}
            for img in (n.get("status") or {}).get("images") or []:
                for nm in img.get("names") or []:
                    sizes.setdefault(nm, int(img.get("sizeBytes") or 0))
            total = 0
            for c in containers:
                nm = image_name(c.get("image") or "")
                if nm in sizes:
                    total += int(sizes[nm] * (spread_count[nm] / len(self.nodes)))
            if not containers:
                img_scores.append(0)
                continue
            hi = 1000 * MB * len(containers)
            total = min(max(total, 23 * MB), hi)
            img_scores.append(MAX * (total - 23 * MB) // (hi - 23 * MB))
        out["ImageLocality"] = img_scores
        out["PodTopologySpread"] = self.spread_scores(pod, feasible)
        out["InterPodAffinity"] = self.interpod_scores(pod, feasible)
        return out

    def spread_scores(self, pod, feasible):
        soft = [c for c in (pod.get("spec") or {}).get("topologySpreadConstraints") or []
                if c.get("whenUnsatisfiable") == "ScheduleAnyway"]
        if not soft:
            return [0] * len(feasible)
        keys = [c.get("topologyKey") or "" for c in soft]
        ignored = [not all(k in labels_of(n) for k in keys) for n in feasible]
        host = "kubernetes.io/hostname"
        values = [set() for _ in soft]
        for n, ig in zip(feasible, ignored):
            if not ig:
                for i, k in enumerate(keys):
                    values[i].add(labels_of(n)[k])
        weights = []
        for i, k in enumerate(keys):
            size = sum(1 for ig in ignored if not ig) if k == host else len(values[i])
            weights.append(math.log(size + 2))
        selectors = [sel(c.get("labelSelector")) for c in soft]

        def matching(node_name, s):
            return sum(1 for p in self.pods_on[node_name] if not p["metadata"].get("deletionTimestamp")
                       and ns_of(p) == ns_of(pod) and s.matches(labels_of(p)))
        counts = [dict() for _ in soft]
        for n in self.nodes:
            labels = labels_of(n)
            if not all(k in labels for k in keys) or not required_affinity_ok(pod, n):
                continue
            for i, k in enumerate(keys):
                if k != host and labels[k] in values[i]:
                    counts[i][labels[k]] = counts[i].get(labels[k], 0) + matching(n["metadata"]["name"], selectors[i])
        raw = []
        for n, ig in zip(feasible, ignored):
            if ig:
                raw.append(None)
                continue
            score = 0.0
            for i, c in enumerate(soft):
                v = labels_of(n)[keys[i]]
                cnt = matching(n["metadata"]["name"], selectors[i]) if keys[i] == host else counts[i][v]
                score += cnt * weights[i] + (int(c.get("maxSkew") or 1) - 1)
            raw.append(int(math.floor(score + 0.5)) if score >= 0 else -int(math.floor(-score + 0.5)))
        present = [r for r in raw if r is not None]
        lo, hi = (min(present), max(max(present), 0)) if present else (0, 0)
        return [0 if r is None else (MAX if hi == 0 else MAX * (hi + lo - r) // hi) for r in raw]

    def interpod_scores(self, pod, feasible):
        preferred = [(w, t) for w, t in terms(pod, "podAffinity", False)]
        preferred += [(-w, t) for w, t in terms(pod, "podAntiAffinity", False)]
        topo = {}
        for n in self.nodes:
            labels = labels_of(n)
            for p in self.pods_on[n["metadata"]["name"]]:
                contributions = [(w, t) for w, t in preferred if t.matches(p)]
                contributions += [(1, t) for t in terms(p, "podAffinity", True) if t.matches(pod)]
                contributions += [(w, t) for w, t in terms(p, "podAffinity", False) if t.matches(pod)]
                contributions += [(-w, t) for w, t in terms(p, "podAntiAffinity", False) if t.matches(pod)]
                for w, t in contributions:
                    if t.key in labels:
                        topo[(t.key, labels[t.key])] = topo.get((t.key, labels[t.key]), 0) + w
        keys = {k for k, _ in topo}
        raw = [sum(topo.get((k, labels_of(n)[k]), 0) for k in keys if k in labels_of(n)) for n in feasible]
        if not raw:
            return []
        lo, hi = min(raw), max(raw)
        return [int(MAX * ((r - lo) / (hi - lo))) if hi - lo > 0 else 0 for r in raw]

    # ---- one scheduling cycle's filter pass from a start index ----
    def run(self, pod, start, num_to_find):
        pre = self.prefilter(pod)
        feasible, reasons, processed = [], {}, len(self.nodes)
        n = len(self.nodes)
        for k in range(n):
            node = self.nodes[(start + k) % n]
            r = self.filter(pod, node, pre)
            reasons[node["metadata"]["name"]] = r
            if not r:
                feasible.append(node)
                if len(feasible) >= num_to_find:
                    processed = k + 1
                    break
        return feasible, reasons, processed


def normalize(raw, reverse=False):
    top = max([0] + raw)
    if top == 0:
        return [MAX if reverse else 0 for _ in raw]
    return [(MAX - MAX * r // top) if reverse else MAX * r // top for r in raw]
