"""Validation: field paths, reasons and k8s' messages, per kind, on create and on update."""
from __future__ import annotations

import base64
import copy

from hypothesis import given, settings
from hypothesis import strategies as st

from pykube_plane.api.defaults import apply_defaults, prepare_for_create
from pykube_plane.api.fielderrors import (FieldError, GoText, aggregate_message, causes, duplicate, forbidden,
                                          invalid, invalid_message, not_supported, required, too_long)
from pykube_plane.api.validation import validate

SUBDOMAIN_MSG = ("a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', "
                 "and must start and end with an alphanumeric character (e.g. 'example.com', regex used for "
                 "validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*')")


def ready(kind: str, obj: dict, namespace: str | None = "default") -> dict:
    """What the API server validates on create: namespaced, uid set, defaulted, prepared."""
    obj = copy.deepcopy(obj)
    meta = obj.setdefault("metadata", {})
    if namespace:
        meta.setdefault("namespace", namespace)
    meta.setdefault("uid", "0b6d6d1e-0000-4000-8000-000000000001")
    apply_defaults(kind, obj)
    prepare_for_create(kind, obj)
    return obj


def errors_of(kind: str, obj: dict, old: dict | None = None, **kw) -> list[str]:
    return [str(e) for e in validate(kind, obj, old, **kw)]


def pod(**spec) -> dict:
    base = {"containers": [{"name": "app", "image": "nginx:1.25"}]}
    base.update(spec)
    return ready("Pod", {"metadata": {"name": "web"}, "spec": base})


# -- FieldError rendering and Status texts -----------------------------------------------------------

def test_error_bodies_match_field_error():
    assert str(required("spec.containers")) == "spec.containers: Required value"
    assert str(required("metadata.name", "name or generateName is required")) == \
        "metadata.name: Required value: name or generateName is required"
    assert str(invalid("spec.replicas", -1, "must be greater than or equal to 0")) == \
        "spec.replicas: Invalid value: -1: must be greater than or equal to 0"
    assert str(invalid("x", "a\"b", "d")) == 'x: Invalid value: "a\\"b": d'
    assert str(invalid("x", True, "d")) == "x: Invalid value: true: d"
    assert str(invalid("x", None, "d")) == "x: Invalid value: null: d"
    assert str(invalid("x", ["a", "b"], "d")) == 'x: Invalid value: []string{"a", "b"}: d'
    assert str(invalid("x", {"b": "2", "a": "1"}, "d")) == 'x: Invalid value: map[string]string{"a":"1", "b":"2"}: d'
    assert str(invalid("x", GoText("rbac.RoleRef{}"), "d")) == "x: Invalid value: rbac.RoleRef{}: d"
    assert str(not_supported("spec.restartPolicy", "X", ["Always", "Never"])) == \
        'spec.restartPolicy: Unsupported value: "X": supported values: "Always", "Never"'
    assert str(duplicate("spec.containers[1].name", "a")) == 'spec.containers[1].name: Duplicate value: "a"'
    assert str(forbidden("metadata.namespace", "not allowed on this type")) == \
        "metadata.namespace: Forbidden: not allowed on this type"
    assert str(too_long("metadata.annotations", 262144)) == \
        "metadata.annotations: Too long: must have at most 262144 bytes"


def test_invalid_message_and_causes():
    errors = [required("spec.containers[0].image"), required("spec.containers[0].image"),
              invalid("metadata.name", "X", "bad")]
    assert invalid_message("Pod", "web", errors) == \
        'Pod "web" is invalid: [spec.containers[0].image: Required value, metadata.name: Invalid value: "X": bad]'
    assert invalid_message("Deployment", "d", errors[:1]) == \
        'Deployment.apps "d" is invalid: spec.containers[0].image: Required value'
    assert invalid_message("ClusterRole", "r", errors[:1]).startswith('ClusterRole.rbac.authorization.k8s.io "r"')
    assert causes(errors[2:]) == [{"reason": "FieldValueInvalid", "message": 'Invalid value: "X": bad',
                                   "field": "metadata.name"}]
    assert aggregate_message(errors[:2]) == "spec.containers[0].image: Required value"


# -- metadata ---------------------------------------------------------------------------------------------

def test_names_per_kind():
    assert errors_of("Pod", ready("Pod", {"metadata": {"name": "Web"}, "spec": {"containers": [
        {"name": "a", "image": "b"}]}})) == [f'metadata.name: Invalid value: "Web": {SUBDOMAIN_MSG}']
    svc = ready("Service", {"metadata": {"name": "web.svc"}, "spec": {"ports": [{"port": 80}]}})
    assert errors_of("Service", svc)[0].startswith('metadata.name: Invalid value: "web.svc": a DNS-1035 label')
    ns = ready("Namespace", {"metadata": {"name": "a.b"}}, namespace=None)
    assert errors_of("Namespace", ns) == ['metadata.name: Invalid value: "a.b": must not contain dots']
    role = ready("Role", {"metadata": {"name": "system:a/b"}, "rules": []})
    assert errors_of("Role", role) == ["metadata.name: Invalid value: \"system:a/b\": may not contain '/'"]
    assert errors_of("Role", ready("Role", {"metadata": {"name": "system:controller:x"}})) == []


