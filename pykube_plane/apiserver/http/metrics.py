"""/metrics: kube-apiserver's request metrics, in Prometheus text format.

apiserver_request_total counts requests by verb, group, version, resource, subresource, scope and
HTTP code; apiserver_request_duration_seconds is their latency histogram (watches excluded, as
kube-apiserver excludes long-running requests). Each server has its own registry, so several
servers in one process (tests, embedding) keep separate counts.
"""
from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15,
                   20, 30, 45, 60)


class APIMetrics:
    content_type = CONTENT_TYPE_LATEST

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        labels = ("verb", "dry_run", "group", "version", "resource", "subresource", "scope", "component")
        self.requests = Counter("apiserver_request_total", "Counter of apiserver requests broken out for each "
                                "verb, dry run value, group, version, resource, scope, component, and HTTP "
                                "response code.", labels + ("code",), registry=self.registry)
        self.duration = Histogram("apiserver_request_duration_seconds", "Response latency distribution in "
                                  "seconds for each verb, dry run value, group, version, resource, subresource, "
                                  "scope and component.", labels, buckets=LATENCY_BUCKETS, registry=self.registry)
        self.watchers = Gauge("apiserver_registered_watchers", "Number of currently registered watchers for a "
                              "given resource", ("group", "version", "kind"), registry=self.registry)
        self.longrunning = Gauge("apiserver_longrunning_requests", "Gauge of all active long-running apiserver "
                                 "requests", ("verb", "group", "version", "resource", "subresource", "scope",
                                              "component"), registry=self.registry)

    def observe(self, verb: str, dry_run: bool, group: str, version: str, resource: str, subresource: str,
                scope: str, code: int, seconds: float | None) -> None:
        values = (verb, "All" if dry_run else "", group, version, resource, subresource, scope, "apiserver")
        self.requests.labels(*values, str(code)).inc()
        if seconds is not None:
            self.duration.labels(*values).observe(seconds)

    def render(self) -> bytes:
        return generate_latest(self.registry)
