"""Authorization: request attributes (k8s RequestInfo) and the RBAC authorizer.

`request_attributes` turns method + path + query into what RBAC reasons about, exactly as
apiserver/pkg/endpoints/request/requestinfo.go does:

    GET    /api/v1/namespaces/ns/pods               list pods in ns
    GET    /api/v1/pods?watch=1                      watch pods, all namespaces
    GET    /api/v1/watch/namespaces/ns/pods          watch pods in ns (legacy /watch/ prefix)
    GET    /api/v1/namespaces/ns/pods?fieldSelector=metadata.name%3Dx   list, name "x"
    POST   /api/v1/namespaces/ns/pods/x/binding      create pods/binding "x" in ns
    DELETE /apis/apps/v1/namespaces/ns/deployments   deletecollection deployments.apps in ns
    GET    /api/v1/namespaces/ns                     get namespaces "ns" (namespace "ns")
    GET    /healthz, /version, /api, /apis/apps/v1   non-resource: verb "get", path

`RBACAuthorizer` keeps Roles, ClusterRoles and their bindings from watch events and indexes
bindings by subject, so a decision looks up only the bindings naming the user or one of its
groups (ClusterRoleBindings first, then RoleBindings of the request's namespace), never scans all.
Rule matching follows plugin/pkg/auth/authorizer/rbac/rbac.go: "*" wildcards for verbs, groups,
resources and URLs, "resource/subresource" and "*/subresource", resourceNames (which never match
a request without a name, e.g. create), nonResourceURLs with a trailing "*" as prefix.
Aggregated ClusterRoles (aggregationRule) are resolved here: their rules are the union of the
rules of every ClusterRole their selectors match, recursively.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Mapping
from urllib.parse import parse_qs

from pykube_plane.api.watchevents import ADDED, DELETED, MODIFIED
from pykube_plane.apiserver.auth.authn import SYSTEM_PRIVILEGED_GROUP, UserInfo

RBAC_GROUP = "rbac.authorization.k8s.io"
RESOURCE_KINDS = ("roles", "clusterroles", "rolebindings", "clusterrolebindings")

_API_PREFIXES = frozenset(("api", "apis"))
_GROUPLESS_PREFIXES = frozenset(("api",))
_SPECIAL_VERBS = frozenset(("proxy", "watch"))
_SPECIAL_VERBS_NO_SUBRESOURCES = frozenset(("proxy",))
# /api/v1/namespaces/{ns}/status is the namespace's own subresource, not a resource "status".
_NAMESPACE_SUBRESOURCES = frozenset(("status", "finalize"))
_METHOD_VERBS = {"POST": "create", "GET": "get", "HEAD": "get", "PUT": "update",
                 "PATCH": "patch", "DELETE": "delete"}


# ---------------------------------------------------------------------------------------------
# Request attributes


@dataclass(frozen=True, slots=True)
class RequestAttributes:
    """authorizer.Attributes: who wants to do what to which object or path."""

    user: UserInfo
    verb: str
    resource_request: bool
    api_group: str = ""
    api_version: str = ""
    resource: str = ""
    subresource: str = ""
    namespace: str = ""
    name: str = ""
    path: str = ""

    @property
    def combined_resource(self) -> str:
        return f"{self.resource}/{self.subresource}" if self.subresource else self.resource


def request_attributes(method: str, path: str, query: Mapping[str, str] | str | None,
                       user: UserInfo) -> RequestAttributes:
    """Resolve k8s RequestInfo for an HTTP request (`path` already URL-decoded, no query).

    A path the resolver cannot make sense of (e.g. "/api/v1/watch" with nothing after) still
    yields attributes — resource request, empty resource — so RBAC, then routing, answer it.
    """
    trimmed = path.strip("/")
    parts = trimmed.split("/") if trimmed else []
    verb = method.lower()
    if len(parts) < 3 or parts[0] not in _API_PREFIXES:
        return RequestAttributes(user, verb, False, path=path)
    prefix = parts[0]
    parts = parts[1:]
    group = ""
    if prefix not in _GROUPLESS_PREFIXES:
        if len(parts) < 3:
            return RequestAttributes(user, verb, False, path=path)
        group = parts[0]
        parts = parts[1:]
    version = parts[0]
    parts = parts[1:]

    if parts[0] in _SPECIAL_VERBS:
        verb = parts[0]
        if len(parts) < 2:
            return RequestAttributes(user, verb, True, group, version, path=path)
        parts = parts[1:]
    else:
        verb = _METHOD_VERBS.get(method.upper(), "")

    namespace = ""
    if parts[0] == "namespaces" and len(parts) > 1:
        namespace = parts[1]
        if len(parts) > 2 and parts[2] not in _NAMESPACE_SUBRESOURCES:
            parts = parts[2:]

    resource = parts[0]
    name = parts[1] if len(parts) >= 2 else ""
    subresource = parts[2] if len(parts) >= 3 and verb not in _SPECIAL_VERBS_NO_SUBRESOURCES else ""

    if not name and verb == "get":
        params = _query_params(query)
        watch = params.get("watch")
        verb = "watch" if watch is not None and watch.lower() not in ("false", "0") else "list"
        selector = params.get("fieldSelector")
        if selector:
            name = exact_name(selector)
    if not name and verb == "delete":
        verb = "deletecollection"
    return RequestAttributes(user, verb, True, group, version, resource, subresource,
                             namespace, name, path)


def attributes_from_review_spec(spec: Mapping[str, Any], user: UserInfo) -> RequestAttributes:
    """Attributes of a (Self)SubjectAccessReview spec — what `kubectl auth can-i` asks."""
    resource = spec.get("resourceAttributes")
    if resource:
        return RequestAttributes(
            user, resource.get("verb", ""), True, resource.get("group", ""),
            resource.get("version", ""), resource.get("resource", ""),
            resource.get("subresource", ""), resource.get("namespace", ""), resource.get("name", ""))
    non_resource = spec.get("nonResourceAttributes") or {}
    return RequestAttributes(user, non_resource.get("verb", ""), False, path=non_resource.get("path", ""))


def _query_params(query: Mapping[str, str] | str | None) -> Mapping[str, str]:
    if query is None:
        return {}
    if isinstance(query, str):
        return {k: v[0] for k, v in parse_qs(query.lstrip("?"), keep_blank_values=True).items()}
    return query


def exact_name(selector: str) -> str:
    """The name a field selector pins with metadata.name=x (or ==), as RequiresExactMatch."""
    for term in _split_unescaped(selector, ","):
        if "!=" in term:
            continue
        key, sep, value = term.partition("==")
        if not sep:
            key, sep, value = term.partition("=")
        if sep and key.strip() == "metadata.name":
            value = value.replace("\\,", ",").replace("\\=", "=").replace("\\\\", "\\")
            if value and value not in (".", "..") and "/" not in value and "%" not in value:
                return value
    return ""


def _split_unescaped(text: str, sep: str) -> list[str]:
    out, cur, escaped = [], [], False
    for ch in text:
        if escaped:
            cur.append(ch)
            escaped = False
        elif ch == "\\":
            cur.append(ch)
            escaped = True
        elif ch == sep:
            out.append("".join(cur))
            cur = []
        else:
            cur.append(ch)
    out.append("".join(cur))
    return out


# ---------------------------------------------------------------------------------------------
# Messages


def forbidden_message(attrs: RequestAttributes, reason: str = "") -> str:
    """k8s' 403 message, e.g. 'pods is forbidden: User "x" cannot list resource "pods" in API
    group "" in the namespace "y"'."""
    user = attrs.user.name
    if not attrs.resource_request:
        detail = f'User "{user}" cannot {attrs.verb} path "{attrs.path}"'
    elif attrs.namespace:
        detail = (f'User "{user}" cannot {attrs.verb} resource "{attrs.combined_resource}" '
                  f'in API group "{attrs.api_group}" in the namespace "{attrs.namespace}"')
    else:
        detail = (f'User "{user}" cannot {attrs.verb} resource "{attrs.combined_resource}" '
                  f'in API group "{attrs.api_group}" at the cluster scope')
    if reason:
        detail = f"{detail}: {reason}"
    # apierrors.NewForbidden: "<resource>[.<group>] ["<name>"] is forbidden: <detail>"
    qualified = f"{attrs.resource}.{attrs.api_group}" if attrs.api_group else attrs.resource
    if not attrs.resource_request or not qualified:
        return f"forbidden: {detail}"
    if attrs.name:
        return f'{qualified} "{attrs.name}" is forbidden: {detail}'
    return f"{qualified} is forbidden: {detail}"


