"""The indexed RBACAuthorizer decides exactly as a plain scan of every binding would.

The reference below is a direct reading of rbac.go + rbac/v1 helpers: walk all
ClusterRoleBindings, then all RoleBindings of the namespace, and test each rule. Hypothesis
drives both through random event sequences (adds, modifications, deletions) and compares the
decisions for every request of a small universe.
"""
from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from pykube_plane.apiserver.auth.authn import UserInfo
from pykube_plane.apiserver.auth.rbac import RBACAuthorizer, RequestAttributes

NAMESPACES = ["a", "b"]
USERS = ["alice", "bob", "system:serviceaccount:a:sa"]
GROUPS = ["devs", "ops"]
ROLE_NAMES = ["r1", "r2", "r3"]
VERBS = ["get", "list", "create", "delete"]
API_GROUPS = ["", "apps"]
RESOURCES = ["pods", "pods/status", "deployments", "secrets"]
OBJECT_NAMES = ["", "x"]
PATHS = ["/healthz", "/logs/a", "/version"]


def rule_strategy():
    resource_rule = st.fixed_dictionaries({
        "verbs": st.lists(st.sampled_from(VERBS + ["*"]), min_size=1, max_size=2),
        "apiGroups": st.lists(st.sampled_from(API_GROUPS + ["*"]), min_size=1, max_size=2),
        "resources": st.lists(st.sampled_from(RESOURCES + ["*", "*/status"]), min_size=1, max_size=2),
    }, optional={"resourceNames": st.lists(st.sampled_from(["x", "y"]), min_size=1, max_size=2)})
    url_rule = st.fixed_dictionaries({
        "verbs": st.lists(st.sampled_from(["get", "*"]), min_size=1, max_size=1),
        "nonResourceURLs": st.lists(st.sampled_from(PATHS + ["/logs/*", "*"]), min_size=1, max_size=2),
    })
    return st.one_of(resource_rule, url_rule)


subjects = st.lists(st.one_of(
    st.builds(lambda n: {"kind": "User", "name": n}, st.sampled_from(USERS)),
    st.builds(lambda n: {"kind": "Group", "name": n}, st.sampled_from(GROUPS)),
    st.builds(lambda ns: {"kind": "ServiceAccount", "name": "sa", "namespace": ns}, st.sampled_from(NAMESPACES)),
    st.just({"kind": "ServiceAccount", "name": "sa"}),
), min_size=1, max_size=3)


@st.composite
def objects(draw, kind: str, name: str, ns: str = "") -> dict:
    obj: dict = {"metadata": {"name": name, "namespace": ns} if ns else {"name": name}}
    if kind in ("roles", "clusterroles"):
        obj["rules"] = draw(st.lists(rule_strategy(), max_size=3))
    else:
        ref_kind = "ClusterRole" if kind == "clusterrolebindings" else draw(st.sampled_from(["Role", "ClusterRole"]))
        obj["roleRef"] = {"kind": ref_kind, "name": draw(st.sampled_from(ROLE_NAMES))}
        obj["subjects"] = draw(subjects)
    return obj


@st.composite
def worlds(draw) -> list[tuple[str, str, dict]]:
    """Every role and binding name present in every scope, so most queries meet some rule."""
    out = []
    for name in ROLE_NAMES:
        for kind in ("clusterroles", "clusterrolebindings"):
            out.append((kind, "ADDED", draw(objects(kind, name))))
        for ns in NAMESPACES:
            for kind in ("roles", "rolebindings"):
                out.append((kind, "ADDED", draw(objects(kind, name, ns))))
    return out


@st.composite
def events(draw) -> tuple[str, str, dict]:
    kind = draw(st.sampled_from(["roles", "clusterroles", "rolebindings", "clusterrolebindings"]))
    event = draw(st.sampled_from(["ADDED", "MODIFIED", "DELETED"]))
    ns = draw(st.sampled_from(NAMESPACES)) if kind in ("roles", "rolebindings") else ""
    return kind, event, draw(objects(kind, draw(st.sampled_from(ROLE_NAMES)), ns))


