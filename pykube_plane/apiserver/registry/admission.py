"""Admission: checks a write must pass after authorization and before it reaches the store.

NamespaceLifecycle (k8s plugin/pkg/admission/namespace/lifecycle) keeps namespaces coherent:

- creating or updating an object in a namespace that does not exist → 404 NotFound
  ('namespaces "x" not found');
- creating an object in a namespace being deleted (phase Terminating) → 403 Forbidden
  ('pods "p" is forbidden: unable to create new content in namespace x because it is being
  terminated'); updates and deletes there still pass, so finalizers and controllers can finish;
- deleting the namespaces default, kube-system and kube-public → 403 Forbidden;
- cluster-scoped objects, namespaces themselves and access reviews are never refused.

A deletecollection of namespaces should be admitted per namespace (attributes carrying the
name), as kube-apiserver's registry does, so the immortal ones survive it.
"""
from __future__ import annotations

from typing import Any, Callable, Mapping

from pykube_plane.apiserver.auth.rbac import RequestAttributes

IMMORTAL_NAMESPACES = frozenset(("default", "kube-system", "kube-public"))
NAMESPACE_TERMINATING_CAUSE = "NamespaceTerminating"

_CREATE, _UPDATE, _DELETE = "CREATE", "UPDATE", "DELETE"
_OPERATIONS = {"create": _CREATE, "update": _UPDATE, "patch": _UPDATE,
               "delete": _DELETE, "deletecollection": _DELETE}

GetNamespace = Callable[[str], "Mapping[str, Any] | None"]


class AdmissionError(Exception):
    """A refused request, carrying what its Status object needs."""

    def __init__(self, code: int, reason: str, message: str,
                 details: Mapping[str, Any] | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.reason = reason
        self.message = message
        self.details = dict(details or {})

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {"kind": "Status", "apiVersion": "v1", "metadata": {},
                                  "status": "Failure", "message": self.message,
                                  "reason": self.reason, "code": self.code}
        if self.details:
            status["details"] = self.details
        return status


class NamespaceLifecycle:
    """Refuses writes into missing or terminating namespaces, and deleting immortal ones."""

    def __init__(self, immortal_namespaces: frozenset[str] = IMMORTAL_NAMESPACES) -> None:
        self.immortal_namespaces = immortal_namespaces

    def admit(self, attrs: RequestAttributes, obj: Mapping[str, Any] | None,
              get_namespace: GetNamespace) -> None:
        """Return if the request may proceed, raise AdmissionError otherwise.

        `obj` is the object being written (None for deletes); `get_namespace(name)` gives the
        stored Namespace or None.
        """
        operation = _OPERATIONS.get(attrs.verb)
        if operation is None or not attrs.resource_request:
            return
        is_namespace = attrs.resource == "namespaces" and attrs.api_group == ""
        if operation == _DELETE and is_namespace and attrs.name in self.immortal_namespaces:
            raise _forbidden(attrs, attrs.name, "this namespace may not be deleted")
        if is_namespace or not attrs.namespace:
            return
        if operation == _DELETE:
            return
        if attrs.api_group == "authorization.k8s.io" and attrs.resource == "localsubjectaccessreviews":
            return  # telling whether the namespace exists would leak it

        namespace = get_namespace(attrs.namespace)
        if namespace is None:
            raise AdmissionError(404, "NotFound", f'namespaces "{attrs.namespace}" not found',
                                 {"name": attrs.namespace, "kind": "namespaces"})
        if operation == _CREATE and _terminating(namespace):
            error = _forbidden(attrs, _object_name(attrs, obj),
                               f"unable to create new content in namespace {attrs.namespace} "
                               "because it is being terminated")
            error.details["causes"] = [{"reason": NAMESPACE_TERMINATING_CAUSE,
                                        "message": f"namespace {attrs.namespace} is being terminated",
                                        "field": "metadata.namespace"}]
            raise error


def _terminating(namespace: Mapping[str, Any]) -> bool:
    status = namespace.get("status") or {}
    meta = namespace.get("metadata") or {}
    # The registry sets both together; either one means the namespace is on its way out.
    return status.get("phase") == "Terminating" or bool(meta.get("deletionTimestamp"))


def _object_name(attrs: RequestAttributes, obj: Mapping[str, Any] | None) -> str:
    if attrs.name:
        return attrs.name
    meta = (obj or {}).get("metadata") or {}
    # Before name generation has run, generateName is all there is.
    return meta.get("name") or meta.get("generateName") or "Unknown"


def _forbidden(attrs: RequestAttributes, name: str, why: str) -> AdmissionError:
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    details: dict[str, Any] = {"name": name, "kind": attrs.resource}
    if attrs.api_group:
        details["group"] = attrs.api_group
    return AdmissionError(403, "Forbidden", f'{qualified} "{name}" is forbidden: {why}', details)