def test_metadata_rules():
    cm = ready("ConfigMap", {"metadata": {"generateName": "Bad_", "labels": {"app": "-x", "bad key!": "v"},
                                          "annotations": {"A.b/c": "fine", "a/b/c": "x"},
                                          "ownerReferences": [{"apiVersion": "v1", "kind": "", "name": "o",
                                                               "uid": "1"}],
                                          "finalizers": ["orphan", "foregroundDeletion"]}})
    got = errors_of("ConfigMap", cm)
    assert got[0].startswith('metadata.generateName: Invalid value: "Bad_": a lowercase RFC 1123 subdomain')
    assert got[1] == "metadata.name: Required value: name or generateName is required"
    assert any(e.startswith('metadata.labels: Invalid value: "-x": a valid label must be') for e in got)
    assert any(e.startswith('metadata.labels: Invalid value: "bad key!": name part must consist of') for e in got)
    assert any(e.startswith('metadata.annotations: Invalid value: "a/b/c": a valid label key must consist') for e in got)
    assert 'metadata.ownerReferences.kind: Invalid value: "": kind must not be empty' in got
    assert ('metadata.finalizers: Invalid value: []string{"orphan", "foregroundDeletion"}: finalizer orphan and '
            'foregroundDeletion cannot be both set') in got
    assert errors_of("ConfigMap", ready("ConfigMap", {"metadata": {"name": "x"}}, namespace=None)) == \
        ["metadata.namespace: Required value"]
    node = ready("Node", {"metadata": {"name": "n", "namespace": "default"}}, namespace=None)
    assert errors_of("Node", node) == ["metadata.namespace: Forbidden: not allowed on this type"]


def test_annotation_size_limit():
    cm = ready("ConfigMap", {"metadata": {"name": "x", "annotations": {"a": "x" * (256 * 1024)}}})
    assert errors_of("ConfigMap", cm) == ["metadata.annotations: Too long: must have at most 262144 bytes"]
    cm["metadata"]["annotations"] = {"a": "x" * (256 * 1024 - 1)}
    assert errors_of("ConfigMap", cm) == []


def test_metadata_immutable_on_update():
    old = ready("ConfigMap", {"metadata": {"name": "x", "resourceVersion": "5", "creationTimestamp": "2024-01-01T00:00:00Z"}})
    new = copy.deepcopy(old)
    new["metadata"].update(name="y", namespace="other", uid="different",
                           creationTimestamp="2025-01-01T00:00:00Z")
    assert errors_of("ConfigMap", new, old) == [
        'metadata.name: Invalid value: "y": field is immutable',
        'metadata.namespace: Invalid value: "other": field is immutable',
        'metadata.uid: Invalid value: "different": field is immutable',
        'metadata.creationTimestamp: Invalid value: "2025-01-01T00:00:00Z": field is immutable']
    deleting = copy.deepcopy(old)
    deleting["metadata"].update(deletionTimestamp="2024-02-01T00:00:00Z", finalizers=["a/b"])
    added = copy.deepcopy(deleting)
    added["metadata"]["finalizers"] = ["a/b", "c/d"]
    assert errors_of("ConfigMap", added, deleting) == [
        'metadata.finalizers: Forbidden: no new finalizers can be added if the object is being deleted, found new '
        'finalizers []string{"c/d"}']
    removed = copy.deepcopy(deleting)
    removed["metadata"]["finalizers"] = []
    assert errors_of("ConfigMap", removed, deleting) == []


def test_wrong_json_types_are_field_errors_not_exceptions():
    got = validate("Deployment", {"metadata": {"name": "d", "namespace": "n", "labels": "x"},
                                  "spec": {"replicas": "3", "template": []}})
    text = [str(e) for e in got]
    assert 'metadata.labels: Invalid value: "x": must be of type object' in text
    assert 'spec.replicas: Invalid value: "3": must be of type integer' in text
    assert "spec.template: Invalid value: array: must be of type object" in text
    assert all(e.type in ("FieldValueTypeInvalid", "FieldValueRequired", "FieldValueInvalid",
                          "FieldValueNotSupported") for e in got)
    assert [str(e) for e in validate("Pod", "not an object")] == ["': Invalid value: str: must be of type object"
                                                                  .replace("'", "")]


# -- Pod --------------------------------------------------------------------------------------------------

def test_valid_pod():
    assert errors_of("Pod", pod()) == []


def test_pod_containers():
    assert errors_of("Pod", pod(containers=[])) == ["spec.containers: Required value"]
    got = errors_of("Pod", pod(containers=[{"name": "a", "image": ""}, {"name": "a", "image": "x"},
                                           {"name": "Bad", "image": "x"}],
                               initContainers=[{"name": "a", "image": "x"}]))
    assert got == ["spec.containers[0].image: Required value",
                   'spec.containers[1].name: Duplicate value: "a"',
                   'spec.containers[2].name: Invalid value: "Bad": a lowercase RFC 1123 label must consist of lower '
                   "case alphanumeric characters or '-', and must start and end with an alphanumeric character "
                   "(e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')",
                   'spec.initContainers[0].name: Duplicate value: "a"']


