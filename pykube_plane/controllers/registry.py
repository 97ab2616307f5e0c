"""Controller names, as `kube-controller-manager --controllers` takes them, -> their factories.

Each row: name -> "module:Class" (imported when enabled) or None (a name Kubernetes knows whose
kind this API server does not serve yet). Kubernetes' long names (`replicaset-controller`) are
aliases of the short ones. To add a controller, add a row (e.g. "nodelifecycle").

    --controllers=*                 every controller on by default
    --controllers=*,-podgc          all but pod GC
    --controllers=deployment,replicaset
"""
from __future__ import annotations

import importlib
import importlib.util
from typing import Iterable

CONTROLLERS: dict[str, str | None] = {
    "replicaset": "pykube_plane.controllers.replicaset:ReplicaSetController",
    "replicationcontroller": "pykube_plane.controllers.replicaset:ReplicationControllerController",
    "deployment": "pykube_plane.controllers.deployment:DeploymentController",
    "endpoint": "pykube_plane.controllers.endpoints:EndpointsController",
    "namespace": "pykube_plane.controllers.namespace:NamespaceController",
    "serviceaccount": "pykube_plane.controllers.serviceaccount:ServiceAccountController",
    "root-ca-cert-publisher": "pykube_plane.controllers.rootcacert:RootCACertPublisher",
    "garbagecollector": "pykube_plane.controllers.garbagecollector.controller:GarbageCollector",
    "podgc": "pykube_plane.controllers.podgc:PodGCController",
    "job": "pykube_plane.controllers.job:JobController",
    "ttl-after-finished": "pykube_plane.controllers.ttlafterfinished:TTLAfterFinishedController",
    "nodelifecycle": "pykube_plane.controllers.nodelifecycle:NodeLifecycleController",
    # Kinds the API server does not serve yet: known names, no controller this round.
    "statefulset": None,
    "daemonset": None,
    "cronjob": None,
    "endpointslice": None,
    "endpointslicemirroring": None,
    "disruption": None,
}

ALIASES: dict[str, str] = {
    "replicaset-controller": "replicaset",
    "replicationcontroller-controller": "replicationcontroller",
    "deployment-controller": "deployment",
    "endpoints-controller": "endpoint",
    "namespace-controller": "namespace",
    "serviceaccount-controller": "serviceaccount",
    "root-ca-certificate-publisher-controller": "root-ca-cert-publisher",
    "garbage-collector-controller": "garbagecollector",
    "pod-garbage-collector-controller": "podgc",
    "job-controller": "job",
    "node-lifecycle-controller": "nodelifecycle",
    "statefulset-controller": "statefulset",
    "daemonset-controller": "daemonset",
    "cronjob-controller": "cronjob",
    "endpointslice-controller": "endpointslice",
    "endpointslice-mirroring-controller": "endpointslicemirroring",
    "disruption-controller": "disruption",
    "ttl-after-finished-controller": "ttl-after-finished",
}

DISABLED_BY_DEFAULT: frozenset[str] = frozenset()


class UnknownController(ValueError):
    pass


def canonical(name: str) -> str:
    name = ALIASES.get(name, name)
    if name not in CONTROLLERS:
        raise UnknownController(f'"{name}" is not in the list of known controllers')
    return name


def available(name: str) -> bool:
    """Registered with a factory whose module exists (nodelifecycle arrives with the kubelets)."""
    target = CONTROLLERS.get(name)
    if target is None:
        return False
    return importlib.util.find_spec(target.split(":")[0]) is not None


def enabled_controllers(spec: Iterable[str] = ("*",)) -> list[str]:
    """The controllers `--controllers` enables, in registry order (`*`, `name`, `-name`)."""
    items = [s.strip() for s in spec if s.strip()]
    star = "*" in items
    on = {canonical(s) for s in items if s not in ("*",) and not s.startswith("-")}
    off = {canonical(s[1:]) for s in items if s.startswith("-")}
    out = []
    for name in CONTROLLERS:
        if name in off:
            continue
        if name in on or (star and name not in DISABLED_BY_DEFAULT):
            if available(name):
                out.append(name)
    return out


def factory(name: str) -> type:
    target = CONTROLLERS[canonical(name)]
    if target is None:
        raise UnknownController(f"controller {name!r} needs a kind this API server does not serve yet")
    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)