def all_queries() -> list[RequestAttributes]:
    """Every user x request of the small universe: each example checks them all, so a wrong
    decision cannot hide behind an unlucky sample."""
    people = [UserInfo(name, groups) for name in USERS for groups in ((), ("devs",), ("ops", "devs"))]
    out = []
    for user in people:
        for verb in VERBS:
            for group in API_GROUPS:
                for combined in RESOURCES:
                    resource, _, subresource = combined.partition("/")
                    for ns in NAMESPACES + [""]:
                        for name in OBJECT_NAMES:
                            out.append(RequestAttributes(user, verb, True, group, "v1", resource,
                                                         subresource, ns, name))
        for verb in ("get", "post"):
            for path in PATHS + ["/logs"]:
                out.append(RequestAttributes(user, verb, False, path=path))
    return out


QUERIES = all_queries()


class Reference:
    """Plain storage and a full scan, straight from the Go code."""

    def __init__(self) -> None:
        self.store: dict[str, dict] = {k: {} for k in ("roles", "clusterroles", "rolebindings", "clusterrolebindings")}

    def apply(self, kind: str, event: str, obj: dict) -> None:
        key = (obj["metadata"].get("namespace", ""), obj["metadata"]["name"])
        if event == "DELETED":
            self.store[kind].pop(key, None)
        else:
            self.store[kind][key] = obj

    @staticmethod
    def applies(subject: dict, user: UserInfo, binding_ns: str) -> bool:
        if subject["kind"] == "User":
            return user.name == subject["name"]
        if subject["kind"] == "Group":
            return subject["name"] in user.groups
        ns = subject.get("namespace") or binding_ns
        return user.name == f"system:serviceaccount:{ns}:{subject['name']}"

    @staticmethod
    def rule_allows(rule: dict, a: RequestAttributes) -> bool:
        verbs = rule.get("verbs", [])
        if "*" not in verbs and a.verb not in verbs:
            return False
        if a.resource_request:
            groups = rule.get("apiGroups", [])
            if "*" not in groups and a.api_group not in groups:
                return False
            combined = a.resource + ("/" + a.subresource if a.subresource else "")
            ok = False
            for res in rule.get("resources", []):
                if res == "*" or res == combined or (a.subresource and res == "*/" + a.subresource):
                    ok = True
            if not ok:
                return False
            names = rule.get("resourceNames", [])
            return not names or a.name in names
        for url in rule.get("nonResourceURLs", []):
            if url == "*" or url == a.path or (url.endswith("*") and a.path.startswith(url.rstrip("*"))):
                return True
        return False

    def allowed(self, a: RequestAttributes) -> bool:
        for (_, _), binding in self.store["clusterrolebindings"].items():
            if any(self.applies(s, a.user, "") for s in binding["subjects"]):
                role = self.store["clusterroles"].get(("", binding["roleRef"]["name"]))
                if role and any(self.rule_allows(r, a) for r in role["rules"]):
                    return True
        if a.namespace:
            for (ns, _), binding in self.store["rolebindings"].items():
                if ns != a.namespace or not any(self.applies(s, a.user, ns) for s in binding["subjects"]):
                    continue
                ref = binding["roleRef"]
                store = "roles" if ref["kind"] == "Role" else "clusterroles"
                role = self.store[store].get((ns if ref["kind"] == "Role" else "", ref["name"]))
                if role and any(self.rule_allows(r, a) for r in role["rules"]):
                    return True
        return False


# Passing takes seconds; when a bug is found, shrinking to a small world can take minutes, and the
# project-wide 300 s timeout would cut it short into a confusing "flaky" report.
@pytest.mark.timeout(900)
@settings(max_examples=40, deadline=None)
@given(worlds(), st.lists(events(), max_size=12))
def test_indexed_authorizer_matches_full_scan(world, changes) -> None:
    indexed = RBACAuthorizer(privileged_groups=())
    reference = Reference()
    for kind, event, obj in world + changes:
        indexed.update(kind, event, obj)
        reference.apply(kind, event, obj)
    for attrs in QUERIES:
        assert indexed.authorize(attrs)[0] == reference.allowed(attrs), attrs
