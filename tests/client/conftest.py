"""One test body, two clients: `cluster` runs each test against

- "http":      `Client` over TLS (admin by x509 client certificate from the kubeconfig the server
               wrote) to a real `kplane apiserver` process, through a TCPProxy that tests can
               use to break connections;
- "inprocess": `InProcessClient` (admin by bearer token, resolved by the server's own
               authenticator) into an APIServer on a real Store in the test's event loop.

Both servers authenticate and authorize (RBAC) the same identities (servers.TOKENS). Each test
gets its own namespace. `small_window_cluster` is the same with a watch cache that keeps only a
few changes per resource (and, in-process, watchers that are cut after a few undelivered events),
so resuming watches meet 410 Gone for real.
"""
from __future__ import annotations

import contextlib
import itertools
from typing import Any, AsyncIterator

import pytest

from pykube_plane.client import APIClient, Client, ClientConfig, RetryPolicy

from .servers import TOKENS, APIServerProcess, TCPProxy

SMALL_WINDOW = 32
_namespaces = itertools.count()


@pytest.fixture(scope="module")
def server_process(tmp_path_factory: pytest.TempPathFactory):
    server = APIServerProcess(tmp_path_factory.mktemp("apiserver"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def small_window_process(tmp_path_factory: pytest.TempPathFactory):
    server = APIServerProcess(tmp_path_factory.mktemp("apiserver-small"), watch_cache_size=SMALL_WINDOW)
    server.start()
    try:
        yield server
    finally:
        server.stop()


class Cluster:
    """What a test needs, whichever the transport."""

    def __init__(self, kind: str, client: APIClient, namespace: str) -> None:
        self.kind = kind
        self.client = client
        self.namespace = namespace
        self.proxy: TCPProxy | None = None
        self.process: APIServerProcess | None = None
        self.server: Any = None          # the in-process APIServer
        self._clients: list[APIClient] = [client]

    def client_for(self, token: str, **kwargs: Any) -> APIClient:
        """A client with another identity (a bearer token from servers.TOKENS or not)."""
        if self.kind == "http":
            assert self.process is not None and self.proxy is not None
            base = ClientConfig.from_kubeconfig(self.process.kubeconfig_dict())
            client: APIClient = Client(ClientConfig(server=f"https://127.0.0.1:{self.proxy.port}", ca_pem=base.ca_pem,
                                                    token=token, namespace=self.namespace), **kwargs)
        else:
            from pykube_plane.client import InProcessClient
            client = InProcessClient(self.server, token=token, namespace=self.namespace, **kwargs)
        self._clients.append(client)
        return client

    def admin_client(self, **kwargs: Any) -> APIClient:
        """Another admin client (its own connections), e.g. with another retry policy."""
        if self.kind == "http":
            return self._http_admin(**kwargs)
        return self.client_for("admin-token", **kwargs)

    def _http_admin(self, **kwargs: Any) -> APIClient:
        assert self.process is not None and self.proxy is not None
        base = ClientConfig.from_kubeconfig(self.process.kubeconfig_dict())
        config = ClientConfig(server=f"https://127.0.0.1:{self.proxy.port}", ca_pem=base.ca_pem,
                              client_cert_pem=base.client_cert_pem, client_key_pem=base.client_key_pem,
                              namespace=self.namespace)
        client = Client(config, **kwargs)
        self._clients.append(client)
        return client

    def direct_client(self) -> APIClient:
        """An admin client that does not go through the proxy (its writes go on while the
        proxy refuses connections)."""
        if self.kind != "http":
            return self.client
        assert self.process is not None
        config = ClientConfig.from_kubeconfig(self.process.kubeconfig_dict()).with_namespace(self.namespace)
        client = Client(config)
        self._clients.append(client)
        return client

    async def watchers(self, plural: str) -> float:
        """Watches the server is serving on a resource right now."""
        if self.kind == "http":
            text = await self.direct_client().get_path("/metrics")
            total = 0.0
            for line in text.splitlines():
                if line.startswith("apiserver_longrunning_requests{") and f'resource="{plural}"' in line:
                    total += float(line.rsplit(" ", 1)[1])
            return total
        table = self.server.registry.table
        row = next(r for r in table if r.plural == plural and r.group == "")
        return self.server.registry.cache(row).watcher_count

    @contextlib.asynccontextmanager
    async def connections_refused(self) -> AsyncIterator[None]:
        """HTTP: cut and refuse the clients' connections meanwhile. In-process there is no
        connection; the small-window server cuts slow watchers instead."""
        if self.proxy is None:
            yield
            return
        async with self.proxy.refusing():
            yield

    async def close(self) -> None:
        for client in self._clients:
            await client.close()


@contextlib.asynccontextmanager
async def make_cluster(kind: str, request: pytest.FixtureRequest, tmp_path, small: bool) -> AsyncIterator[Cluster]:
    namespace = f"t{next(_namespaces)}-{request.node.name.split('[')[0][5:][:40].replace('_', '-').strip('-')}"
    if kind == "http":
        process: APIServerProcess = request.getfixturevalue("small_window_process" if small else "server_process")
        proxy = TCPProxy(process.port)
        await proxy.start()
        cluster = Cluster(kind, None, namespace)  # type: ignore[arg-type]
        cluster.process = process
        cluster.proxy = proxy
        cluster.client = cluster._http_admin(retry=RetryPolicy(max_retries=5, cap=1.0))
        cluster._clients = [cluster.client]
        try:
            await cluster.client.ensure_namespace(namespace)
            yield cluster
        finally:
            await cluster.close()
            await proxy.stop()
        return
    from pykube_plane.apiserver.auth.authn import Authenticator, UserInfo
    from pykube_plane.apiserver.server import APIServer
    from pykube_plane.client import InProcessClient
    from pykube_plane.store.store import Store
    store = await Store.open(tmp_path / "store", fsync=False)
    authenticator = Authenticator(tokens={t: UserInfo(u, g, f"uid-{u}") for t, (u, g) in TOKENS.items()})
    server = APIServer(store, port=0, authenticator=authenticator, bookmark_interval=0.5,
                       watch_capacity=SMALL_WINDOW if small else 10_000, watcher_queue=8 if small else 1_000)
    await server.start()
    client = InProcessClient(server, token="admin-token", namespace=namespace)
    cluster = Cluster(kind, client, namespace)
    cluster.server = server
    try:
        await client.ensure_namespace(namespace)
        yield cluster
    finally:
        await cluster.close()
        await server.stop()
        await store.close()


@pytest.fixture(params=["http", "inprocess"])
async def cluster(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Cluster]:
    async with make_cluster(request.param, request, tmp_path, small=False) as c:
        yield c


@pytest.fixture(params=["http", "inprocess"])
async def small_window_cluster(request: pytest.FixtureRequest, tmp_path) -> AsyncIterator[Cluster]:
    async with make_cluster(request.param, request, tmp_path, small=True) as c:
        yield c
