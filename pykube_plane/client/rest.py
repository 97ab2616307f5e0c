"""`Client`: the API over HTTP(S) with aiohttp, configured like kubectl from a kubeconfig.

    async with Client.from_kubeconfig("kubeconfig.yaml") as client:
        pod = await client.get("pods", "web-0", namespace="default")

One connection pool per client; JSON in and out with orjson; watch streams read as chunked JSON
lines (any size: a line is not limited by aiohttp's line buffer). Server warnings (the `Warning`
header) are logged once each.
"""
from __future__ import annotations

import asyncio
import logging
import os
from typing import Any, AsyncIterator, Mapping

import aiohttp
import orjson

from .api import APIClient
from .backoff import RetryPolicy
from .config import ClientConfig
from .errors import ConnectionFailed, InternalError, error_from_status
from .resources import APIResource, resources_from_discovery

log = logging.getLogger(__name__)

METHODS = {"get": "GET", "list": "GET", "watch": "GET", "create": "POST", "update": "PUT", "patch": "PATCH",
           "delete": "DELETE", "deletecollection": "DELETE"}
JSON = "application/json"
REQUEST_TIMEOUT = 60.0
WATCH_READ_SLACK = 60.0     # a silent watch stream is dead after its timeout plus this


def connection_failed(e: BaseException, server: str) -> ConnectionFailed:
    """The ConnectionFailed for an aiohttp/OS error: was the request sent, is it worth retrying."""
    if isinstance(e, (aiohttp.ClientConnectorCertificateError, aiohttp.ClientSSLError)):
        return ConnectionFailed(f"TLS with the server {server} failed: {e}", request_sent=False, transient=False)
    if isinstance(e, aiohttp.ClientConnectorError):
        return ConnectionFailed(f"the connection to the server {server} was refused: {e}", request_sent=False)
    return ConnectionFailed(f"the connection to the server {server} failed: {type(e).__name__}: {e}")


