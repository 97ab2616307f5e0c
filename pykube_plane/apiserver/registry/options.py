"""Request options as kube-apiserver reads them from the query string (and a DeleteOptions body):
ListOptions for list/watch, DeleteOptions for delete/deletecollection, WriteOptions for create,
update and patch. Parsing errors are 400 Bad Request Status errors, never exceptions of Python.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

from pykube_plane.apiserver import status as st

FIELD_VALIDATION_MODES = {"": "Strict", "strict": "Strict", "warn": "Warn", "ignore": "Ignore"}


def _bool(query: Mapping[str, str], name: str) -> bool | None:
    """A boolean query parameter as kube-apiserver decodes it (Convert_Slice_string_To_bool):
    "0" or "false" in any case is false, any other value, the empty one included, is true."""
    value = query.get(name)
    if value is None:
        return None
    return not (value == "0" or value.lower() == "false")


def _int(query: Mapping[str, str], name: str) -> int | None:
    value = query.get(name)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except ValueError:
        raise st.bad_request(f'invalid integer value for {name}: "{value}"') from None


@dataclass(slots=True)
class ListOptions:
    label_selector: str = ""
    field_selector: str = ""
    limit: int = 0
    continue_token: str = ""
    resource_version: str = ""
    resource_version_match: str = ""
    timeout_seconds: int | None = None
    allow_bookmarks: bool = False
    send_initial_events: bool | None = None
    watch: bool = False

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "ListOptions":
        limit = _int(query, "limit") or 0
        if limit < 0:
            limit = 0
        opts = cls(
            label_selector=query.get("labelSelector", ""),
            field_selector=query.get("fieldSelector", ""),
            limit=limit,
            continue_token=query.get("continue", ""),
            resource_version=query.get("resourceVersion", ""),
            resource_version_match=query.get("resourceVersionMatch", ""),
            timeout_seconds=_int(query, "timeoutSeconds"),
            allow_bookmarks=bool(_bool(query, "allowWatchBookmarks")),
            send_initial_events=_bool(query, "sendInitialEvents"),
            watch=bool(_bool(query, "watch")),
        )
        opts.check()
        return opts

    def check(self) -> None:
        """k8s' ValidateListOptions, answered as 422 Invalid ListOptions."""
        def invalid(field_name: str, value: Any, detail: str) -> st.APIError:
            shown = f'"{value}"' if isinstance(value, str) else str(value)
            text = f"Invalid value: {shown}: {detail}" if value is not None else detail
            return st.invalid("ListOptions", "meta.k8s.io", "", f"ListOptions.meta.k8s.io \"\" is invalid: "
                              f"{field_name}: {text}",
                              [{"reason": "FieldValueInvalid", "message": text, "field": field_name}])
        if self.resource_version_match and self.resource_version_match not in ("NotOlderThan", "Exact"):
            raise st.invalid_field("ListOptions", "meta.k8s.io", "", "resourceVersionMatch",
                                   "FieldValueNotSupported", 'supported values: "Exact", "NotOlderThan"',
                                   self.resource_version_match)
        if self.resource_version_match and not self.resource_version and not self.send_initial_events:
            raise invalid("resourceVersionMatch", None,
                          "Forbidden: resourceVersionMatch is forbidden unless resourceVersion is provided")
        if self.resource_version_match == "Exact" and self.resource_version == "0":
            raise invalid("resourceVersionMatch", None,
                          'Forbidden: resourceVersionMatch "exact" is forbidden for resourceVersion "0"')
        if self.continue_token and self.resource_version and self.resource_version != "0":
            raise invalid("resourceVersion", None,
                          "Forbidden: specifying resource version is not allowed when using continue")
        if self.resource_version and self.resource_version != "0":
            try:
                if int(self.resource_version) < 0:
                    raise ValueError
            except ValueError:
                raise st.bad_request(f'invalid resource version "{self.resource_version}"') from None
        if self.send_initial_events is not None:
            if not self.watch:
                raise invalid("sendInitialEvents", None, "Forbidden: sendInitialEvents is forbidden for list")
            if self.send_initial_events and not self.allow_bookmarks:
                raise invalid("allowWatchBookmarks", None,
                              "Forbidden: allowWatchBookmarks must be set to true when sendInitialEvents is set")
            if self.resource_version_match != "NotOlderThan":
                raise invalid("resourceVersionMatch", None,
                              "Forbidden: sendInitialEvents requires setting resourceVersionMatch to NotOlderThan")


