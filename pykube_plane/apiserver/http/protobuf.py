"""Reading the Kubernetes protobuf encoding, for the few request bodies typed clients send in it.

kubectl's typed clients post objects as `application/vnd.kubernetes.protobuf` whatever the server
prefers: access reviews (`kubectl auth can-i`, `auth whoami`), evictions (`kubectl drain`),
DeleteOptions, and what the `kubectl create <kind>` generators make (namespace, configmap, secret,
serviceaccount, service, deployment, job, role(binding), clusterrole(binding), priorityclass,
quota). Those bodies are decoded here into the same dicts JSON gives; answers are JSON (those
clients accept it). A field this table does not know is refused (415), never silently dropped;
empty sub-messages (Go's zero structs, `status {}`) carry nothing and are skipped.

Wire format: the 4 magic bytes "k8s\\0", then a runtime.Unknown message
{1: TypeMeta{1: apiVersion, 2: kind}, 2: raw (the object's own message), 3: contentEncoding,
4: contentType}. Messages below list field number -> (JSON name, type), from k8s.io/api's
generated.proto files.
"""
from __future__ import annotations

import base64
from typing import Any

MAGIC = b"k8s\x00"


class ProtobufError(ValueError):
    pass


# field types: "string", "int64", "bool", "bytes", "quantity", "intorstring", ("message", NAME),
# ("repeated", TYPE), ("map", VALUE TYPE); bytes become base64 text, as in JSON.
_META = {1: ("metadata", ("message", "ObjectMeta"))}
MESSAGES: dict[str, dict[int, tuple[str, Any]]] = {
    "Unknown": {1: ("typeMeta", ("message", "TypeMeta")), 2: ("raw", "rawbytes"),
                3: ("contentEncoding", "string"), 4: ("contentType", "string")},
    "TypeMeta": {1: ("apiVersion", "string"), 2: ("kind", "string")},
    "Time": {1: ("seconds", "int64"), 2: ("nanos", "int64")},
    "ObjectMeta": {1: ("name", "string"), 2: ("generateName", "string"), 3: ("namespace", "string"),
                   4: ("selfLink", "string"), 5: ("uid", "string"), 6: ("resourceVersion", "string"),
                   7: ("generation", "int64"), 8: ("creationTimestamp", ("message", "Time")),
                   9: ("deletionTimestamp", ("message", "Time")), 10: ("deletionGracePeriodSeconds", "int64"),
                   11: ("labels", ("map", "string")), 12: ("annotations", ("map", "string")),
                   13: ("ownerReferences", ("repeated", ("message", "OwnerReference"))),
                   14: ("finalizers", ("repeated", "string"))},
    "OwnerReference": {1: ("kind", "string"), 3: ("name", "string"), 4: ("uid", "string"),
                       5: ("apiVersion", "string"), 6: ("controller", "bool"), 7: ("blockOwnerDeletion", "bool")},
    "LabelSelector": {1: ("matchLabels", ("map", "string")),
                      2: ("matchExpressions", ("repeated", ("message", "LabelSelectorRequirement")))},
    "LabelSelectorRequirement": {1: ("key", "string"), 2: ("operator", "string"), 3: ("values", ("repeated", "string"))},
    "Preconditions": {1: ("uid", "string"), 2: ("resourceVersion", "string")},
    "DeleteOptions": {1: ("gracePeriodSeconds", "int64"), 2: ("preconditions", ("message", "Preconditions")),
                      3: ("orphanDependents", "bool"), 4: ("propagationPolicy", "string"),
                      5: ("dryRun", ("repeated", "string")),
                      6: ("ignoreStoreReadErrorWithClusterBreakingPotential", "bool")},
    "Eviction": {**_META, 2: ("deleteOptions", ("message", "DeleteOptions"))},
    # authorization.k8s.io / authentication.k8s.io
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
    "SelfSubjectAccessReview": {**_META, 2: ("spec", ("message", "SelfSubjectAccessReviewSpec"))},
    "SubjectAccessReview": {**_META, 2: ("spec", ("message", "SubjectAccessReviewSpec"))},
    "SelfSubjectRulesReview": {**_META, 2: ("spec", ("message", "SelfSubjectRulesReviewSpec"))},
    "SelfSubjectReview": {**_META},
    # core/v1
    "Namespace": {**_META, 2: ("spec", ("message", "NamespaceSpec"))},
    "NamespaceSpec": {1: ("finalizers", ("repeated", "string"))},
    "ConfigMap": {**_META, 2: ("data", ("map", "string")), 3: ("binaryData", ("map", "bytes")),
                  4: ("immutable", "bool")},
    "Secret": {**_META, 2: ("data", ("map", "bytes")), 3: ("type", "string"), 4: ("stringData", ("map", "string")),
               5: ("immutable", "bool")},
    "LocalObjectReference": {1: ("name", "string")},
    "ObjectReference": {1: ("kind", "string"), 2: ("namespace", "string"), 3: ("name", "string"),
                        4: ("uid", "string"), 5: ("apiVersion", "string"), 6: ("resourceVersion", "string"),
                        7: ("fieldPath", "string")},
    "ServiceAccount": {**_META, 2: ("secrets", ("repeated", ("message", "ObjectReference"))),
                       3: ("imagePullSecrets", ("repeated", ("message", "LocalObjectReference"))),
                       4: ("automountServiceAccountToken", "bool")},
    "Service": {**_META, 2: ("spec", ("message", "ServiceSpec"))},
    "ServiceSpec": {1: ("ports", ("repeated", ("message", "ServicePort"))), 2: ("selector", ("map", "string")),
                    3: ("clusterIP", "string"), 4: ("type", "string"), 5: ("externalIPs", ("repeated", "string")),
                    7: ("sessionAffinity", "string"), 8: ("loadBalancerIP", "string"),
                    9: ("loadBalancerSourceRanges", ("repeated", "string")), 10: ("externalName", "string"),
                    11: ("externalTrafficPolicy", "string"), 12: ("healthCheckNodePort", "int64"),
                    13: ("publishNotReadyAddresses", "bool"), 17: ("ipFamilyPolicy", "string"),
                    18: ("clusterIPs", ("repeated", "string")), 19: ("ipFamilies", ("repeated", "string")),
                    20: ("allocateLoadBalancerNodePorts", "bool"), 21: ("loadBalancerClass", "string"),
                    22: ("internalTrafficPolicy", "string")},
    "ServicePort": {1: ("name", "string"), 2: ("protocol", "string"), 3: ("port", "int64"),
                    4: ("targetPort", "intorstring"), 5: ("nodePort", "int64"), 6: ("appProtocol", "string")},
    "ResourceQuota": {**_META, 2: ("spec", ("message", "ResourceQuotaSpec"))},
    "ResourceQuotaSpec": {1: ("hard", ("map", "quantity")), 2: ("scopes", ("repeated", "string")),
                          3: ("scopeSelector", ("message", "ScopeSelector"))},
    "ScopeSelector": {1: ("matchExpressions", ("repeated", ("message", "ScopedResourceSelectorRequirement")))},
    "ScopedResourceSelectorRequirement": {1: ("scopeName", "string"), 2: ("operator", "string"),
                                          3: ("values", ("repeated", "string"))},
    "PodTemplateSpec": {**_META, 2: ("spec", ("message", "PodSpec"))},
    "PodSpec": {2: ("containers", ("repeated", ("message", "Container"))), 3: ("restartPolicy", "string"),
                4: ("terminationGracePeriodSeconds", "int64"), 5: ("activeDeadlineSeconds", "int64"),
                6: ("dnsPolicy", "string"), 7: ("nodeSelector", ("map", "string")),
                8: ("serviceAccountName", "string"), 10: ("nodeName", "string"), 11: ("hostNetwork", "bool"),
                15: ("imagePullSecrets", ("repeated", ("message", "LocalObjectReference"))),
                16: ("hostname", "string"), 17: ("subdomain", "string"), 19: ("schedulerName", "string"),
                20: ("initContainers", ("repeated", ("message", "Container"))),
                24: ("priorityClassName", "string")},
    "Container": {1: ("name", "string"), 2: ("image", "string"), 3: ("command", ("repeated", "string")),
                  4: ("args", ("repeated", "string")), 5: ("workingDir", "string"),
                  6: ("ports", ("repeated", ("message", "ContainerPort"))),
                  7: ("env", ("repeated", ("message", "EnvVar"))),
                  8: ("resources", ("message", "ResourceRequirements")),
                  13: ("terminationMessagePath", "string"), 14: ("imagePullPolicy", "string"),
                  16: ("stdin", "bool"), 17: ("stdinOnce", "bool"), 18: ("tty", "bool"),
                  20: ("terminationMessagePolicy", "string")},
    "ContainerPort": {1: ("name", "string"), 2: ("hostPort", "int64"), 3: ("containerPort", "int64"),
                      4: ("protocol", "string"), 5: ("hostIP", "string")},
    "EnvVar": {1: ("name", "string"), 2: ("value", "string")},
    "ResourceRequirements": {1: ("limits", ("map", "quantity")), 2: ("requests", ("map", "quantity"))},
    # apps/v1, batch/v1
    "Deployment": {**_META, 2: ("spec", ("message", "DeploymentSpec"))},
    "DeploymentSpec": {1: ("replicas", "int64"), 2: ("selector", ("message", "LabelSelector")),
                       3: ("template", ("message", "PodTemplateSpec")), 4: ("strategy", ("message", "DeploymentStrategy")),
                       5: ("minReadySeconds", "int64"), 6: ("revisionHistoryLimit", "int64"), 7: ("paused", "bool"),
                       9: ("progressDeadlineSeconds", "int64")},
    "DeploymentStrategy": {1: ("type", "string"), 2: ("rollingUpdate", ("message", "RollingUpdateDeployment"))},
    "RollingUpdateDeployment": {1: ("maxUnavailable", "intorstring"), 2: ("maxSurge", "intorstring")},
    "Job": {**_META, 2: ("spec", ("message", "JobSpec"))},
    "JobSpec": {1: ("parallelism", "int64"), 2: ("completions", "int64"), 3: ("activeDeadlineSeconds", "int64"),
                4: ("selector", ("message", "LabelSelector")), 5: ("manualSelector", "bool"),
                6: ("template", ("message", "PodTemplateSpec")), 7: ("backoffLimit", "int64"),
                8: ("ttlSecondsAfterFinished", "int64"), 9: ("completionMode", "string"), 10: ("suspend", "bool")},
    # rbac.authorization.k8s.io/v1, scheduling.k8s.io/v1
    "PolicyRule": {1: ("verbs", ("repeated", "string")), 2: ("apiGroups", ("repeated", "string")),
                   3: ("resources", ("repeated", "string")), 4: ("resourceNames", ("repeated", "string")),
                   5: ("nonResourceURLs", ("repeated", "string"))},
    "Role": {**_META, 2: ("rules", ("repeated", ("message", "PolicyRule")))},
    "ClusterRole": {**_META, 2: ("rules", ("repeated", ("message", "PolicyRule"))),
                    3: ("aggregationRule", ("message", "AggregationRule"))},
    "AggregationRule": {1: ("clusterRoleSelectors", ("repeated", ("message", "LabelSelector")))},
    "Subject": {1: ("kind", "string"), 2: ("apiGroup", "string"), 3: ("name", "string"), 4: ("namespace", "string")},
    "RoleRef": {1: ("apiGroup", "string"), 2: ("kind", "string"), 3: ("name", "string")},
    "RoleBinding": {**_META, 2: ("subjects", ("repeated", ("message", "Subject"))), 3: ("roleRef", ("message", "RoleRef"))},
    "ClusterRoleBinding": {**_META, 2: ("subjects", ("repeated", ("message", "Subject"))),
                           3: ("roleRef", ("message", "RoleRef"))},
    "PriorityClass": {**_META, 2: ("value", "int64"), 3: ("globalDefault", "bool"), 4: ("description", "string"),
                      5: ("preemptionPolicy", "string")},
}
MESSAGES["Quantity"] = {1: ("string", "string")}
MESSAGES["IntOrString"] = {1: ("type", "int64"), 2: ("intVal", "int64"), 3: ("strVal", "string")}
KEEP_ZERO = frozenset({
    "replicas", "value", "gracePeriodSeconds", "terminationGracePeriodSeconds", "activeDeadlineSeconds",
    "backoffLimit", "parallelism", "completions", "minReadySeconds", "revisionHistoryLimit",
    "progressDeadlineSeconds", "ttlSecondsAfterFinished", "deletionGracePeriodSeconds", "orphanDependents",
    "automountServiceAccountToken", "immutable", "allocateLoadBalancerNodePorts", "manualSelector", "suspend",
    "controller", "blockOwnerDeletion"})
