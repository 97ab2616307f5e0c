"""Volumes of a pod spec and their sources, and the downward API references (fieldRef,
resourceFieldRef) volumes and env share.
"""
from __future__ import annotations

from typing import Any

from ..fielderrors import (
    Errors,
    duplicate,
    forbidden,
    invalid,
    not_supported,
    required,
)
from ..validators import (
    child,
    quantity,
    validate_dns_label,
    validate_qualified_name,
)

HOST_PATH_TYPES = ("", "BlockDevice", "CharDevice", "Directory", "DirectoryOrCreate", "File", "FileOrCreate",
                   "Socket")
_VOLUME_SOURCES = (
    "emptyDir", "hostPath", "gitRepo", "awsElasticBlockStore", "gcePersistentDisk", "secret", "nfs", "iscsi",
    "glusterfs", "persistentVolumeClaim", "rbd", "flexVolume", "cinder", "cephfs", "flocker", "downwardAPI",
    "fc", "azureFile", "configMap", "vsphereVolume", "quobyte", "azureDisk", "photonPersistentDisk", "projected",
    "portworxVolume", "scaleIO", "storageos", "csi", "ephemeral", "image")
_PROJECTION_SOURCES = ("secret", "downwardAPI", "configMap", "serviceAccountToken", "clusterTrustBundle",
                       "podCertificate")
VOLUME_FIELD_PATHS = ("metadata.annotations", "metadata.labels", "metadata.name", "metadata.namespace",
                      "metadata.uid")
RESOURCE_FIELD_PATHS = ("limits.cpu", "limits.ephemeral-storage", "limits.memory", "requests.cpu",
                        "requests.ephemeral-storage", "requests.memory")


def validate_volumes(value: Any, path: str, errs: Errors) -> dict[str, dict]:
    """ValidateVolumes; answers the valid volumes by name (for mounts)."""
    names: dict[str, dict] = {}
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        volume = errs.mapping(raw, item_path)
        own = Errors()
        name = own.string(volume.get("name"), child(item_path, "name"))
        _validate_volume_source(volume, item_path, own)
        if not name:
            own.append(required(child(item_path, "name")))
        else:
            validate_dns_label(name, child(item_path, "name"), own)
        if name in names:
            own.append(duplicate(child(item_path, "name"), name))
        if own:
            errs.extend(own)
        else:
            names[name] = volume
    return names


def _validate_volume_source(volume: dict, path: str, errs: Errors) -> None:
    count = 0
    for key in _VOLUME_SOURCES:
        if volume.get(key) is None:
            continue
        source_path = child(path, key)
        if count:
            errs.append(forbidden(source_path, "may not specify more than 1 volume type"))
            continue
        count += 1
        source = errs.mapping(volume[key], source_path)
        if key == "emptyDir" and source.get("sizeLimit") is not None:
            limit = quantity(source["sizeLimit"], child(source_path, "sizeLimit"), errs)
            if limit is not None and limit.sign() < 0:
                errs.append(forbidden(child(source_path, "sizeLimit"),
                                      "SizeLimit field must be a valid resource quantity"))
        elif key == "hostPath":
            if not errs.string(source.get("path"), child(source_path, "path")):
                errs.append(required(child(source_path, "path")))
            kind = errs.string(source.get("type"), child(source_path, "type"))
            if kind not in HOST_PATH_TYPES:
                errs.append(not_supported(child(source_path, "type"), kind, HOST_PATH_TYPES))
        elif key == "secret":
            if not errs.string(source.get("secretName"), child(source_path, "secretName")):
                errs.append(required(child(source_path, "secretName")))
            _validate_key_to_paths(source, source_path, errs)
        elif key == "configMap":
            name = errs.string(source.get("name"), child(source_path, "name"))
            if not name:
                errs.append(required(child(source_path, "name")))
            _validate_key_to_paths(source, source_path, errs)
        elif key == "persistentVolumeClaim":
            if not errs.string(source.get("claimName"), child(source_path, "claimName")):
                errs.append(required(child(source_path, "claimName")))
        elif key == "downwardAPI":
            _validate_mode(source.get("defaultMode"), child(source_path, "defaultMode"), errs)
            _validate_downward_items(source.get("items"), child(source_path, "items"), errs)
        elif key == "projected":
            _validate_projected(source, source_path, errs)
        elif key == "nfs":
            if not errs.string(source.get("server"), child(source_path, "server")):
                errs.append(required(child(source_path, "server")))
            nfs_path = errs.string(source.get("path"), child(source_path, "path"))
            if not nfs_path:
                errs.append(required(child(source_path, "path")))
            elif not nfs_path.startswith("/"):
                errs.append(invalid(child(source_path, "path"), nfs_path, "must be an absolute path"))
        elif key == "csi":
            if not errs.string(source.get("driver"), child(source_path, "driver")):
                errs.append(required(child(source_path, "driver")))
    if count == 0:
        errs.append(required(path, "must specify a volume type"))