@dataclass(slots=True)
class DeleteOptions:
    grace_period: int | None = None
    propagation: str | None = None
    orphan_dependents: bool | None = None
    precondition_uid: str | None = None
    precondition_rv: str | None = None
    dry_run: bool = False

    @classmethod
    def parse(cls, query: Mapping[str, str], body: Any) -> "DeleteOptions":
        opts = cls()
        if isinstance(body, dict):
            if body.get("kind") not in (None, "DeleteOptions", "Eviction"):
                raise st.bad_request(f'no kind "{body.get("kind")}" is registered for version '
                                     f'"{body.get("apiVersion", "v1")}" in scheme "pkg/runtime/scheme.go:100"')
            grace = body.get("gracePeriodSeconds")
            if grace is not None and not isinstance(grace, int):
                raise st.bad_request("gracePeriodSeconds must be an integer")
            opts.grace_period = grace
            opts.propagation = body.get("propagationPolicy")
            opts.orphan_dependents = body.get("orphanDependents")
            pre = body.get("preconditions") or {}
            if isinstance(pre, dict):
                opts.precondition_uid = pre.get("uid")
                opts.precondition_rv = pre.get("resourceVersion")
            dry = body.get("dryRun") or []
            opts.dry_run = isinstance(dry, list) and "All" in dry
        elif body is not None:
            raise st.bad_request("the request body must be a DeleteOptions object")
        grace = _int(query, "gracePeriodSeconds")
        if grace is not None:
            opts.grace_period = grace
        if query.get("propagationPolicy"):
            opts.propagation = query["propagationPolicy"]
        orphan = _bool(query, "orphanDependents")
        if orphan is not None:
            opts.orphan_dependents = orphan
        if "dryRun" in query:
            opts.dry_run = parse_dry_run(query)
        if opts.propagation not in (None, "Orphan", "Background", "Foreground"):
            raise st.invalid_field("DeleteOptions", "meta.k8s.io", "", "propagationPolicy",
                                   "FieldValueNotSupported",
                                   'supported values: "Foreground", "Background", "Orphan", "nil"',
                                   opts.propagation)
        if opts.propagation is not None and opts.orphan_dependents is not None:
            raise st.invalid("DeleteOptions", "meta.k8s.io", "",
                             'DeleteOptions.meta.k8s.io "" is invalid: propagationPolicy: Invalid value: '
                             '"' + opts.propagation + '": orphanDependents and deletionPropagation cannot be both set',
                             [{"reason": "FieldValueInvalid", "field": "propagationPolicy",
                               "message": "orphanDependents and deletionPropagation cannot be both set"}])
        return opts


def parse_dry_run(query: Mapping[str, str]) -> bool:
    value = query.get("dryRun")
    if value is None:
        return False
    if value != "All":
        raise st.bad_request(f'Invalid dryRun value: "{value}". Only "All" is supported')
    return True


@dataclass(slots=True)
class WriteOptions:
    dry_run: bool = False
    field_validation: str = "Strict"
    field_manager: str = ""
    warnings: list[str] = field(default_factory=list)

    @classmethod
    def from_query(cls, query: Mapping[str, str]) -> "WriteOptions":
        mode = query.get("fieldValidation", "")
        normal = FIELD_VALIDATION_MODES.get(mode.lower())
        if normal is None:
            raise st.bad_request(f"fieldValidation parameter unsupported: {mode}. Valid values are: Ignore, Warn, Strict")
        if "fieldValidation" not in query:
            normal = "Warn"     # kube-apiserver's default when the client does not say
        return cls(dry_run=parse_dry_run(query), field_validation=normal,
                   field_manager=query.get("fieldManager", ""))
