"""Test helper standing in for the kubelets that do not exist yet: a real process that watches
every pod through the API server and reports it started, through pods/status, as a kubelet would.

    python -m tests.controllers.pod_phase_helper KUBECONFIG

A new pod (no phase yet) becomes, by its label `test.kplane/outcome`:
  (none)     Running, Ready, with a podIP
  not-ready  Running, not Ready, with a podIP
  succeed    Succeeded (its containers exited 0)
  fail       Failed (its containers exited 1)
Pods with a phase are left alone: tests change them further with kubectl.
"""
from __future__ import annotations

import asyncio
import datetime
import itertools
import logging
import sys

from pykube_plane.client import ADDED, MODIFIED, ApiError, Client, NotFound

OUTCOME = "test.kplane/outcome"
_ips = itertools.count(1)


def _now() -> str:
    return datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def status_for(pod: dict) -> dict:
    outcome = ((pod.get("metadata") or {}).get("labels") or {}).get(OUTCOME, "")
    n = next(_ips)
    ip = f"10.244.{(n // 250) % 250}.{n % 250 + 1}"
    now = _now()
    containers = [c.get("name", "c") for c in (pod.get("spec") or {}).get("containers") or ()]
    if outcome in ("succeed", "fail"):
        code = 0 if outcome == "succeed" else 1
        return {"phase": "Succeeded" if code == 0 else "Failed", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now,
                "conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": now,
                                "reason": "PodCompleted"}],
                "containerStatuses": [{"name": c, "ready": False, "restartCount": 0, "image": "x", "imageID": "",
                                       "state": {"terminated": {"exitCode": code, "startedAt": now,
                                                                "finishedAt": now,
                                                                "reason": "Completed" if code == 0 else "Error"}}}
                                      for c in containers]}
    ready = "False" if outcome == "not-ready" else "True"
    return {"phase": "Running", "podIP": ip, "podIPs": [{"ip": ip}], "startTime": now,
            "conditions": [{"type": "Initialized", "status": "True", "lastTransitionTime": now},
                           {"type": "ContainersReady", "status": ready, "lastTransitionTime": now},
                           {"type": "Ready", "status": ready, "lastTransitionTime": now}],
            "containerStatuses": [{"name": c, "ready": ready == "True", "restartCount": 0, "image": "x",
                                   "imageID": "", "started": True, "state": {"running": {"startedAt": now}}}
                                  for c in containers]}


async def main(kubeconfig: str) -> None:
    client = Client.from_kubeconfig(kubeconfig)
    done: set[str] = set()
    async with client:
        async for event in client.watch("pods", namespace=None):
            if event.type not in (ADDED, MODIFIED):
                continue
            pod = event.object
            meta = pod.get("metadata") or {}
            if meta.get("uid") in done or (pod.get("status") or {}).get("phase") not in (None, "", "Pending"):
                continue
            if meta.get("deletionTimestamp"):
                continue
            done.add(meta["uid"])
            try:
                await client.patch("pods", meta["name"], {"status": status_for(pod)}, namespace=meta.get("namespace"),
                                   subresource="status")
            except NotFound:
                pass
            except ApiError as e:
                logging.warning("pod %s/%s: %s", meta.get("namespace"), meta.get("name"), e)


if __name__ == "__main__":
    logging.basicConfig(level=logging.WARNING)
    asyncio.run(main(sys.argv[1]))