def forbidden_status(attrs: RequestAttributes, reason: str = "") -> dict[str, Any]:
    """The Status object kube-apiserver sends with 403."""
    details: dict[str, str] = {}
    if attrs.resource_request:
        if attrs.name:
            details["name"] = attrs.name
        if attrs.api_group:
            details["group"] = attrs.api_group
        if attrs.resource:
            details["kind"] = attrs.resource
    return {"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
            "message": forbidden_message(attrs, reason), "reason": "Forbidden",
            "details": details, "code": 403}


# ---------------------------------------------------------------------------------------------
# Rules


class PolicyRule:
    """One rule compiled for matching: sets instead of lists, wildcards as flags."""

    __slots__ = ("source", "verbs", "any_verb", "groups", "any_group", "resources",
                 "any_resource", "any_resource_subresources", "names", "urls", "url_prefixes",
                 "any_url")

    def __init__(self, rule: Mapping[str, Any]) -> None:
        self.source = {key: list(rule[key]) for key in
                       ("verbs", "apiGroups", "resources", "resourceNames", "nonResourceURLs")
                       if rule.get(key)}
        verbs = rule.get("verbs") or ()
        self.verbs = frozenset(verbs)
        self.any_verb = "*" in self.verbs
        self.groups = frozenset(rule.get("apiGroups") or ())
        self.any_group = "*" in self.groups
        self.resources = frozenset(rule.get("resources") or ())
        self.any_resource = "*" in self.resources
        # "*/scale" grants the scale subresource of every resource
        self.any_resource_subresources = frozenset(
            r[2:] for r in self.resources if r.startswith("*/") and len(r) > 2)
        self.names = frozenset(rule.get("resourceNames") or ())
        urls = rule.get("nonResourceURLs") or ()
        self.any_url = "*" in urls
        self.urls = frozenset(u for u in urls if not u.endswith("*"))
        self.url_prefixes = tuple(u.rstrip("*") for u in urls if u.endswith("*") and u != "*")

    def allows(self, attrs: RequestAttributes) -> bool:
        if not (self.any_verb or attrs.verb in self.verbs):
            return False
        if attrs.resource_request:
            if not (self.any_group or attrs.api_group in self.groups):
                return False
            if not (self.any_resource or attrs.combined_resource in self.resources
                    or (attrs.subresource and attrs.subresource in self.any_resource_subresources)):
                return False
            return not self.names or attrs.name in self.names
        if self.any_url or attrs.path in self.urls:
            return True
        return any(attrs.path.startswith(prefix) for prefix in self.url_prefixes)

    def key(self) -> tuple:
        return tuple((k, tuple(v)) for k, v in sorted(self.source.items()))


