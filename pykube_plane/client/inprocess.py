"""`InProcessClient`: the same API as `Client`, calling the API server's handlers directly.

    async with APIServer(store) as server:
        client = InProcessClient(server, user=UserInfo("alice", ("dev",)))
        await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})

No sockets and no JSON between caller and server: a call becomes the `APIRequest` the HTTP face
would have built and goes through `Handlers.handle` — RBAC for the client's identity, admission,
defaulting and validation in the registry — exactly as an HTTP request does. Objects are passed
as dicts. The identity is fixed per client: a `UserInfo`, or a bearer token resolved by the
server's own authenticator (an unknown token, or none on a server that authenticates, answers
401 as over HTTP).

Copies: the registry keeps references to what it is given and to what it answers (its watch
cache remembers written objects), so bodies are copied on the way in and written objects on
the way out; a caller may change any dict it gets.
"""
from __future__ import annotations

import asyncio
import logging
from typing import TYPE_CHECKING, Any, AsyncIterator, Mapping

import orjson

from pykube_plane.apiserver import status as st
from pykube_plane.apiserver.authn import UserInfo
from pykube_plane.apiserver.handlers import APIRequest
from pykube_plane.apiserver.registry import ListResult
from pykube_plane.apiserver.watch_cache import BOOKMARK, ERROR, Watcher

from .api import APIClient
from .backoff import RetryPolicy
from .errors import ApiError, InternalError, Unauthorized, error_from_status
from .resources import APIResource, ResourceResolver

if TYPE_CHECKING:
    from pykube_plane.apiserver.resources import Resource
    from pykube_plane.apiserver.server import APIServer

log = logging.getLogger(__name__)

WRITE_VERBS = frozenset(("create", "update", "patch", "delete", "deletecollection"))


def copy_json(value: Any) -> Any:
    """A deep copy of JSON-shaped data (dicts, lists, scalars) — several times faster than
    copy.deepcopy, and no encoding."""
    if isinstance(value, dict):
        return {k: copy_json(v) if isinstance(v, (dict, list)) else v for k, v in value.items()}
    if isinstance(value, list):
        return [copy_json(v) if isinstance(v, (dict, list)) else v for v in value]
    return value


def _api_resource(row: "Resource") -> APIResource:
    return APIResource(row.group, row.version, row.kind, row.plural, row.namespaced, tuple(row.short_names),
                       row.singular)


class InProcessClient(APIClient):
    def __init__(self, server: "APIServer", *, user: UserInfo | None = None, token: str | None = None,
                 namespace: str = "default", retry: RetryPolicy | None = None) -> None:
        table = server.registry.table
        rows = [_api_resource(r) for r in table]
        super().__init__(namespace=namespace, retry=retry, resolver=ResourceResolver(None, builtin=rows))
        self.server = server
        self._table = table
        self._authenticated = True
        if token is not None:
            authenticator = server.authenticator
            if authenticator is not None:
                user = authenticator.authenticate({"Authorization": f"Bearer {token}"})
                self._authenticated = user is not None
        elif user is None and server.authenticator is not None:
            self._authenticated = False     # anonymous: a server that authenticates says 401
        self.user = user

    # ------------------------------------------------------------------------------------------

    def _request(self, verb: str, resource: APIResource, namespace: str, name: str, subresource: str,
                 query: Mapping[str, str], body: Any, content_type: str) -> APIRequest:
        if not self._authenticated:
            raise Unauthorized({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}, 401)
        row = self._table.lookup(resource.group, resource.version, resource.plural)
        if row is None:
            raise self._error(st.path_not_found())
        if verb == "create" and name and not subresource:
            raise self._error(st.method_not_allowed())
        return APIRequest(verb, row, namespace, name, subresource, dict(query),
                          copy_json(body) if body is not None else None, content_type, self.user)

    @staticmethod
    def _error(e: st.APIError) -> ApiError:
        return error_from_status(e.code, e.status, e.headers)

    async def _handle(self, req: APIRequest) -> tuple[int, Any]:
        try:
            return await self.server.handlers.handle(req)
        except st.APIError as e:
            raise self._error(e) from None
        except (asyncio.CancelledError, ApiError):
            raise
        except Exception as e:      # the HTTP face answers 500 here; so do we, never a traceback
            log.exception("in-process %s %s failed", req.verb, req.resource)
            raise InternalError(st.internal_error(f"{type(e).__name__}: {e}").status, 500) from None

    async def _send(self, verb: str, resource: APIResource, namespace: str, name: str, subresource: str,
                    query: Mapping[str, str], body: Any, content_type: str) -> Any:
        req = self._request(verb, resource, namespace, name, subresource, query, body, content_type)
        _, result = await self._handle(req)
        for warning in dict.fromkeys(req.warnings):
            log.warning("server warning: %s", warning)
        if isinstance(result, ListResult):
            return result.to_dict()
        if isinstance(result, Watcher):     # a watch asked through request(): not a stream here
            result.close()
            raise self._error(st.bad_request("use watch() for a watch"))
        if verb in WRITE_VERBS:
            return copy_json(result)
        return result

    async def _open_watch(self, resource: APIResource, namespace: str, name: str,
                          query: Mapping[str, str]) -> AsyncIterator[tuple[str, dict]]:
        req = self._request("watch", resource, namespace, name, "", query, None, "")
        _, watcher = await self._handle(req)
        timeout = query.get("timeoutSeconds")
        return _watch_events(watcher, req.resource, float(timeout) if timeout else None)


async def _watch_events(watcher: Watcher, row: "Resource", timeout: float | None) -> AsyncIterator[tuple[str, dict]]:
    """The watcher's items as (type, object), decoded from the watch cache's bytes."""
    converter = row.strategy.to_external
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout if timeout else None
    loads = orjson.loads
    try:
        while True:
            if deadline is None:
                batch = await watcher.next_batch()
            else:
                try:
                    async with asyncio.timeout_at(deadline):
                        batch = await watcher.next_batch()
                except TimeoutError:
                    return
            if not batch:
                return
            for item in batch:
                kind = item[0]
                if kind == BOOKMARK:
                    meta: dict[str, Any] = {"resourceVersion": str(item[1])}
                    if item[2]:
                        meta["annotations"] = {item[2]: "true"}
                    yield kind, {"kind": row.kind, "apiVersion": row.api_version, "metadata": meta}
                elif kind == ERROR:
                    yield kind, item[1]
                else:
                    yield kind, loads(item[1].view(converter))
    finally:
        watcher.close()
