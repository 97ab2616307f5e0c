"""Developer tool: regenerate pykube_plane/apiserver/registry/schemas.json, the OpenAPI definitions of the served kinds.

    .venv/bin/python scripts/schema_gen.py     # needs the test extra (kubernetes)

The definitions come from the official Python client's models (`kubernetes==37.0.2`, generated
from Kubernetes' own OpenAPI document of release 1.37): field names, types, required fields and
descriptions. Patch strategies and merge keys (which the models do not carry) are added from the
`patchStrategy`/`patchMergeKey` tags of Kubernetes' types.go, for the lists kubectl merges.

The output is OpenAPI v2 `definitions` keyed by Kubernetes' names (io.k8s.api.core.v1.Pod); the
server builds /openapi/v2, /openapi/v3 and server-side field validation from it at run time,
without the client installed. tests/apiserver/test_schemas_and_tables.py checks it is up to date.
"""
from __future__ import annotations

import datetime
import inspect
import json
import re
import sys
import typing
from pathlib import Path
from typing import Any

OUTPUT = Path(__file__).resolve().parent.parent / "pykube_plane" / "apiserver" / "registry" / "schemas.json"

META = "io.k8s.apimachinery.pkg.apis.meta.v1"
INT_OR_STRING = "io.k8s.apimachinery.pkg.util.intstr.IntOrString"
QUANTITY = "io.k8s.apimachinery.pkg.api.resource.Quantity"

META_TYPES = {"ObjectMeta", "ListMeta", "LabelSelector", "LabelSelectorRequirement", "OwnerReference",
              "ManagedFieldsEntry", "Status", "StatusDetails", "StatusCause", "DeleteOptions",
              "Preconditions", "Condition", "APIResourceList", "APIResource", "APIGroup", "APIGroupList",
              "APIVersions", "GroupVersionForDiscovery", "ServerAddressByClientCIDR"}

# group -> OpenAPI package
PACKAGES = {
    "": "io.k8s.api.core.v1", "apps": "io.k8s.api.apps.v1", "batch": "io.k8s.api.batch.v1",
    "coordination.k8s.io": "io.k8s.api.coordination.v1", "rbac.authorization.k8s.io": "io.k8s.api.rbac.v1",
    "scheduling.k8s.io": "io.k8s.api.scheduling.v1", "events.k8s.io": "io.k8s.api.events.v1",
    "authorization.k8s.io": "io.k8s.api.authorization.v1",
    "authentication.k8s.io": "io.k8s.api.authentication.v1", "autoscaling": "io.k8s.api.autoscaling.v1",
    "policy": "io.k8s.api.policy.v1",
}