def compile_rules(rules: Iterable[Mapping[str, Any]] | None) -> tuple[PolicyRule, ...]:
    return tuple(PolicyRule(rule) for rule in rules or () if isinstance(rule, Mapping))


@dataclass(frozen=True)
class RulesReview:
    """What SelfSubjectRulesReview reports (kubectl auth can-i --list)."""

    resource_rules: tuple[dict[str, Any], ...]
    non_resource_rules: tuple[dict[str, Any], ...]
    incomplete: bool = False
    evaluation_error: str = ""

    def to_status(self) -> dict[str, Any]:
        status: dict[str, Any] = {"resourceRules": [dict(r) for r in self.resource_rules],
                                  "nonResourceRules": [dict(r) for r in self.non_resource_rules],
                                  "incomplete": self.incomplete}
        if self.evaluation_error:
            status["evaluationError"] = self.evaluation_error
        return status


# ---------------------------------------------------------------------------------------------
# Stored objects as the authorizer keeps them

SubjectKey = tuple[str, str]  # ("User", name) or ("Group", name)


@dataclass(frozen=True, slots=True)
class _Binding:
    namespace: str          # "" for a ClusterRoleBinding
    name: str
    role_kind: str          # "Role" or "ClusterRole"
    role_name: str
    subjects: tuple[tuple[SubjectKey, str], ...]  # (index key, description for reasons)

    def describe(self, subject: str) -> str:
        if self.namespace:
            return f'RoleBinding "{self.name}/{self.namespace}" of {self.role_kind} "{self.role_name}" to {subject}'
        return f'ClusterRoleBinding "{self.name}" of {self.role_kind} "{self.role_name}" to {subject}'


