"""Object metadata, the same for every kind: name rule per kind, generateName, namespace required
or forbidden, labels, annotations and their 256 KiB total, owner references, finalizers; on
update name/namespace/uid/creationTimestamp immutable.
"""
from __future__ import annotations

from typing import Any

from ..fielderrors import (
    FIELD_IMMUTABLE,
    Errors,
    GoText,
    forbidden,
    invalid,
    required,
)
from ..kinds import kind_info
from ..names import is_dns1123_label
from ..validators import (
    child,
    json_equal,
    nonnegative,
    validate_annotations,
    validate_labels,
    validate_qualified_name,
)

STANDARD_FINALIZERS = ("kubernetes", "orphan", "foregroundDeletion")


def validate_metadata(kind: str, obj: dict, old: dict | None, errs: Errors) -> None:
    meta = errs.mapping(obj.get("metadata"), "metadata")
    info = kind_info(kind)
    name = errs.string(meta.get("name"), "metadata.name")
    namespace = errs.string(meta.get("namespace"), "metadata.namespace")
    if old is None:
        generate_name = errs.string(meta.get("generateName"), "metadata.generateName")
        if generate_name:
            for msg in info.name_rule(generate_name, True):
                errs.append(invalid("metadata.generateName", generate_name, msg))
        if not name:
            errs.append(required("metadata.name", "name or generateName is required"))
        else:
            for msg in info.name_rule(name, False):
                errs.append(invalid("metadata.name", name, msg))
        if info.namespaced:
            if not namespace:
                errs.append(required("metadata.namespace"))
            else:
                for msg in is_dns1123_label(namespace):
                    errs.append(invalid("metadata.namespace", namespace, msg))
        elif namespace:
            errs.append(forbidden("metadata.namespace", "not allowed on this type"))
        nonnegative(errs.integer(meta.get("generation"), "metadata.generation"), "metadata.generation", errs)
    else:
        old_meta = old.get("metadata") if isinstance(old.get("metadata"), dict) else {}
        if old_meta.get("deletionTimestamp"):
            added = [f for f in errs.items(meta.get("finalizers"), "metadata.finalizers")
                     if f not in (old_meta.get("finalizers") or [])]
            if added:
                errs.append(forbidden("metadata.finalizers", "no new finalizers can be added if the object is being "
                                      "deleted, found new finalizers " + "[]string{" +
                                      ", ".join(f'"{f}"' for f in sorted(set(map(str, added)))) + "}"))
        generation = errs.integer(meta.get("generation"), "metadata.generation")
        old_generation = old_meta.get("generation")
        if isinstance(generation, int) and isinstance(old_generation, int) and generation < old_generation:
            errs.append(invalid("metadata.generation", generation, "must not be decremented"))
        for key in ("name", "namespace", "uid", "creationTimestamp", "deletionTimestamp",
                    "deletionGracePeriodSeconds"):
            if not json_equal(meta.get(key), old_meta.get(key)) and not (
                    key in ("uid", "creationTimestamp") and not meta.get(key)):
                value = meta.get(key)
                errs.append(invalid(f"metadata.{key}", "" if value is None else value, FIELD_IMMUTABLE))
    validate_labels(meta.get("labels"), "metadata.labels", errs)
    validate_annotations(meta.get("annotations"), "metadata.annotations", errs)
    _validate_owner_references(meta.get("ownerReferences"), "metadata.ownerReferences", errs)
    if old is None:
        _validate_finalizers(meta.get("finalizers"), "metadata.finalizers", errs)


def _validate_owner_references(value: Any, path: str, errs: Errors) -> None:
    controller = ""
    for i, raw in enumerate(errs.items(value, path)):
        ref = errs.mapping(raw, f"{path}[{i}]")
        api_version = errs.string(ref.get("apiVersion"), child(path, "apiVersion"))
        kind = errs.string(ref.get("kind"), child(path, "kind"))
        ref_name = errs.string(ref.get("name"), child(path, "name"))
        uid = errs.string(ref.get("uid"), child(path, "uid"))
        if not api_version.rpartition("/")[2]:
            errs.append(invalid(child(path, "apiVersion"), api_version, "version must not be empty"))
        if not kind:
            errs.append(invalid(child(path, "kind"), kind, "kind must not be empty"))
        if not ref_name:
            errs.append(invalid(child(path, "name"), ref_name, "name must not be empty"))
        if not uid:
            errs.append(invalid(child(path, "uid"), uid, "uid must not be empty"))
        if errs.boolean(ref.get("controller"), child(path, "controller")):
            current = f"{kind}/{ref_name}"
            if controller:
                errs.append(invalid(path, GoText("[]v1.OwnerReference{...}"),
                                    f'Only one reference can have Controller set to true. Found "true" in '
                                    f"references for {controller} and {current}"))
            else:
                controller = current


def _validate_finalizers(value: Any, path: str, errs: Errors) -> None:
    finalizers = [errs.string(f, path) for f in errs.items(value, path)]
    for finalizer in finalizers:
        validate_qualified_name(finalizer, path, errs)
    if "orphan" in finalizers and "foregroundDeletion" in finalizers:
        errs.append(invalid(path, finalizers, "finalizer orphan and foregroundDeletion cannot be both set"))


def object_name(obj: dict) -> str:
    meta = obj.get("metadata")
    name = meta.get("name") if isinstance(meta, dict) else None
    return name if isinstance(name, str) else ""
