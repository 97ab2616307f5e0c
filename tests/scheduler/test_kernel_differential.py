"""The compiled kernels (through ClusterState) against the plain-Python reference on thousands of
random clusters and pods: the same nodes visited, the same feasible set, the same reasons for
every filtered node, the same per-plugin scores for every feasible node."""
from __future__ import annotations

import random

import pytest

from pykube_plane import _sched
from pykube_plane.scheduler.messages import node_reasons
from pykube_plane.scheduler.state import ClusterState
from tests.scheduler.clusters import make_node, make_pod
from tests.scheduler.reference import Reference

PLUGINS = ["TaintToleration", "NodeAffinity", "NodeResourcesFit", "NodeResourcesBalancedAllocation",
           "ImageLocality", "PodTopologySpread", "InterPodAffinity"]
WEIGHTS = [3, 2, 1, 1, 1, 2, 2]


def build(rng: random.Random):
    state = ClusterState()
    n_nodes = rng.randint(1, 12)
    nodes = [make_node(rng, f"node-{i}") for i in range(n_nodes)]
    pods_on: dict[str, list] = {}
    for node in nodes:
        state.set_node(node)
    # Churn: remove and re-add some nodes (indexes move), update others.
    for node in rng.sample(nodes, rng.randint(0, len(nodes) // 2)):
        state.remove_node(node["metadata"]["name"])
        if rng.random() < 0.5:
            state.set_node(node)
        else:
            nodes.remove(node)
    names = [n["metadata"]["name"] for n in nodes]
    for i in range(rng.randint(0, 25)):
        if not names:
            break
        pod = make_pod(rng, f"p{i}", names)
        pod["spec"].pop("nodeName", None)
        node = rng.choice(names)
        pod["spec"]["nodeName"] = node
        state.add_pod(pod, node)
        pods_on.setdefault(node, []).append(pod)
    # Some pods leave again.
    for node, pods in pods_on.items():
        for pod in list(pods):
            if rng.random() < 0.15:
                state.remove_pod(f"{pod['metadata']['namespace']}/{pod['metadata']['name']}")
                pods.remove(pod)
    by_name = {n["metadata"]["name"]: n for n in nodes}
    ordered = [by_name[name] for name in state.table.node_names()]
    return state, ordered, pods_on


def churn(rng: random.Random, state: ClusterState, pods_on: dict, names: list, round_: int) -> None:
    placed = [(node, p) for node, pods in pods_on.items() for p in pods]
    if placed and rng.random() < 0.5:
        node, p = rng.choice(placed)
        state.remove_pod(f"{p['metadata']['namespace']}/{p['metadata']['name']}")
        pods_on[node].remove(p)
    else:
        p = make_pod(rng, f"late{round_}", names)
        node = rng.choice(names)
        p["spec"]["nodeName"] = node
        state.add_pod(p, node)
        pods_on.setdefault(node, []).append(p)


@pytest.mark.parametrize("seed", range(8))
def test_kernel_matches_reference(seed: int) -> None:
    rng = random.Random(seed)
    cases = 0
    for _ in range(400):
        state, nodes, pods_on = build(rng)
        if not nodes:
            continue
        names = [n["metadata"]["name"] for n in nodes]
        for round_ in range(3):
            if round_:      # pods come and go between queries (cached per-node sums follow)
                churn(rng, state, pods_on, names, round_)
            reference = Reference(nodes, pods_on)
            pod = make_pod(rng, "incoming", names)
            start = rng.randrange(len(nodes))
            to_find = rng.randint(1, len(nodes))
            most = rng.random() < 0.3
            result = state.table.run(state.query(pod), start, to_find, _sched.F_ALL, WEIGHTS, most_allocated=most)
            ref_feasible, ref_reasons, ref_processed = reference.run(pod, start, to_find)
            table = state.table
            got = [table.name_at(i) for i in result.feasible]
            context = f"seed {seed} pod {pod} nodes {nodes} pods {pods_on}"
            assert got == [n["metadata"]["name"] for n in ref_feasible], context
            assert result.processed == ref_processed, context
            for name, reasons in ref_reasons.items():
                assert sorted(node_reasons(table, result, table.index_of(name))) == sorted(reasons), \
                    f"{name}: {context}"
            ref_scores = reference.scores(pod, ref_feasible, most_allocated=most)
            for k, plugin in enumerate(PLUGINS):
                assert list(result.plugin_scores[k]) == ref_scores[plugin], f"{plugin}: {context}"
            total = [sum(w * ref_scores[p][j] for w, p in zip(WEIGHTS, PLUGINS)) for j in range(len(got))]
            assert list(result.total) == total
            cases += 1
    assert cases > 1000
