"""Random clusters and pods for the differential tests and the benchmark: small label, taint,
port and image vocabularies so that every filter both passes and fails often."""
from __future__ import annotations

import random

ZONES = ["z1", "z2", "z3"]
KEYS = ["disk", "gpu", "tier", "num"]
VALUES = ["a", "b", "c", "1", "5", "10", "-3"]
TAINT_KEYS = ["dedicated", "spot", "gpu"]
EFFECTS = ["NoSchedule", "PreferNoSchedule", "NoExecute"]
IMAGES = ["nginx", "nginx:1.25", "redis:7", "busybox", "registry.local:5000/app", "app:v2"]
APPS = ["web", "db", "cache"]
NAMESPACES = ["default", "other"]


def make_node(rng: random.Random, name: str) -> dict:
    labels = {"kubernetes.io/hostname": name}
    if rng.random() < 0.9:
        labels["topology.kubernetes.io/zone"] = rng.choice(ZONES)
    for key in rng.sample(KEYS, rng.randint(0, 3)):
        labels[key] = rng.choice(VALUES)
    taints = []
    for key in rng.sample(TAINT_KEYS, rng.choice([0, 0, 0, 1, 2])):
        taints.append({"key": key, "value": rng.choice(["", "x", "y"]), "effect": rng.choice(EFFECTS)})
    images = [{"names": [img], "sizeBytes": rng.choice([10, 100, 400, 900]) * 1024 * 1024}
              for img in rng.sample(IMAGES, rng.randint(0, 3))]
    node = {"apiVersion": "v1", "kind": "Node", "metadata": {"name": name, "labels": labels},
            "spec": {}, "status": {"allocatable": {
                "cpu": rng.choice(["1", "2", "4", "500m", "0"]), "memory": rng.choice(["1Gi", "4Gi", "512Mi"]),
                "pods": str(rng.choice([1, 3, 110])), "ephemeral-storage": rng.choice(["10Gi", "1Gi"])},
                "images": images}}
    if taints:
        node["spec"]["taints"] = taints
    if rng.random() < 0.1:
        node["spec"]["unschedulable"] = True
    return node


def _selector(rng: random.Random) -> dict:
    choice = rng.random()
    if choice < 0.6:
        return {"matchLabels": {"app": rng.choice(APPS)}}
    if choice < 0.8:
        return {"matchExpressions": [{"key": "app", "operator": rng.choice(["In", "NotIn"]),
                                      "values": rng.sample(APPS, 2)}]}
    return {}


def _pod_term(rng: random.Random) -> dict:
    term = {"labelSelector": _selector(rng),
            "topologyKey": rng.choice(["topology.kubernetes.io/zone", "kubernetes.io/hostname", "disk"])}
    if rng.random() < 0.2:
        term["namespaces"] = rng.sample(NAMESPACES, 1)
    elif rng.random() < 0.1:
        term["namespaceSelector"] = {}
    return term


def _requirement(rng: random.Random) -> dict:
    op = rng.choice(["In", "NotIn", "Exists", "DoesNotExist", "Gt", "Lt"])
    req = {"key": rng.choice(KEYS + ["topology.kubernetes.io/zone"]), "operator": op}
    if op in ("In", "NotIn"):
        req["values"] = rng.sample(VALUES + ZONES, rng.randint(1, 3))
    elif op in ("Gt", "Lt"):
        req["values"] = [rng.choice(["0", "2", "7", "x"])]
    return req