def test_pod_ports_env_and_mounts():
    got = errors_of("Pod", pod(containers=[{
        "name": "a", "image": "x",
        "ports": [{"containerPort": 0}, {"containerPort": 65536, "name": "web"}, {"containerPort": 80, "name": "web"},
                  {"containerPort": 81, "name": "TOOLONGPORTNAME1", "protocol": "ICMP"}],
        "env": [{"name": "", "value": "v"}, {"name": "A=B"},
                {"name": "C", "value": "x", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                {"name": "D", "valueFrom": {"fieldRef": {"fieldPath": "spec.bogus"}}}],
        "volumeMounts": [{"name": "nope", "mountPath": "/a"}, {"name": "data", "mountPath": "/a"}]}],
        volumes=[{"name": "data", "emptyDir": {}}]))
    assert "spec.containers[0].ports[0].containerPort: Required value" in got
    assert "spec.containers[0].ports[1].containerPort: Invalid value: 65536: must be between 1 and 65535, inclusive" \
        in got
    assert 'spec.containers[0].ports[2].name: Duplicate value: "web"' in got
    assert 'spec.containers[0].ports[3].name: Invalid value: "TOOLONGPORTNAME1": must be no more than 15 characters' \
        in got
    assert 'spec.containers[0].ports[3].protocol: Unsupported value: "ICMP": supported values: "SCTP", "TCP", "UDP"' \
        in got
    assert "spec.containers[0].env[0].name: Required value" in got
    assert ('spec.containers[0].env[1].name: Invalid value: "A=B": a valid environment variable name must consist '
            "only of printable ASCII characters other than '='") in got
    assert ('spec.containers[0].env[2].valueFrom: Invalid value: "": may not be specified when `value` is not '
            "empty") in got
    assert any(e.startswith('spec.containers[0].env[3].valueFrom.fieldRef.fieldPath: Unsupported value: '
                            '"spec.bogus": supported values: "metadata.name"') for e in got)
    assert 'spec.containers[0].volumeMounts[0].name: Not found: "nope"' in got
    assert 'spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/a": must be unique' in got


def test_pod_resources():
    got = errors_of("Pod", pod(containers=[{"name": "a", "image": "x", "resources": {
        "requests": {"cpu": "2", "memory": "-1", "example.com/gpu": "1", "bogus": "1"},
        "limits": {"cpu": "1", "example.com/gpu": "2", "memory": "1Gx"}}}]))
    assert 'spec.containers[0].resources.requests: Invalid value: "2": must be less than or equal to cpu limit of 1' \
        in got
    assert 'spec.containers[0].resources.requests[memory]: Invalid value: "-1": must be greater than or equal to 0' \
        in got
    assert 'spec.containers[0].resources.requests: Invalid value: "1": must be equal to example.com/gpu limit of 2' \
        in got
    assert ('spec.containers[0].resources.requests[bogus]: Invalid value: "bogus": must be a standard resource for '
            "containers") in got
    assert ('spec.containers[0].resources.limits[memory]: Invalid value: "1Gx": quantities must match the regular '
            "expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'") in got
    got = errors_of("Pod", pod(containers=[{"name": "a", "image": "x", "resources": {
        "requests": {"example.com/gpu": "1"}}}]))
    assert got == ["spec.containers[0].resources.limits: Required value: Limit must be set for non overcommitable "
                   "resources"]


def test_pod_policies_probes_and_scheduling():
    got = errors_of("Pod", pod(restartPolicy="Sometimes", dnsPolicy="Nope", containers=[{
        "name": "a", "image": "x", "imagePullPolicy": "Maybe", "terminationMessagePolicy": "Bogus",
        "livenessProbe": {"successThreshold": 2, "periodSeconds": -1},
        "readinessProbe": {"exec": {"command": []}, "tcpSocket": {"port": 80}}}],
        tolerations=[{"operator": "Equal", "value": "x"}, {"key": "k", "operator": "Exists", "value": "v"},
                     {"key": "k", "effect": "Sometimes"}, {"key": "k", "tolerationSeconds": 5}],
        nodeName="Bad_Node", activeDeadlineSeconds=0))
    assert 'spec.restartPolicy: Unsupported value: "Sometimes": supported values: "Always", "OnFailure", "Never"' \
        in got
    assert ('spec.dnsPolicy: Unsupported value: "Nope": supported values: "ClusterFirstWithHostNet", '
            '"ClusterFirst", "Default", "None"') in got
    assert ('spec.containers[0].imagePullPolicy: Unsupported value: "Maybe": supported values: "Always", '
            '"IfNotPresent", "Never"') in got
    assert ('spec.containers[0].terminationMessagePolicy: Unsupported value: "Bogus": supported values: "File", '
            '"FallbackToLogsOnError"') in got
    assert "spec.containers[0].livenessProbe: Required value: must specify a handler type" in got
    assert "spec.containers[0].livenessProbe.successThreshold: Invalid value: 2: must be 1" in got
    assert "spec.containers[0].livenessProbe.periodSeconds: Invalid value: -1: must be greater than or equal to 0" \
        in got
    assert "spec.containers[0].readinessProbe.exec.command: Required value" in got
    assert "spec.containers[0].readinessProbe.tcpSocket: Forbidden: may not specify more than 1 handler type" in got
    assert ('spec.tolerations[0].operator: Invalid value: "Equal": operator must be Exists when `key` is empty, '
            'which means "match all values and all keys"') in got
    assert any(e.startswith("spec.tolerations[1].operator: Invalid value: core.Toleration{") and
               e.endswith("value must be empty when `operator` is 'Exists'") for e in got)
    assert ('spec.tolerations[2].effect: Unsupported value: "Sometimes": supported values: "NoSchedule", '
            '"PreferNoSchedule", "NoExecute"') in got
    assert ('spec.tolerations[3].effect: Invalid value: "": effect must be \'NoExecute\' when `tolerationSeconds` '
            "is set") in got
    assert f'spec.nodeName: Invalid value: "Bad_Node": {SUBDOMAIN_MSG}' in got
    assert "spec.activeDeadlineSeconds: Invalid value: 0: must be between 1 and 2147483647, inclusive" in got


def test_pod_volumes():
    got = errors_of("Pod", pod(volumes=[{"name": "a"}, {"name": "a", "emptyDir": {}},
                                        {"name": "b", "emptyDir": {}, "hostPath": {"path": "/x"}},
                                        {"name": "c", "secret": {}}, {"name": "Bad", "configMap": {"name": "x"}},
                                        {"name": "d", "projected": {"sources": [{"serviceAccountToken": {
                                            "path": "t", "expirationSeconds": 60}}]}}]))
    assert 'spec.volumes[1].name: Duplicate value: "a"' in got         # "a" alone was defaulted to emptyDir
    assert "spec.volumes[2].hostPath: Forbidden: may not specify more than 1 volume type" in got
    assert "spec.volumes[3].secret.secretName: Required value" in got
    assert any(e.startswith('spec.volumes[4].name: Invalid value: "Bad"') for e in got)
    assert ("spec.volumes[5].projected.sources[0].serviceAccountToken.expirationSeconds: Invalid value: 60: may "
            "not specify a duration less than 10 minutes") in got
    undefaulted = pod()
    undefaulted["spec"]["volumes"] = [{"name": "a"}, {"name": "a", "emptyDir": {}}]
    assert errors_of("Pod", undefaulted) == ["spec.volumes[0]: Required value: must specify a volume type"]


def test_pod_affinity_and_spread():
    got = errors_of("Pod", pod(affinity={
        "nodeAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": {"nodeSelectorTerms": []},
                         "preferredDuringSchedulingIgnoredDuringExecution": [{"weight": 0, "preference": {}}]},
        "podAntiAffinity": {"requiredDuringSchedulingIgnoredDuringExecution": [{"labelSelector": {
            "matchExpressions": [{"key": "a", "operator": "In"}]}}]}},
        topologySpreadConstraints=[{"maxSkew": 0, "topologyKey": "zone", "whenUnsatisfiable": "Whatever"}]))
    assert ("spec.affinity.nodeAffinity.requiredDuringSchedulingIgnoredDuringExecution.nodeSelectorTerms: Required "
            "value: must have at least one node selector term") in got
    assert ("spec.affinity.nodeAffinity.preferredDuringSchedulingIgnoredDuringExecution[0].weight: Invalid value: "
            "0: must be in the range 1-100") in got
    assert ("spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].labelSelector."
            "matchExpressions[0].values: Required value: must be specified when `operator` is 'In' or 'NotIn'") in got
    assert ("spec.affinity.podAntiAffinity.requiredDuringSchedulingIgnoredDuringExecution[0].topologyKey: "
            "Required value: can not be empty") in got
    assert "spec.topologySpreadConstraints[0].maxSkew: Invalid value: 0: must be greater than zero" in got
    assert ('spec.topologySpreadConstraints[0].whenUnsatisfiable: Unsupported value: "Whatever": supported '
            'values: "DoNotSchedule", "ScheduleAnyway"') in got


