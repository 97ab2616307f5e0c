"""The API server assembled: registry over a `KV`, handlers with RBAC, admission, the HTTP face,
metrics and health, the bootstrap objects. One object to start and stop:

    async with APIServer(store, port=0) as server:      # plain HTTP, no authentication
        print(server.url)                               # http://127.0.0.1:41234

`APIServer(store, listen=False)` binds no socket: it serves only through its local entry point
(`InProcessClient(server)`), for a plane embedded in one process.

With an `Authenticator` every request must carry a token or a client certificate (401 without),
and RBAC decides (403); give an ssl_context to serve HTTPS (pki.server_ssl_context).
"""
from __future__ import annotations

import logging
import ssl
from typing import Any, Coroutine, Iterable

from aiohttp import web

from pykube_plane.api.localcall import APIResourceInfo, LocalRequest, LocalResponse
from pykube_plane.apiserver.auth.authn import Authenticator, UserInfo
from pykube_plane.apiserver.auth.rbac import RESOURCE_KINDS, RBACAuthorizer, forbidden_status, request_attributes
from pykube_plane.apiserver.http.metrics import APIMetrics
from pykube_plane.apiserver.http.web import WebFace
from pykube_plane.apiserver.registry.admission import NamespaceLifecycle
from pykube_plane.apiserver.registry.registry import Registry
from pykube_plane.apiserver.registry.resources import RESOURCES, ResourceTable
from pykube_plane.store.kv import KV

from . import status as st
from .bootstrap import ensure_bootstrap_objects
from .handlers import Handlers
from .local import LocalEntryPoint

log = logging.getLogger(__name__)


class APIServer:
    def __init__(self, kv: KV, *, host: str = "127.0.0.1", port: int = 0,
                 ssl_context: ssl.SSLContext | None = None, authenticator: Authenticator | None = None,
                 authorization: bool | None = None, admission: bool = True,
                 table: ResourceTable = RESOURCES, service_cidr: str = "10.96.0.0/12",
                 node_port_range: tuple[int, int] = (30000, 32767), watch_capacity: int = 10_000,
                 watcher_queue: int = 1_000, bookmark_interval: float = 30.0,
                 compaction_interval: float = 300.0,
                 advertise_address: str | None = None, bootstrap: bool = True,
                 max_requests_inflight: int = 400, max_mutating_requests_inflight: int = 200,
                 event_ttl: float = 3600.0, listen: bool = True) -> None:
        self.kv = kv
        self.listen = listen
        self.host = host
        self.port = port
        self.ssl_context = ssl_context
        self.authenticator = authenticator
        if authorization is None:
            authorization = authenticator is not None
        self.authorizer = RBACAuthorizer() if authorization else None
        self.registry = Registry(kv, table, service_cidr=service_cidr, node_port_range=node_port_range,
                                 watch_capacity=watch_capacity, watcher_queue=watcher_queue,
                                 namespace_lifecycle=NamespaceLifecycle() if admission else None,
                                 event_ttl=event_ttl)
        self.handlers = Handlers(self.registry, self.authorizer)
        self.metrics = APIMetrics()
        self.bookmark_interval = bookmark_interval
        self.compaction_interval = compaction_interval
        self.advertise_address = advertise_address or (host if host not in ("0.0.0.0", "::", "") else "127.0.0.1")
        self.bootstrap = bootstrap
        self.max_requests_inflight = max_requests_inflight
        self.max_mutating_requests_inflight = max_mutating_requests_inflight
        self._runner: web.AppRunner | None = None
        self._serving = False
        self.web = WebFace(self)
        self.local = LocalEntryPoint(self.registry.table, self.handlers, authenticator)

    @property
    def url(self) -> str:
        scheme = "https" if self.ssl_context is not None else "http"
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{scheme}://{host}:{self.port}"

    async def start(self) -> None:
        """Start the registry and, unless `listen=False`, serve on host:port (port 0: a free one,
        then `port` holds the one bound). Without listening the server answers only through its
        local entry point (`InProcessClient(server)`)."""
        await self.registry.start(self.bookmark_interval, self.compaction_interval)
        if self.authorizer is not None:
            self._feed_authorizer()
        if self.listen:
            runner = web.AppRunner(self.web.app(), handler_cancellation=True, access_log=None)
            await runner.setup()
            site = web.TCPSite(runner, self.host, self.port, ssl_context=self.ssl_context, backlog=1024)
            await site.start()
            self._runner = runner
            addresses = runner.addresses
            if addresses:
                self.port = addresses[0][1]
        self._serving = True
        if self.bootstrap:
            await ensure_bootstrap_objects(self.registry, self.advertise_address, self.port)

    async def stop(self) -> None:
        """Stop listening, end every watch stream, let in-flight requests finish, then stop.

        Watches go first: their handlers otherwise run until their timeoutSeconds (minutes for
        informers) and hold the graceful shutdown that long."""
        if self._runner is not None:
            for site in list(self._runner.sites):
                await site.stop()
            self.registry.close_watchers("server shutting down")
            await self._runner.cleanup()
            self._runner = None
        elif self._serving:
            self.registry.close_watchers("server shutting down")
        self._serving = False
        await self.registry.stop()

    async def __aenter__(self) -> "APIServer":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()

    # -- the local entry point (client.local.LocalAPI): InProcessClient(server) ------------------

    @property
    def requires_authentication(self) -> bool:
        return self.local.requires_authentication

    def api_resources(self) -> Iterable[APIResourceInfo]:
        return self.local.api_resources()

    def authenticate_token(self, token: str) -> UserInfo | None:
        return self.local.authenticate_token(token)

    def serve_local(self, request: LocalRequest) -> Coroutine[Any, Any, LocalResponse]:
        return self.local.serve_local(request)     # the coroutine itself: no extra frame per call

    # ------------------------------------------------------------------------------------------

    def _feed_authorizer(self) -> None:
        """RBAC decides from the watch caches of roles, cluster roles and their bindings."""
        authorizer = self.authorizer
        assert authorizer is not None
        for plural in RESOURCE_KINDS:
            resource = self.registry.table.lookup("rbac.authorization.k8s.io", "v1", plural)
            cache = self.registry.cache(resource)
            authorizer.replace(plural, [co.obj() for co in cache.objects.values()])

            def listener(event_type: str, cur: Any, prev: Any, plural: str = plural) -> None:
                obj = cur if cur is not None else prev
                authorizer.update(plural, event_type, obj.obj())

            cache.add_listener(listener)

    def authorize_path(self, method: str, path: str, query: dict, user: UserInfo | None) -> None:
        """Authorization of non-resource paths (/version, /healthz, /metrics, discovery)."""
        if self.authorizer is None or user is None:
            return
        attrs = request_attributes(method, path, query, user)
        allowed, reason = self.authorizer.authorize(attrs)
        if not allowed:
            status = forbidden_status(attrs, reason)
            raise st.APIError(403, "Forbidden", status["message"], status.get("details") or {})

    async def health_checks(self, root: str) -> dict[str, tuple[bool, str]]:
        checks: dict[str, tuple[bool, str]] = {"ping": (True, "")}
        try:
            await self.registry.storage.current_revision()
            checks["etcd"] = (True, "")
        except Exception as e:
            checks["etcd"] = (False, str(e))
        if root != "/livez":
            ready = all(c.ready.is_set() for c in self.registry.caches.values())
            checks["informer-sync"] = (ready, "" if ready else "watch caches not synced")
            if root == "/readyz":
                checks["shutdown"] = (self._serving, "")
        return checks
