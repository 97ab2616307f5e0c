"""The verbs of the Kubernetes API, written once over two transports.

`APIClient` turns get/list/create/update/patch/delete/deletecollection/watch and the pod and
scale subresources into calls of one primitive, `_send(verb, resource, namespace, name,
subresource, query, body, content_type)`, plus `_open_watch` for streams. `rest.Client` carries
them over HTTP; `inprocess.InProcessClient` hands them to the API server's handlers in the same
process. Everything a caller sees — names, defaults, errors, retries, watch resumption — is
therefore the same for both.

Namespaces: for a namespaced resource, `namespace=None` means the object's own
`metadata.namespace`, else the client's default namespace (the kubeconfig context's) — except
for list and watch, where None means all namespaces, as in client-go's NamespaceAll.
"""
from __future__ import annotations

import abc
import asyncio
import logging
from typing import Any, AsyncIterator, Mapping

from .backoff import RetryPolicy
from .errors import ApiError, BadRequest, ConnectionFailed, Gone
from .resources import NAMESPACES, PODS, APIResource, ResourceResolver, ResourceSpec
from .watch import Watch, resource_version_of

log = logging.getLogger(__name__)

READ_VERBS = frozenset(("get", "list", "watch"))
PATCH_TYPES = {
    "merge": "application/merge-patch+json",
    "json": "application/json-patch+json",
    "strategic": "application/strategic-merge-patch+json",
}


