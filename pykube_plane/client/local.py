"""The seam between `InProcessClient` and an API server in the same process.

`LocalAPI` is all the in-process client needs from a server: the resources it serves, token
authentication, and one call that takes a request and answers a response, both plain data
(dicts typed in api/localcall.py, and for a watch an async iterator of (type, object) events). The API server implements
it (`pykube_plane.apiserver.local`); nothing here imports the API server, so `client/` depends
only on `api/` (docs/architecture.md).
"""
from __future__ import annotations

from typing import Iterable, Protocol

from pykube_plane.api.localcall import APIResourceInfo, LocalRequest, LocalResponse
from pykube_plane.api.users import UserInfo

__all__ = ["APIResourceInfo", "LocalAPI", "LocalRequest", "LocalResponse"]


class LocalAPI(Protocol):
    """An API server's local entry point (an `APIServer` is one)."""

    @property
    def requires_authentication(self) -> bool:
        """Whether a caller without an identity is refused (401)."""

    def api_resources(self) -> Iterable[APIResourceInfo]:
        """The resources served."""

    def authenticate_token(self, token: str) -> UserInfo | None:
        """The identity of a bearer token; None when the server does not know it."""

    async def serve_local(self, request: LocalRequest) -> LocalResponse:
        """Serve one call with the same authorization, admission and validation as HTTP."""
