"""endpoint: each Service with a selector gets an Endpoints object listing its pods' IPs, ready
ones in `addresses`, others in `notReadyAddresses` (all ready with publishNotReadyAddresses),
with each service port's targetPort resolved per pod (a number, or a container port's name).
Subsets group addresses that resolve to the same ports (k8s RepackSubsets)."""
from __future__ import annotations

from typing import Any

from pykube_plane.api.labels import selector_from_set
from pykube_plane.client import NAMESPACE_INDEX, AlreadyExists, NotFound, index_by_namespace, object_key

from .controller import Controller, ControllerContext, deleted_object
from .podutil import is_ready, is_terminal

HEADLESS_LABEL = "service.kubernetes.io/headless"
OVER_CAPACITY = "endpoints.kubernetes.io/over-capacity"
MAX_ADDRESSES = 1000        # k8s maxCapacity: an Endpoints object lists at most this many addresses


def resolve_target_port(service_port: dict, pod: dict) -> int | None:
    target = service_port.get("targetPort", service_port.get("port"))
    if isinstance(target, int):
        return target
    if isinstance(target, str) and target.isdigit():
        return int(target)
    protocol = service_port.get("protocol", "TCP")
    for container in (pod.get("spec") or {}).get("containers") or ():
        for port in container.get("ports") or ():
            if port.get("name") == target and port.get("protocol", "TCP") == protocol:
                return int(port["containerPort"])
    return None


def build_subsets(service: dict, pods: list[dict]) -> list[dict]:
    """The subsets of `service` over `pods` (pure; deterministic order)."""
    spec = service.get("spec") or {}
    publish_not_ready = bool(spec.get("publishNotReadyAddresses"))
    groups: dict[tuple, dict[str, Any]] = {}
    for pod in sorted(pods, key=lambda p: (p.get("status") or {}).get("podIP", "")):
        status = pod.get("status") or {}
        ip = status.get("podIP")
        meta = pod.get("metadata") or {}
        if not ip or is_terminal(pod) or (meta.get("deletionTimestamp") and not publish_not_ready):
            continue
        ports = []
        for sp in spec.get("ports") or ():
            port = resolve_target_port(sp, pod)
            if port is None:
                continue
            entry = {"port": port, "protocol": sp.get("protocol", "TCP")}
            if sp.get("name"):
                entry["name"] = sp["name"]
            if sp.get("appProtocol"):
                entry["appProtocol"] = sp["appProtocol"]
            ports.append(entry)
        if spec.get("ports") and not ports:
            continue
        address: dict[str, Any] = {"ip": ip, "targetRef": {"kind": "Pod", "namespace": meta.get("namespace", ""),
                                                           "name": meta.get("name", ""), "uid": meta.get("uid", "")}}
        pod_spec = pod.get("spec") or {}
        if pod_spec.get("nodeName"):
            address["nodeName"] = pod_spec["nodeName"]
        if pod_spec.get("hostname") and pod_spec.get("subdomain") == (service.get("metadata") or {}).get("name"):
            address["hostname"] = pod_spec["hostname"]
        key = tuple(sorted((p.get("name", ""), p["port"], p["protocol"]) for p in ports))
        group = groups.setdefault(key, {"ports": sorted(ports, key=lambda p: (p.get("name", ""), p["port"])),
                                        "addresses": [], "notReadyAddresses": []})
        ready = publish_not_ready or is_ready(pod)
        group["addresses" if ready else "notReadyAddresses"].append(address)
    subsets = []
    for key in sorted(groups):
        g = groups[key]
        subset: dict[str, Any] = {}
        if g["addresses"]:
            subset["addresses"] = g["addresses"]
        if g["notReadyAddresses"]:
            subset["notReadyAddresses"] = g["notReadyAddresses"]
        if g["ports"]:
            subset["ports"] = g["ports"]
        subsets.append(subset)
    return subsets


