"""Pod resource sums (component-helpers resource.PodRequests cases)."""
from __future__ import annotations

from pykube_plane.api.objects import non_zero_requests, pod_limits, pod_requests
from pykube_plane.api.quantity import parse_quantity


def pod(containers=(), init=(), overhead=None, resources=None) -> dict:
    spec: dict = {"containers": [{"name": f"c{i}", "resources": r} for i, r in enumerate(containers)]}
    spec["initContainers"] = [dict({"name": f"i{i}"}, **r) for i, r in enumerate(init)]
    if overhead is not None:
        spec["overhead"] = overhead
    if resources is not None:
        spec["resources"] = resources
    return {"spec": spec}


def as_text(resources: dict) -> dict:
    return {name: str(q) for name, q in resources.items()}


def req(**amounts) -> dict:
    return {"requests": amounts}


def test_containers_sum_and_init_containers_take_the_max():
    assert as_text(pod_requests(pod([req(cpu="1"), req(cpu="1", memory="1Gi")]))) == {"cpu": "2", "memory": "1Gi"}
    heavy_init = pod([req(cpu="1"), req(cpu="1")], init=[{"resources": req(cpu="3", memory="10Mi")}])
    assert as_text(pod_requests(heavy_init)) == {"cpu": "3", "memory": "10Mi"}
    light_init = pod([req(cpu="2")], init=[{"resources": req(cpu="500m")}])
    assert as_text(pod_requests(light_init)) == {"cpu": "2"}


def test_sidecars_add_to_the_app_and_to_later_init_steps():
    with_sidecar = pod([req(cpu="1")], init=[{"restartPolicy": "Always", "resources": req(cpu="500m")},
                                             {"resources": req(cpu="2")}])
    assert pod_requests(with_sidecar)["cpu"] == parse_quantity("2.5")
    only_sidecar = pod([req(cpu="1")], init=[{"restartPolicy": "Always", "resources": req(cpu="500m")}])
    assert pod_requests(only_sidecar)["cpu"] == parse_quantity("1.5")


def test_overhead_and_pod_level_resources():
    with_overhead = pod([req(cpu="1")], overhead={"cpu": "250m", "memory": "120Mi"})
    assert as_text(pod_requests(with_overhead)) == {"cpu": "1250m", "memory": "120Mi"}
    assert as_text(pod_requests(with_overhead, overhead=False)) == {"cpu": "1"}
    pod_level = pod([req(cpu="1")], resources={"requests": {"cpu": "4", "ephemeral-storage": "1Gi"}})
    assert as_text(pod_requests(pod_level)) == {"cpu": "4"}
    limited = pod([{"limits": {"cpu": "1"}}, {"limits": {"memory": "1Gi"}}], overhead={"cpu": "1", "pods": "1"})
    assert as_text(pod_limits(limited)) == {"cpu": "2", "memory": "1Gi"}
    assert pod_limits(pod([{}])) == {}


def test_non_zero_requests_for_scoring():
    assert non_zero_requests(pod([{}])) == (100, 200 * 1024 * 1024)
    assert non_zero_requests(pod([req(cpu="0"), req(memory="1Gi")])) == (100, 200 * 1024 * 1024 + 1024 ** 3)
    assert non_zero_requests({"spec": "junk"}) == (0, 0)
    assert pod_requests({"spec": {"containers": [{"resources": {"requests": {"cpu": "lots"}}}]}}) == {}
