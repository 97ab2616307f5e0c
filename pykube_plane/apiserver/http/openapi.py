"""/openapi/v2 and /openapi/v3: the served kinds described for kubectl (explain, apply's strategic
merge, the fieldValidation support check) and for other clients.

Built once from the resource table and schemas.json. v3 is split per group-version like
kube-apiserver's: /openapi/v3 lists `api/v1`, `apis/apps/v1`... each with a content hash, and
/openapi/v3/apis/apps/v1 is that group-version's document. Every PATCH operation declares the
dryRun / fieldManager / fieldValidation query parameters, which is how kubectl learns that the
server validates fields itself.
"""
from __future__ import annotations

import functools
import hashlib
from typing import Any

import orjson

from pykube_plane.apiserver.registry import schemas
from pykube_plane.apiserver.registry.resources import RESOURCES, Resource, ResourceTable

from .discovery import KUBERNETES_VERSION

V2_PROTOBUF = "application/com.github.proto-openapi.spec.v2.v1.0+protobuf"
PATCH_TYPES = ("application/json-patch+json", "application/merge-patch+json",
               "application/strategic-merge-patch+json")
META = "io.k8s.apimachinery.pkg.apis.meta.v1"


def _rewrite_refs(value: Any, prefix: str) -> Any:
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            if k == "$ref" and isinstance(v, str) and not v.startswith("#"):
                out[k] = prefix + v
            else:
                out[k] = _rewrite_refs(v, prefix)
        return out
    if isinstance(value, list):
        return [_rewrite_refs(v, prefix) for v in value]
    return value


def _v2_property(schema: dict) -> dict:
    """OpenAPI v2 allows no siblings next to $ref in k8s' documents: drop the allOf wrapper."""
    target = schemas.ref_target(schema)
    if target is not None and "allOf" in schema:
        out = {k: v for k, v in schema.items() if k != "allOf"}
        out["$ref"] = target
        return out
    return schema


def _reachable(names: list[str]) -> list[str]:
    defs = schemas.definitions()
    seen: set[str] = set()
    stack = [n for n in names if n in defs]
    while stack:
        name = stack.pop()
        if name in seen:
            continue
        seen.add(name)
        _collect_refs(defs[name], stack)
    return sorted(seen)


def _collect_refs(value: Any, out: list[str]) -> None:
    if isinstance(value, dict):
        for k, v in value.items():
            if k == "$ref" and isinstance(v, str):
                out.append(v)
            else:
                _collect_refs(v, out)
    elif isinstance(value, list):
        for v in value:
            _collect_refs(v, out)


def _param(name: str, where: str, description: str, v3: bool, required: bool = False,
           type_: str = "string") -> dict:
    p: dict[str, Any] = {"name": name, "in": where, "description": description}
    if required or where == "path":
        p["required"] = True
    if v3:
        p["schema"] = {"type": type_, "uniqueItems": True}
    else:
        p["type"] = type_
        p["uniqueItems"] = True
    return p


WRITE_PARAMS = (
    ("dryRun", "When present, indicates that modifications should not be persisted."),
    ("fieldManager", "fieldManager is a name associated with the actor or entity that is making these changes."),
    ("fieldValidation", "fieldValidation instructs the server on how to handle objects in the request "
                        "containing unknown or duplicate fields. Valid values are: Ignore, Warn, Strict."),
)
LIST_PARAMS = (("allowWatchBookmarks", "boolean"), ("continue", "string"), ("fieldSelector", "string"),
               ("labelSelector", "string"), ("limit", "integer"), ("resourceVersion", "string"),
               ("resourceVersionMatch", "string"), ("sendInitialEvents", "boolean"),
               ("timeoutSeconds", "integer"), ("watch", "boolean"))


def _ref(name: str, v3: bool) -> dict:
    return {"$ref": ("#/components/schemas/" if v3 else "#/definitions/") + name}