@dataclass(frozen=True, slots=True)
class _ClusterRole:
    rules: tuple[PolicyRule, ...]
    labels: Mapping[str, str]
    selectors: tuple[Mapping[str, Any], ...] | None  # aggregationRule.clusterRoleSelectors


def _subject_entries(subjects: Any, binding_namespace: str) -> tuple[tuple[SubjectKey, str], ...]:
    entries: list[tuple[SubjectKey, str]] = []
    for subject in subjects or ():
        if not isinstance(subject, Mapping):
            continue
        kind, name = subject.get("kind", ""), subject.get("name", "")
        if not name:
            continue
        if kind in ("User", "Group"):
            entries.append(((kind, name), f'{kind} "{name}"'))
        elif kind == "ServiceAccount":
            # A service account is the user system:serviceaccount:<ns>:<name>.
            namespace = subject.get("namespace") or binding_namespace
            entries.append((("User", f"system:serviceaccount:{namespace}:{name}"),
                            f'ServiceAccount "{name}/{namespace}"'))
    return tuple(entries)


def _selector_matches(selector: Mapping[str, Any], labels: Mapping[str, str]) -> bool:
    for key, value in (selector.get("matchLabels") or {}).items():
        if labels.get(key) != value:
            return False
    for expr in selector.get("matchExpressions") or ():
        key, op, values = expr.get("key", ""), expr.get("operator", ""), expr.get("values") or ()
        if op == "In" and labels.get(key) not in values:
            return False
        if op == "NotIn" and key in labels and labels[key] in values:
            return False
        if op == "Exists" and key not in labels:
            return False
        if op == "DoesNotExist" and key in labels:
            return False
        if op not in ("In", "NotIn", "Exists", "DoesNotExist"):
            return False
    return True


# ---------------------------------------------------------------------------------------------
# The authorizer


