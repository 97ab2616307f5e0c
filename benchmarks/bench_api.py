"""Cost of the object helpers on the API server's write path, as multiples of decoding the object.

For a typical Deployment-made pod (two containers, probes, env, volumes, resources) and for the
Deployment itself, one run measures: orjson.loads of the stored bytes (the unit), apply_defaults,
validate (create and update), a strategic merge patch of the image, and label selector matching.
Ratios to the decode are what the results file keeps, so the figure travels between machines.

    .venv/bin/python benchmarks/bench_api.py [--seconds 1.0]
"""
from __future__ import annotations

import argparse
import copy
import datetime
import json
import platform
import sys
import time
from pathlib import Path

import orjson

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from pykube_plane.api.defaults import apply_defaults, prepare_for_create  # noqa: E402
from pykube_plane.api.labels import parse_selector  # noqa: E402
from pykube_plane.api.patch import strategic_merge_patch  # noqa: E402
from pykube_plane.api.validation import validate  # noqa: E402

RESULTS = ROOT / "benchmarks" / "results" / "api.json"

CONTAINER = {
    "name": "app", "image": "registry.example.com/shop/frontend:v1.4.2",
    "ports": [{"name": "http", "containerPort": 8080}, {"name": "metrics", "containerPort": 9090}],
    "env": [{"name": f"VAR_{i}", "value": str(i)} for i in range(6)]
    + [{"name": "POD_NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}}],
    "resources": {"requests": {"cpu": "250m", "memory": "256Mi"}, "limits": {"cpu": "1", "memory": "512Mi"}},
    "livenessProbe": {"httpGet": {"path": "/healthz", "port": "http"}, "initialDelaySeconds": 5},
    "readinessProbe": {"httpGet": {"path": "/ready", "port": 8080}},
    "volumeMounts": [{"name": "config", "mountPath": "/etc/app"}, {"name": "cache", "mountPath": "/cache"}],
}
POD = {
    "apiVersion": "v1", "kind": "Pod",
    "metadata": {"name": "frontend-7d9f8c6b5-x2k4q", "namespace": "shop", "uid": "0b6d6d1e-1111-4000-8000-1",
                 "labels": {"app": "frontend", "tier": "web", "pod-template-hash": "7d9f8c6b5"},
                 "ownerReferences": [{"apiVersion": "apps/v1", "kind": "ReplicaSet", "name": "frontend-7d9f8c6b5",
                                      "uid": "0b6d6d1e-2222-4000-8000-2", "controller": True}]},
    "spec": {"containers": [CONTAINER, dict(copy.deepcopy(CONTAINER), name="sidecar", ports=[])],
             "volumes": [{"name": "config", "configMap": {"name": "frontend"}}, {"name": "cache", "emptyDir": {}}],
             "tolerations": [{"key": "node.kubernetes.io/not-ready", "operator": "Exists", "effect": "NoExecute",
                              "tolerationSeconds": 300}]},
}


def rate(fn, seconds: float) -> float:
    count = 0
    start = time.perf_counter()
    while True:
        for _ in range(50):
            fn()
        count += 50
        elapsed = time.perf_counter() - start
        if elapsed >= seconds:
            return count / elapsed


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=float, default=1.0)
    args = parser.parse_args()
    pod = copy.deepcopy(POD)
    apply_defaults("Pod", pod)
    prepare_for_create("Pod", pod)
    stored = orjson.dumps(pod)
    updated = copy.deepcopy(pod)
    updated["spec"]["containers"][0]["image"] = "registry.example.com/shop/frontend:v1.4.3"
    image_patch = {"spec": {"containers": [{"name": "app", "image": "registry.example.com/shop/frontend:v1.4.3"}]}}
    selector = parse_selector("app=frontend,tier in (web,api),!canary")
    labels = pod["metadata"]["labels"]

    def defaults() -> None:
        obj = orjson.loads(stored)
        apply_defaults("Pod", obj)

    cases = {
        "decode": lambda: orjson.loads(stored),
        "decode+apply_defaults": defaults,
        "validate_create": lambda: validate("Pod", pod),
        "validate_update": lambda: validate("Pod", updated, pod, subresource=""),
        "strategic_merge_patch": lambda: strategic_merge_patch(pod, image_patch, "Pod"),
        "selector_match": lambda: selector.matches(labels),
    }
    rates = {name: rate(fn, args.seconds) for name, fn in cases.items()}
    unit = rates["decode"]
    report = {
        "benchmark": "api object helpers, per pod (decode of the stored pod = 1.0)",
        "date": datetime.date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.python_implementation()} {platform.python_version()}",
        "pod_bytes": len(stored),
        "ops_per_second": {k: round(v) for k, v in rates.items()},
        "cost_in_decodes": {k: round(unit / v, 2) for k, v in rates.items()},
    }
    RESULTS.parent.mkdir(parents=True, exist_ok=True)
    RESULTS.write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
