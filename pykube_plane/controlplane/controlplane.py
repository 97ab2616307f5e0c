"""`ControlPlane`: options in, a running plane out — certificates, store, authenticator, API
server, admin kubeconfig, then any further components (scheduler, controller manager, kubelets)
started after the API server and stopped before it.

    async with ControlPlane(ControlPlaneOptions(data_dir="data", secure_port=0)) as cp:
        print(cp.url, cp.kubeconfig_path)
        await cp.client.list("namespaces")

The CLI commands (`kplane apiserver`, `kplane up`) and tests use this; nothing else assembles
a plane. A component is built by a factory from the running plane (so it can take `cp.client`,
an in-process client, or `cp.kubeconfig`) and has async `start()` and `stop()`.
"""
from __future__ import annotations

import asyncio
import logging
from pathlib import Path
from typing import Any, Callable, Protocol, Sequence

from pykube_plane.api.users import UserInfo
from pykube_plane.apiserver.auth import pki as pki_mod
from pykube_plane.apiserver.auth.authn import Authenticator
from pykube_plane.apiserver.auth.pki import ADMIN_GROUPS, ADMIN_USER
from pykube_plane.apiserver.server import APIServer
from pykube_plane.client import InProcessClient
from pykube_plane.store.kv import KV

from .kubeconfig import kubeconfig_dict, write_kubeconfig
from .options import ControlPlaneOptions

log = logging.getLogger(__name__)


class Component(Protocol):
    """A part started after the API server (scheduler, controller manager, kubelet fleet)."""

    async def start(self) -> None: ...

    async def stop(self) -> None: ...


ComponentFactory = Callable[["ControlPlane"], Component]


class ControlPlane:
    def __init__(self, options: ControlPlaneOptions, components: Sequence[ComponentFactory] = ()) -> None:
        self.options = options
        self.component_factories = list(components)
        self.components: list[Component] = []
        self.pki: pki_mod.PKI | None = None
        self.kv: KV | None = None
        self.server: APIServer | None = None
        self._client: InProcessClient | None = None

    # -- what a running plane offers -------------------------------------------------------------

    @property
    def url(self) -> str:
        """The HTTPS URL clients use (the bind address, or loopback for a wildcard bind)."""
        assert self.server is not None, "the control plane is not started"
        host = self.options.bind_address
        if host in ("0.0.0.0", "::", ""):
            host = "127.0.0.1"
        return f"https://{f'[{host}]' if ':' in host else host}:{self.server.port}"

    @property
    def kubeconfig(self) -> dict[str, Any]:
        """An admin kubeconfig (client certificate in group system:masters) as a mapping."""
        assert self.pki is not None, "the control plane is not started"
        return kubeconfig_dict(self.url, self.pki.ca_cert_pem, self.pki.admin_cert_pem, self.pki.admin_key_pem)

    @property
    def kubeconfig_path(self) -> Path | None:
        return Path(self.options.kubeconfig_path) if self.options.kubeconfig_path else None

    @property
    def client(self) -> InProcessClient:
        """An admin client in this process, through the API server's local entry point."""
        assert self.server is not None, "the control plane is not started"
        if self._client is None:
            self._client = InProcessClient(self.server, user=UserInfo(ADMIN_USER, ADMIN_GROUPS))
        return self._client

    # -- lifecycle -------------------------------------------------------------------------------

    async def start(self) -> None:
        try:
            await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> None:
        o = self.options
        self.pki = pki = await asyncio.to_thread(pki_mod.ensure_pki, o.certificates_dir())
        client_ca = o.client_ca_file or pki.ca_cert_path
        if o.tls_cert_file:
            assert o.tls_private_key_file is not None
            ssl_context = pki_mod.serving_ssl_context(o.tls_cert_file, o.tls_private_key_file, client_ca)
        else:
            ssl_context = pki_mod.server_ssl_context(pki, o.client_ca_file)
        authenticator = Authenticator(token_file=o.token_auth_file, client_ca_file=client_ca)
        self.kv = await self._open_store()
        self.server = APIServer(
            self.kv, host=o.bind_address, port=o.secure_port, ssl_context=ssl_context,
            authenticator=authenticator, service_cidr=o.service_cluster_ip_range,
            node_port_range=o.service_node_port_range, watch_capacity=o.watch_cache_size,
            advertise_address=o.advertise_address, max_requests_inflight=o.max_requests_inflight,
            max_mutating_requests_inflight=o.max_mutating_requests_inflight, event_ttl=o.event_ttl,
            listen=o.listen)
        await self.server.start()
        if o.listen:
            log.info("serving on %s", self.server.url)
        for factory in self.component_factories:
            component = factory(self)
            await component.start()
            self.components.append(component)
        if o.kubeconfig_path and o.listen:
            await asyncio.to_thread(write_kubeconfig, o.kubeconfig_path, self.url, pki.ca_cert_pem,
                                    pki.admin_cert_pem, pki.admin_key_pem)
            log.info("wrote kubeconfig %s", o.kubeconfig_path)

    async def _open_store(self) -> KV:
        o = self.options
        if o.etcd_servers:
            from pykube_plane.store.remote import RemoteKV
            return await RemoteKV.connect(list(o.etcd_servers))
        from pykube_plane.store.store import Store
        return await Store.open(o.store_dir(), fsync=o.fsync)

    async def stop(self) -> None:
        """Stop the components (last started first), then the API server, then the store."""
        while self.components:
            await self.components.pop().stop()
        if self.server is not None:
            await self.server.stop()
            self.server = None
        if self.kv is not None:
            await self.kv.close()
            self.kv = None
        self._client = None

    async def __aenter__(self) -> "ControlPlane":
        await self.start()
        return self

    async def __aexit__(self, *exc: Any) -> None:
        await self.stop()