def test_pod_update_spec_is_immutable_except_images():
    old = pod()
    old["metadata"]["resourceVersion"] = "1"
    new = copy.deepcopy(old)
    new["spec"]["containers"][0]["image"] = "nginx:1.26"
    new["spec"]["activeDeadlineSeconds"] = 30
    new["spec"]["tolerations"] = [{"key": "a", "operator": "Exists"}]
    assert errors_of("Pod", new, old, subresource="") == []
    new["spec"]["restartPolicy"] = "Never"
    got = validate("Pod", new, old, subresource="")
    assert [(e.type, e.field) for e in got] == [("FieldValueForbidden", "spec")]
    assert got[0].detail.startswith("pod updates may not change fields other than `spec.containers[*].image`,"
                                    "`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` "
                                    "(only additions to existing tolerations),`spec.terminationGracePeriodSeconds` "
                                    "(allow it to be set to 1 if it was previously negative)\n")
    assert '-\tspec.restartPolicy: "Always"' in got[0].detail and '+\tspec.restartPolicy: "Never"' in got[0].detail


def test_pod_update_deadline_tolerations_and_binding():
    old = pod(activeDeadlineSeconds=30, tolerations=[{"key": "a", "operator": "Exists", "effect": "NoExecute",
                                                      "tolerationSeconds": 60}])
    longer = copy.deepcopy(old)
    longer["spec"]["activeDeadlineSeconds"] = 40
    assert errors_of("Pod", longer, old) == [
        "spec.activeDeadlineSeconds: Invalid value: 40: must be less than or equal to previous value"]
    unset = copy.deepcopy(old)
    del unset["spec"]["activeDeadlineSeconds"]
    assert errors_of("Pod", unset, old) == [
        "spec.activeDeadlineSeconds: Invalid value: null: must not update from a positive integer to nil value"]
    dropped = copy.deepcopy(old)
    dropped["spec"]["tolerations"] = []
    assert errors_of("Pod", dropped, old) == [
        "spec.tolerations: Forbidden: existing toleration can not be modified except its tolerationSeconds"]
    shorter = copy.deepcopy(old)
    shorter["spec"]["tolerations"][0]["tolerationSeconds"] = 30
    assert errors_of("Pod", shorter, old) == []
    bound = copy.deepcopy(old)
    bound["spec"]["nodeName"] = "node-1"
    assert errors_of("Pod", bound, old, subresource="binding") == []
    assert errors_of("Pod", bound, old) == []                     # caller did not say: tolerated like a binding
    assert [e.field for e in validate("Pod", bound, old, subresource="")] == ["spec"]
    rebound = copy.deepcopy(bound)
    rebound["spec"]["nodeName"] = "node-2"
    assert [e.field for e in validate("Pod", rebound, bound, subresource="binding")] == ["spec"]


# -- workloads ------------------------------------------------------------------------------------------

def deployment(**spec) -> dict:
    base = {"replicas": 2, "selector": {"matchLabels": {"app": "web"}},
            "template": {"metadata": {"labels": {"app": "web"}},
                         "spec": {"containers": [{"name": "web", "image": "nginx"}]}}}
    base.update(spec)
    return ready("Deployment", {"metadata": {"name": "web"}, "spec": base})


