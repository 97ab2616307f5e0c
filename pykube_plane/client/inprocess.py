"""`InProcessClient`: the same API as `Client`, calling an API server in the same process.

    async with APIServer(store) as server:
        client = InProcessClient(server, user=UserInfo("alice", ("dev",)))
        await client.create({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "x"}})

No sockets and no JSON between caller and server: a call becomes a `LocalRequest` handed to the
server's local entry point (`LocalAPI`, which an `APIServer` is), and goes through the same
authorization, admission, defaulting and validation as an HTTP request. Objects are passed as
dicts; the server copies what crosses, so a caller may change any dict it gets. The identity is
fixed per client: a `UserInfo`, or a bearer token resolved by the server's own authenticator (an
unknown token, or none on a server that authenticates, answers 401 as over HTTP).
"""
from __future__ import annotations

import logging
from typing import Any, AsyncIterator, Mapping

from pykube_plane.api.jsoncopy import copy_json
from pykube_plane.api.users import UserInfo

from .api import APIClient
from .backoff import RetryPolicy
from .errors import Unauthorized, error_from_status
from .local import LocalAPI, LocalRequest
from .resources import APIResource, ResourceResolver

log = logging.getLogger(__name__)

__all__ = ["InProcessClient", "copy_json"]

UNAUTHORIZED = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                "message": "Unauthorized", "reason": "Unauthorized", "code": 401}


class InProcessClient(APIClient):
    def __init__(self, server: LocalAPI, *, user: UserInfo | None = None, token: str | None = None,
                 namespace: str = "default", retry: RetryPolicy | None = None) -> None:
        rows = [APIResource(**r) for r in server.api_resources()]
        super().__init__(namespace=namespace, retry=retry, resolver=ResourceResolver(None, builtin=rows))
        self.server = server
        self._serve_local = server.serve_local
        self._authenticated = True
        if token is not None:
            if server.requires_authentication:
                user = server.authenticate_token(token)
                self._authenticated = user is not None
        elif user is None and server.requires_authentication:
            self._authenticated = False     # anonymous: a server that authenticates says 401
        self.user = user

    async def _discover(self) -> list[APIResource]:
        return [APIResource(**r) for r in self.server.api_resources()]

    # ------------------------------------------------------------------------------------------

    def _local_request(self, verb: str, resource: APIResource, namespace: str, name: str, subresource: str,
                       query: Mapping[str, str], body: Any, content_type: str, stream: bool) -> LocalRequest:
        if not self._authenticated:
            raise Unauthorized(dict(UNAUTHORIZED), 401)
        return {"verb": verb, "group": resource.group, "version": resource.version, "plural": resource.plural,
                "namespace": namespace, "name": name, "subresource": subresource, "query": query, "body": body,
                "content_type": content_type, "user": self.user, "stream": stream}

    async def _send(self, verb: str, resource: APIResource, namespace: str, name: str, subresource: str,
                    query: Mapping[str, str], body: Any, content_type: str) -> Any:
        response = await self._serve_local(
            self._local_request(verb, resource, namespace, name, subresource, query, body, content_type, False))
        if response["code"] >= 400:
            raise error_from_status(response["code"], response["body"], response["headers"])
        warnings = response["warnings"]
        if warnings:
            for warning in dict.fromkeys(warnings):
                log.warning("server warning: %s", warning)
        return response["body"]

    async def _open_watch(self, resource: APIResource, namespace: str, name: str,
                          query: Mapping[str, str]) -> AsyncIterator[tuple[str, dict]]:
        response = await self._serve_local(
            self._local_request("watch", resource, namespace, name, "", query, None, "", True))
        if response["code"] >= 400:
            raise error_from_status(response["code"], response["body"], response["headers"])
        return response["events"]
