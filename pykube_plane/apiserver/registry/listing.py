"""Lists: the `ListResult` answered (items as cached bytes), label/field selectors parsed for a
resource, and the continue tokens of paged lists (kube-apiserver's format)."""
from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

import orjson

from pykube_plane.api import fields as api_fields
from pykube_plane.api import labels as api_labels
from pykube_plane.apiserver import status as st

from .resources import Resource
from .watch_cache import CachedObject


@dataclass(slots=True)
class ListResult:
    """A list response: cached objects (their bytes are the items) and the list's metadata."""
    resource: Resource
    items: list[CachedObject]
    resource_version: int
    continue_token: str = ""
    remaining: int | None = None
    decoded: list[dict] | None = None       # the items as objects, when already decoded
    rows: list[dict] | None = None          # their Table rows, when already made

    def metadata(self) -> dict[str, Any]:
        meta: dict[str, Any] = {"resourceVersion": str(self.resource_version)}
        if self.continue_token:
            meta["continue"] = self.continue_token
        if self.remaining is not None:
            meta["remainingItemCount"] = self.remaining
        return meta

    def encode(self) -> bytes:
        """The JSON list, items joined from their cached bytes (no per-object encoding)."""
        converter = self.resource.strategy.to_external
        head = orjson.dumps({"kind": self.resource.list_kind, "apiVersion": self.resource.api_version,
                             "metadata": self.metadata()})
        items = b",".join(co.view(converter) for co in self.items)
        return head[:-1] + b',"items":[' + items + b"]}"

    def objects(self) -> list[dict]:
        if self.decoded is not None:
            return self.decoded
        converter = self.resource.strategy.to_external
        return [orjson.loads(co.view(converter)) for co in self.items]

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.resource.list_kind, "apiVersion": self.resource.api_version,
                "metadata": self.metadata(), "items": self.objects()}


def parse_selectors(resource: Resource, label_selector: str, field_selector: str) -> tuple[Any, Any, str | None]:
    try:
        labels = api_labels.parse_selector(label_selector) if label_selector else None
    except ValueError as e:
        raise st.bad_request(f"unable to parse requirement: {e}" if "unable to parse" not in str(e) else str(e))
    fields = None
    node_name = None
    if field_selector:
        try:
            fields = api_fields.parse_field_selector(field_selector)
        except ValueError as e:
            raise st.bad_request(str(e))
        for req in fields.requirements:
            if req.field not in resource.selectable_fields:
                raise st.bad_request(f"field label not supported: {req.field}")
        if resource.field_labels:
            mapping = resource.field_labels
            fields = api_fields.FieldSelector(tuple(
                api_fields.FieldRequirement(mapping.get(r.field, r.field), r.operator, r.value)
                for r in fields.requirements))
        if fields.empty:
            fields = None
        else:
            node_name = fields.requires_exact_match("spec.nodeName")
    if labels is not None and labels.empty:
        labels = None
    return labels, fields, node_name


def encode_continue(resource: Resource, rv: int, last_key: bytes) -> str:
    start = last_key[len(resource.prefix()):].decode() + "\x00"
    raw = orjson.dumps({"v": "meta.k8s.io/v1", "rv": rv, "start": start})
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_continue(resource: Resource, token: str) -> tuple[int, bytes]:
    try:
        raw = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4))
        data = orjson.loads(raw)
        if data.get("v") != "meta.k8s.io/v1":
            raise ValueError("incorrect encoded start resourceVersion (version meta.k8s.io/v1)")
        rv = int(data["rv"])
        start = str(data["start"])
        if rv <= 0 or ".." in start or start.startswith("/"):
            raise ValueError("invalid start")
    except Exception as e:
        raise st.bad_request(f"continue key is not valid: {e}") from None
    return rv, resource.prefix() + start.encode()
