"""Reading the Kubernetes protobuf encoding, for the few request bodies typed clients send in it.

kubectl's typed clients post some objects as `application/vnd.kubernetes.protobuf` whatever the
server prefers: access reviews (`kubectl auth can-i`, `auth whoami`), evictions (`kubectl drain`)
and DeleteOptions. Those bodies are decoded here into the same dicts JSON gives; answers are JSON
(those clients accept it). Any other kind in protobuf is refused with 415.

Wire format: the 4 magic bytes "k8s\\0", then a runtime.Unknown message
{1: TypeMeta{1: apiVersion, 2: kind}, 2: raw (the object's own message), 3: contentEncoding,
4: contentType}. Messages below list field number -> (JSON name, type), from k8s.io/api's
generated.proto files.
"""
from __future__ import annotations

from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


# field types: "string", "int64", "bool", "bytes", ("message", NAME), ("repeated", TYPE), ("map", VALUE TYPE)
MESSAGES: dict[str, dict[int, tuple[str, Any]]] = {
    "Unknown": {1: ("typeMeta", ("message", "TypeMeta")), 2: ("raw", "bytes"),
                3: ("contentEncoding", "string"), 4: ("contentType", "string")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "Time": {1: ("seconds", "int64"), 2: ("nanos", "int64")},
    "ObjectMeta": {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
                   4: ("selfLink", "string"), 5: ("uid", "string"), 6: ("resourceVersion", "string"),
                   7: ("generation", "int64"), 8: ("creationTimestamp", ("message", "Time")),
                   9: ("deletionTimestamp", ("message", "Time")), 10: ("deletionGracePeriodSeconds", "int64"),
                   11: ("labels", ("map", "string")), 12: ("annotations", ("map", "string")),
                   14: ("finalizers", ("repeated", "string"))},
    "Preconditions": {1: ("uid", "string"), 2: ("resourceVersion", "string")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int64"), 2: ("preconditions", ("message", "Preconditions")),
                      3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "string"),
                      5: ("dryRun", ("repeated", "string")),
                      6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool")},
    "Eviction": {1: ("metadata", ("message", "ObjectMeta")), 2: ("deleteOptions", ("message", "DeleteOptions"))},
    "ResourceAttributes": {1: ("namespace", "string"), 2: ("verb", "string"), 3: ("group", "string"),
                           4: ("version", "string"), 5: ("resource", "string"), 6: ("subresource", "string"),
                           7: ("name", "string")},
    "NonResourceAttributes": {1: ("path", "string"), 2: ("verb", "string")},
    "SelfSubjectAccessReviewSpec": {1: ("resourceAttributes", ("message", "ResourceAttributes")),
                                    2: ("nonResourceAttributes", ("message", "NonResourceAttributes"))},
    "SubjectAccessReviewSpec": {1: ("resourceAttributes", ("message", "ResourceAttributes")),
                                2: ("nonResourceAttributes", ("message", "NonResourceAttributes")),
                                3: ("user", "string"), 4: ("groups", ("repeated", "string")),
                                6: ("uid", "string")},
    "SelfSubjectRulesReviewSpec": {1: ("namespace", "string")},
    "SelfSubjectAccessReview": {1: ("metadata", ("message", "ObjectMeta")),
                                2: ("spec", ("message", "SelfSubjectAccessReviewSpec"))},
    "SubjectAccessReview": {1: ("metadata", ("message", "ObjectMeta")),
                            2: ("spec", ("message", "SubjectAccessReviewSpec"))},
    "SelfSubjectRulesReview": {1: ("metadata", ("message", "ObjectMeta")),
                               2: ("spec", ("message", "SelfSubjectRulesReviewSpec"))},
    "SelfSubjectReview": {1: ("metadata", ("message", "ObjectMeta"))},
}
KINDS = ("DeleteOptions", "Eviction", "SelfSubjectAccessReview", "SubjectAccessReview",
         "SelfSubjectRulesReview", "SelfSubjectReview")


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    result = 0
    shift = 0
    while True:
        if pos >= len(data):
            raise ProtobufError("truncated varint")
        b = data[pos]
        pos += 1
        result |= (b & 0x7F) << shift
        if not b & 0x80:
            return result, pos
        shift += 7
        if shift > 63:
            raise ProtobufError("varint too long")


def _fields(data: bytes):
    pos = 0
    while pos < len(data):
        key, pos = _varint(data, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(data, pos)
        elif wire == 2:
            length, pos = _varint(data, pos)
            if pos + length > len(data):
                raise ProtobufError("truncated field")
            value = data[pos:pos + length]
            pos += length
        elif wire == 1:
            value = data[pos:pos + 8]
            pos += 8
        elif wire == 5:
            value = data[pos:pos + 4]
            pos += 4
        else:
            raise ProtobufError(f"unsupported wire type {wire}")
        yield number, wire, value


def _scalar(kind: str, wire: int, value: Any) -> Any:
    if kind == "string":
        if wire != 2:
            raise ProtobufError("expected a string")
        return bytes(value).decode("utf-8")
    if kind == "bytes":
        return bytes(value)
    if kind == "bool":
        return bool(value)
    if kind == "int64":
        if wire != 0:
            raise ProtobufError("expected an integer")
        return value - (1 << 64) if value >= 1 << 63 else value
    raise ProtobufError(f"unknown type {kind}")


def decode_message(name: str, data: bytes) -> dict[str, Any]:
    schema = MESSAGES[name]
    out: dict[str, Any] = {}
    for number, wire, value in _fields(data):
        spec = schema.get(number)
        if spec is None:
            continue
        json_name, kind = spec
        if isinstance(kind, tuple):
            if kind[0] == "message":
                out[json_name] = decode_message(kind[1], bytes(value))
            elif kind[0] == "repeated":
                out.setdefault(json_name, []).append(_scalar(kind[1], wire, value))
            elif kind[0] == "map":
                entry = {n: v for n, _, v in _fields(bytes(value))}
                key = bytes(entry.get(1, b"")).decode()
                out.setdefault(json_name, {})[key] = _scalar(kind[1], 2, entry.get(2, b""))
        else:
            out[json_name] = _scalar(kind, wire, value)
    if name == "Time":
        if not out:
            return None  # type: ignore[return-value]
        import datetime
        return datetime.datetime.fromtimestamp(out.get("seconds", 0), datetime.timezone.utc).strftime(
            "%Y-%m-%dT%H:%M:%SZ")  # type: ignore[return-value]
    return out


def decode(data: bytes) -> dict[str, Any]:
    """The object in a Kubernetes protobuf body, as a JSON-shaped dict."""
    if not data.startswith(MAGIC):
        raise ProtobufError("missing the k8s protobuf magic prefix")
    unknown = decode_message("Unknown", data[len(MAGIC):])
    type_meta = unknown.get("typeMeta") or {}
    kind = type_meta.get("kind", "")
    if kind not in KINDS:
        raise ProtobufError(f"kind {kind!r} is not accepted in protobuf; send JSON")
    obj = decode_message(kind, unknown.get("raw", b""))
    obj["kind"] = kind
    obj["apiVersion"] = type_meta.get("apiVersion", "")
    return obj
