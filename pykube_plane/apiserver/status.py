"""metav1.Status: how every error reaches a client, in Kubernetes' words.

An `APIError` carries the Status object and its HTTP code; handlers raise it, the HTTP face (and
the in-process client) turns it into the response. Messages follow k8s.io/apimachinery's
`api/errors` constructors so clients that parse them (kubectl, client-go, the Python client)
behave as against kube-apiserver:

    raise not_found(PODS, "web-0")     # 404 {"reason": "NotFound", "message": "pods \"web-0\" not found"}
"""
from __future__ import annotations

from typing import Any, Iterable, Protocol


class GroupResource(Protocol):
    """What an error needs to name a resource: its group and plural (a `Resource` row fits)."""
    group: str
    plural: str


def qualified(resource: GroupResource | None) -> str:
    """`pods`, `deployments.apps`: the GroupResource string k8s puts in messages."""
    if resource is None:
        return ""
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


class APIError(Exception):
    """A failed request: `status` is the metav1.Status object, `code` its HTTP status."""

    def __init__(self, code: int, reason: str, message: str, details: dict[str, Any] | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = details
        self.headers = headers or {}

    @property
    def status(self) -> dict[str, Any]:
        obj: dict[str, Any] = {
            "kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": self.message, "reason": self.reason,
        }
        if self.details is not None:
            obj["details"] = self.details
        obj["code"] = self.code
        return obj


def success_status(resource: GroupResource | None = None, name: str = "", uid: str = "",
                   code: int = 200) -> dict[str, Any]:
    """The Status a delete (of a kind that does not return the object) or a binding answers with."""
    obj: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Success"}
    if resource is not None:
        details: dict[str, Any] = {"name": name}
        if resource.group:
            details["group"] = resource.group
        details["kind"] = resource.plural
        if uid:
            details["uid"] = uid
        obj["details"] = details
    if code:
        obj["code"] = code
    return obj


def _details(resource: GroupResource | None, name: str, kind: str | None = None) -> dict[str, Any]:
    details: dict[str, Any] = {}
    if name:
        details["name"] = name
    if resource is not None:
        if resource.group:
            details["group"] = resource.group
        details["kind"] = kind if kind is not None else resource.plural
    return details


def not_found(resource: GroupResource | None, name: str) -> APIError:
    return APIError(404, "NotFound", f'{qualified(resource)} "{name}" not found', _details(resource, name))


def path_not_found() -> APIError:
    return APIError(404, "NotFound", "the server could not find the requested resource", {})


def already_exists(resource: GroupResource, name: str) -> APIError:
    return APIError(409, "AlreadyExists", f'{qualified(resource)} "{name}" already exists',
                    _details(resource, name))


def conflict(resource: GroupResource, name: str, why: str) -> APIError:
    return APIError(409, "Conflict", f'Operation cannot be fulfilled on {qualified(resource)} "{name}": {why}',
                    _details(resource, name))


OBJECT_MODIFIED = "the object has been modified; please apply your changes to the latest version and try again"


def modified_conflict(resource: GroupResource, name: str) -> APIError:
    return conflict(resource, name, OBJECT_MODIFIED)


def invalid(kind: str, group: str, name: str, message: str, causes: Iterable[dict[str, Any]]) -> APIError:
    """422 Invalid. `message` is the whole text (`Pod "x" is invalid: spec...`), `causes` the
    StatusCause list (reason FieldValue*, message, field)."""
    details: dict[str, Any] = {"name": name}
    if group:
        details["group"] = group
    details["kind"] = kind
    details["causes"] = list(causes)
    return APIError(422, "Invalid", message, details)


def invalid_field(kind: str, group: str, name: str, field: str, reason: str, detail: str,
                  value: Any = None) -> APIError:
    """422 for one field, in the words of field.ErrorList.ToAggregate()."""
    label = {"FieldValueRequired": "Required value", "FieldValueInvalid": "Invalid value",
             "FieldValueForbidden": "Forbidden", "FieldValueNotSupported": "Unsupported value",
             "FieldValueDuplicate": "Duplicate value", "FieldValueTooLong": "Too long"}.get(reason, reason)
    if reason in ("FieldValueInvalid", "FieldValueNotSupported", "FieldValueDuplicate") and value is not None:
        shown = f'"{value}"' if isinstance(value, str) else str(value)
        text = f"{label}: {shown}"
    else:
        text = label
    if detail:
        text = f"{text}: {detail}"
    message = f'{kind} "{name}" is invalid: {field}: {text}'
    return invalid(kind, group, name, message, [{"reason": reason, "message": text, "field": field}])


def gone(message: str) -> APIError:
    return APIError(410, "Expired", message, {})


def too_old_resource_version(requested: int, oldest: int) -> APIError:
    return gone(f"too old resource version: {requested} ({oldest})")


def bad_request(message: str, causes: Iterable[dict[str, Any]] | None = None) -> APIError:
    details = {"causes": list(causes)} if causes else None
    return APIError(400, "BadRequest", message, details)


def unauthorized(message: str = "Unauthorized") -> APIError:
    return APIError(401, "Unauthorized", message)


def forbidden(resource: GroupResource | None, name: str, reason: str) -> APIError:
    """403 in authorization's words: `pods "x" is forbidden: User "bob" cannot ...`."""
    target = qualified(resource)
    if target and name:
        subject = f'{target} "{name}" is forbidden'
    elif target:
        subject = f"{target} is forbidden"
    else:
        subject = "forbidden"
    return APIError(403, "Forbidden", f"{subject}: {reason}", _details(resource, name))


def method_not_allowed(method: str = "") -> APIError:
    return APIError(405, "MethodNotAllowed", "the server does not allow this method on the requested resource", {})


def not_acceptable(accepted: Iterable[str]) -> APIError:
    return APIError(406, "NotAcceptable",
                    "only the following media types are accepted: " + ", ".join(accepted), {})


def unsupported_media_type(content_type: str, accepted: Iterable[str]) -> APIError:
    return APIError(415, "UnsupportedMediaType",
                    "the body of the request was in an unknown format - accepted media types include: "
                    + ", ".join(accepted), {})


def request_too_large(limit: int) -> APIError:
    return APIError(413, "RequestEntityTooLarge", f"Request entity too large: limit is {limit}", {})


def too_many_requests(message: str = "Too many requests, please try again later.",
                      retry_after: int = 1) -> APIError:
    return APIError(429, "TooManyRequests", message, {"retryAfterSeconds": retry_after},
                    headers={"Retry-After": str(retry_after)})


def timeout(message: str, retry_after: int = 1) -> APIError:
    return APIError(504, "Timeout", message, {"retryAfterSeconds": retry_after})


def internal_error(message: str) -> APIError:
    return APIError(500, "InternalError", f"Internal error occurred: {message}",
                    {"causes": [{"message": message}]})
