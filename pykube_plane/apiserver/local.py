"""The API server's local entry point: what `InProcessClient` calls instead of HTTP.

A `LocalRequest` (plain dict) becomes the `APIRequest` the HTTP face would have built and goes
through `Handlers.handle` — RBAC for the caller's identity, admission, defaulting and validation
in the registry — exactly as an HTTP request does. The answer is a `LocalResponse` (plain dict):
errors are Status objects with their code, never exceptions or tracebacks; a watch answers an
async iterator of (type, object) events decoded from the watch cache's bytes.

Copies: the registry keeps references to what it is given and to what it answers (its watch
cache remembers written objects), so bodies are copied on the way in and written objects on the
way out; a caller may change any dict it gets.

The shapes (`LocalRequest`, `LocalResponse`) live in api/localcall.py, which both sides import;
the client's `LocalAPI` Protocol is what `APIServer` satisfies, and nothing here imports the client.
"""
from __future__ import annotations

import asyncio
import logging
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, AsyncIterator, Iterable, Mapping

import orjson

from pykube_plane.api.jsoncopy import copy_json
from pykube_plane.api.localcall import APIResourceInfo, LocalRequest, LocalResponse
from pykube_plane.api.users import UserInfo
from pykube_plane.api.watchevents import BOOKMARK, ERROR
from pykube_plane.apiserver.registry.listing import ListResult
from pykube_plane.apiserver.registry.watch_cache import Watcher

from . import status as st
from .handlers import APIRequest, Handlers

if TYPE_CHECKING:
    from pykube_plane.apiserver.auth.authn import Authenticator
    from pykube_plane.apiserver.registry.resources import Resource, ResourceTable

log = logging.getLogger(__name__)

WRITE_VERBS = frozenset(("create", "update", "patch", "delete", "deletecollection"))
NO_HEADERS: Mapping[str, str] = MappingProxyType({})


class LocalEntryPoint:
    def __init__(self, table: "ResourceTable", handlers: Handlers, authenticator: "Authenticator | None") -> None:
        self.table = table
        self.handlers = handlers
        self.authenticator = authenticator

    @property
    def requires_authentication(self) -> bool:
        return self.authenticator is not None

    def api_resources(self) -> Iterable[APIResourceInfo]:
        return [{"group": r.group, "version": r.version, "kind": r.kind, "plural": r.plural,
                 "namespaced": r.namespaced, "short_names": tuple(r.short_names), "singular": r.singular}
                for r in self.table]

    def authenticate_token(self, token: str) -> UserInfo | None:
        if self.authenticator is None:
            return None
        return self.authenticator.authenticate({"Authorization": f"Bearer {token}"})

    async def serve_local(self, request: LocalRequest) -> LocalResponse:
        try:
            req = self._api_request(request)
        except st.APIError as e:
            return _failure(e, [])
        try:
            code, result = await self.handlers.handle(req)
        except st.APIError as e:
            return _failure(e, req.warnings)
        except asyncio.CancelledError:
            raise
        except Exception as e:      # the HTTP face answers 500 here; so do we, never a traceback
            log.exception("in-process %s %s failed", req.verb, req.resource)
            return _failure(st.internal_error(f"{type(e).__name__}: {e}"), req.warnings)
        if type(result) is not dict:
            if isinstance(result, Watcher):
                if not request["stream"]:   # a watch asked for as a plain call: not a stream here
                    result.close()
                    return _failure(st.bad_request("use watch() for a watch"), req.warnings)
                timeout = req.query.get("timeoutSeconds")
                events = _watch_events(result, req.resource, float(timeout) if timeout else None)
                return {"code": code, "body": None, "headers": NO_HEADERS, "warnings": req.warnings,
                        "events": events}
            if isinstance(result, ListResult):
                result = result.to_dict()
        elif req.verb in WRITE_VERBS:
            result = copy_json(result)
        return {"code": code, "body": result, "headers": NO_HEADERS, "warnings": req.warnings}

    def _api_request(self, request: LocalRequest) -> APIRequest:
        row = self.table.lookup(request["group"], request["version"], request["plural"])
        if row is None:
            raise st.path_not_found()
        verb = request["verb"]
        if verb == "create" and request["name"] and not request["subresource"]:
            raise st.method_not_allowed()
        body = request["body"]
        return APIRequest(verb, row, request["namespace"], request["name"], request["subresource"],
                          dict(request["query"]), copy_json(body) if body is not None else None,
                          request["content_type"], request["user"])


def _failure(e: st.APIError, warnings: list[str]) -> LocalResponse:
    return {"code": e.code, "body": e.status, "headers": dict(e.headers), "warnings": warnings}


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
