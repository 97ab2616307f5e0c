"""schemas.json stays what the generator makes; unknown-field detection; Table cells as kubectl's."""
from __future__ import annotations

import importlib.util
import json

from pykube_plane.apiserver.registry import schemas, tables
from tests.conftest import ROOT


def load_schema_gen():
    """The developer tool lives in scripts/, outside the package."""
    spec = importlib.util.spec_from_file_location("schema_gen", ROOT / "scripts" / "schema_gen.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_schemas_json_is_up_to_date():
    committed = json.loads(schemas.SCHEMAS_FILE.read_text())
    schema_gen = load_schema_gen()
    assert schema_gen.OUTPUT == schemas.SCHEMAS_FILE
    assert committed == json.loads(json.dumps(schema_gen.generate())), "run: python scripts/schema_gen.py"


def test_unknown_fields():
    pod = schemas.definition_name("", "v1", "Pod")
    assert pod == "io.k8s.api.core.v1.Pod"
    obj = {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "p", "labels": {"any": "thing"}, "bogus": 1},
           "spec": {"containers": [{"name": "c", "image": "i", "resources": {"limits": {"cpu": "1"}}},
                                   {"name": "d", "imagee": "typo", "env": [{"name": "A", "valueFrom": {"x": 1}}]}],
                    "nodeSelector": {"k": "v"}},
           "extra": True}
    assert schemas.unknown_fields(pod, obj) == [
        "metadata.bogus", "spec.containers[1].imagee", "spec.containers[1].env[0].valueFrom.x", "extra"]
    deployment = schemas.definition_name("apps", "v1", "Deployment")
    assert schemas.unknown_fields(deployment, {"spec": {"strategy": {"rollingUpdate": {"maxSurge": "25%"}}}}) == []


def test_human_duration_matches_kubectl():
    cases = {0: "0s", 59: "59s", 119: "119s", 120: "2m", 150: "2m30s", 600: "10m", 3599: "59m",
             3 * 3600: "3h", 3 * 3600 + 60: "3h1m", 9 * 3600: "9h", 50 * 3600: "2d2h", 8 * 86400: "8d",
             800 * 86400: "2y70d", 9 * 365 * 86400: "9y", -5: "<invalid>"}
    for seconds, text in cases.items():
        assert tables.human_duration(seconds) == text, seconds


def test_pod_row():
    now = tables.parse_time("2024-01-01T00:10:00Z")
    pod = {"metadata": {"name": "web", "creationTimestamp": "2024-01-01T00:00:00Z"},
           "spec": {"containers": [{"name": "a"}, {"name": "b"}], "nodeName": "n1",
                    "readinessGates": [{"conditionType": "x"}]},
           "status": {"phase": "Running", "podIPs": [{"ip": "10.0.0.5"}],
                      "conditions": [{"type": "x", "status": "True"}],
                      "containerStatuses": [
                          {"name": "a", "ready": True, "restartCount": 2, "state": {"running": {}},
                           "lastState": {"terminated": {"finishedAt": "2024-01-01T00:05:00Z"}}},
                          {"name": "b", "ready": False, "restartCount": 0,
                           "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}}
    assert tables.pod_row(pod, now) == ["web", "1/2", "CrashLoopBackOff", "2 (5m ago)", "10m", "10.0.0.5", "n1",
                                        "<none>", "1/1"]
    pod["metadata"]["deletionTimestamp"] = "2024-01-01T00:10:00Z"
    assert tables.pod_row(pod, now)[2] == "Terminating"


def test_service_and_node_rows():
    svc = {"metadata": {"name": "s"}, "spec": {"type": "NodePort", "clusterIPs": ["10.96.3.4"],
                                               "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"},
                                                         {"port": 53, "protocol": "UDP"}],
                                               "selector": {"b": "2", "a": "1"}}}
    assert tables.service_row(svc, 0)[:5] == ["s", "NodePort", "10.96.3.4", "<none>", "80:30080/TCP,53/UDP"]
    assert tables.service_row(svc, 0)[6] == "a=1,b=2"
    node = {"metadata": {"name": "n", "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": True},
            "status": {"conditions": [{"type": "Ready", "status": "False"}], "nodeInfo": {"kubeletVersion": "v1.37.1"},
                       "addresses": [{"type": "InternalIP", "address": "10.1.1.1"}]}}
    assert tables.node_row(node, 0)[:3] == ["n", "NotReady,SchedulingDisabled", "control-plane"]
    assert tables.node_row(node, 0)[4:7] == ["v1.37.1", "10.1.1.1", "<none>"]


def test_selector_text():
    assert tables.selector_string({"matchLabels": {"b": "2"}, "matchExpressions": [
        {"key": "a", "operator": "In", "values": ["y", "x"]}, {"key": "c", "operator": "DoesNotExist"}]}) \
        == "a in (x,y),b=2,!c"
    assert tables.format_label_selector({}) == "<none>"
