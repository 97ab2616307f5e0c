"""Access and identity reviews: objects that are created, answered and never stored.

- SelfSubjectAccessReview / SubjectAccessReview: "may this user do that?" (`kubectl auth can-i`)
- SelfSubjectRulesReview: everything the user may do in a namespace (`kubectl auth can-i --list`)
- SelfSubjectReview: who the server thinks you are (`kubectl auth whoami`)

The answer is the request object with its `status` filled in, returned with 201 Created.
"""
from __future__ import annotations

from typing import Any

from pykube_plane.apiserver import status as st

from .authn import UserInfo
from .rbac import RBACAuthorizer, attributes_from_review_spec


def _spec(body: dict) -> dict:
    spec = body.get("spec")
    if not isinstance(spec, dict):
        raise st.invalid(body.get("kind", ""), "authorization.k8s.io", "",
                         f'{body.get("kind", "")}.authorization.k8s.io "" is invalid: spec: Required value',
                         [{"reason": "FieldValueRequired", "message": "Required value", "field": "spec"}])
    return spec


def _check_attributes(kind: str, spec: dict) -> None:
    has_resource = bool(spec.get("resourceAttributes"))
    has_non_resource = bool(spec.get("nonResourceAttributes"))
    if has_resource == has_non_resource:
        message = ("exactly one of nonResourceAttributes or resourceAttributes must be specified")
        raise st.invalid(kind, "authorization.k8s.io", "",
                         f'{kind}.authorization.k8s.io "" is invalid: spec.resourceAttributes: Invalid value: '
                         f'"null": {message}',
                         [{"reason": "FieldValueInvalid", "message": message, "field": "spec.resourceAttributes"}])


def _decide(authorizer: RBACAuthorizer | None, attrs: Any) -> dict[str, Any]:
    if authorizer is None:
        return {"allowed": True}
    allowed, reason = authorizer.authorize(attrs)
    status: dict[str, Any] = {"allowed": allowed}
    if reason:
        status["reason"] = reason
    return status


def self_subject_access_review(body: dict, user: UserInfo, authorizer: RBACAuthorizer | None) -> dict:
    spec = _spec(body)
    _check_attributes("SelfSubjectAccessReview", spec)
    out = dict(body)
    out.setdefault("metadata", {})
    out["status"] = _decide(authorizer, attributes_from_review_spec(spec, user))
    return out


def subject_access_review(body: dict, authorizer: RBACAuthorizer | None) -> dict:
    spec = _spec(body)
    _check_attributes("SubjectAccessReview", spec)
    if not spec.get("user") and not spec.get("groups"):
        message = "at least one of user or group must be specified"
        raise st.invalid("SubjectAccessReview", "authorization.k8s.io", "",
                         f'SubjectAccessReview.authorization.k8s.io "" is invalid: spec.user: Invalid value: "": '
                         f"{message}",
                         [{"reason": "FieldValueInvalid", "message": message, "field": "spec.user"}])
    subject = UserInfo(spec.get("user", ""), tuple(spec.get("groups") or ()), spec.get("uid", ""))
    out = dict(body)
    out.setdefault("metadata", {})
    out["status"] = _decide(authorizer, attributes_from_review_spec(spec, subject))
    return out


def self_subject_rules_review(body: dict, user: UserInfo, authorizer: RBACAuthorizer | None) -> dict:
    spec = body.get("spec") if isinstance(body.get("spec"), dict) else {}
    namespace = spec.get("namespace", "")
    out = dict(body)
    out.setdefault("metadata", {})
    if authorizer is None:
        out["status"] = {"resourceRules": [{"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]}],
                         "nonResourceRules": [{"verbs": ["*"], "nonResourceURLs": ["*"]}], "incomplete": False}
    else:
        out["status"] = authorizer.rules_for(user, namespace).to_status()
    return out


def self_subject_review(body: dict, user: UserInfo) -> dict:
    out = dict(body)
    out.setdefault("metadata", {})
    info: dict[str, Any] = {"username": user.name, "groups": list(user.groups)}
    if user.uid:
        info["uid"] = user.uid
    out["status"] = {"userInfo": info}
    return out