def _operation(r: Resource, action: str, kind: str, group: str, version: str, body: str | None,
               response: str, params: list[dict], v3: bool, op_id: str) -> dict:
    op: dict[str, Any] = {
        "description": f"{action} {kind}", "operationId": op_id,
        "tags": [f"{group.split('.')[0] or 'core'}_{version}"],
        "x-kubernetes-action": action,
        "x-kubernetes-group-version-kind": {"group": group, "version": version, "kind": kind},
    }
    if params:
        op["parameters"] = params
    if v3:
        if body is not None:
            types = PATCH_TYPES if action == "patch" else ("*/*",)
            op["requestBody"] = {"content": {t: {"schema": ({"type": "object"} if action == "patch"
                                                            else _ref(body, True))} for t in types},
                                 "required": True}
        op["responses"] = {"200": {"description": "OK", "content": {
            "application/json": {"schema": _ref(response, True)},
            "application/yaml": {"schema": _ref(response, True)}}},
            "401": {"description": "Unauthorized"}}
    else:
        if body is not None:
            op.setdefault("parameters", []).append(
                {"name": "body", "in": "body", "required": True,
                 "schema": {"type": "object"} if action == "patch" else _ref(body, False)})
        op["consumes"] = list(PATCH_TYPES) if action == "patch" else ["*/*"]
        op["produces"] = ["application/json", "application/yaml"]
        op["responses"] = {"200": {"description": "OK", "schema": _ref(response, False)},
                           "401": {"description": "Unauthorized"}}
        op["schemes"] = ["https"]
    return op


def _paths_for(r: Resource, v3: bool) -> dict[str, dict]:
    base = f"/apis/{r.group}/{r.version}" if r.group else f"/api/{r.version}"
    definition = schemas.definition_name(r.group, r.version, r.kind)
    if definition is None:
        return {}
    list_definition = schemas.definition_name(r.group, r.version, r.list_kind) or f"{META}.Status"
    kind, g, v = r.kind, r.group, r.version
    write = [_param(n, "query", d, v3) for n, d in WRITE_PARAMS]
    listing = [_param(n, "query", n, v3, type_=t) for n, t in LIST_PARAMS]
    scope_params = [_param("namespace", "path", "object name and auth scope, such as for teams and projects",
                           v3)] if r.namespaced else []
    name_param = [_param("name", "path", f"name of the {kind}", v3)]
    pretty = [_param("pretty", "query", "If 'true', then the output is pretty printed.", v3)]
    collection = f"{base}/namespaces/{{namespace}}/{r.plural}" if r.namespaced else f"{base}/{r.plural}"
    item = collection + "/{name}"
    op_kind = kind.replace(".", "")
    ns_word = "Namespaced" if r.namespaced else ""
    paths: dict[str, dict] = {}
    if r.verbs == ("create",):
        paths[collection] = {
            "post": _operation(r, "post", kind, g, v, definition, definition, write, v3, f"create{ns_word}{op_kind}"),
            "parameters": scope_params + pretty,
        }
        return paths
    paths[collection] = {
        "get": _operation(r, "list", kind, g, v, None, list_definition, listing, v3, f"list{ns_word}{op_kind}"),
        "post": _operation(r, "post", kind, g, v, definition, definition, write, v3, f"create{ns_word}{op_kind}"),
        "delete": _operation(r, "deletecollection", kind, g, v, f"{META}.DeleteOptions", f"{META}.Status",
                             listing + [_param("dryRun", "query", WRITE_PARAMS[0][1], v3)], v3,
                             f"deleteCollection{ns_word}{op_kind}"),
        "parameters": scope_params + pretty,
    }
    paths[item] = {
        "get": _operation(r, "get", kind, g, v, None, definition, [], v3, f"read{ns_word}{op_kind}"),
        "put": _operation(r, "put", kind, g, v, definition, definition, write, v3, f"replace{ns_word}{op_kind}"),
        "patch": _operation(r, "patch", kind, g, v, "patch", definition,
                            write + [_param("force", "query", "Force is going to \"force\" Apply requests.", v3,
                                            type_="boolean")], v3, f"patch{ns_word}{op_kind}"),
        "delete": _operation(r, "delete", kind, g, v, f"{META}.DeleteOptions", f"{META}.Status",
                             [_param("dryRun", "query", WRITE_PARAMS[0][1], v3),
                              _param("gracePeriodSeconds", "query", "grace period", v3, type_="integer"),
                              _param("propagationPolicy", "query", "propagation policy", v3)], v3,
                             f"delete{ns_word}{op_kind}"),
        "parameters": name_param + scope_params + pretty,
    }
    if r.namespaced:
        paths[f"{base}/{r.plural}"] = {
            "get": _operation(r, "list", kind, g, v, None, list_definition, listing, v3,
                              f"list{op_kind}ForAllNamespaces"),
            "parameters": pretty,
        }
    for sub in r.subresources:
        sub_def = schemas.definition_name(sub.group if sub.group is not None else g, sub.version or v,
                                          sub.kind or kind) or definition
        sub_kind = sub.kind or kind
        sub_g = sub.group if sub.group is not None else g
        sub_v = sub.version or v
        entry: dict[str, Any] = {"parameters": name_param + scope_params + pretty}
        title = sub.name.capitalize()
        if "get" in sub.verbs:
            entry["get"] = _operation(r, "get", sub_kind, sub_g, sub_v, None, sub_def, [], v3,
                                      f"read{ns_word}{op_kind}{title}")
        if "update" in sub.verbs:
            entry["put"] = _operation(r, "put", sub_kind, sub_g, sub_v, sub_def, sub_def, write, v3,
                                      f"replace{ns_word}{op_kind}{title}")
        if "patch" in sub.verbs:
            entry["patch"] = _operation(r, "patch", sub_kind, sub_g, sub_v, "patch", sub_def, write, v3,
                                        f"patch{ns_word}{op_kind}{title}")
        if "create" in sub.verbs:
            entry["post"] = _operation(r, "post", sub_kind, sub_g, sub_v, sub_def, sub_def, write, v3,
                                       f"create{ns_word}{op_kind}{title}")
        paths[f"{item}/{sub.name}"] = entry
    return paths