def _validate_mode(value: Any, path: str, errs: Errors) -> None:
    mode = errs.integer(value, path)
    if mode is not None and not 0 <= mode <= 0o777:
        errs.append(invalid(path, mode, "must be a number between 0 and 0777 (octal), both inclusive"))


def validate_local_path(value: str, path: str, errs: Errors) -> None:
    if value.startswith("/"):
        errs.append(invalid(path, value, "must be a relative path"))
    if ".." in value.split("/"):
        errs.append(invalid(path, value, "must not contain '..'"))
    elif value.startswith(".."):
        errs.append(invalid(path, value, "must not start with '..'"))


def _validate_key_to_paths(source: dict, path: str, errs: Errors) -> None:
    _validate_mode(source.get("defaultMode"), child(path, "defaultMode"), errs)
    for i, raw in enumerate(errs.items(source.get("items"), child(path, "items"))):
        item_path = f"{child(path, 'items')}[{i}]"
        item = errs.mapping(raw, item_path)
        key = errs.string(item.get("key"), child(item_path, "key"))
        if not key:
            errs.append(required(child(item_path, "key")))
        item_file = errs.string(item.get("path"), child(item_path, "path"))
        if not item_file:
            errs.append(required(child(item_path, "path")))
        else:
            validate_local_path(item_file, child(item_path, "path"), errs)
        _validate_mode(item.get("mode"), child(item_path, "mode"), errs)


def _validate_downward_items(value: Any, path: str, errs: Errors) -> None:
    for i, raw in enumerate(errs.items(value, path)):
        item_path = f"{path}[{i}]"
        item = errs.mapping(raw, item_path)
        item_file = errs.string(item.get("path"), child(item_path, "path"))
        if not item_file:
            errs.append(required(child(item_path, "path")))
        else:
            validate_local_path(item_file, child(item_path, "path"), errs)
        _validate_mode(item.get("mode"), child(item_path, "mode"), errs)
        has_field = item.get("fieldRef") is not None
        has_resource = item.get("resourceFieldRef") is not None
        if has_field:
            validate_field_ref(item["fieldRef"], VOLUME_FIELD_PATHS, child(item_path, "fieldRef"), errs)
        if has_resource:
            validate_resource_field_ref(item["resourceFieldRef"], child(item_path, "resourceFieldRef"), errs,
                                        volume=True)
        if has_field and has_resource:
            errs.append(invalid(item_path, "resource",
                                "fieldRef and resourceFieldRef can not be specified simultaneously"))
        elif not has_field and not has_resource:
            errs.append(required(item_path, "one of fieldRef and resourceFieldRef is required"))