# Root kinds (group, version, kind, client class); list kinds are the class + "List".
ROOTS = [
    ("", "v1", "Namespace", "V1Namespace"), ("", "v1", "Node", "V1Node"), ("", "v1", "Pod", "V1Pod"),
    ("", "v1", "Service", "V1Service"), ("", "v1", "Endpoints", "V1Endpoints"),
    ("", "v1", "Event", "CoreV1Event"), ("", "v1", "ConfigMap", "V1ConfigMap"),
    ("", "v1", "Secret", "V1Secret"), ("", "v1", "ServiceAccount", "V1ServiceAccount"),
    ("", "v1", "ReplicationController", "V1ReplicationController"), ("", "v1", "LimitRange", "V1LimitRange"),
    ("", "v1", "ResourceQuota", "V1ResourceQuota"), ("", "v1", "Binding", "V1Binding"),
    ("apps", "v1", "Deployment", "V1Deployment"), ("apps", "v1", "ReplicaSet", "V1ReplicaSet"),
    ("batch", "v1", "Job", "V1Job"), ("coordination.k8s.io", "v1", "Lease", "V1Lease"),
    ("rbac.authorization.k8s.io", "v1", "Role", "V1Role"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRole", "V1ClusterRole"),
    ("rbac.authorization.k8s.io", "v1", "RoleBinding", "V1RoleBinding"),
    ("rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "V1ClusterRoleBinding"),
    ("scheduling.k8s.io", "v1", "PriorityClass", "V1PriorityClass"),
    ("events.k8s.io", "v1", "Event", "EventsV1Event"),
    ("authorization.k8s.io", "v1", "SelfSubjectAccessReview", "V1SelfSubjectAccessReview"),
    ("authorization.k8s.io", "v1", "SubjectAccessReview", "V1SubjectAccessReview"),
    ("authorization.k8s.io", "v1", "SelfSubjectRulesReview", "V1SelfSubjectRulesReview"),
    ("authentication.k8s.io", "v1", "SelfSubjectReview", "V1SelfSubjectReview"),
    ("autoscaling", "v1", "Scale", "V1Scale"), ("policy", "v1", "Eviction", "V1Eviction"),
]
LISTLESS = {"Binding", "SelfSubjectAccessReview", "SubjectAccessReview", "SelfSubjectRulesReview",
            "SelfSubjectReview", "Scale", "Eviction"}
META_ROOTS = [("Status", "V1Status"), ("DeleteOptions", "V1DeleteOptions"),
              ("APIResourceList", "V1APIResourceList"), ("APIGroupList", "V1APIGroupList"),
              ("APIVersions", "V1APIVersions")]

# patchStrategy / patchMergeKey of Kubernetes' types.go, for the lists strategic merge patches merge
CORE = PACKAGES[""]
PATCH_META: dict[tuple[str, str], tuple[str, str]] = {
    (f"{CORE}.PodSpec", "containers"): ("merge", "name"),
    (f"{CORE}.PodSpec", "initContainers"): ("merge", "name"),
    (f"{CORE}.PodSpec", "ephemeralContainers"): ("merge", "name"),
    (f"{CORE}.PodSpec", "volumes"): ("merge,retainKeys", "name"),
    (f"{CORE}.PodSpec", "imagePullSecrets"): ("merge", "name"),
    (f"{CORE}.PodSpec", "hostAliases"): ("merge", "ip"),
    (f"{CORE}.PodSpec", "topologySpreadConstraints"): ("merge", "topologyKey"),
    (f"{CORE}.PodSpec", "schedulingGates"): ("merge", "name"),
    (f"{CORE}.PodSpec", "resourceClaims"): ("merge,retainKeys", "name"),
    (f"{CORE}.Container", "ports"): ("merge", "containerPort"),
    (f"{CORE}.Container", "env"): ("merge", "name"),
    (f"{CORE}.Container", "volumeMounts"): ("merge", "mountPath"),
    (f"{CORE}.Container", "volumeDevices"): ("merge", "devicePath"),
    (f"{CORE}.EphemeralContainer", "ports"): ("merge", "containerPort"),
    (f"{CORE}.EphemeralContainer", "env"): ("merge", "name"),
    (f"{CORE}.EphemeralContainer", "volumeMounts"): ("merge", "mountPath"),
    (f"{CORE}.EphemeralContainer", "volumeDevices"): ("merge", "devicePath"),
    (f"{CORE}.PodStatus", "conditions"): ("merge", "type"),
    (f"{CORE}.PodStatus", "podIPs"): ("merge", "ip"),
    (f"{CORE}.PodStatus", "hostIPs"): ("merge", "ip"),
    (f"{CORE}.NodeStatus", "conditions"): ("merge", "type"),
    (f"{CORE}.NodeStatus", "addresses"): ("merge", "type"),
    (f"{CORE}.NodeSpec", "podCIDRs"): ("merge", ""),
    (f"{CORE}.ServiceSpec", "ports"): ("merge", "port"),
    (f"{CORE}.ServiceStatus", "conditions"): ("merge", "type"),
    (f"{CORE}.NamespaceStatus", "conditions"): ("merge", "type"),
    (f"{CORE}.ReplicationControllerStatus", "conditions"): ("merge", "type"),
    (f"{CORE}.ServiceAccount", "secrets"): ("merge", "name"),
    (f"{META}.ObjectMeta", "finalizers"): ("merge", ""),
    (f"{META}.ObjectMeta", "ownerReferences"): ("merge", "uid"),
    ("io.k8s.api.apps.v1.DeploymentSpec", "strategy"): ("retainKeys", ""),
    ("io.k8s.api.apps.v1.DeploymentStatus", "conditions"): ("merge", "type"),
    ("io.k8s.api.apps.v1.ReplicaSetStatus", "conditions"): ("merge", "type"),
    ("io.k8s.api.batch.v1.JobStatus", "conditions"): ("merge", "type"),
}

# map[string]Quantity fields and single Quantity fields (the client models type them as strings)
QUANTITY_MAPS = {"limits", "requests", "capacity", "allocatable", "hard", "used", "overhead", "default",
                 "defaultRequest", "max", "min", "maxLimitRequestRatio"}
QUANTITY_FIELDS = {"sizeLimit", "divisor"}

_PREFIX = re.compile(r"^(?:[A-Z][a-z]+)*V\d+(?:(?:alpha|beta)\d+)?(?=[A-Z])")


def short_name(class_name: str) -> str:
    return _PREFIX.sub("", class_name)


def _describe(cls: type) -> str:
    doc = inspect.getdoc(cls) or ""
    doc = doc.split("Attributes:")[0].strip()
    if doc.startswith("NOTE: This class is auto generated"):
        return ""
    return " ".join(doc.split())


class Generator:
    def __init__(self, models: Any) -> None:
        self.models = models
        self.defs: dict[str, dict] = {}
        self.names: dict[type, str] = {}

    def name_of(self, cls: type, package: str) -> str:
        if cls in self.names:
            return self.names[cls]
        short = short_name(cls.__name__)
        name = f"{META}.{short}" if short in META_TYPES else f"{package}.{short}"
        self.names[cls] = name
        return name

    def add(self, cls: type, package: str, gvk: list[dict] | None = None) -> str:
        name = self.name_of(cls, package)
        if name in self.defs:
            if gvk:
                self.defs[name].setdefault("x-kubernetes-group-version-kind", []).extend(gvk)
            return name
        schema: dict[str, Any] = {"type": "object"}
        self.defs[name] = schema
        description = _describe(cls)
        if description:
            schema["description"] = description
        properties: dict[str, Any] = {}
        required = []
        own_package = name.rsplit(".", 1)[0]
        for field_name, info in cls.model_fields.items():
            json_name = info.serialization_alias or info.alias or field_name
            prop = self.type_schema(info.annotation, own_package, json_name)
            if info.description:
                prop = dict(prop)
                if "$ref" in prop:
                    prop = {"allOf": [{"$ref": prop["$ref"]}]} | {k: v for k, v in prop.items() if k != "$ref"}
                prop["description"] = info.description
            meta = PATCH_META.get((name, json_name))
            if meta:
                prop["x-kubernetes-patch-strategy"] = meta[0]
                if meta[1]:
                    prop["x-kubernetes-patch-merge-key"] = meta[1]
            properties[json_name] = prop
            if info.is_required():
                required.append(json_name)
        schema["properties"] = dict(sorted(properties.items()))
        if required:
            schema["required"] = sorted(required)
        if gvk:
            schema["x-kubernetes-group-version-kind"] = gvk
        return name

    def type_schema(self, annotation: Any, package: str, json_name: str) -> dict:
        origin = typing.get_origin(annotation)
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        if origin is typing.Annotated:
            return self.type_schema(args[0], package, json_name)
        if origin is typing.Union:
            plain = [self._plain(a) for a in args]
            if set(plain) == {int, str}:
                return {"$ref": INT_OR_STRING}
            if set(plain) == {bytes, str}:
                return {"type": "string", "format": "byte"}
            if len(args) == 1:
                return self.type_schema(args[0], package, json_name)
            return {"type": "object"}
        if origin in (list, typing.List):
            return {"type": "array", "items": self.type_schema(args[0], package, json_name)}
        if origin in (dict, typing.Dict):
            value = args[1] if len(args) == 2 else Any
            if json_name in QUANTITY_MAPS and self._plain(value) is str:
                return {"type": "object", "additionalProperties": {"$ref": QUANTITY}}
            return {"type": "object", "additionalProperties": self.type_schema(value, package, json_name)}
        plain = self._plain(annotation)
        if plain is str:
            return {"$ref": QUANTITY} if json_name in QUANTITY_FIELDS else {"type": "string"}
        if plain is bool:
            return {"type": "boolean"}
        if plain is int:
            return {"type": "integer", "format": "int64"}
        if plain is float:
            return {"type": "number", "format": "double"}
        if plain is datetime.datetime:
            return {"type": "string", "format": "date-time"}
        if plain is bytes:
            return {"type": "string", "format": "byte"}
        if isinstance(plain, type) and hasattr(plain, "model_fields") and plain.__module__.startswith("kubernetes."):
            return {"$ref": self.add(plain, package)}
        return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}

    @staticmethod
    def _plain(annotation: Any) -> Any:
        while typing.get_origin(annotation) is typing.Annotated:
            annotation = typing.get_args(annotation)[0]
        return annotation


def generate() -> dict:
    import kubernetes.client.models as models  # the test extra; never imported by the server

    gen = Generator(models)
    for short, cls_name in META_ROOTS:
        gen.add(getattr(models, cls_name), META,
                [{"group": "", "kind": short, "version": "v1"}] if short in ("Status", "DeleteOptions") else None)
    for group, version, kind, cls_name in sorted(ROOTS, key=lambda r: r[0] != ""):   # core claims shared types
        package = PACKAGES[group]
        gvk = [{"group": group, "kind": kind, "version": version}]
        gen.add(getattr(models, cls_name), package, gvk)
        if kind not in LISTLESS:
            gen.add(getattr(models, cls_name + "List"), package,
                    [{"group": group, "kind": kind + "List", "version": version}])
    gen.defs[INT_OR_STRING] = {"type": "string", "format": "int-or-string",
                               "description": "IntOrString is a type that can hold an int32 or a string. "
                                              "When used in JSON or YAML marshalling and unmarshalling, it "
                                              "produces or consumes the inner type."}
    gen.defs[QUANTITY] = {"type": "string",
                          "description": "Quantity is a fixed-point representation of a number, such as "
                                         "\"500m\" (half a CPU) or \"1Gi\" (a gibibyte)."}
    return {"source": "kubernetes==37.0.2 client models (Kubernetes release-1.37 OpenAPI)",
            "definitions": dict(sorted(gen.defs.items()))}


def main() -> None:
    data = generate()
    OUTPUT.write_text(json.dumps(data, separators=(",", ":"), sort_keys=False) + "\n")
    print(f"wrote {OUTPUT} ({len(data['definitions'])} definitions, {OUTPUT.stat().st_size} bytes)",
          file=sys.stderr)


if __name__ == "__main__":
    main()