class Client(APIClient):
    def __init__(self, config: ClientConfig | str, *, retry: RetryPolicy | None = None,
                 request_timeout: float = REQUEST_TIMEOUT, connection_limit: int = 256) -> None:
        if isinstance(config, str):
            config = ClientConfig(server=config)
        super().__init__(namespace=config.namespace, retry=retry)
        self.config = config
        self.base_url = config.server_url
        self.request_timeout = request_timeout
        self._ssl = config.ssl_context()
        self._connection_limit = connection_limit
        self._session: aiohttp.ClientSession | None = None
        self._headers = {"Accept": JSON, "User-Agent": config.user_agent}
        if config.token:
            self._headers["Authorization"] = f"Bearer {config.token}"
        self._warned: set[str] = set()

    @classmethod
    def from_kubeconfig(cls, source: str | os.PathLike[str] | Mapping[str, Any], context: str | None = None,
                        **kwargs: Any) -> "Client":
        return cls(ClientConfig.from_kubeconfig(source, context), **kwargs)

    def _http(self) -> aiohttp.ClientSession:
        if self._session is None or self._session.closed:
            connector = aiohttp.TCPConnector(ssl=self._ssl if self._ssl is not None else False,
                                             limit=self._connection_limit, enable_cleanup_closed=True)
            self._session = aiohttp.ClientSession(connector=connector, headers=self._headers,
                                                  json_serialize=lambda o: orjson.dumps(o).decode(),
                                                  skip_auto_headers=("Content-Type",))
        return self._session

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    # ------------------------------------------------------------------------------------------

    def _request_kwargs(self, query: Mapping[str, str], body: Any, content_type: str) -> dict[str, Any]:
        kwargs: dict[str, Any] = {"params": dict(query) if query else None}
        if body is not None:
            kwargs["data"] = orjson.dumps(body)
            kwargs["headers"] = {"Content-Type": content_type or JSON}
        if self.config.tls_server_name:
            kwargs["server_hostname"] = self.config.tls_server_name
        return kwargs

    def _warn(self, response: aiohttp.ClientResponse) -> None:
        for value in response.headers.getall("Warning", ()):
            if value not in self._warned:
                self._warned.add(value)
                log.warning("server warning: %s", value)

    async def _send(self, verb: str, resource: APIResource, namespace: str, name: str, subresource: str,
                    query: Mapping[str, str], body: Any, content_type: str) -> Any:
        url = self.base_url + resource.path(namespace, name, subresource)
        kwargs = self._request_kwargs(query, body, content_type)
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        try:
            async with self._http().request(METHODS[verb], url, timeout=timeout, **kwargs) as response:
                data = await response.read()
                if response.headers.get("Warning"):
                    self._warn(response)
                return self._decode(response, data)
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as e:
            raise connection_failed(e, self.base_url) from None

    @staticmethod
    def _decode(response: aiohttp.ClientResponse, data: bytes) -> Any:
        try:
            decoded: Any = orjson.loads(data) if data else None
        except orjson.JSONDecodeError:
            decoded = data.decode("utf-8", "replace")
        if response.status >= 400:
            raise error_from_status(response.status, decoded, response.headers)
        return decoded

    async def _open_watch(self, resource: APIResource, namespace: str, name: str,
                          query: Mapping[str, str]) -> AsyncIterator[tuple[str, dict]]:
        params = dict(query)
        if name:
            # A watch of one object is a watch of the collection narrowed to its name (k8s does
            # the same for /watch/.../{name}).
            selector = f"metadata.name={name}"
            params["fieldSelector"] = f"{params['fieldSelector']},{selector}" if params.get("fieldSelector") else selector
        url = self.base_url + resource.path(namespace)
        server_timeout = float(params.get("timeoutSeconds") or 0)
        read_timeout = server_timeout + WATCH_READ_SLACK if server_timeout else None
        timeout = aiohttp.ClientTimeout(total=None, connect=self.request_timeout, sock_read=read_timeout)
        try:
            response = await self._http().get(url, timeout=timeout, **self._request_kwargs(params, None, ""))
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as e:
            raise connection_failed(e, self.base_url) from None
        if response.status != 200:
            try:
                data = await response.read()
            except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as e:
                raise ConnectionFailed(f"watch {url}: {type(e).__name__}: {e}") from None
            finally:
                response.release()
            self._decode(response, data)
            raise error_from_status(response.status, None)
        return _event_lines(response, self.base_url)

    async def _discover(self) -> list[APIResource]:
        """The served resources, from the legacy discovery documents (any Kubernetes serves them)."""
        out: list[APIResource] = []
        core = await self._get_path("/api/v1")
        if core is not None:
            out.extend(resources_from_discovery("v1", core))
        groups = await self._get_path("/apis") or {}
        for group in groups.get("groups") or ():
            preferred = (group.get("preferredVersion") or {}).get("groupVersion")
            if not preferred:
                continue
            doc = await self._get_path(f"/apis/{preferred}")
            if doc is not None:
                out.extend(resources_from_discovery(preferred, doc))
        return out

    async def get_path(self, path: str) -> Any:
        """GET a non-resource path (/version, /healthz, /metrics): decoded JSON, or text."""
        found = await self._get_path(path)
        if found is None:
            raise error_from_status(404, None)
        return found

    async def _get_path(self, path: str) -> Any:
        timeout = aiohttp.ClientTimeout(total=self.request_timeout)
        try:
            async with self._http().get(self.base_url + path, timeout=timeout,
                                        **self._request_kwargs({}, None, "")) as response:
                data = await response.read()
                if response.status == 404:
                    return None
                return self._decode(response, data)
        except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as e:
            raise connection_failed(e, self.base_url) from None


async def _event_lines(response: aiohttp.ClientResponse, server: str) -> AsyncIterator[tuple[str, dict]]:
    """(type, object) per JSON line of a watch response; ConnectionFailed if it breaks."""
    buffer = bytearray()
    finished = False
    try:
        async for chunk in response.content.iter_any():
            buffer += chunk
            start = 0
            while True:
                end = buffer.find(b"\n", start)
                if end < 0:
                    break
                if end > start:
                    try:
                        event = orjson.loads(buffer[start:end])
                    except orjson.JSONDecodeError as e:
                        raise InternalError({"kind": "Status", "apiVersion": "v1", "metadata": {},
                                             "status": "Failure", "reason": "InternalError", "code": 500,
                                             "message": f"undecodable watch event from {server}: {e}"}, 500) from None
                    yield event.get("type", ""), event.get("object") or {}
                start = end + 1
            if start:
                del buffer[:start]
        finished = True
    except (aiohttp.ClientError, asyncio.TimeoutError, ConnectionError) as e:
        raise ConnectionFailed(f"watch stream from {server} broke: {type(e).__name__}: {e}") from None
    finally:
        # A stream left half-read cannot carry another request: close its connection.
        if finished:
            response.release()
        else:
            response.close()
