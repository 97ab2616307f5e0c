"""serviceaccount: every active namespace has the `default` ServiceAccount."""
from __future__ import annotations

from typing import Any

from pykube_plane.client import AlreadyExists, Forbidden, NotFound

from .controller import Controller, ControllerContext, deleted_object

MANAGED = ("default",)


class ServiceAccountController(Controller):
    name = "serviceaccount"

    def __init__(self, ctx: ControllerContext) -> None:
        super().__init__(ctx)
        self.namespaces = self.watch("namespaces", key=lambda ns: ns["metadata"]["name"])
        self.accounts = self.informer("serviceaccounts")
        self.accounts.add_event_handler(on_delete=self._account_deleted)

    def _account_deleted(self, obj: Any) -> None:
        sa = deleted_object(obj)
        if sa is not None and sa["metadata"].get("name") in MANAGED:
            self.queue.add(sa["metadata"].get("namespace", ""))

    def object_for_event(self, key: str) -> dict | None:
        return self.namespaces.indexer.get(key)

    async def sync(self, key: str) -> None:
        ns = self.namespaces.indexer.get(key)
        if ns is None or ns["metadata"].get("deletionTimestamp") or (ns.get("status") or {}).get("phase") == "Terminating":
            return
        for name in MANAGED:
            if self.accounts.indexer.get(f"{key}/{name}") is not None:
                continue
            try:
                await self.client.create({"apiVersion": "v1", "kind": "ServiceAccount",
                                          "metadata": {"name": name, "namespace": key}},
                                         resource="serviceaccounts", namespace=key)
            except (AlreadyExists, NotFound):
                pass
            except Forbidden:
                return      # the namespace began terminating meanwhile
