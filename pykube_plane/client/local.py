"""The seam between `InProcessClient` and an API server in the same process.

`LocalAPI` is all the in-process client needs from a server: the resources it serves, token
authentication, and one call that takes a request and answers a response, both plain data
(dicts, and for a watch an async iterator of (type, object) events). The API server implements
it (`pykube_plane.apiserver.local`); nothing here imports the API server, so `client/` depends
only on `api/` (docs/architecture.md).
"""
from __future__ import annotations

from typing import Any, AsyncIterator, Iterable, Mapping, NotRequired, Protocol, TypedDict

from pykube_plane.api.users import UserInfo


class LocalRequest(TypedDict):
    """One API call, as the HTTP face would have decoded it from the wire."""
    verb: str                   # get, list, watch, create, update, patch, delete, deletecollection
    group: str
    version: str
    plural: str
    namespace: str
    name: str
    subresource: str
    query: Mapping[str, str]
    body: Any                   # the object (or patch document), never kept by the server
    content_type: str
    user: UserInfo | None       # None: no authorization (a server that does not authenticate)
    stream: bool                # a watch answers `events`; a watch without stream is a 400


class LocalResponse(TypedDict):
    """The answer: `code` >= 400 carries a metav1.Status in `body`, as over HTTP."""
    code: int
    body: Any                   # the object, list or Status; the caller may change it
    headers: Mapping[str, str]  # e.g. Retry-After on a 429
    warnings: list[str]
    events: NotRequired[AsyncIterator[tuple[str, dict]]]    # a watch's events, ended by aclose()


class LocalAPI(Protocol):
    """An API server's local entry point (an `APIServer` is one)."""

    @property
    def requires_authentication(self) -> bool:
        """Whether a caller without an identity is refused (401)."""

    def api_resources(self) -> Iterable[Mapping[str, Any]]:
        """The resources served, each {group, version, kind, plural, namespaced, short_names, singular}."""

    def authenticate_token(self, token: str) -> UserInfo | None:
        """The identity of a bearer token; None when the server does not know it."""

    async def serve_local(self, request: LocalRequest) -> LocalResponse:
        """Serve one call with the same authorization, admission and validation as HTTP."""