class RBACAuthorizer:
    """RBAC over Roles, ClusterRoles and bindings fed by `update` (watch events).

    Members of `privileged_groups` (system:masters) are allowed everything before RBAC is
    consulted, as kube-apiserver's privileged-group authorizer does.
    """

    def __init__(self, privileged_groups: Iterable[str] = (SYSTEM_PRIVILEGED_GROUP,)) -> None:
        self._privileged = frozenset(privileged_groups)
        self._roles: dict[tuple[str, str], tuple[PolicyRule, ...]] = {}
        self._cluster_roles: dict[str, _ClusterRole] = {}
        self._role_bindings: dict[tuple[str, str], _Binding] = {}
        self._cluster_role_bindings: dict[str, _Binding] = {}
        # Indexes: subject -> binding names -> subject description.
        self._crb_by_subject: dict[SubjectKey, dict[str, str]] = {}
        self._rb_by_subject: dict[tuple[str, SubjectKey], dict[str, str]] = {}
        # Effective rules of ClusterRoles (aggregation resolved); cleared on any ClusterRole change.
        self._effective: dict[str, tuple[PolicyRule, ...]] = {}

    # -- feeding -----------------------------------------------------------------------------

    def update(self, resource: str, event_type: str, obj: Mapping[str, Any]) -> None:
        """Apply one watch event: resource in RESOURCE_KINDS, event ADDED / MODIFIED / DELETED."""
        meta = obj.get("metadata") or {}
        name, namespace = meta.get("name", ""), meta.get("namespace", "") or ""
        deleted = event_type == DELETED
        if event_type not in (ADDED, MODIFIED, DELETED) or not name:
            return
        if resource == "roles":
            if deleted:
                self._roles.pop((namespace, name), None)
            else:
                self._roles[(namespace, name)] = compile_rules(obj.get("rules"))
        elif resource == "clusterroles":
            self._effective.clear()
            if deleted:
                self._cluster_roles.pop(name, None)
            else:
                aggregation = obj.get("aggregationRule")
                selectors = None
                if isinstance(aggregation, Mapping) and aggregation.get("clusterRoleSelectors") is not None:
                    selectors = tuple(s for s in aggregation["clusterRoleSelectors"] if isinstance(s, Mapping))
                self._cluster_roles[name] = _ClusterRole(compile_rules(obj.get("rules")),
                                                         dict(meta.get("labels") or {}), selectors)
        elif resource == "rolebindings":
            self._unindex_role_binding(namespace, name)
            if not deleted:
                binding = self._binding(obj, namespace, name)
                self._role_bindings[(namespace, name)] = binding
                for key, description in binding.subjects:
                    self._rb_by_subject.setdefault((namespace, key), {})[name] = description
        elif resource == "clusterrolebindings":
            self._unindex_cluster_role_binding(name)
            if not deleted:
                binding = self._binding(obj, "", name)
                self._cluster_role_bindings[name] = binding
                for key, description in binding.subjects:
                    self._crb_by_subject.setdefault(key, {})[name] = description
        else:
            raise ValueError(f"RBACAuthorizer does not keep {resource!r}")

    def replace(self, resource: str, objects: Iterable[Mapping[str, Any]]) -> None:
        """Drop every object of `resource` and load `objects` (after a relist)."""
        if resource == "roles":
            self._roles.clear()
        elif resource == "clusterroles":
            self._cluster_roles.clear()
            self._effective.clear()
        elif resource == "rolebindings":
            self._role_bindings.clear()
            self._rb_by_subject.clear()
        elif resource == "clusterrolebindings":
            self._cluster_role_bindings.clear()
            self._crb_by_subject.clear()
        else:
            raise ValueError(f"RBACAuthorizer does not keep {resource!r}")
        for obj in objects:
            self.update(resource, ADDED, obj)

    @staticmethod
    def _binding(obj: Mapping[str, Any], namespace: str, name: str) -> _Binding:
        ref = obj.get("roleRef") or {}
        kind = ref.get("kind", "ClusterRole" if not namespace else "")
        if not namespace:
            kind = "ClusterRole"  # a ClusterRoleBinding can only grant a ClusterRole
        return _Binding(namespace, name, kind, ref.get("name", ""),
                        _subject_entries(obj.get("subjects"), namespace))

    def _unindex_role_binding(self, namespace: str, name: str) -> None:
        old = self._role_bindings.pop((namespace, name), None)
        if old is None:
            return
        for key, _ in old.subjects:
            names = self._rb_by_subject.get((namespace, key))
            if names is not None:
                names.pop(name, None)
                if not names:
                    del self._rb_by_subject[(namespace, key)]

    def _unindex_cluster_role_binding(self, name: str) -> None:
        old = self._cluster_role_bindings.pop(name, None)
        if old is None:
            return
        for key, _ in old.subjects:
            names = self._crb_by_subject.get(key)
            if names is not None:
                names.pop(name, None)
                if not names:
                    del self._crb_by_subject[key]

    # -- deciding ----------------------------------------------------------------------------

    def authorize(self, attrs: RequestAttributes) -> tuple[bool, str]:
        """(allowed, reason). Denied with an empty reason unless a binding points at a missing role."""
        user = attrs.user
        if self._privileged and not self._privileged.isdisjoint(user.groups):
            return True, ""
        errors: list[str] = []
        for binding, subject, rules, error in self._visit(user, attrs.namespace):
            if error:
                errors.append(error)
                continue
            for rule in rules:
                if rule.allows(attrs):
                    return True, f"RBAC: allowed by {binding.describe(subject)}"
        if not errors:
            return False, ""
        return False, "RBAC: " + (errors[0] if len(errors) == 1 else "[" + ", ".join(errors) + "]")

    def rules_for(self, user: UserInfo, namespace: str) -> RulesReview:
        """Every rule that applies to `user` in `namespace` (SelfSubjectRulesReview)."""
        resource_rules: list[dict[str, Any]] = []
        non_resource_rules: list[dict[str, Any]] = []
        if self._privileged and not self._privileged.isdisjoint(user.groups):
            resource_rules.append({"verbs": ["*"], "apiGroups": ["*"], "resources": ["*"]})
            non_resource_rules.append({"verbs": ["*"], "nonResourceURLs": ["*"]})
        errors: list[str] = []
        seen: set[tuple] = set()
        for _, _, rules, error in self._visit(user, namespace):
            if error:
                errors.append(error)
                continue
            for rule in rules:
                key = rule.key()
                if key in seen:
                    continue
                seen.add(key)
                src = rule.source
                if src.get("resources"):
                    entry = {"verbs": src.get("verbs", []), "apiGroups": src.get("apiGroups", []),
                             "resources": src["resources"]}
                    if src.get("resourceNames"):
                        entry["resourceNames"] = src["resourceNames"]
                    resource_rules.append(entry)
                if src.get("nonResourceURLs"):
                    non_resource_rules.append({"verbs": src.get("verbs", []),
                                               "nonResourceURLs": src["nonResourceURLs"]})
        return RulesReview(tuple(resource_rules), tuple(non_resource_rules), bool(errors),
                           "; ".join(errors))

    def _visit(self, user: UserInfo, namespace: str):
        """Yield (binding, subject description, rules, error) for every binding naming the user:
        ClusterRoleBindings first, then RoleBindings in `namespace`."""
        keys: list[SubjectKey] = [("User", user.name)]
        keys.extend(("Group", group) for group in user.groups)
        for key in keys:
            for name, subject in self._crb_by_subject.get(key, {}).items():
                binding = self._cluster_role_bindings[name]
                rules = self._cluster_role_rules(binding.role_name)
                if rules is None:
                    yield binding, subject, (), f'clusterrole.rbac.authorization.k8s.io "{binding.role_name}" not found'
                else:
                    yield binding, subject, rules, ""
        if not namespace:
            return
        for key in keys:
            for name, subject in self._rb_by_subject.get((namespace, key), {}).items():
                binding = self._role_bindings[(namespace, name)]
                if binding.role_kind == "Role":
                    rules = self._roles.get((namespace, binding.role_name))
                    missing = f'role.rbac.authorization.k8s.io "{binding.role_name}" not found'
                elif binding.role_kind == "ClusterRole":
                    rules = self._cluster_role_rules(binding.role_name)
                    missing = f'clusterrole.rbac.authorization.k8s.io "{binding.role_name}" not found'
                else:
                    rules, missing = None, f'unsupported role reference kind: "{binding.role_kind}"'
                if rules is None:
                    yield binding, subject, (), missing
                else:
                    yield binding, subject, rules, ""

    def _cluster_role_rules(self, name: str) -> tuple[PolicyRule, ...] | None:
        cached = self._effective.get(name)
        if cached is not None:
            return cached
        if name not in self._cluster_roles:
            return None
        rules = self._aggregate(name, set())
        self._effective[name] = rules
        return rules

    def _aggregate(self, name: str, visiting: set[str]) -> tuple[PolicyRule, ...]:
        role = self._cluster_roles[name]
        if role.selectors is None:
            return role.rules
        visiting.add(name)
        seen = {rule.key() for rule in role.rules}
        rules = list(role.rules)
        for other_name, other in self._cluster_roles.items():
            if other_name in visiting:
                continue
            if not any(_selector_matches(s, other.labels) for s in role.selectors):
                continue
            for rule in self._aggregate(other_name, visiting):
                key = rule.key()
                if key not in seen:
                    seen.add(key)
                    rules.append(rule)
        visiting.discard(name)
        return tuple(rules)