def _validate_projected(source: dict, path: str, errs: Errors) -> None:
    _validate_mode(source.get("defaultMode"), child(path, "defaultMode"), errs)
    for i, raw in enumerate(errs.items(source.get("sources"), child(path, "sources"))):
        item_path = f"{child(path, 'sources')}[{i}]"
        projection = errs.mapping(raw, item_path)
        present = [key for key in _PROJECTION_SOURCES if projection.get(key) is not None]
        if len(present) > 1:
            errs.append(forbidden(item_path, "may not specify more than 1 volume type per source"))
        for key in present:
            part_path = child(item_path, key)
            part = errs.mapping(projection[key], part_path)
            if key in ("secret", "configMap"):
                if not errs.string(part.get("name"), child(part_path, "name")):
                    errs.append(required(child(part_path, "name")))
                _validate_key_to_paths(part, part_path, errs)
            elif key == "downwardAPI":
                _validate_downward_items(part.get("items"), child(part_path, "items"), errs)
            elif key == "serviceAccountToken":
                seconds = errs.integer(part.get("expirationSeconds"), child(part_path, "expirationSeconds"))
                if seconds is not None and seconds < 600:
                    errs.append(invalid(child(part_path, "expirationSeconds"), seconds,
                                        "may not specify a duration less than 10 minutes"))
                elif seconds is not None and seconds > 2 ** 32:
                    errs.append(invalid(child(part_path, "expirationSeconds"), seconds,
                                        "may not specify a duration larger than 2^32 seconds"))
                token_path = errs.string(part.get("path"), child(part_path, "path"))
                if not token_path:
                    errs.append(required(child(part_path, "path")))
                else:
                    validate_local_path(token_path, child(part_path, "path"), errs)


def validate_field_ref(value: Any, allowed: tuple[str, ...], path: str, errs: Errors) -> None:
    ref = errs.mapping(value, path)
    if not errs.string(ref.get("apiVersion"), child(path, "apiVersion")):
        errs.append(required(child(path, "apiVersion")))
        return
    field_path = errs.string(ref.get("fieldPath"), child(path, "fieldPath"))
    if not field_path:
        errs.append(required(child(path, "fieldPath")))
        return
    base, bracket, rest = field_path.partition("[")
    if bracket and rest.endswith("]"):
        subscript = rest[:-1]
        if len(subscript) >= 2 and subscript[0] == subscript[-1] == "'":
            subscript = subscript[1:-1]
        if base == "metadata.annotations":
            validate_qualified_name(subscript.lower(), path, errs)
        elif base == "metadata.labels":
            validate_qualified_name(subscript, path, errs)
        else:
            errs.append(invalid(path, base, "does not support subscript"))
    elif field_path not in allowed:
        errs.append(not_supported(child(path, "fieldPath"), field_path, sorted(allowed)))


def validate_resource_field_ref(value: Any, path: str, errs: Errors, *, volume: bool) -> None:
    ref = errs.mapping(value, path)
    container = errs.string(ref.get("containerName"), child(path, "containerName"))
    if volume and not container:
        errs.append(required(child(path, "containerName")))
    resource = errs.string(ref.get("resource"), child(path, "resource"))
    if not resource:
        errs.append(required(child(path, "resource")))
        return
    if resource not in RESOURCE_FIELD_PATHS and not resource.startswith(("limits.hugepages-",
                                                                           "requests.hugepages-")):
        errs.append(not_supported(child(path, "resource"), resource, RESOURCE_FIELD_PATHS))
        return
    divisor_raw = ref.get("divisor")
    if divisor_raw is None:
        return
    divisor = quantity(divisor_raw, child(path, "divisor"), errs)
    if divisor is None or divisor.is_zero():
        return
    if resource.endswith(".cpu"):
        allowed = ("1m", "1")
        message = "only divisor's values 1m and 1 are supported with the cpu resource"
    else:
        allowed = ("1", "1k", "1M", "1G", "1T", "1P", "1E", "1Ki", "1Mi", "1Gi", "1Ti", "1Pi", "1Ei")
        message = ("only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported "
                   "with the memory resource" if resource.endswith(".memory") else
                   "only divisor's values 1, 1k, 1M, 1G, 1T, 1P, 1E, 1Ki, 1Mi, 1Gi, 1Ti, 1Pi, 1Ei are supported "
                   "with the local ephemeral storage resource")
    from .quantity import parse_quantity
    if all(divisor != parse_quantity(text) for text in allowed):
        errs.append(invalid(child(path, "divisor"), str(divisor), message))