def test_deployment_rules():
    assert errors_of("Deployment", deployment()) == []
    got = errors_of("Deployment", deployment(replicas=-1, selector={"matchLabels": {"app": "other"}},
                                             strategy={"type": "RollingUpdate", "rollingUpdate": {
                                                 "maxUnavailable": 0, "maxSurge": 0}},
                                             minReadySeconds=700))
    assert got == ["spec.replicas: Invalid value: -1: must be greater than or equal to 0",
                   'spec.template.metadata.labels: Invalid value: map[string]string{"app":"web"}: `selector` does '
                   "not match template `labels`",
                   "spec.strategy.rollingUpdate.maxUnavailable: Invalid value: 0: may not be 0 when `maxSurge` is 0",
                   "spec.progressDeadlineSeconds: Invalid value: 600: must be greater than minReadySeconds"]
    no_selector = deployment()
    del no_selector["spec"]["selector"]
    assert errors_of("Deployment", no_selector) == ["spec.selector: Required value"]
    empty = deployment(selector={})
    assert errors_of("Deployment", empty) == [
        "spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string(nil), "
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: empty selector is invalid for deployment"]
    never = deployment()
    never["spec"]["template"]["spec"]["restartPolicy"] = "Never"
    assert errors_of("Deployment", never) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Never": supported values: "Always"']
    bad_template = deployment()
    bad_template["spec"]["template"]["metadata"]["labels"]["bad key!"] = "x"
    assert any(e.startswith('spec.template.labels: Invalid value: "bad key!"')
               for e in errors_of("Deployment", bad_template))
    recreate = deployment(strategy={"type": "Recreate", "rollingUpdate": {}})
    assert errors_of("Deployment", recreate) == [
        "spec.strategy.rollingUpdate: Forbidden: may not be specified when strategy `type` is 'Recreate'"]
    percent = deployment(strategy={"type": "RollingUpdate", "rollingUpdate": {"maxUnavailable": "120%",
                                                                              "maxSurge": "x%"}})
    got = errors_of("Deployment", percent)
    assert 'spec.strategy.rollingUpdate.maxUnavailable: Invalid value: "120%": must not be greater than 100%' in got
    assert any(e.startswith('spec.strategy.rollingUpdate.maxSurge: Invalid value: "x%": a valid percent string')
               for e in got)


def test_deployment_selector_is_immutable():
    old = deployment()
    new = copy.deepcopy(old)
    new["spec"]["selector"] = {"matchLabels": {"app": "web", "tier": "x"}}
    new["spec"]["template"]["metadata"]["labels"]["tier"] = "x"
    assert errors_of("Deployment", new, old) == [
        'spec.selector: Invalid value: &v1.LabelSelector{MatchLabels:map[string]string{"app":"web", "tier":"x"}, '
        "MatchExpressions:[]v1.LabelSelectorRequirement(nil)}: field is immutable"]
    scaled = copy.deepcopy(old)
    scaled["spec"]["replicas"] = 5
    assert errors_of("Deployment", scaled, old) == []


def test_replica_set_and_replication_controller():
    rs = ready("ReplicaSet", {"metadata": {"name": "rs"}, "spec": {
        "selector": {"matchExpressions": [{"key": "tier", "operator": "In", "values": ["frontend"]}]},
        "template": {"metadata": {"labels": {"tier": "backend"}}, "spec": {"containers": [
            {"name": "c", "image": "i"}]}}}})
    assert errors_of("ReplicaSet", rs) == [
        'spec.template.metadata.labels: Invalid value: map[string]string{"tier":"backend"}: `selector` does not '
        "match template `labels`"]
    rc = ready("ReplicationController", {"metadata": {"name": "rc"}, "spec": {
        "template": {"spec": {"containers": [{"name": "c", "image": "i"}], "activeDeadlineSeconds": 5}}}})
    assert errors_of("ReplicationController", rc) == [
        "spec.selector: Required value",
        "spec.template.spec.activeDeadlineSeconds: Forbidden: activeDeadlineSeconds in ReplicationController is not "
        "Supported"]


def job(**spec) -> dict:
    base = {"template": {"spec": {"containers": [{"name": "pi", "image": "perl"}], "restartPolicy": "Never"}}}
    base.update(spec)
    return ready("Job", {"metadata": {"name": "pi"}, "spec": base})


def test_job_rules():
    assert errors_of("Job", job()) == []
    always = job()
    always["spec"]["template"]["spec"]["restartPolicy"] = "Always"
    assert errors_of("Job", always) == [
        'spec.template.spec.restartPolicy: Unsupported value: "Always": supported values: "OnFailure", "Never"']
    got = errors_of("Job", job(parallelism=-1, completionMode="Indexed", completions=None,
                               backoffLimit=-2))
    assert "spec.parallelism: Invalid value: -1: must be greater than or equal to 0" in got
    assert "spec.backoffLimit: Invalid value: -2: must be greater than or equal to 0" in got
    long_name = ready("Job", {"metadata": {"name": "j" * 62}, "spec": {
        "completionMode": "Indexed", "completions": 10,
        "template": {"spec": {"containers": [{"name": "c", "image": "i"}], "restartPolicy": "Never"}}}})
    assert any(e.startswith('metadata.name: Invalid value: "' + "j" * 62 + '": will not able to create pod with '
                            "invalid DNS label: " + "j" * 62 + "-9") for e in errors_of("Job", long_name))
    no_selector = copy.deepcopy(job())
    del no_selector["spec"]["selector"]
    assert errors_of("Job", no_selector) == ["spec.selector: Required value"]


def test_job_update_immutability():
    old = job()
    new = copy.deepcopy(old)
    new["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:2"
    assert [e.field for e in validate("Job", new, old)] == ["spec.template"]
    suspended = copy.deepcopy(old)
    suspended["spec"]["suspend"] = True
    changed = copy.deepcopy(suspended)
    changed["spec"]["template"]["spec"]["containers"][0]["image"] = "perl:2"
    assert errors_of("Job", changed, suspended) == []
    more = copy.deepcopy(old)
    more["spec"]["completions"] = 3
    assert errors_of("Job", more, old) == ["spec.completions: Invalid value: 3: field is immutable"]


# -- Service, Endpoints ----------------------------------------------------------------------------------

def service(**spec) -> dict:
    base = {"selector": {"app": "web"}, "ports": [{"port": 80}]}
    base.update(spec)
    return ready("Service", {"metadata": {"name": "web"}, "spec": base})


def test_service_rules():
    assert errors_of("Service", service()) == []
    got = errors_of("Service", service(type="Magic", sessionAffinity="Sticky", ports=[
        {"port": 0, "targetPort": 70000}, {"port": 80, "name": "Bad_Name", "nodePort": 30000}],
        selector={"app": "-x"}))
    assert "spec.ports[0].name: Required value" in got
    assert "spec.ports[0].port: Invalid value: 0: must be between 1 and 65535, inclusive" in got
    assert "spec.ports[0].targetPort: Invalid value: 70000: must be between 1 and 65535, inclusive" in got
    assert any(e.startswith('spec.ports[1].name: Invalid value: "Bad_Name"') for e in got)
    assert any(e.startswith('spec.selector: Invalid value: "-x"') for e in got)
    assert 'spec.sessionAffinity: Unsupported value: "Sticky": supported values: "ClientIP", "None"' in got
    assert ('spec.type: Unsupported value: "Magic": supported values: "ClusterIP", "ExternalName", "LoadBalancer", '
            '"NodePort"') in got
    cluster = service(ports=[{"port": 80, "nodePort": 30080}])
    assert errors_of("Service", cluster) == [
        "spec.ports[0].nodePort: Forbidden: may not be used when `type` is 'ClusterIP'"]
    assert errors_of("Service", service(ports=[])) == ["spec.ports: Required value"]
    headless = service(ports=[], clusterIP="None")
    assert errors_of("Service", headless) == []
    external = ready("Service", {"metadata": {"name": "db"}, "spec": {"type": "ExternalName"}})
    assert errors_of("Service", external) == ["spec.externalName: Required value"]


def test_service_cluster_ip_is_immutable():
    old = service(clusterIP="10.96.0.10")
    new = copy.deepcopy(old)
    new["spec"]["clusterIP"] = "10.96.0.11"
    assert errors_of("Service", new, old) == [
        'spec.clusterIPs[0]: Invalid value: []string{"10.96.0.11"}: may not change once set']
    same = copy.deepcopy(old)
    same["spec"]["ports"][0]["port"] = 8080
    same["spec"]["ports"][0]["targetPort"] = 8080
    assert errors_of("Service", same, old) == []


def test_endpoints():
    ep = ready("Endpoints", {"metadata": {"name": "web"}, "subsets": [
        {"addresses": [{"ip": "10.0.0.1"}, {"ip": "not-an-ip"}], "ports": [{"port": 80}, {"port": 81, "name": "b"}]},
        {"ports": [{"port": 80}]}]})
    assert errors_of("Endpoints", ep) == [
        'subsets[0].addresses[1].ip: Invalid value: "not-an-ip": must be a valid IP address, (e.g. 10.9.8.7 or '
        "2001:db8::ffff)",
        "subsets[0].ports[0].name: Required value",
        "subsets[1]: Required value: must specify `addresses` or `notReadyAddresses`"]


# -- config, secrets and the rest ----------------------------------------------------------------------

def test_config_map():
    cm = ready("ConfigMap", {"metadata": {"name": "c"}, "data": {"good.key": "1", "bad key": "2", "..x": "3"}})
    got = errors_of("ConfigMap", cm)
    assert got[0].startswith('data[bad key]: Invalid value: "bad key": a valid config key must consist of '
                             "alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or "
                             "'key-name', regex used for validation is '[-._a-zA-Z0-9]+')")
    assert got[1] == "data[..x]: Invalid value: \"..x\": must not start with '..'"
    big = ready("ConfigMap", {"metadata": {"name": "c"}, "data": {"a": "x" * (1024 * 1024 + 1)}})
    assert errors_of("ConfigMap", big) == [": Too long: must have at most 1048576 bytes"]
    old = ready("ConfigMap", {"metadata": {"name": "c"}, "data": {"a": "1"}, "immutable": True})
    new = copy.deepcopy(old)
    new["data"]["a"] = "2"
    new["immutable"] = False
    assert errors_of("ConfigMap", new, old) == ["immutable: Forbidden: field is immutable when `immutable` is set",
                                                "data: Forbidden: field is immutable when `immutable` is set"]


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def test_secrets():
    assert errors_of("Secret", ready("Secret", {"metadata": {"name": "s"}, "data": {"a": b64("x")}})) == []
    tls = ready("Secret", {"metadata": {"name": "s"}, "type": "kubernetes.io/tls", "data": {"tls.crt": b64("c")}})
    assert errors_of("Secret", tls) == ["data[tls.key]: Required value"]
    basic = ready("Secret", {"metadata": {"name": "s"}, "type": "kubernetes.io/basic-auth"})
    assert errors_of("Secret", basic) == ["data[username]: Required value", "data[password]: Required value"]
    token = ready("Secret", {"metadata": {"name": "s"}, "type": "kubernetes.io/service-account-token"})
    assert errors_of("Secret", token) == ["metadata.annotations[kubernetes.io/service-account.name]: Required value"]
    docker = ready("Secret", {"metadata": {"name": "s"}, "type": "kubernetes.io/dockerconfigjson",
                              "data": {".dockerconfigjson": b64("{not json")}})
    assert [e.field for e in validate("Secret", docker)] == ["data[.dockerconfigjson]"]
    garbage = ready("Secret", {"metadata": {"name": "s"}, "data": {"a": "***"}})
    assert [e.field for e in validate("Secret", garbage)] == ["data[a]"]
    big = ready("Secret", {"metadata": {"name": "s"}, "data": {"a": b64("x" * (1024 * 1024 + 1))}})
    assert errors_of("Secret", big) == ["data: Too long: must have at most 1048576 bytes"]
    old = ready("Secret", {"metadata": {"name": "s"}, "data": {"a": b64("x")}})
    retyped = copy.deepcopy(old)
    retyped["type"] = "kubernetes.io/basic-auth"
    retyped["data"]["username"] = b64("u")
    assert errors_of("Secret", retyped, old) == ['type: Invalid value: "kubernetes.io/basic-auth": field is immutable']


def test_namespace_node_lease_event():
    ns = ready("Namespace", {"metadata": {"name": "dev"}, "spec": {"finalizers": ["kubernetes", "custom"]}},
               namespace=None)
    assert errors_of("Namespace", ns) == [
        'spec.finalizers: Invalid value: "custom": name is neither a standard finalizer name nor is it fully '
        "qualified"]
    node = ready("Node", {"metadata": {"name": "n1"}, "spec": {"taints": [
        {"key": "a", "effect": "NoSchedule"}, {"key": "a", "effect": "NoSchedule"}, {"key": "b"}]},
        "status": {"capacity": {"cpu": "-1", "memory": "x"}}}, namespace=None)
    got = errors_of("Node", node)
    assert ('metadata.taints[1]: Duplicate value: core.Taint{Key:"a", Value:"", Effect:"NoSchedule", '
            "TimeAdded:<nil>}: taints must be unique by key and effect pair") in got
    assert "metadata.taints[2].effect: Required value" in got
    assert 'status.capacity.cpu: Invalid value: "-1": must be greater than or equal to 0' in got
    assert any(e.startswith('status.capacity.memory: Invalid value: "x": quantities must match') for e in got)
    lease = ready("Lease", {"metadata": {"name": "n1", "namespace": "kube-node-lease"},
                            "spec": {"leaseDurationSeconds": 0, "leaseTransitions": -1, "renewTime": "yesterday"}})
    assert errors_of("Lease", lease) == [
        "spec.leaseDurationSeconds: Invalid value: 0: must be greater than 0",
        "spec.leaseTransitions: Invalid value: -1: must be greater than or equal to 0",
        'spec.renewTime: Invalid value: "yesterday": must be an RFC 3339 time']
    good_lease = ready("Lease", {"metadata": {"name": "n1"}, "spec": {
        "holderIdentity": "n1", "leaseDurationSeconds": 40, "renewTime": "2024-05-01T12:00:00.123456Z"}})
    assert errors_of("Lease", good_lease) == []
    event = ready("Event", {"metadata": {"name": "p.1"}, "involvedObject": {"kind": "Pod", "name": "p",
                                                                             "namespace": "other"}})
    assert errors_of("Event", event) == ['involvedObject.namespace: Invalid value: "other": does not match '
                                         "event.namespace"]
    new_style = ready("Event", {"metadata": {"name": "p.2"}, "eventTime": "2024-05-01T12:00:00.000000Z",
                                "involvedObject": {"kind": "Pod", "name": "p", "namespace": "default"}})
    assert errors_of("Event", new_style) == ["reportingComponent: Required value",
                                             "reportingComponent: Invalid value: \"\": name part must be non-empty",
                                             "reportingComponent: Invalid value: \"\": name part must consist of "
                                             "alphanumeric characters, '-', '_' or '.', and must start and end with "
                                             "an alphanumeric character (e.g. 'MyName',  or 'my.name',  or "
                                             "'123-abc', regex used for validation is "
                                             "'([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]')",
                                             "reportingInstance: Required value", "action: Required value"]


def test_rbac():
    role = ready("Role", {"metadata": {"name": "r"}, "rules": [{"apiGroups": [""], "resources": ["pods"]},
                                                                 {"verbs": ["get"], "nonResourceURLs": ["/healthz"]},
                                                                 {"verbs": ["get"]}]})
    assert errors_of("Role", role) == [
        "rules[0].verbs: Required value: verbs must contain at least one value",
        'rules[1].nonResourceURLs: Invalid value: []string{"/healthz"}: namespaced rules cannot apply to '
        "non-resource URLs",
        "rules[2].apiGroups: Required value: resource rules must supply at least one api group",
        "rules[2].resources: Required value: resource rules must supply at least one resource"]
    cluster_role = ready("ClusterRole", {"metadata": {"name": "r"}, "rules": [
        {"verbs": ["get"], "nonResourceURLs": ["/healthz"]}], "aggregationRule": {}}, namespace=None)
    assert errors_of("ClusterRole", cluster_role) == [
        "aggregationRule.clusterRoleSelectors: Required value: at least one clusterRoleSelector required if "
        "aggregationRule is non-nil"]
    binding = ready("ClusterRoleBinding", {"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"},
                                           "subjects": [{"kind": "ServiceAccount", "name": "sa"},
                                                        {"kind": "Robot", "name": "x"}, {"kind": "User"}]},
                    namespace=None)
    assert errors_of("ClusterRoleBinding", binding) == [
        'roleRef.kind: Unsupported value: "Role": supported values: "ClusterRole"',
        "subjects[0].namespace: Required value",
        'subjects[1].kind: Unsupported value: "Robot": supported values: "ServiceAccount", "User", "Group"',
        "subjects[2].name: Required value"]
    old = ready("RoleBinding", {"metadata": {"name": "b"}, "roleRef": {"kind": "Role", "name": "r"}})
    new = copy.deepcopy(old)
    new["roleRef"]["name"] = "other"
    assert errors_of("RoleBinding", new, old) == [
        'roleRef: Invalid value: rbac.RoleRef{APIGroup:"rbac.authorization.k8s.io", Kind:"Role", Name:"other"}: '
        "cannot change roleRef"]
    new_subjects = copy.deepcopy(old)
    new_subjects["subjects"] = [{"kind": "Group", "name": "devs", "apiGroup": "rbac.authorization.k8s.io"}]
    assert errors_of("RoleBinding", new_subjects, old) == []


def test_limit_range_quota_priority_class():
    limits = ready("LimitRange", {"metadata": {"name": "l"}, "spec": {"limits": [
        {"type": "Container", "min": {"cpu": "2"}, "max": {"cpu": "1"}, "maxLimitRequestRatio": {"memory": "0.5"}},
        {"type": "Pod", "default": {"cpu": "1"}}, {"type": "Weird"}]}})
    got = errors_of("LimitRange", limits)
    assert 'spec.limits[0].min[cpu]: Invalid value: "2": min value 2 is greater than max value 1' in got
    assert 'spec.limits[0].maxLimitRequestRatio[memory]: Invalid value: "500m": ratio 500m is less than 1' in got
    assert "spec.limits[1].default: Forbidden: may not be specified when `type` is 'Pod'" in got
    assert ('spec.limits[2].type: Unsupported value: "Weird": supported values: "Pod", "Container", '
            '"PersistentVolumeClaim"') in got
    quota = ready("ResourceQuota", {"metadata": {"name": "q"}, "spec": {
        "hard": {"pods": "1.5", "cpu": "-1", "weird": "1"}, "scopes": ["Terminating", "NotTerminating"],
        "scopeSelector": {"matchExpressions": [{"scopeName": "PriorityClass", "operator": "In"}]}}})
    got = errors_of("ResourceQuota", quota)
    assert 'spec.hard[pods]: Invalid value: "1500m": must be an integer' in got
    assert 'spec.hard[cpu]: Invalid value: "-1": must be greater than or equal to 0' in got
    assert 'spec.hard[weird]: Invalid value: "weird": must be a standard resource type or fully qualified' in got
    assert 'spec.scopes: Invalid value: []string{"Terminating", "NotTerminating"}: conflicting scopes' in got
    assert any(e.startswith("spec.scopeSelector.matchExpressions[0].values: Invalid value") for e in got)
    pc = ready("PriorityClass", {"metadata": {"name": "high"}, "value": 2_000_000_001}, namespace=None)
    assert errors_of("PriorityClass", pc) == [
        "value: Forbidden: maximum allowed value of a user defined priority is 1000000000"]
    system = ready("PriorityClass", {"metadata": {"name": "system-mine"}, "value": 1}, namespace=None)
    assert [e.field for e in validate("PriorityClass", system)] == ["metadata.name"]
    known = ready("PriorityClass", {"metadata": {"name": "system-node-critical"}, "value": 2000001000},
                  namespace=None)
    assert errors_of("PriorityClass", known) == []
    changed = copy.deepcopy(pc)
    changed["value"] = 5
    old = copy.deepcopy(changed)
    old["value"] = 6
    assert errors_of("PriorityClass", changed, old) == ["value: Forbidden: may not be changed in an update."]


def test_unknown_kinds_get_metadata_validation_only():
    obj = {"metadata": {"name": "Bad", "namespace": "n"}, "spec": {"anything": [1, 2]}}
    assert [e.field for e in validate("Widget", obj)] == ["metadata.name"]


def test_field_error_equality_and_repr():
    a, b = required("x"), required("x")
    assert a == b and hash(a) == hash(b) and a != required("y")
    assert "FieldValueRequired" in repr(a)
    assert isinstance(validate("Pod", pod())[0] if validate("Pod", pod()) else FieldError("t", "f"), FieldError)


# -- any JSON at all: a list of field errors, never an exception ------------------------------------

KINDS = ["Pod", "Service", "Endpoints", "Event", "ConfigMap", "Secret", "ServiceAccount", "Namespace", "Node",
         "Lease", "Deployment", "ReplicaSet", "ReplicationController", "Job", "PodTemplate", "Role", "ClusterRole",
         "RoleBinding", "ClusterRoleBinding", "LimitRange", "ResourceQuota", "PriorityClass"]
KEYS = ["metadata", "spec", "status", "name", "namespace", "labels", "containers", "template", "selector",
        "ports", "image", "resources", "limits", "requests", "cpu", "port", "rules", "roleRef", "subjects", "data",
        "type", "replicas", "volumes", "env", "strategy", "hard", "subsets", "value", "kind", "matchLabels"]
json_values = st.recursive(
    st.none() | st.booleans() | st.integers(-2 ** 40, 2 ** 40) | st.floats(allow_nan=False, allow_infinity=False)
    | st.sampled_from(["", "x", "Always", "1Gi", "-1", "TCP", "a/b", "None"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.sampled_from(KEYS), inner, max_size=4),
    max_leaves=20)


@settings(max_examples=150, deadline=None)
@given(st.sampled_from(KINDS), st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5),
       st.dictionaries(st.sampled_from(KEYS), json_values, max_size=5))
def test_arbitrary_json_never_raises(kind, obj, old):
    apply_defaults(kind, obj)
    prepare_for_create(kind, obj)
    for errors in (validate(kind, obj), validate(kind, obj, old), validate(kind, obj, old, subresource="")):
        assert all(isinstance(e, FieldError) and isinstance(str(e), str) for e in errors)
        invalid_message(kind, "x", errors)


def test_json_equal_is_deep_equal_of_decoded_json():
    from pykube_plane.api.validators import json_equal
    assert json_equal({"a": [1, {"b": 2.0}]}, {"a": [1.0, {"b": 2}]})
    assert not json_equal({"a": [True]}, {"a": [1]})
    assert not json_equal({"a": 1}, {"a": 1, "b": None})
    assert json_equal({"b": 1, "a": 2}, {"a": 2, "b": 1})
    assert json_equal([2 ** 70], [2 ** 70]) and not json_equal([2 ** 70], [2 ** 70 + 1])
    assert not json_equal("1", 1) and json_equal(None, None)
