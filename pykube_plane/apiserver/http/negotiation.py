"""Content negotiation: which representation a client accepts and how a request body decodes.

Responses: JSON (the default), YAML, meta.k8s.io Table (`kubectl get`), PartialObjectMetadata,
and aggregated discovery for /api and /apis. Protobuf is not spoken: a client that accepts only
protobuf gets 406, one that lists JSON after it (kubectl does) gets JSON.
Request bodies: JSON, YAML, and the three patch types (JSON documents).
"""
from __future__ import annotations

from typing import Any

import orjson
import yaml

from pykube_plane.apiserver import status as st

JSON = "application/json"
YAML = "application/yaml"
TABLE = "table"
PARTIAL = "partial"
DISCOVERY_V2 = "discovery-v2"
DISCOVERY_V2BETA1 = "discovery-v2beta1"
PROTOBUF = "application/vnd.kubernetes.protobuf"
ACCEPTED = (JSON, YAML, "application/json;as=Table;v=v1;g=meta.k8s.io")

try:
    _Loader = yaml.CSafeLoader
except AttributeError:   # PyYAML without libyaml
    _Loader = yaml.SafeLoader


def _media_types(accept: str) -> list[tuple[str, dict[str, str]]]:
    out = []
    for part in accept.split(","):
        pieces = [p.strip() for p in part.split(";")]
        if not pieces[0]:
            continue
        params = {}
        for p in pieces[1:]:
            key, _, value = p.partition("=")
            params[key.strip().lower()] = value.strip()
        out.append((pieces[0].lower(), params))
    return out


def negotiate(accept: str | None, discovery: bool = False) -> str:
    """JSON, YAML, TABLE, PARTIAL or DISCOVERY_V2* for an Accept header; APIError 406 if none fits."""
    if not accept:
        return JSON
    for media, params in _media_types(accept):
        kind = params.get("as")
        if media in (JSON, "application/*", "*/*"):
            if kind is None:
                return JSON
            group, version = params.get("g"), params.get("v")
            if kind == "Table" and group == "meta.k8s.io" and version in ("v1", "v1beta1"):
                return TABLE
            if kind in ("PartialObjectMetadata", "PartialObjectMetadataList") and group == "meta.k8s.io":
                return PARTIAL
            if discovery and kind == "APIGroupDiscoveryList" and group == "apidiscovery.k8s.io":
                if version == "v2":
                    return DISCOVERY_V2
                if version == "v2beta1":
                    return DISCOVERY_V2BETA1
            continue
        if media in (YAML, "application/x-yaml", "text/yaml"):
            return YAML
    raise st.not_acceptable(ACCEPTED)


def decode_body(data: bytes, content_type: str | None) -> Any:
    """The request body as Python data; 400 with k8s' wording when it cannot be read."""
    media = (content_type or JSON).split(";")[0].strip().lower()
    if media in (YAML, "application/x-yaml", "text/yaml", "application/apply-patch+yaml"):
        try:
            return yaml.load(data, Loader=_Loader)
        except yaml.YAMLError as e:
            raise st.bad_request(f"error converting YAML to JSON: {' '.join(str(e).split())}") from None
    if media.startswith(PROTOBUF):
        from .protobuf import ProtobufError, decode
        try:
            return decode(data)
        except (ProtobufError, UnicodeDecodeError) as e:
            raise st.unsupported_media_type(media, ("application/json", "application/yaml")) if \
                "not accepted" in str(e) else st.bad_request(f"unable to decode protobuf body: {e}") from None
    if media not in (JSON, "*/*", "", "application/json-patch+json", "application/merge-patch+json",
                     "application/strategic-merge-patch+json", "text/plain"):
        raise st.unsupported_media_type(media, ("application/json", "application/yaml",
                                                "application/json-patch+json", "application/merge-patch+json",
                                                "application/strategic-merge-patch+json"))
    if not data.strip():
        return None
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as e:
        raise st.bad_request(f"couldn't get version/kind; json parse error: {e}") from None


def encode_yaml(obj: Any) -> bytes:
    return yaml.dump(obj, Dumper=getattr(yaml, "CSafeDumper", yaml.SafeDumper), default_flow_style=False,
                     sort_keys=False, allow_unicode=True).encode()