KINDS = ("DeleteOptions", "Eviction", "SelfSubjectAccessReview", "SubjectAccessReview", "SelfSubjectRulesReview",
         "SelfSubjectReview", "Namespace", "ConfigMap", "Secret", "ServiceAccount", "Service", "ResourceQuota",
         "Deployment", "Job", "Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "PriorityClass")


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
    if kind == "rawbytes":
        return bytes(value)
    if kind == "bytes":
        return base64.b64encode(bytes(value)).decode()
    if kind == "bool":
        return bool(value)
    if kind == "int64":
        if wire != 0:
            raise ProtobufError("expected an integer")
        return value - (1 << 64) if value >= 1 << 63 else value
    if kind == "quantity":
        return decode_message("Quantity", bytes(value)).get("string", "0")
    if kind == "intorstring":
        v = decode_message("IntOrString", bytes(value))
        return v.get("strVal", "") if v.get("type") == 1 else v.get("intVal", 0)
    raise ProtobufError(f"unknown type {kind}")


def _is_zero(wire: int, value: Any) -> bool:
    """True when a field holds only zero values: 0, "", or a message made of those."""
    if wire == 0:
        return value == 0
    if wire != 2:
        return False
    if not value:
        return True
    try:
        return all(_is_zero(w, v) for _, w, v in _fields(bytes(value)))
    except ProtobufError:
        return False


def decode_message(name: str, data: bytes) -> dict[str, Any]:
    schema = MESSAGES[name]
    out: dict[str, Any] = {}
    for number, wire, value in _fields(data):
        spec = schema.get(number)
        if spec is None:
            if _is_zero(wire, value):
                continue        # a zero-valued struct (Go writes `status {phase: ""}`): nothing to keep
            raise ProtobufError(f"field {number} of {name} is not read from protobuf here; send JSON")
        json_name, kind = spec
        if isinstance(kind, tuple):
            if kind[0] == "message":
                out[json_name] = decode_message(kind[1], bytes(value))
            elif kind[0] == "repeated":
                item = kind[1]
                if isinstance(item, tuple):
                    out.setdefault(json_name, []).append(decode_message(item[1], bytes(value)))
                elif item == "string" or wire == 2 and item != "int64":
                    out.setdefault(json_name, []).append(_scalar(item, wire, value))
                else:
                    out.setdefault(json_name, []).append(_scalar(item, wire, value))
            elif kind[0] == "map":
                entry = {n: (w, v) for n, w, v in _fields(bytes(value))}
                key = bytes(entry.get(1, (2, b""))[1]).decode()
                w, v = entry.get(2, (2, b""))
                out.setdefault(json_name, {})[key] = _scalar(kind[1], w, v)
        else:
            scalar = _scalar(kind, wire, value)
            # Go writes the zero values of its plain fields, which JSON omits (omitempty); only
            # pointer fields (KEEP_ZERO) mean something when zero.
            if scalar not in ("", 0, False) or json_name in KEEP_ZERO and kind in ("int64", "bool"):
                out[json_name] = scalar
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
    meta = obj.get("metadata")
    if isinstance(meta, dict):
        for key in ("creationTimestamp", "deletionTimestamp"):
            if meta.get(key) is None:
                meta.pop(key, None)
    obj["kind"] = kind
    obj["apiVersion"] = type_meta.get("apiVersion", "")
    return obj
