"""Request handlers: plain async functions over an `APIRequest`, answering (HTTP status, object).

No HTTP here: the aiohttp face (http/web.py) builds an APIRequest from the wire and encodes the
answer; the local entry point (local.py) builds the same APIRequest for an in-process client,
which gets the same answer without JSON or sockets. Authorization happens here too, so both paths are checked alike.

The object answered is a dict, a `ListResult` (list responses, encoded from cached bytes), or a
`Watcher` (a watch: the caller streams its events).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from pykube_plane.api import labels as api_labels
from pykube_plane.apiserver.auth import reviews
from pykube_plane.apiserver.auth.authn import UserInfo
from pykube_plane.apiserver.auth.rbac import RBACAuthorizer, RequestAttributes, exact_name, forbidden_status
from pykube_plane.apiserver.registry.options import DeleteOptions, ListOptions, WriteOptions
from pykube_plane.apiserver.registry.registry import APPLY_PATCH, PATCH_TYPES, Registry
from pykube_plane.apiserver.registry.resources import Resource

from . import status as st

VERBS = ("get", "list", "watch", "create", "update", "patch", "delete", "deletecollection")


@dataclass(slots=True)
class APIRequest:
    """One API call on a resource. `verb` is the Kubernetes verb (get, list, watch, create, update,
    patch, delete, deletecollection); `body` the decoded object (or patch document)."""
    verb: str
    resource: Resource
    namespace: str = ""
    name: str = ""
    subresource: str = ""
    query: Mapping[str, str] = field(default_factory=dict)
    body: Any = None
    content_type: str = ""
    user: UserInfo | None = None
    warnings: list[str] = field(default_factory=list)

    def attributes(self) -> RequestAttributes:
        assert self.user is not None
        name = self.name
        if not name and self.verb in ("list", "watch"):
            # kube-apiserver authorizes `get pod x -w` (a list/watch pinned by
            # fieldSelector=metadata.name=x) as a request on the object x.
            name = exact_name(self.query.get("fieldSelector", ""))
        return RequestAttributes(self.user, self.verb, True, self.resource.group, self.resource.version,
                                 self.resource.plural, self.subresource, self.namespace, name)


class Handlers:
    """Dispatch an APIRequest to the registry, after authorization."""

    def __init__(self, registry: Registry, authorizer: RBACAuthorizer | None = None) -> None:
        self.registry = registry
        self.authorizer = authorizer

    def authorize(self, req: APIRequest) -> None:
        if self.authorizer is None or req.user is None:
            return
        attrs = req.attributes()
        allowed, reason = self.authorizer.authorize(attrs)
        if not allowed:
            status = forbidden_status(attrs, reason)
            raise st.APIError(403, "Forbidden", status["message"], status.get("details") or {})

    async def handle(self, req: APIRequest) -> tuple[int, Any]:
        r = req.resource
        if req.namespace and not r.namespaced and r.kind != "Namespace":
            raise st.path_not_found()
        if req.subresource and r.subresource(req.subresource) is None:
            raise st.path_not_found()
        if req.verb not in VERBS:
            raise st.method_not_allowed()
        allowed = r.subresource(req.subresource).verbs if req.subresource else r.verbs
        if req.verb not in allowed:
            raise st.method_not_allowed()
        self.authorize(req)
        if req.subresource in ("scale",):
            return await self._scale(req)
        if req.subresource == "binding":
            return await self._binding(req)
        if req.subresource == "eviction":
            return await self._eviction(req)
        if not r.stored:
            return await self._review(req)
        handler = getattr(self, "_" + req.verb)
        return await handler(req)

    # -- plain verbs -----------------------------------------------------------------------------

    async def _get(self, req: APIRequest) -> tuple[int, Any]:
        rv = req.query.get("resourceVersion", "")
        return 200, await self.registry.get(req.resource, req.namespace, req.name, rv)

    async def _list(self, req: APIRequest) -> tuple[int, Any]:
        opts = ListOptions.from_query(req.query)
        return 200, await self.registry.list(req.resource, req.namespace, opts)

    async def _watch(self, req: APIRequest) -> tuple[int, Any]:
        opts = ListOptions.from_query(req.query)
        opts.watch = True
        return 200, await self.registry.watch(req.resource, req.namespace, opts, req.name)

    async def _create(self, req: APIRequest) -> tuple[int, Any]:
        opts = WriteOptions.from_query(req.query)
        obj = await self.registry.create(req.resource, req.namespace, req.body, opts, req.user)
        req.warnings.extend(opts.warnings)
        return 201, obj

    async def _update(self, req: APIRequest) -> tuple[int, Any]:
        opts = WriteOptions.from_query(req.query)
        obj, created = await self.registry.update(req.resource, req.namespace, req.name, req.body, opts, req.user,
                                                  req.subresource)
        req.warnings.extend(opts.warnings)
        return (201 if created else 200), obj

    async def _patch(self, req: APIRequest) -> tuple[int, Any]:
        if req.content_type == APPLY_PATCH:
            # server-side apply is not served (yet): kubectl then says so and suggests client-side apply
            raise st.unsupported_media_type(req.content_type, PATCH_TYPES)
        opts = WriteOptions.from_query(req.query)
        obj = await self.registry.patch(req.resource, req.namespace, req.name, req.content_type, req.body, opts,
                                        req.user, req.subresource)
        req.warnings.extend(opts.warnings)
        return 200, obj

    async def _delete(self, req: APIRequest) -> tuple[int, Any]:
        opts = DeleteOptions.parse(req.query, req.body)
        return await self.registry.delete(req.resource, req.namespace, req.name, opts, req.user)

    async def _deletecollection(self, req: APIRequest) -> tuple[int, Any]:
        opts = DeleteOptions.parse(req.query, req.body)
        list_opts = ListOptions.from_query(req.query)
        return 200, await self.registry.delete_collection(req.resource, req.namespace, list_opts, opts, req.user)

    # -- subresources ----------------------------------------------------------------------------

    @staticmethod
    def _to_scale(resource: Resource, obj: dict) -> dict:
        meta = obj["metadata"]
        spec = obj.get("spec") or {}
        status = obj.get("status") or {}
        selector = spec.get("selector")
        if resource.kind == "ReplicationController":
            text = ",".join(f"{k}={v}" for k, v in sorted((selector or {}).items()))
        else:
            try:
                text = str(api_labels.selector_from_label_selector(selector)) if selector is not None else ""
            except ValueError:
                text = ""
        scale_meta = {k: meta[k] for k in ("name", "namespace", "uid", "resourceVersion", "creationTimestamp")
                      if k in meta}
        return {"kind": "Scale", "apiVersion": "autoscaling/v1", "metadata": scale_meta,
                "spec": {"replicas": spec.get("replicas", 0)},
                "status": {"replicas": status.get("replicas", 0), "selector": text}}

    async def _scale(self, req: APIRequest) -> tuple[int, Any]:
        r = req.resource
        registry = self.registry
        if req.verb == "get":
            return 200, self._to_scale(r, await registry.get(r, req.namespace, req.name))
        opts = WriteOptions.from_query(req.query)
        if req.verb == "patch" and req.content_type not in PATCH_TYPES:
            raise st.unsupported_media_type(req.content_type, PATCH_TYPES)
        handlers = self

        def apply(current: dict) -> dict:
            scale = handlers._to_scale(r, current)
            if req.verb == "update":
                body = req.body
                if not isinstance(body, dict):
                    raise st.bad_request("the request body must be a Scale object")
                if body.get("kind") not in (None, "Scale"):
                    raise st.bad_request(f"the kind in the request body ({body.get('kind')}) does not match "
                                         "the expected kind (Scale)")
                new_scale = body
                rv = (body.get("metadata") or {}).get("resourceVersion")
                if rv and rv != current["metadata"]["resourceVersion"]:
                    raise st.modified_conflict(r, req.name)
            else:
                from pykube_plane.api import patch as api_patch
                try:
                    if req.content_type == "application/json-patch+json":
                        new_scale = api_patch.json_patch(scale, req.body)
                    elif req.content_type == "application/merge-patch+json":
                        new_scale = api_patch.json_merge_patch(scale, req.body)
                    else:
                        new_scale = api_patch.strategic_merge_patch(scale, req.body, "Scale")
                except api_patch.PatchError as e:
                    raise st.bad_request(str(e)) from None
            replicas = ((new_scale or {}).get("spec") or {}).get("replicas", 0)
            if not isinstance(replicas, int) or isinstance(replicas, bool) or replicas < 0:
                raise st.invalid_field("Scale", "autoscaling", req.name, "spec.replicas", "FieldValueInvalid",
                                       "must be greater than or equal to 0", replicas)
            new = registry.copy(current)
            new.setdefault("spec", {})["replicas"] = replicas
            return new

        obj, _ = await registry._guaranteed_update(r, req.namespace, req.name, apply, "", opts, req.user, "")
        return 200, self._to_scale(r, obj)

    async def _binding(self, req: APIRequest) -> tuple[int, Any]:
        r = req.resource
        body = req.body
        if not isinstance(body, dict) or body.get("kind") not in (None, "Binding"):
            raise st.bad_request("the request body must be a Binding object")
        target = body.get("target") or {}
        node = target.get("name") if isinstance(target, dict) else None
        binding_name = (body.get("metadata") or {}).get("name") or req.name
        if binding_name != req.name:
            raise st.bad_request(f"the name of the object ({binding_name}) does not match the name on the URL "
                                 f"({req.name})")
        if not node:
            raise st.invalid_field("Binding", "", req.name, "target.name", "FieldValueRequired", "")
        if target.get("kind") not in (None, "", "Node"):
            raise st.invalid_field("Binding", "", req.name, "target.kind", "FieldValueNotSupported",
                                   'supported values: "Node", "<empty>"', target.get("kind"))
        opts = WriteOptions.from_query(req.query)
        annotations = (body.get("metadata") or {}).get("annotations") or {}
        registry = self.registry
        from pykube_plane.api import meta as api_meta

        def apply(current: dict) -> dict:
            meta = current["metadata"]
            if meta.get("deletionTimestamp"):
                raise st.conflict(r, req.name, f"pod {req.name} is being deleted, cannot be assigned to a host")
            spec = current.get("spec") or {}
            if spec.get("nodeName"):
                raise st.conflict(r, req.name, f'pod {req.name} is already assigned to node "{spec["nodeName"]}"')
            new = registry.copy(current)
            new["spec"]["nodeName"] = node
            if annotations:
                new["metadata"].setdefault("annotations", {}).update(annotations)
            status = new.setdefault("status", {})
            conditions = [c for c in status.get("conditions") or [] if c.get("type") != "PodScheduled"]
            conditions.append({"type": "PodScheduled", "status": "True", "lastProbeTime": None,
                               "lastTransitionTime": api_meta.now_rfc3339()})
            status["conditions"] = conditions
            return new

        # A binding changes spec and status together, bypassing the main resource's status split.
        await registry._guaranteed_update(r, req.namespace, req.name, apply, "", opts, req.user, "binding")
        return 201, st.success_status(code=201)

    async def _eviction(self, req: APIRequest) -> tuple[int, Any]:
        body = req.body if isinstance(req.body, dict) else {}
        if body.get("kind") not in (None, "Eviction"):
            raise st.bad_request("the request body must be an Eviction object")
        opts = DeleteOptions.parse(req.query, body.get("deleteOptions"))
        await self.registry.delete(req.resource, req.namespace, req.name, opts, req.user)
        return 201, st.success_status(code=201)

    async def _review(self, req: APIRequest) -> tuple[int, Any]:
        r = req.resource
        if req.verb != "create":
            raise st.method_not_allowed()
        body = req.body
        if not isinstance(body, dict):
            raise st.bad_request("the request body must be an object")
        body = dict(body)
        body["kind"] = r.kind
        body["apiVersion"] = r.api_version
        user = req.user or UserInfo("system:anonymous", ("system:unauthenticated",))
        if r.kind == "SelfSubjectAccessReview":
            return 201, reviews.self_subject_access_review(body, user, self.authorizer)
        if r.kind == "SubjectAccessReview":
            return 201, reviews.subject_access_review(body, self.authorizer)
        if r.kind == "SelfSubjectRulesReview":
            return 201, reviews.self_subject_rules_review(body, user, self.authorizer)
        if r.kind == "SelfSubjectReview":
            return 201, reviews.self_subject_review(body, user)
        raise st.method_not_allowed()
