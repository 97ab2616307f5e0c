"""Typed errors from metav1.Status answers, after apimachinery's api/errors.

Every failed call raises an `ApiError` carrying the Status object the server sent (or, for a
connection that never got an answer, one built in the same shape), so callers branch on types
or on `.reason` exactly as client-go callers use `errors.IsNotFound(err)`:

    try:
        await client.get("pods", "web-0", namespace="default")
    except NotFound:
        ...
"""
from __future__ import annotations

from typing import Any, Mapping


class ApiError(Exception):
    """A failed API call. `status` is the metav1.Status object; `code` its HTTP status;
    `reason` its StatusReason ("NotFound", "Conflict", ...)."""

    def __init__(self, status: Mapping[str, Any], code: int | None = None,
                 headers: Mapping[str, str] | None = None) -> None:
        self.status: dict[str, Any] = dict(status)
        self.code: int = int(code if code is not None else self.status.get("code") or 0)
        self.reason: str = str(self.status.get("reason") or "")
        self.message: str = str(self.status.get("message") or self.reason or f"HTTP {self.code}")
        self.headers: dict[str, str] = dict(headers or {})
        super().__init__(self.message)

    @property
    def details(self) -> dict[str, Any]:
        return self.status.get("details") or {}

    @property
    def retry_after(self) -> float | None:
        """Seconds the server asked us to wait (Retry-After header or details.retryAfterSeconds)."""
        value = self.headers.get("Retry-After") or self.headers.get("retry-after")
        if value is None:
            value = self.details.get("retryAfterSeconds")
        try:
            return max(0.0, float(value)) if value is not None else None
        except (TypeError, ValueError):
            return None

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.code}, {self.reason!r}, {self.message!r})"


class BadRequest(ApiError):
    """400."""


class Unauthorized(ApiError):
    """401: no valid credential."""


class Forbidden(ApiError):
    """403: authenticated, but RBAC (or admission) said no."""


class NotFound(ApiError):
    """404."""


class MethodNotAllowed(ApiError):
    """405."""


class AlreadyExists(ApiError):
    """409 with reason AlreadyExists."""


class Conflict(ApiError):
    """409: the object changed since it was read (optimistic concurrency)."""


class Gone(ApiError):
    """410: the resourceVersion is too old (compacted, or out of the watch cache's window)."""


class RequestEntityTooLarge(ApiError):
    """413."""


class UnsupportedMediaType(ApiError):
    """415."""


class Invalid(ApiError):
    """422: validation failed; `causes` lists the offending fields."""

    @property
    def causes(self) -> list[dict[str, Any]]:
        return list(self.details.get("causes") or [])


class TooManyRequests(ApiError):
    """429: back off (see `retry_after`)."""


class InternalError(ApiError):
    """500."""


class ServiceUnavailable(ApiError):
    """503."""


class ServerTimeout(ApiError):
    """504 / reason Timeout or ServerTimeout."""


class ConnectionFailed(ServiceUnavailable):
    """No answer at all: the connection was refused, reset or timed out. Not from the server:
    the Status is made here, in the server's shape, so callers handle one error type.
    `request_sent` is False when the request surely never reached the server (connect failed);
    `transient` is False when trying again cannot help (the server's certificate is not trusted)."""

    def __init__(self, message: str, request_sent: bool = True, transient: bool = True) -> None:
        self.request_sent = request_sent
        self.transient = transient
        super().__init__({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                          "message": message, "reason": "ServiceUnavailable", "code": 503}, 503)


_BY_REASON: dict[str, type[ApiError]] = {
    "BadRequest": BadRequest, "Unauthorized": Unauthorized, "Forbidden": Forbidden, "NotFound": NotFound,
    "MethodNotAllowed": MethodNotAllowed, "AlreadyExists": AlreadyExists, "Conflict": Conflict,
    "Gone": Gone, "Expired": Gone, "RequestEntityTooLarge": RequestEntityTooLarge,
    "UnsupportedMediaType": UnsupportedMediaType, "Invalid": Invalid, "TooManyRequests": TooManyRequests,
    "InternalError": InternalError, "ServiceUnavailable": ServiceUnavailable, "Timeout": ServerTimeout,
    "ServerTimeout": ServerTimeout,
}

_BY_CODE: dict[int, type[ApiError]] = {
    400: BadRequest, 401: Unauthorized, 403: Forbidden, 404: NotFound, 405: MethodNotAllowed,
    409: Conflict, 410: Gone, 413: RequestEntityTooLarge, 415: UnsupportedMediaType, 422: Invalid,
    429: TooManyRequests, 500: InternalError, 503: ServiceUnavailable, 504: ServerTimeout,
}


def error_from_status(code: int, status: Any, headers: Mapping[str, str] | None = None) -> ApiError:
    """The typed error for an HTTP error answer. `status` is the decoded body: a Status object,
    or anything else (then a Status is made from the code, as client-go does)."""
    if not (isinstance(status, dict) and status.get("kind") == "Status"):
        text = status if isinstance(status, str) else ""
        status = {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
                  "message": text or f"the server responded with the status code {code}",
                  "reason": _reason_for_code(code), "code": code}
    reason = status.get("reason") or ""
    cls = _BY_REASON.get(reason) or _BY_CODE.get(code, ApiError)
    return cls(status, code or status.get("code"), headers)


def _reason_for_code(code: int) -> str:
    cls = _BY_CODE.get(code)
    if cls is None:
        return "Unknown"
    return {Gone: "Expired", ServerTimeout: "Timeout"}.get(cls, cls.__name__)


def is_not_found(e: BaseException) -> bool:
    return isinstance(e, NotFound)


def is_conflict(e: BaseException) -> bool:
    return isinstance(e, Conflict)


def is_already_exists(e: BaseException) -> bool:
    return isinstance(e, AlreadyExists)
