"""root-ca-cert-publisher: every active namespace has the ConfigMap `kube-root-ca.crt` holding the
cluster's CA (`ca.crt`), put back when deleted or changed."""
from __future__ import annotations

from typing import Any

from pykube_plane.client import AlreadyExists, Forbidden, NotFound

from .controller import Controller, ControllerContext, deleted_object

NAME = "kube-root-ca.crt"
DESCRIPTION = ("Contains a CA bundle that can be used to verify the kube-apiserver when using internal "
               "endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed "
               "across distributions of Kubernetes clusters.")


class RootCACertPublisher(Controller):
    name = "root-ca-cert-publisher"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        ca = ctx.options.get("root_ca")
        self.ca = ca.decode() if isinstance(ca, bytes) else ca
        self.namespaces = self.watch("namespaces", key=lambda ns: ns["metadata"]["name"])
        self.configmaps = self.informer("configmaps")
        self.configmaps.add_event_handler(on_update=lambda old, new: self._cm_changed(new),
                                          on_delete=self._cm_changed)

    def _cm_changed(self, obj: Any) -> None:
        cm = deleted_object(obj)
        if cm is not None and cm["metadata"].get("name") == NAME:
            self.queue.add(cm["metadata"].get("namespace", ""))

    def object_for_event(self, key: str) -> dict | None:
        return self.namespaces.indexer.get(key)

    async def sync(self, key: str) -> None:
        if not self.ca:
            return      # no CA known (a plain-HTTP server): nothing to publish
        ns = self.namespaces.indexer.get(key)
        if ns is None or ns["metadata"].get("deletionTimestamp"):
            return
        data = {"ca.crt": self.ca}
        current = self.configmaps.indexer.get(f"{key}/{NAME}")
        try:
            if current is None:
                await self.client.create({"apiVersion": "v1", "kind": "ConfigMap",
                                          "metadata": {"name": NAME, "namespace": key,
                                                       "annotations": {"kubernetes.io/description": DESCRIPTION}},
                                          "data": data}, resource="configmaps", namespace=key)
            elif current.get("data") != data:
                await self.client.patch("configmaps", NAME, {"data": data}, namespace=key)
        except (AlreadyExists, NotFound, Forbidden):
            pass
