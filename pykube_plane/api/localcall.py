"""The shape of one API call made in-process: what an in-process client hands the API server's
local entry point and what comes back. Plain data, shared by both sides (client/ declares the
`LocalAPI` Protocol over it; apiserver/local.py implements it)."""
from __future__ import annotations

from typing import Any, AsyncIterator, Mapping, NotRequired, TypedDict

from .users import UserInfo


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


class APIResourceInfo(TypedDict):
    """One resource the server serves (what the in-process client resolves names with)."""
    group: str
    version: str
    kind: str
    plural: str
    namespaced: bool
    short_names: tuple[str, ...]
    singular: str