def _node_term(rng: random.Random, names: list[str]) -> dict:
    term: dict = {}
    if rng.random() < 0.9:
        term["matchExpressions"] = [_requirement(rng) for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.15 and names:
        term["matchFields"] = [{"key": "metadata.name", "operator": rng.choice(["In", "NotIn"]),
                                "values": rng.sample(names, 1)}]
    return term


def make_pod(rng: random.Random, name: str, node_names: list[str], rich: bool = True) -> dict:
    container = {"name": "c", "image": rng.choice(IMAGES)}
    requests = {}
    if rng.random() < 0.7:
        requests["cpu"] = rng.choice(["100m", "250m", "1", "1500m"])
    if rng.random() < 0.7:
        requests["memory"] = rng.choice(["64Mi", "256Mi", "1Gi"])
    if rng.random() < 0.1:
        requests["ephemeral-storage"] = rng.choice(["1Gi", "5Gi"])
    if requests:
        container["resources"] = {"requests": requests}
    if rng.random() < 0.15:
        container["ports"] = [{"containerPort": 80, "hostPort": rng.choice([80, 8080]),
                               "protocol": rng.choice(["TCP", "UDP"]),
                               **({"hostIP": "127.0.0.1"} if rng.random() < 0.3 else {})}]
    spec: dict = {"containers": [container]}
    if rng.random() < 0.2:
        spec["initContainers"] = [{"name": "init", "image": rng.choice(IMAGES),
                                   "resources": {"requests": {"cpu": rng.choice(["2", "100m"])}}}]
    pod = {"apiVersion": "v1", "kind": "Pod",
           "metadata": {"name": name, "namespace": rng.choice(NAMESPACES) if rng.random() < 0.2 else "default",
                        "labels": {"app": rng.choice(APPS)}},
           "spec": spec}
    if not rich:
        return pod
    if rng.random() < 0.4:
        spec["tolerations"] = [
            {"key": rng.choice(TAINT_KEYS + [""]), "operator": rng.choice(["Equal", "Exists"]),
             "value": rng.choice(["", "x"]), **({"effect": rng.choice(EFFECTS)} if rng.random() < 0.5 else {})}
            for _ in range(rng.randint(1, 2))]
        for t in spec["tolerations"]:
            if not t["key"]:
                t["operator"] = "Exists"
    if rng.random() < 0.2:
        spec["nodeSelector"] = {rng.choice(KEYS): rng.choice(VALUES)}
    affinity: dict = {}
    if rng.random() < 0.3:
        na: dict = {}
        if rng.random() < 0.6:
            na["requiredDuringSchedulingIgnoredDuringExecution"] = {
                "nodeSelectorTerms": [_node_term(rng, node_names) for _ in range(rng.randint(1, 2))]}
        if rng.random() < 0.6:
            na["preferredDuringSchedulingIgnoredDuringExecution"] = [
                {"weight": rng.randint(1, 100), "preference": _node_term(rng, node_names)}
                for _ in range(rng.randint(1, 2))]
        affinity["nodeAffinity"] = na
    for kind in ("podAffinity", "podAntiAffinity"):
        if rng.random() < 0.2:
            section: dict = {}
            if rng.random() < 0.6:
                section["requiredDuringSchedulingIgnoredDuringExecution"] = [_pod_term(rng)]
            if rng.random() < 0.6:
                section["preferredDuringSchedulingIgnoredDuringExecution"] = [
                    {"weight": rng.randint(1, 100), "podAffinityTerm": _pod_term(rng)}]
            affinity[kind] = section
    if affinity:
        spec["affinity"] = affinity
    if rng.random() < 0.25:
        spec["topologySpreadConstraints"] = [
            {"maxSkew": rng.randint(1, 2), "topologyKey": rng.choice(
                ["topology.kubernetes.io/zone", "kubernetes.io/hostname", "disk"]),
             "whenUnsatisfiable": rng.choice(["DoNotSchedule", "ScheduleAnyway"]),
             "labelSelector": _selector(rng)} for _ in range(rng.randint(1, 2))]
    if rng.random() < 0.05:
        spec["nodeName"] = rng.choice(node_names) if node_names else "x"
    if rng.random() < 0.05:
        pod["metadata"]["deletionTimestamp"] = "2026-01-01T00:00:00Z"
    return pod