def truncate(subsets: list[dict], limit: int = MAX_ADDRESSES) -> tuple[list[dict], bool]:
    """At most `limit` addresses, ready ones kept first (k8s truncates past 1000 and says so in
    the `over-capacity` annotation; EndpointSlices carry the rest)."""
    total = sum(len(s.get("addresses") or ()) + len(s.get("notReadyAddresses") or ()) for s in subsets)
    if total <= limit:
        return subsets, False
    left = limit
    out = [dict(s) for s in subsets]
    for field in ("addresses", "notReadyAddresses"):
        for s in out:
            kept = (s.get(field) or [])[:left]
            left -= len(kept)
            if kept:
                s[field] = kept
            else:
                s.pop(field, None)
    return [s for s in out if s.get("addresses") or s.get("notReadyAddresses")], True


class EndpointsController(Controller):
    name = "endpoint"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.services = self.watch("services", indexers={NAMESPACE_INDEX: index_by_namespace})
        self.endpoints = self.watch("endpoints")
        self.pods = self.informer("pods", indexers={NAMESPACE_INDEX: index_by_namespace})
        self.pods.add_event_handler(on_add=self._pod_changed, on_update=self._pod_updated,
                                    on_delete=self._pod_changed)

    def _services_of(self, pod: dict) -> list[str]:
        meta = pod.get("metadata") or {}
        labels = meta.get("labels") or {}
        out = []
        for svc in self.services.indexer.by_index(NAMESPACE_INDEX, meta.get("namespace", "")):
            selector = (svc.get("spec") or {}).get("selector")
            if selector and selector_from_set(selector).matches(labels):
                out.append(object_key(svc))
        return out

    def _pod_changed(self, obj: Any) -> None:
        pod = deleted_object(obj)
        if pod is not None:
            for key in self._services_of(pod):
                self.queue.add(key)

    def _pod_updated(self, old: dict, new: dict) -> None:
        if old["metadata"].get("resourceVersion") == new["metadata"].get("resourceVersion"):
            return
        for key in set(self._services_of(old)) | set(self._services_of(new)):
            self.queue.add(key)

    async def sync(self, key: str) -> None:
        namespace, name = key.split("/", 1)
        service = self.services.indexer.get(key)
        current = self.endpoints.indexer.get(key)
        if service is None:
            # the endpoints of a deleted service go too (GC would do it only with an ownerRef)
            if current is not None and _managed(current):
                try:
                    await self.client.delete("endpoints", name, namespace=namespace)
                except NotFound:
                    pass
            return
        selector = (service.get("spec") or {}).get("selector")
        if not selector:
            return      # endpoints of selector-less services are the user's
        pods = [p for p in self.pods.indexer.by_index(NAMESPACE_INDEX, namespace)
                if selector_from_set(selector).matches((p.get("metadata") or {}).get("labels") or {})]
        subsets, truncated = truncate(build_subsets(service, pods))
        annotations = {k: v for k, v in ((current or {}).get("metadata", {}).get("annotations") or {}).items()
                       if k != OVER_CAPACITY}
        if truncated:
            annotations[OVER_CAPACITY] = "truncated"
        labels = dict((service.get("metadata") or {}).get("labels") or {})
        labels["endpoints.kubernetes.io/managed-by"] = "endpoint-controller"
        if (service.get("spec") or {}).get("clusterIP") == "None":
            labels[HEADLESS_LABEL] = ""
        if current is not None and (current.get("subsets") or []) == subsets and \
                ((current.get("metadata") or {}).get("labels") or {}) == labels and \
                ((current.get("metadata") or {}).get("annotations") or {}) == annotations:
            return
        body: dict[str, Any] = {"apiVersion": "v1", "kind": "Endpoints",
                                "metadata": {"name": name, "namespace": namespace, "labels": labels}}
        if annotations:
            body["metadata"]["annotations"] = annotations
        if subsets:
            body["subsets"] = subsets
        if current is None:
            try:
                await self.client.create(body, resource="endpoints", namespace=namespace)
                return
            except AlreadyExists:
                current = await self.client.get("endpoints", name, namespace=namespace)
        body["metadata"]["resourceVersion"] = current["metadata"]["resourceVersion"]
        await self.client.update(body, resource="endpoints", namespace=namespace)


def _managed(endpoints: dict) -> bool:
    return ((endpoints.get("metadata") or {}).get("labels") or {}).get(
        "endpoints.kubernetes.io/managed-by") == "endpoint-controller"
