"""The checks every write's body goes through before its kind's strategy and validation: the
body's kind and apiVersion, the name as a key segment, unknown fields (server-side field
validation), and the kind's validation rules as a 422 with field causes."""
from __future__ import annotations

from typing import Any

from pykube_plane.api import validation as api_validation
from pykube_plane.apiserver import status as st

from . import schemas
from .options import WriteOptions
from .resources import Resource


def check_body(resource: Resource, obj: Any, kind: str | None = None,
                group_version: str | None = None) -> dict:
    if not isinstance(obj, dict):
        raise st.bad_request("the request body must be a JSON or YAML object")
    kind = kind or resource.kind
    group_version = group_version or resource.api_version
    body_kind = obj.get("kind")
    body_version = obj.get("apiVersion")
    if body_kind not in (None, "") and body_kind != kind:
        raise st.bad_request(f'the kind in the request body ({body_kind}) does not match the expected '
                             f'kind ({kind})' if isinstance(body_kind, str) else "kind must be a string")
    if body_version not in (None, "") and body_version != group_version:
        raise st.bad_request(f"the API version in the data ({body_version}) does not match the expected "
                             f"API version ({group_version})")
    obj["kind"] = kind
    obj["apiVersion"] = group_version
    meta = obj.get("metadata")
    if meta is None:
        meta = obj["metadata"] = {}
    if not isinstance(meta, dict):
        raise st.bad_request("metadata must be an object")
    return meta


def check_name(resource: Resource, name: Any) -> None:
    """Every stored name is a usable key segment (k8s ValidatePathSegmentName); the kind's own
    name rules come after, in validation."""
    def refuse(reason: str, detail: str) -> st.APIError:
        return st.invalid_field(resource.kind, resource.group, name if isinstance(name, str) else "",
                                "metadata.name", reason, detail, name if reason != "FieldValueRequired" else None)
    if name is None or name == "":
        raise refuse("FieldValueRequired", "name or generateName is required")
    if not isinstance(name, str):
        raise refuse("FieldValueInvalid", "must be a string")
    if name in (".", ".."):
        raise refuse("FieldValueInvalid", f"may not be '{name}'")
    for bad in ("/", "%"):
        if bad in name:
            raise refuse("FieldValueInvalid", f"may not contain '{bad}'")


def check_fields(resource: Resource, obj: dict, opts: WriteOptions, kind: str | None = None,
                  group: str | None = None, version: str | None = None) -> None:
    """Server-side field validation: unknown fields are refused (Strict), or dropped with a
    warning (Warn) or silently (Ignore), as decoding into kube-apiserver's types drops them."""
    definition = schemas.definition_name(resource.group if group is None else group,
                                         version or resource.version, kind or resource.kind)
    if definition is None:
        return
    strict = opts.field_validation == "Strict"
    unknown = schemas.unknown_fields(definition, obj, prune=not strict)
    if not unknown or opts.field_validation == "Ignore":
        return
    messages = [f'unknown field "{path}"' for path in unknown]
    if strict:
        raise st.bad_request("strict decoding error: " + ", ".join(messages))
    opts.warnings.extend(messages[:50])


def validate(resource: Resource, obj: dict, old: dict | None, subresource: str = "") -> None:
    kind = resource.kind
    errors = api_validation.validate(kind, obj, old, subresource=subresource)
    if errors:
        name = (obj.get("metadata") or {}).get("name") or ""
        raise st.invalid(kind, resource.group, name, api_validation.invalid_message(kind, name, errors),
                         api_validation.causes(errors))
