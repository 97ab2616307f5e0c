"""The HTTP face of the API server (aiohttp): wire in, `handlers` in the middle, wire out.

Per request: authenticate (token or client certificate) -> route the path -> read and decode the
body (3 MiB at most) -> `Handlers.handle` (authorization, then the registry) -> encode the answer
as the client accepts it (JSON, YAML, Table) -> count it in /metrics. Watches stream one JSON
line per event over a chunked response, with the bytes the watch cache encoded once per change.
Every failure leaves as a Status object; an unexpected exception is logged and answered 500.
"""
from __future__ import annotations

import asyncio
import logging
import random
import time
from typing import TYPE_CHECKING, Any

import orjson
from aiohttp import web

from pykube_plane.api.watchevents import BOOKMARK, ERROR
from pykube_plane.apiserver import status as st
from pykube_plane.apiserver.auth.authn import ALL_AUTHENTICATED, UserInfo
from pykube_plane.apiserver.auth.rbac import RequestAttributes
from pykube_plane.apiserver.handlers import APIRequest
from pykube_plane.apiserver.registry import tables
from pykube_plane.apiserver.registry.listing import ListResult
from pykube_plane.apiserver.registry.watch_cache import Watcher, event_line

from . import discovery, negotiation, openapi, routing

if TYPE_CHECKING:
    from pykube_plane.apiserver.server import APIServer

log = logging.getLogger(__name__)

MAX_BODY = 3 * 1024 * 1024
JSON_TYPE = "application/json"
WATCH_MIN_TIMEOUT = 1800
LARGE_LIST = 2000      # objects decoded between yields to the event loop


def _json_response(code: int, body: bytes, content_type: str = JSON_TYPE, headers: dict | None = None) -> web.Response:
    out = dict(headers or {})
    out["Content-Type"] = content_type
    return web.Response(status=code, body=body, headers=out)


def _status_response(e: st.APIError) -> web.Response:
    headers = dict(e.headers)
    if e.code == 401:
        headers.setdefault("WWW-Authenticate", 'Basic realm="kubernetes-master"')
    return web.Response(status=e.code, body=orjson.dumps(e.status), content_type=JSON_TYPE, headers=headers)


def _warning_header(text: str) -> str:
    """`299 - "text"`, quoted and escaped like Go's %q (kube-apiserver's warnings): a field name
    in a warning may hold any character, a header only printable ASCII."""
    quoted = "".join(c if " " <= c <= "~" and c not in '"\\' else
                     ("\\" + c if c in '"\\' else f"\\u{ord(c):04x}" if ord(c) < 0x10000 else f"\\U{ord(c):08x}")
                     for c in text)
    return f'299 - "{quoted}"'


def _query(request: web.Request) -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in request.query.items():
        out.setdefault(key, value)
    return out


