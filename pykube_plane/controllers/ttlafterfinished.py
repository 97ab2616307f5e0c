"""ttl-after-finished: a finished Job (Complete or Failed) with spec.ttlSecondsAfterFinished is
deleted that long after it finished, with its pods (foreground, as k8s does)."""
from __future__ import annotations

import datetime

from pykube_plane.api.meta import parse_rfc3339
from pykube_plane.client import NotFound

from .controller import Controller, ControllerContext


def finished_at(job: dict) -> datetime.datetime | None:
    for c in (job.get("status") or {}).get("conditions") or ():
        if c.get("type") in ("Complete", "Failed") and c.get("status") == "True" and c.get("lastTransitionTime"):
            return parse_rfc3339(c["lastTransitionTime"])
    return None


class TTLAfterFinishedController(Controller):
    name = "ttl-after-finished"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.jobs = self.watch("jobs")

    async def sync(self, key: str) -> None:
        job = self.jobs.indexer.get(key)
        if job is None or job["metadata"].get("deletionTimestamp"):
            return
        ttl = (job.get("spec") or {}).get("ttlSecondsAfterFinished")
        done = finished_at(job)
        if ttl is None or done is None:
            return
        left = (done + datetime.timedelta(seconds=int(ttl)) - datetime.datetime.now(datetime.timezone.utc)).total_seconds()
        if left > 0:
            self.queue.add_after(key, left)
            return
        meta = job["metadata"]
        try:
            await self.client.delete("jobs", meta["name"], namespace=meta.get("namespace"), propagation_policy="Foreground",
                                     preconditions={"uid": meta["uid"], "resourceVersion": meta["resourceVersion"]})
        except NotFound:
            pass