def _definitions_for(rows: list[Resource]) -> list[str]:
    roots = [f"{META}.Status", f"{META}.DeleteOptions", f"{META}.APIResourceList"]
    for r in rows:
        for group, version, kind in [(r.group, r.version, r.kind), (r.group, r.version, r.list_kind)] + [
                (s.group if s.group is not None else r.group, s.version or r.version, s.kind)
                for s in r.subresources if s.kind]:
            name = schemas.definition_name(group, version, kind)
            if name:
                roots.append(name)
    return _reachable(roots)


@functools.lru_cache(maxsize=None)
def v2_document(table: ResourceTable = RESOURCES) -> bytes:
    defs = schemas.definitions()
    rows = list(table)
    definitions = {}
    for name in _definitions_for(rows):
        schema = dict(defs[name])
        if "properties" in schema:
            schema["properties"] = {k: _v2_property(v) for k, v in schema["properties"].items()}
        definitions[name] = _rewrite_refs(schema, "#/definitions/")
    paths: dict[str, dict] = {}
    for r in rows:
        paths.update(_paths_for(r, v3=False))
    doc = {"swagger": "2.0", "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
           "paths": dict(sorted(paths.items())), "definitions": definitions,
           "securityDefinitions": {"BearerToken": {"type": "apiKey", "name": "authorization", "in": "header"}},
           "security": [{"BearerToken": []}]}
    return orjson.dumps(doc)


def _gv_path(group: str, version: str) -> str:
    return f"apis/{group}/{version}" if group else f"api/{version}"


@functools.lru_cache(maxsize=None)
def v3_documents(table: ResourceTable = RESOURCES) -> dict[str, tuple[bytes, str]]:
    """Group-version path ("api/v1", "apis/apps/v1") -> (document, hash)."""
    defs = schemas.definitions()
    out: dict[str, tuple[bytes, str]] = {}
    for group, versions in table.group_versions.items():
        for version in versions:
            rows = table.in_group_version(group, version)
            paths: dict[str, dict] = {}
            for r in rows:
                paths.update(_paths_for(r, v3=True))
            components = {name: _rewrite_refs(defs[name], "#/components/schemas/")
                          for name in _definitions_for(rows)}
            doc = {"openapi": "3.0.0", "info": {"title": "Kubernetes", "version": KUBERNETES_VERSION},
                   "paths": dict(sorted(paths.items())),
                   "components": {"schemas": components,
                                  "securitySchemes": {"BearerToken": {"type": "apiKey", "description":
                                                                      "Bearer Token authentication",
                                                                      "name": "authorization", "in": "header"}}},
                   "security": [{"BearerToken": []}]}
            data = orjson.dumps(doc)
            out[_gv_path(group, version)] = (data, hashlib.sha512(data).hexdigest().upper()[:128])
    return out


def v3_index(table: ResourceTable = RESOURCES) -> dict[str, Any]:
    docs = v3_documents(table)
    return {"paths": {path: {"serverRelativeURL": f"/openapi/v3/{path}?hash={digest}"}
                      for path, (_, digest) in sorted(docs.items())}}


def v2_protobuf_document() -> bytes:
    """/openapi/v2 in gnostic's protobuf (openapi_v2.Document), which is all kubectl reads v2 in:
    {swagger: "2.0", info: {title, version}} and no definitions. kubectl's v2 consumers (client-side
    validation, apply's patch-type lookup) then skip kinds they find no schema for, and rely on
    /openapi/v3 and the server's own field validation, which describe every served kind."""
    def field(number: int, payload: bytes) -> bytes:
        return bytes([(number << 3) | 2, len(payload)]) + payload
    info = field(1, b"Kubernetes") + field(2, KUBERNETES_VERSION.encode())
    return field(1, b"2.0") + field(2, info)