class WebFace:
    def __init__(self, server: "APIServer") -> None:
        self.server = server
        self.handlers = server.handlers
        self.table = server.registry.table
        self.metrics = server.metrics
        # kube-apiserver's --max-requests-inflight / --max-mutating-requests-inflight: past them a
        # request is answered 429 at once instead of queueing without bound (watches not counted)
        self.max_inflight = {False: server.max_requests_inflight, True: server.max_mutating_requests_inflight}
        self.inflight = {False: 0, True: 0}

    def app(self) -> web.Application:
        app = web.Application(client_max_size=MAX_BODY + 1024 * 1024)
        app.router.add_route("*", "/{tail:.*}", self.dispatch)
        return app

    # ------------------------------------------------------------------------------------------

    async def dispatch(self, request: web.Request) -> web.StreamResponse:
        started = time.monotonic()
        labels: list[Any] = ["", False, "", "", "", "", "", None]   # verb, dry, group, version, resource, sub, scope
        code = 500
        try:
            response = await self._serve(request, labels)
            code = response.status
            return response
        except st.APIError as e:
            code = e.code
            return _status_response(e)
        except (asyncio.CancelledError, ConnectionResetError):
            code = 499
            raise
        except Exception as e:  # never a traceback to the client
            log.exception("internal error serving %s %s", request.method, request.path)
            code = 500
            return _status_response(st.internal_error(f"{type(e).__name__}: {e}"))
        finally:
            verb = labels[0] or request.method.upper()
            seconds = None if verb in ("WATCH", "watch") else time.monotonic() - started
            try:
                self.metrics.observe(verb.upper(), labels[1], labels[2], labels[3], labels[4], labels[5],
                                     labels[6], code, seconds)
            except Exception:
                log.exception("metrics")

    def _authenticate(self, request: web.Request) -> Any:
        authn = self.server.authenticator
        if authn is None:
            return None
        peer = None
        transport = request.transport
        if transport is not None:
            ssl_object = transport.get_extra_info("ssl_object")
            if ssl_object is not None:
                peer = ssl_object.getpeercert(binary_form=True)
        user = authn.authenticate(request.headers, peer)
        if user is None:
            raise st.unauthorized()
        if "Impersonate-User" in request.headers or "Impersonate-Group" in request.headers:
            user = self._impersonate(request, user)
        return user

    def _impersonate(self, request: web.Request, user: Any) -> Any:
        """`kubectl --as` / `--as-group`: act as another user if RBAC lets this one impersonate
        (verb "impersonate" on users / groups / uids), as kube-apiserver's impersonation filter does."""
        name = request.headers.get("Impersonate-User", "")
        groups = request.headers.getall("Impersonate-Group", [])
        uid = request.headers.get("Impersonate-Uid", "")
        if not name:
            raise st.bad_request("requested impersonation of groups without impersonating a user")
        checks = [("users", "", name)] + [("groups", "", g) for g in groups]
        if uid:
            checks.append(("uids", "authentication.k8s.io", uid))
        authorizer = self.server.authorizer
        for resource, group, target in checks:
            if authorizer is None:
                break
            attrs = RequestAttributes(user, "impersonate", True, group, "", resource, "", "", target)
            allowed, _ = authorizer.authorize(attrs)
            if not allowed:
                where = f'in API group "{group}" '
                raise st.APIError(403, "Forbidden", f'{resource}{"." + group if group else ""} "{target}" is '
                                  f'forbidden: User "{user.name}" cannot impersonate resource "{resource}" '
                                  f'{where}at the cluster scope', {"name": target, "kind": resource})
        if name != "system:anonymous" and ALL_AUTHENTICATED not in groups:
            groups = list(groups) + [ALL_AUTHENTICATED]
        return UserInfo(name, tuple(groups), uid)

    async def _serve(self, request: web.Request, labels: list) -> web.StreamResponse:
        user = self._authenticate(request)
        path = request.path
        query = _query(request)
        found = routing.route(self.table, path)
        if found is None:
            return await self._non_resource(request, path, query, user)
        method = request.method.upper()
        watch_param = query.get("watch", "")
        # Kubernetes treats any value but false/0 (the empty one included) as a watch.
        watch = found.watch_prefix or ("watch" in query and watch_param.lower() not in ("false", "0"))
        verb = routing.verb_for(method, found.name, watch)
        if verb is None:
            raise st.method_not_allowed()
        if (verb == "create" and found.name and not found.subresource) or \
                (verb in ("update", "patch") and not found.name):
            raise st.method_not_allowed()
        r = found.resource
        labels[:7] = [verb, "dryRun" in query, r.group, r.version, r.plural, found.subresource,
                      "namespace" if found.namespace else ("resource" if found.name else "cluster")]
        body = None
        content_type = request.headers.get("Content-Type", "")
        if method in ("POST", "PUT", "PATCH", "DELETE"):
            data = await self._read_body(request)
            if data or method != "DELETE":
                # patch documents are JSON whatever their patch type says; the handler checks the type
                patch_json = method == "PATCH" and "yaml" not in content_type
                body = negotiation.decode_body(data, JSON_TYPE if patch_json else content_type)
        accept = negotiation.negotiate(request.headers.get("Accept"))
        req = APIRequest(verb, r, found.namespace, found.name, found.subresource, query, body,
                         content_type.split(";")[0].strip().lower(), user)
        if verb == "watch":
            code, result = await self.handlers.handle(req)
        else:
            mutating = method != "GET" and method != "HEAD"
            limit = self.max_inflight[mutating]
            if limit and self.inflight[mutating] >= limit:
                raise st.too_many_requests()
            self.inflight[mutating] += 1
            try:
                code, result = await self.handlers.handle(req)
            finally:
                self.inflight[mutating] -= 1
        warnings = [_warning_header(w) for w in dict.fromkeys(req.warnings)]
        if isinstance(result, Watcher):
            return await self._stream(request, req, result, accept, query)
        if isinstance(result, ListResult) and len(result.items) > LARGE_LIST and \
                accept in (negotiation.TABLE, negotiation.PARTIAL, negotiation.YAML):
            await self._decode_in_slices(result, accept == negotiation.TABLE, query.get("includeObject", "Metadata"))
        return self._encode(code, result, accept, req, query, warnings)

    @staticmethod
    async def _decode_in_slices(result: ListResult, rows: bool, include: str) -> None:
        """Decode a large list's objects (and make its Table rows) a slice at a time, letting other
        requests run between slices: Tables and YAML need objects, not just their bytes."""
        decoded: list[dict] = []
        made: list[dict] = []
        items = result.items
        r = result.resource
        converter = r.strategy.to_external
        now = time.time()
        for start in range(0, len(items), LARGE_LIST):
            chunk = [orjson.loads(co.view(converter)) for co in items[start:start + LARGE_LIST]]
            decoded.extend(chunk)
            if rows:
                made.extend(tables.table_row(o, r.printer, include, now) for o in chunk)
            await asyncio.sleep(0)
        result.decoded = decoded
        result.rows = made if rows else None

    async def _read_body(self, request: web.Request) -> bytes:
        length = request.content_length
        if length is not None and length > MAX_BODY:
            raise st.request_too_large(MAX_BODY)
        data = bytearray()
        while True:
            chunk = await request.content.read(65536)
            if not chunk:
                break
            data += chunk
            if len(data) > MAX_BODY:
                raise st.request_too_large(MAX_BODY)
        return bytes(data)

    # ------------------------------------------------------------------------------------------
    # answers

    def _encode(self, code: int, result: Any, accept: str, req: APIRequest, query: dict,
                warnings: list[str]) -> web.Response:
        resp_headers = [("Warning", w) for w in warnings]
        r = req.resource
        is_status = isinstance(result, dict) and result.get("kind") == "Status"
        if accept == negotiation.TABLE and not is_status and req.subresource in ("", "status", "scale"):
            include = query.get("includeObject", "Metadata")
            if isinstance(result, ListResult):
                objs = [] if result.rows is not None else result.objects()
                body = orjson.dumps(tables.table(r.columns, r.printer, objs, str(result.resource_version),
                                                 result.continue_token, include, result.remaining, rows=result.rows))
            elif req.subresource == "scale":
                body = orjson.dumps(tables.table(tables.SCALE_COLUMNS, tables.scale_row, [result], include_object=include))
            else:
                body = orjson.dumps(tables.table(r.columns, r.printer, [result], include_object=include))
        elif accept == negotiation.PARTIAL and not is_status:
            if isinstance(result, ListResult):
                body = orjson.dumps({"kind": "PartialObjectMetadataList", "apiVersion": "meta.k8s.io/v1",
                                     "metadata": result.metadata(),
                                     "items": [tables.partial_metadata(o) for o in result.objects()]})
            else:
                body = orjson.dumps(tables.partial_metadata(result))
        elif accept == negotiation.YAML and not is_status:
            obj = result.to_dict() if isinstance(result, ListResult) else result
            response = web.Response(status=code, body=negotiation.encode_yaml(obj), content_type="application/yaml")
            for k, v in resp_headers:
                response.headers.add(k, v)
            return response
        elif isinstance(result, ListResult):
            body = result.encode()
        else:
            body = orjson.dumps(result)
        response = web.Response(status=code, body=body, content_type=JSON_TYPE)
        for k, v in resp_headers:
            response.headers.add(k, v)
        return response

    async def _stream(self, request: web.Request, req: APIRequest, watcher: Watcher, accept: str,
                      query: dict) -> web.StreamResponse:
        r = req.resource
        timeout = req.query.get("timeoutSeconds")
        try:
            seconds = float(timeout) if timeout else WATCH_MIN_TIMEOUT * (1 + random.random())
        except ValueError:
            seconds = WATCH_MIN_TIMEOUT
        response = web.StreamResponse(status=200, headers={"Content-Type": JSON_TYPE,
                                                           "Cache-Control": "no-cache, private"})
        response.enable_chunked_encoding()
        writer = await response.prepare(request)
        send_headers = getattr(writer, "send_headers", None)
        if send_headers is not None:
            send_headers()      # the client learns at once that its watch is established
        converter = r.strategy.to_external
        as_table = accept == negotiation.TABLE
        include = query.get("includeObject", "Metadata")
        table_key = ("table", include, id(r))
        first_table = [True]
        loop = asyncio.get_running_loop()
        deadline = loop.time() + seconds
        metric = self.metrics.longrunning.labels("WATCH", r.group, r.version, r.plural, req.subresource,
                                                 "namespace" if req.namespace else "cluster", "apiserver")
        metric.inc()

        def encode(item: tuple) -> bytes:
            kind = item[0]
            if kind == BOOKMARK:
                meta: dict[str, Any] = {"resourceVersion": str(item[1])}
                if item[2]:
                    meta["annotations"] = {item[2]: "true"}
                obj = {"kind": r.kind, "apiVersion": r.api_version, "metadata": meta}
                return event_line(BOOKMARK, orjson.dumps(obj))
            if kind == ERROR:
                return event_line(ERROR, orjson.dumps(item[1]))
            co, event = item[1], item[2]
            if as_table:
                with_columns = first_table[0]
                first_table[0] = False
                key = table_key + (kind, with_columns)
                if event is not None and key in event.memo:
                    return event.memo[key]
                obj = orjson.loads(co.view(converter))
                table = tables.table(r.columns if with_columns else (), r.printer, [obj], include_object=include)
                line = event_line(kind, orjson.dumps(table))
                if event is not None:
                    event.memo[key] = line
                return line
            if event is None:
                return event_line(kind, co.view(converter))
            key = (kind, converter)
            line = event.memo.get(key)
            if line is None:
                line = event.memo[key] = event_line(kind, co.view(converter))
            return line

        try:
            # Each wake-up writes everything queued since the last one in one chunk: under load a
            # watcher's events coalesce into fewer, larger writes.
            while True:
                remaining = deadline - loop.time()
                if remaining <= 0:
                    break
                try:
                    batch = await asyncio.wait_for(watcher.next_batch(), remaining)
                except asyncio.TimeoutError:
                    break
                if not batch:
                    break
                await response.write(b"".join(encode(item) for item in batch))
        except (ConnectionResetError, asyncio.CancelledError):
            pass
        finally:
            watcher.close()
            metric.dec()
        try:
            await response.write_eof()
        except (ConnectionResetError, RuntimeError):
            pass
        return response

    # ------------------------------------------------------------------------------------------
    # non-resource paths

    async def _non_resource(self, request: web.Request, path: str, query: dict, user: Any) -> web.StreamResponse:
        method = request.method.upper()
        self.server.authorize_path(method, path, query, user)
        clean = path.rstrip("/") or "/"
        if method not in ("GET", "HEAD"):
            if clean in ("/api", "/apis", "/version", "/healthz", "/livez", "/readyz", "/metrics") or \
                    clean.startswith(("/api/", "/apis/", "/openapi")):
                raise st.method_not_allowed()
            raise st.path_not_found()
        if clean == "/version":
            return _json_response(200, orjson.dumps(discovery.version_info()))
        if clean in ("/api", "/apis"):
            mode = negotiation.negotiate(request.headers.get("Accept"), discovery=True)
            core = clean == "/api"
            if mode in (negotiation.DISCOVERY_V2, negotiation.DISCOVERY_V2BETA1):
                v2 = mode == negotiation.DISCOVERY_V2
                doc = discovery.aggregated_discovery(
                    core, self.table, "apidiscovery.k8s.io/v2" if v2 else "apidiscovery.k8s.io/v2beta1")
                ctype = discovery.AGGREGATED_CONTENT_TYPE if v2 else discovery.AGGREGATED_V2BETA1_CONTENT_TYPE
                return _json_response(200, orjson.dumps(doc), ctype)
            if core:
                return _json_response(200, orjson.dumps(discovery.api_versions(request.host)))
            return _json_response(200, orjson.dumps(discovery.api_group_list(self.table)))
        parts = [p for p in clean.split("/") if p]
        if parts and parts[0] in ("api", "apis"):
            if parts[0] == "api" and len(parts) == 2:
                doc = discovery.api_resource_list("", parts[1], self.table)
            elif parts[0] == "apis" and len(parts) == 2:
                doc = discovery.api_group(parts[1], self.table)
            elif parts[0] == "apis" and len(parts) == 3:
                doc = discovery.api_resource_list(parts[1], parts[2], self.table)
            else:
                doc = None
            if doc is None:
                raise st.path_not_found()
            return _json_response(200, orjson.dumps(doc))
        if clean == "/openapi/v2":
            accept = request.headers.get("Accept", "")
            if "protobuf" in accept and "json" not in accept:
                return web.Response(status=200, body=openapi.v2_protobuf_document(),
                                    headers={"Content-Type": openapi.V2_PROTOBUF})
            if accept and "json" not in accept and "*/*" not in accept:
                raise st.not_acceptable((JSON_TYPE, openapi.V2_PROTOBUF))
            return _json_response(200, openapi.v2_document(self.table))
        if clean == "/openapi/v3":
            return _json_response(200, orjson.dumps(openapi.v3_index(self.table)))
        if clean.startswith("/openapi/v3/"):
            docs = openapi.v3_documents(self.table)
            entry = docs.get(clean[len("/openapi/v3/"):])
            if entry is None:
                raise st.path_not_found()
            data, digest = entry
            headers = {"Etag": f'"{digest}"'}
            if query.get("hash") == digest:
                headers["Cache-Control"] = "public, immutable"
                headers["Expires"] = "Thu, 01 Jan 2099 00:00:00 GMT"
            return _json_response(200, data, headers=headers)
        if clean == "/metrics":
            return web.Response(status=200, body=self.metrics.render(),
                                headers={"Content-Type": self.metrics.content_type})
        for root in ("/healthz", "/livez", "/readyz"):
            if clean == root or clean.startswith(root + "/"):
                return await self._health(root, clean, query)
        raise st.path_not_found()

    async def _health(self, root: str, path: str, query: dict) -> web.Response:
        checks = await self.server.health_checks(root)
        if path != root:
            name = path[len(root) + 1:]
            if name not in checks:
                raise st.path_not_found()
            ok, reason = checks[name]
            if ok:
                return web.Response(status=200, text="ok", content_type="text/plain")
            return web.Response(status=500, text=f"internal server error: {reason}", content_type="text/plain")
        failed = [n for n, (ok, _) in checks.items() if not ok]
        if "verbose" in query or failed:
            lines = [f"[+]{n} ok" if ok else f"[-]{n} failed: reason withheld" for n, (ok, _) in checks.items()]
            word = root[1:]
            lines.append(f"{word} check failed" if failed else f"{word} check passed")
            return web.Response(status=500 if failed else 200, text="\n".join(lines) + "\n",
                                content_type="text/plain")
        return web.Response(status=200, text="ok", content_type="text/plain")