class APIClient(abc.ABC):
    """Shared surface of `Client` (HTTP) and `InProcessClient`. Use them as async context managers
    or call `close()`."""

    def __init__(self, *, namespace: str = "default", retry: RetryPolicy | None = None,
                 resolver: ResourceResolver | None = None) -> None:
        self.namespace = namespace
        self.retry = retry or RetryPolicy()
        self.resources = resolver or ResourceResolver(self._discover)

    # -- transport (implemented by Client and InProcessClient) ----------------------------------

    @abc.abstractmethod
    async def _send(self, verb: str, resource: APIResource, namespace: str, name: str, subresource: str,
                    query: Mapping[str, str], body: Any, content_type: str) -> Any:
        """One call; the decoded answer, or raise ApiError (ConnectionFailed without an answer)."""

    @abc.abstractmethod
    async def _open_watch(self, resource: APIResource, namespace: str, name: str,
                          query: Mapping[str, str]) -> AsyncIterator[tuple[str, dict]]:
        """Start one watch stream; raise ApiError if the server refuses it."""

    async def _discover(self) -> list[APIResource]:
        return []

    async def served_resources(self) -> list[APIResource]:
        """What the server serves now (its discovery documents, asked afresh): for code that acts
        on every kind, such as the namespace deleter and the garbage collector."""
        return await self._discover()

    async def close(self) -> None:
        """Release connections (nothing to do in-process)."""

    async def __aenter__(self) -> "APIClient":
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.close()

    # -- retries ---------------------------------------------------------------------------------

    async def request(self, verb: str, resource: ResourceSpec, *, namespace: str = "", name: str = "",
                      subresource: str = "", query: Mapping[str, str] | None = None, body: Any = None,
                      content_type: str = "") -> Any:
        """A raw call with retries: the building block of every verb below."""
        r = await self.resources.resolve(resource)
        backoff = self.retry.backoff()
        attempt = 0
        while True:
            try:
                return await self._send(verb, r, namespace, name, subresource, query or {}, body, content_type)
            except ApiError as e:
                delay = self._retry_delay(verb, e, attempt, backoff)
                if delay is None:
                    raise
                log.debug("%s %s %s: %s; retrying in %.2fs", verb, r, name, e, delay)
            attempt += 1
            await asyncio.sleep(delay)

    def _retry_delay(self, verb: str, e: ApiError, attempt: int, backoff: Any) -> float | None:
        """client-go's rules: 429 and any 5xx with Retry-After are retried whatever the verb (the
        server did not act); a connection that never reached the server is retried; a broken
        one, or 503/504 without Retry-After, only for reads (a write may have happened)."""
        if attempt >= self.retry.max_retries or not getattr(e, "transient", True):
            return None
        after = e.retry_after
        if e.code == 429 or (e.code >= 500 and after is not None and not isinstance(e, ConnectionFailed)):
            return min(after, self.retry.max_retry_after) if after is not None else backoff.next()
        if isinstance(e, ConnectionFailed):
            if not getattr(e, "request_sent", True) or verb in READ_VERBS:
                return backoff.next()
            return None
        if e.code in (503, 504) and verb in READ_VERBS:
            return backoff.next()
        return None

    # -- helpers ---------------------------------------------------------------------------------

    def _namespace(self, r: APIResource, namespace: str | None, body: Any = None) -> str:
        if not r.namespaced:
            return ""
        if namespace is not None:
            return namespace
        if isinstance(body, dict):
            ns = (body.get("metadata") or {}).get("namespace")
            if ns:
                return ns
        return self.namespace

    @staticmethod
    def _list_namespace(r: APIResource, namespace: str | None) -> str:
        return (namespace or "") if r.namespaced else ""

    async def _resource_of(self, body: Any, resource: ResourceSpec | None) -> APIResource:
        if resource is not None:
            return await self.resources.resolve(resource)
        if not isinstance(body, dict) or not body.get("apiVersion") or not body.get("kind"):
            raise BadRequest({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "reason": "BadRequest", "code": 400,
                              "message": "the object has no apiVersion and kind: name its resource"}, 400)
        return await self.resources.resolve((body["apiVersion"], body["kind"]))

    @staticmethod
    def _write_query(dry_run: bool, field_manager: str, field_validation: str) -> dict[str, str]:
        query: dict[str, str] = {}
        if dry_run:
            query["dryRun"] = "All"
        if field_manager:
            query["fieldManager"] = field_manager
        if field_validation:
            query["fieldValidation"] = field_validation
        return query

    @staticmethod
    def _name_of(body: Any) -> str:
        name = (body.get("metadata") or {}).get("name") if isinstance(body, dict) else None
        if not name:
            raise BadRequest({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                              "reason": "BadRequest", "code": 400,
                              "message": "resource name may not be empty"}, 400)
        return name

    # -- reads -----------------------------------------------------------------------------------

    async def get(self, resource: ResourceSpec, name: str, *, namespace: str | None = None,
                  subresource: str = "", resource_version: str = "") -> dict:
        r = await self.resources.resolve(resource)
        query = {"resourceVersion": resource_version} if resource_version else {}
        return await self.request("get", r, namespace=self._namespace(r, namespace), name=name,
                                  subresource=subresource, query=query)

    async def list(self, resource: ResourceSpec, *, namespace: str | None = None, label_selector: str = "",
                   field_selector: str = "", limit: int = 0, continue_token: str = "",
                   resource_version: str = "", resource_version_match: str = "") -> dict:
        """One list answer (one page when `limit` is set: follow metadata.continue)."""
        r = await self.resources.resolve(resource)
        query: dict[str, str] = {}
        for key, value in (("labelSelector", label_selector), ("fieldSelector", field_selector),
                           ("continue", continue_token), ("resourceVersion", resource_version),
                           ("resourceVersionMatch", resource_version_match)):
            if value:
                query[key] = value
        if limit:
            query["limit"] = str(limit)
        return await self.request("list", r, namespace=self._list_namespace(r, namespace), query=query)

    async def list_all(self, resource: ResourceSpec, *, namespace: str | None = None, label_selector: str = "",
                       field_selector: str = "", page_size: int = 500, resource_version: str = "") -> dict:
        """Every matching object, fetched in pages of `page_size` (client-go's pager): one list
        whose metadata.resourceVersion is the snapshot all pages came from. If the snapshot is
        compacted between pages (410), the list is taken again in one piece."""
        r = await self.resources.resolve(resource)
        kwargs = dict(namespace=namespace, label_selector=label_selector, field_selector=field_selector)
        first = await self.list(r, limit=page_size, resource_version=resource_version, **kwargs)
        items = list(first.get("items") or [])
        token = (first.get("metadata") or {}).get("continue")
        while token:
            try:
                page = await self.list(r, limit=page_size, continue_token=token, **kwargs)
            except Gone:
                return await self.list(r, resource_version=resource_version, **kwargs)
            items.extend(page.get("items") or [])
            token = (page.get("metadata") or {}).get("continue")
        first["items"] = items
        meta = first.setdefault("metadata", {})
        meta.pop("continue", None)
        meta.pop("remainingItemCount", None)
        return first

    def watch(self, resource: ResourceSpec, *, namespace: str | None = None, name: str = "",
              label_selector: str = "", field_selector: str = "", resource_version: str = "",
              timeout_seconds: int | None = None, bookmarks: bool = False, resume: bool = True) -> Watch:
        """An async iterator of WatchEvent(type, object); see watch.py. `namespace=None` watches
        all namespaces. With `resume=False` it ends when the server ends the stream."""
        return Watch(self, resource, namespace=namespace or "", name=name, label_selector=label_selector,
                     field_selector=field_selector, resource_version=resource_version,
                     timeout_seconds=timeout_seconds, bookmarks=bookmarks, resume=resume)

    # -- writes ----------------------------------------------------------------------------------

    async def create(self, body: dict, *, resource: ResourceSpec | None = None, namespace: str | None = None,
                     dry_run: bool = False, field_manager: str = "", field_validation: str = "") -> dict:
        """Create `body`; its resource comes from apiVersion/kind unless `resource` names it."""
        r = await self._resource_of(body, resource)
        return await self.request("create", r, namespace=self._namespace(r, namespace, body),
                                  query=self._write_query(dry_run, field_manager, field_validation), body=body)

    async def update(self, body: dict, *, resource: ResourceSpec | None = None, namespace: str | None = None,
                     subresource: str = "", dry_run: bool = False, field_manager: str = "",
                     field_validation: str = "") -> dict:
        """Replace the object (PUT). Its metadata.resourceVersion, when set, must still be current
        (else Conflict)."""
        r = await self._resource_of(body, resource)
        return await self.request("update", r, namespace=self._namespace(r, namespace, body),
                                  name=self._name_of(body), subresource=subresource,
                                  query=self._write_query(dry_run, field_manager, field_validation), body=body)

    async def update_status(self, body: dict, **kwargs: Any) -> dict:
        return await self.update(body, subresource="status", **kwargs)

    async def patch(self, resource: ResourceSpec, name: str, patch: Any, *, namespace: str | None = None,
                    patch_type: str = "merge", subresource: str = "", dry_run: bool = False,
                    field_manager: str = "", field_validation: str = "") -> dict:
        """`patch_type`: "merge" (RFC 7386), "json" (RFC 6902, a list of operations) or
        "strategic" (Kubernetes' strategic merge patch), or the full content type."""
        r = await self.resources.resolve(resource)
        content_type = PATCH_TYPES.get(patch_type, patch_type)
        return await self.request("patch", r, namespace=self._namespace(r, namespace), name=name,
                                  subresource=subresource, body=patch, content_type=content_type,
                                  query=self._write_query(dry_run, field_manager, field_validation))

    @staticmethod
    def _delete_options(grace_period_seconds: int | None, propagation_policy: str | None,
                        preconditions: Mapping[str, str] | None, dry_run: bool) -> dict | None:
        opts: dict[str, Any] = {}
        if grace_period_seconds is not None:
            opts["gracePeriodSeconds"] = grace_period_seconds
        if propagation_policy is not None:
            opts["propagationPolicy"] = propagation_policy
        if preconditions:
            opts["preconditions"] = dict(preconditions)
        if dry_run:
            opts["dryRun"] = ["All"]
        if not opts:
            return None
        return {"kind": "DeleteOptions", "apiVersion": "v1", **opts}

    async def delete(self, resource: ResourceSpec, name: str, *, namespace: str | None = None,
                     grace_period_seconds: int | None = None, propagation_policy: str | None = None,
                     preconditions: Mapping[str, str] | None = None, dry_run: bool = False) -> dict:
        """Delete; answers the object (when the kind returns it, or deletion is pending) or a
        Status. `preconditions`: {"uid": ..., "resourceVersion": ...}."""
        r = await self.resources.resolve(resource)
        body = self._delete_options(grace_period_seconds, propagation_policy, preconditions, dry_run)
        return await self.request("delete", r, namespace=self._namespace(r, namespace), name=name, body=body)

    async def delete_collection(self, resource: ResourceSpec, *, namespace: str | None = None,
                                label_selector: str = "", field_selector: str = "",
                                grace_period_seconds: int | None = None, propagation_policy: str | None = None,
                                dry_run: bool = False) -> dict:
        """Delete every matching object in `namespace` (None: the default namespace, never all)."""
        r = await self.resources.resolve(resource)
        query = {k: v for k, v in (("labelSelector", label_selector), ("fieldSelector", field_selector)) if v}
        body = self._delete_options(grace_period_seconds, propagation_policy, None, dry_run)
        return await self.request("deletecollection", r, namespace=self._namespace(r, namespace), query=query,
                                  body=body)

    # -- subresources ----------------------------------------------------------------------------

    async def bind(self, name: str, node_name: str, *, namespace: str | None = None) -> dict:
        """pods/{name}/binding: assign a pod to a node (what the scheduler does)."""
        ns = self._namespace(PODS, namespace)
        body = {"kind": "Binding", "apiVersion": "v1", "metadata": {"name": name, "namespace": ns},
                "target": {"kind": "Node", "apiVersion": "v1", "name": node_name}}
        return await self.request("create", PODS, namespace=ns, name=name, subresource="binding", body=body)

    async def evict(self, name: str, *, namespace: str | None = None, grace_period_seconds: int | None = None,
                    dry_run: bool = False) -> dict:
        """pods/{name}/eviction: a delete that disruption budgets may refuse (429)."""
        ns = self._namespace(PODS, namespace)
        body: dict[str, Any] = {"kind": "Eviction", "apiVersion": "policy/v1",
                                "metadata": {"name": name, "namespace": ns}}
        options = self._delete_options(grace_period_seconds, None, None, dry_run)
        if options is not None:
            body["deleteOptions"] = options
        return await self.request("create", PODS, namespace=ns, name=name, subresource="eviction", body=body)

    async def get_scale(self, resource: ResourceSpec, name: str, *, namespace: str | None = None) -> dict:
        return await self.get(resource, name, namespace=namespace, subresource="scale")

    async def scale(self, resource: ResourceSpec, name: str, replicas: int, *,
                    namespace: str | None = None) -> dict:
        """Set spec.replicas through the scale subresource; answers the Scale."""
        return await self.patch(resource, name, {"spec": {"replicas": replicas}}, namespace=namespace,
                                subresource="scale", patch_type="merge")

    # -- conveniences ----------------------------------------------------------------------------

    async def ensure_namespace(self, name: str) -> dict:
        """Create the namespace unless it exists."""
        from .errors import AlreadyExists
        try:
            return await self.create({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": name}},
                                     resource=NAMESPACES)
        except AlreadyExists:
            return await self.get(NAMESPACES, name)


__all__ = ["APIClient", "PATCH_TYPES", "resource_version_of"]
