"""Table output (`Accept: application/json;as=Table;v=v1;g=meta.k8s.io`): what `kubectl get` prints.

Columns and cells follow kube-apiserver's printers (pkg/printers/internalversion) so the real
kubectl shows the same headers and values it shows against Kubernetes. The server always
fills every column, wide ones included (priority 1); kubectl hides those unless `-o wide`.
Row functions take the stored JSON object and the current time (seconds since the epoch).
"""
from __future__ import annotations

import time
from datetime import datetime
from typing import Any, Callable, Iterable

Column = dict[str, Any]


def _col(name: str, type_: str = "string", description: str = "", priority: int = 0,
         format_: str = "") -> Column:
    return {"name": name, "type": type_, "format": format_, "description": description, "priority": priority}


NAME = _col("Name", format_="name", description="Name must be unique within a namespace.")
AGE = _col("Age", description="CreationTimestamp is a timestamp representing the server time when this "
                              "object was created.")
CONTAINERS = _col("Containers", priority=1, description="Names of each container in the template.")
IMAGES = _col("Images", priority=1, description="Images referenced by each container in the template.")
SELECTOR = _col("Selector", priority=1, description="A label query over pods.")

DEFAULT_COLUMNS = (NAME, _col("Created At", "date", description="CreationTimestamp is a timestamp "
                                                               "representing the server time when this object was created."))
POD_COLUMNS = (
    NAME,
    _col("Ready", description="The aggregate readiness state of this pod for accepting traffic."),
    _col("Status", description="The aggregate status of the containers in this pod."),
    _col("Restarts", description="The number of times the containers in this pod have been restarted "
                                 "and when the last container in this pod has restarted."),
    AGE,
    _col("IP", priority=1, description="podIP address allocated to the pod."),
    _col("Node", priority=1, description="NodeName indicates in which node this pod is scheduled."),
    _col("Nominated Node", priority=1, description="nominatedNodeName is set only when this pod preempts "
                                                   "other pods on the node."),
    _col("Readiness Gates", priority=1, description="If specified, all readiness gates will be evaluated "
                                                    "for pod readiness."),
)
RC_COLUMNS = (
    NAME, _col("Desired", "integer", "Replicas is the number of desired replicas."),
    _col("Current", "integer", "Replicas is the most recently observed number of replicas."),
    _col("Ready", "integer", "The number of ready replicas for this replication controller."),
    AGE, CONTAINERS, IMAGES, SELECTOR,
)
REPLICASET_COLUMNS = RC_COLUMNS
DEPLOYMENT_COLUMNS = (
    NAME, _col("Ready", description="Number of the pod with ready state"),
    _col("Up-to-date", description="Total number of non-terminated pods targeted by this deployment that "
                                   "have the desired template spec."),
    _col("Available", description="Total number of available pods (ready for at least minReadySeconds) "
                                  "targeted by this deployment."),
    AGE, CONTAINERS, IMAGES, SELECTOR,
)
JOB_COLUMNS = (
    NAME, _col("Status", description="Status of the job."),
    _col("Completions", description="The number of pods which reached phase Succeeded."),
    _col("Duration", description="Time required to complete the job."),
    AGE, CONTAINERS, IMAGES, SELECTOR,
)
SERVICE_COLUMNS = (
    NAME, _col("Type", description="type determines how the Service is exposed."),
    _col("Cluster-IP", description="clusterIP is the IP address of the service."),
    _col("External-IP", description="externalIPs is a list of IP addresses for which nodes in the cluster "
                                    "will also accept traffic for this service."),
    _col("Port(s)", description="The list of ports that are exposed by this service."),
    AGE, _col("Selector", priority=1, description="Route service traffic to pods with label keys and "
                                                  "values matching this selector."),
)
ENDPOINTS_COLUMNS = (NAME, _col("Endpoints", description="The set of all endpoints is the union of all "
                                                         "subsets."), AGE)
NODE_COLUMNS = (
    NAME, _col("Status", description="The status of the node"),
    _col("Roles", description="The roles of the node"), AGE,
    _col("Version", description="Kubelet Version reported by the node."),
    _col("Internal-IP", priority=1, description="List of addresses reachable to the node."),
    _col("External-IP", priority=1, description="List of addresses reachable to the node."),
    _col("OS-Image", priority=1, description="OS Image reported by the node."),
    _col("Kernel-Version", priority=1, description="Kernel Version reported by the node."),
    _col("Container-Runtime", priority=1, description="ContainerRuntime Version reported by the node."),
)
EVENT_COLUMNS = (
    _col("Last Seen", description="The time at which the most recent occurrence of this event was recorded."),
    _col("Type", description="Type of this event (Normal, Warning), new types could be added in the future"),
    _col("Reason", description="This should be a short, machine understandable string that gives the "
                               "reason for the transition into the object's current status."),
    _col("Object", description="The object that this event is about."),
    _col("Subobject", priority=1, description="The field of the object this event is about."),
    _col("Source", priority=1, description="The component reporting this event."),
    _col("Message", description="A human-readable description of the status of this operation."),
    _col("First Seen", priority=1, description="The time at which the event was first recorded."),
    _col("Count", priority=1, description="The number of times this event has occurred."),
    _col("Name", priority=1, format_="name", description="Name must be unique within a namespace."),
)
NAMESPACE_COLUMNS = (NAME, _col("Status", description="The status of the namespace"), AGE)
SECRET_COLUMNS = (NAME, _col("Type", description="Used to facilitate programmatic handling of secret data."),
                  _col("Data", description="Data contains the secret data."), AGE)
SERVICEACCOUNT_COLUMNS = (NAME, _col("Secrets", description="Secrets is a list of the secrets in the same "
                                                            "namespace that pods running using this "
                                                            "ServiceAccount are allowed to use."), AGE)
CONFIGMAP_COLUMNS = (NAME, _col("Data", description="Data contains the configuration data."), AGE)
RESOURCEQUOTA_COLUMNS = (
    NAME, _col("Request", description="Request represents a minimum amount of cpu/memory that a container "
                                      "may consume."),
    _col("Limit", description="Limits control the maximum amount of cpu/memory that a container may use "
                              "independent of contention on the node."),
    AGE,
)
LEASE_COLUMNS = (NAME, _col("Holder", description="holderIdentity contains the identity of the holder of a "
                                                  "current lease."), AGE)
ROLEBINDING_COLUMNS = (
    NAME, _col("Role", description="RoleRef can reference a Role in the current namespace or a ClusterRole "
                                   "in the global namespace."), AGE,
    _col("Users", priority=1, description="Users in the roleBinding"),
    _col("Groups", priority=1, description="Groups in the roleBinding"),
    _col("ServiceAccounts", priority=1, description="ServiceAccounts in the roleBinding"),
)
PRIORITYCLASS_COLUMNS = (
    NAME, _col("Value", "integer", "value represents the integer value of this priority class."),
    _col("Global-Default", "boolean", "globalDefault specifies whether this PriorityClass should be "
                                      "considered as the default priority for pods that do not have any "
                                      "priority class."),
    AGE, _col("PreemptionPolicy", description="preemptionPolicy is the Policy for preempting pods with "
                                              "lower priority."),
)
SCALE_COLUMNS = (
    _col("Name", description="Name must be unique within a namespace."),
    _col("Desired", "integer", "replicas is the desired number of instances for the scaled object."),
    _col("Available", "integer", "replicas is the actual number of observed instances of the scaled object."),
    AGE,
)


# ---------------------------------------------------------------------------------------------
# Formatting helpers (k8s.io/apimachinery's duration.HumanDuration, labels.FormatLabels...)


def human_duration(seconds: float) -> str:
    s = int(seconds)
    if s < -1:
        return "<invalid>"
    if s < 0:
        return "0s"
    if s < 120:
        return f"{s}s"
    minutes = s // 60
    if minutes < 10:
        rest = s % 60
        return f"{minutes}m{rest}s" if rest else f"{minutes}m"
    if minutes < 180:
        return f"{minutes}m"
    hours = s // 3600
    if hours < 8:
        rest = minutes % 60
        return f"{hours}h{rest}m" if rest else f"{hours}h"
    if hours < 48:
        return f"{hours}h"
    if hours < 24 * 8:
        rest = hours % 24
        return f"{hours // 24}d{rest}h" if rest else f"{hours // 24}d"
    if hours < 24 * 365 * 2:
        return f"{hours // 24}d"
    if hours < 24 * 365 * 8:
        days = (hours // 24) % 365
        return f"{hours // 24 // 365}y{days}d" if days else f"{hours // 24 // 365}y"
    return f"{hours // 24 // 365}y"


def parse_time(value: Any) -> float | None:
    """Seconds since the epoch of an RFC 3339 timestamp, None when absent or unreadable."""
    if not isinstance(value, str) or not value:
        return None
    try:
        return datetime.fromisoformat(value.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def since(value: Any, now: float) -> str:
    t = parse_time(value)
    return "<unknown>" if t is None else human_duration(now - t)


def age(obj: dict, now: float) -> str:
    return since(obj.get("metadata", {}).get("creationTimestamp"), now)


def format_labels(labels: dict | None) -> str:
    if not labels:
        return "<none>"
    return ",".join(f"{k}={labels[k]}" for k in sorted(labels))


def selector_string(selector: dict | None) -> str:
    """metav1.LabelSelector in selector syntax (`app=web,tier in (a,b)`), "" when it selects all."""
    if not selector:
        return ""
    parts: list[tuple[str, str]] = []
    for k, v in (selector.get("matchLabels") or {}).items():
        parts.append((k, f"{k}={v}"))
    for expr in selector.get("matchExpressions") or []:
        key, op = expr.get("key", ""), expr.get("operator", "")
        values = ",".join(sorted(expr.get("values") or []))
        text = {"In": f"{key} in ({values})", "NotIn": f"{key} notin ({values})",
                "Exists": key, "DoesNotExist": f"!{key}"}.get(op, f"{key} {op} ({values})")
        parts.append((key, text))
    return ",".join(text for _, text in sorted(parts))


def format_label_selector(selector: dict | None) -> str:
    return selector_string(selector) or "<none>"


def containers_cells(pod_spec: dict | None) -> tuple[str, str]:
    containers = (pod_spec or {}).get("containers") or []
    return (",".join(c.get("name", "") for c in containers), ",".join(c.get("image", "") for c in containers))


def _template_spec(obj: dict) -> dict:
    return ((obj.get("spec") or {}).get("template") or {}).get("spec") or {}


# ---------------------------------------------------------------------------------------------
# Rows, one function per kind: (obj, now) -> cells


def default_row(obj: dict, now: float) -> list:
    meta = obj.get("metadata", {})
    return [meta.get("name", ""), meta.get("creationTimestamp")]


def _is_restartable_init(container: dict | None) -> bool:
    return bool(container) and container.get("restartPolicy") == "Always"


def pod_row(obj: dict, now: float) -> list:
    spec = obj.get("spec") or {}
    status = obj.get("status") or {}
    meta = obj.get("metadata") or {}
    restarts = 0
    restartable_restarts = 0
    total = len(spec.get("containers") or [])
    ready = 0
    last_restart: float | None = None
    last_restartable: float | None = None
    phase = status.get("phase", "")
    reason = status.get("reason") or phase
    for cond in status.get("conditions") or []:
        if cond.get("type") == "PodScheduled" and cond.get("reason") == "SchedulingGated":
            reason = "SchedulingGated"
    init_specs = {c.get("name"): c for c in spec.get("initContainers") or []}
    total += sum(1 for c in init_specs.values() if _is_restartable_init(c))

    def finished(cs: dict) -> float | None:
        term = (cs.get("lastState") or {}).get("terminated")
        return parse_time(term.get("finishedAt")) if term else None

    initializing = False
    init_statuses = status.get("initContainerStatuses") or []
    for i, cs in enumerate(init_statuses):
        restarts += cs.get("restartCount", 0)
        t = finished(cs)
        if t is not None and (last_restart is None or t > last_restart):
            last_restart = t
        restartable = _is_restartable_init(init_specs.get(cs.get("name")))
        if restartable:
            restartable_restarts += cs.get("restartCount", 0)
            if t is not None and (last_restartable is None or t > last_restartable):
                last_restartable = t
        state = cs.get("state") or {}
        terminated, waiting = state.get("terminated"), state.get("waiting")
        if terminated and terminated.get("exitCode", 0) == 0:
            continue
        if restartable and cs.get("started"):
            if cs.get("ready"):
                ready += 1
            continue
        if terminated:
            if not terminated.get("reason"):
                reason = (f"Init:Signal:{terminated['signal']}" if terminated.get("signal")
                          else f"Init:ExitCode:{terminated.get('exitCode', 0)}")
            else:
                reason = "Init:" + terminated["reason"]
        elif waiting and waiting.get("reason") and waiting.get("reason") != "PodInitializing":
            reason = "Init:" + waiting["reason"]
        else:
            reason = f"Init:{i}/{len(spec.get('initContainers') or [])}"
        initializing = True
        break
    initialized = any(c.get("type") == "Initialized" and c.get("status") == "True"
                      for c in status.get("conditions") or [])
    if not initializing or initialized:
        restarts = restartable_restarts
        last_restart = last_restartable
        has_running = False
        for cs in reversed(status.get("containerStatuses") or []):
            restarts += cs.get("restartCount", 0)
            t = finished(cs)
            if t is not None and (last_restart is None or t > last_restart):
                last_restart = t
            state = cs.get("state") or {}
            waiting, terminated = state.get("waiting"), state.get("terminated")
            if waiting and waiting.get("reason"):
                reason = waiting["reason"]
            elif terminated and terminated.get("reason"):
                reason = terminated["reason"]
            elif terminated:
                reason = (f"Signal:{terminated['signal']}" if terminated.get("signal")
                          else f"ExitCode:{terminated.get('exitCode', 0)}")
            elif cs.get("ready") and state.get("running") is not None:
                has_running = True
                ready += 1
        if reason == "Completed" and has_running:
            pod_ready = any(c.get("type") == "Ready" and c.get("status") == "True"
                            for c in status.get("conditions") or [])
            reason = "Running" if pod_ready else "NotReady"
    if meta.get("deletionTimestamp") and status.get("reason") == "NodeLost":
        reason = "Unknown"
    elif meta.get("deletionTimestamp") and phase not in ("Succeeded", "Failed"):
        reason = "Terminating"
    restarts_text = str(restarts)
    if restarts and last_restart is not None:
        restarts_text = f"{restarts} ({human_duration(now - last_restart)} ago)"
    pod_ips = status.get("podIPs") or []
    pod_ip = (pod_ips[0].get("ip") if pod_ips else "") or "<none>"
    gates = spec.get("readinessGates") or []
    if gates:
        conditions = {c.get("type"): c.get("status") for c in status.get("conditions") or []}
        true_count = sum(1 for g in gates if conditions.get(g.get("conditionType")) == "True")
        gates_text = f"{true_count}/{len(gates)}"
    else:
        gates_text = "<none>"
    return [meta.get("name", ""), f"{ready}/{total}", reason, restarts_text, age(obj, now), pod_ip,
            spec.get("nodeName") or "<none>", status.get("nominatedNodeName") or "<none>", gates_text]


def pod_row_conditions(obj: dict) -> list | None:
    phase = (obj.get("status") or {}).get("phase")
    if phase == "Succeeded":
        return [{"type": "Completed", "status": "True", "reason": "Succeeded",
                 "message": "The pod has completed successfully."}]
    if phase == "Failed":
        return [{"type": "Completed", "status": "True", "reason": "Failed", "message": "The pod failed."}]
    return None


def replication_controller_row(obj: dict, now: float) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = containers_cells(_template_spec(obj))
    return [obj["metadata"].get("name", ""), spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), age(obj, now), names, images, format_labels(spec.get("selector"))]


def replicaset_row(obj: dict, now: float) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = containers_cells(_template_spec(obj))
    return [obj["metadata"].get("name", ""), spec.get("replicas", 0), status.get("replicas", 0),
            status.get("readyReplicas", 0), age(obj, now), names, images,
            format_label_selector(spec.get("selector"))]


def deployment_row(obj: dict, now: float) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    names, images = containers_cells(_template_spec(obj))
    return [obj["metadata"].get("name", ""), f"{status.get('readyReplicas', 0)}/{spec.get('replicas', 0)}",
            status.get("updatedReplicas", 0), status.get("availableReplicas", 0), age(obj, now),
            names, images, selector_string(spec.get("selector"))]


def _condition_true(conditions: Iterable[dict], kind: str) -> bool:
    for c in conditions:
        if c.get("type") == kind:
            return c.get("status") == "True"
    return False


def job_row(obj: dict, now: float) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    succeeded = status.get("succeeded", 0)
    if spec.get("completions") is not None:
        completions = f"{succeeded}/{spec['completions']}"
    elif (spec.get("parallelism") or 0) > 1:
        completions = f"{succeeded}/1 of {spec['parallelism']}"
    else:
        completions = f"{succeeded}/1"
    start, end = parse_time(status.get("startTime")), parse_time(status.get("completionTime"))
    if start is None:
        duration = ""
    elif end is None:
        duration = human_duration(now - start)
    else:
        duration = human_duration(end - start)
    conditions = status.get("conditions") or []
    if _condition_true(conditions, "Complete"):
        state = "Complete"
    elif _condition_true(conditions, "Failed"):
        state = "Failed"
    elif obj["metadata"].get("deletionTimestamp"):
        state = "Terminating"
    elif _condition_true(conditions, "Suspended"):
        state = "Suspended"
    elif _condition_true(conditions, "FailureTarget"):
        state = "FailureTarget"
    else:
        state = "Running"
    names, images = containers_cells(_template_spec(obj))
    return [obj["metadata"].get("name", ""), state, completions, duration, age(obj, now), names, images,
            format_label_selector(spec.get("selector"))]


def service_row(obj: dict, now: float) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    svc_type = spec.get("type", "")
    cluster_ips = spec.get("clusterIPs") or []
    internal_ip = cluster_ips[0] if cluster_ips else "<none>"
    external = spec.get("externalIPs") or []
    if svc_type in ("ClusterIP", "NodePort"):
        external_ip = ",".join(external) if external else "<none>"
    elif svc_type == "LoadBalancer":
        lb = sorted({i.get("ip") or i.get("hostname") for i in (status.get("loadBalancer") or {}).get("ingress") or []
                     if i.get("ip") or i.get("hostname")})
        if external:
            external_ip = ",".join(lb + external)
        else:
            external_ip = ",".join(lb) if lb else "<pending>"
    elif svc_type == "ExternalName":
        external_ip = spec.get("externalName", "")
    else:
        external_ip = "<unknown>"
    pieces = []
    for p in spec.get("ports") or []:
        if p.get("nodePort"):
            pieces.append(f"{p.get('port')}:{p['nodePort']}/{p.get('protocol', 'TCP')}")
        else:
            pieces.append(f"{p.get('port')}/{p.get('protocol', 'TCP')}")
    return [obj["metadata"].get("name", ""), svc_type, internal_ip, external_ip, ",".join(pieces) or "<none>",
            age(obj, now), format_labels(spec.get("selector"))]


def endpoints_row(obj: dict, now: float) -> list:
    subsets = obj.get("subsets") or []
    if not subsets:
        text = "<none>"
    else:
        items: list[str] = []
        count = 0
        limit = 3
        for ss in subsets:
            addresses = ss.get("addresses") or []
            ports = ss.get("ports") or []
            if not ports:
                count += len(addresses)
                items.extend(a.get("ip", "") for a in addresses)
                continue
            for port in ports:
                count += len(addresses)
                for a in addresses:
                    ip = a.get("ip", "")
                    host = f"[{ip}]" if ":" in ip else ip
                    items.append(f"{host}:{port.get('port')}")
        shown = items[:limit]
        text = ",".join(shown)
        if len(items) > limit:
            text = f"{text} + {count - limit} more..."
    return [obj["metadata"].get("name", ""), text, age(obj, now)]


def node_row(obj: dict, now: float) -> list:
    spec, status = obj.get("spec") or {}, obj.get("status") or {}
    states = []
    for cond in status.get("conditions") or []:
        if cond.get("type") == "Ready":
            states = ["Ready" if cond.get("status") == "True" else "NotReady"]
    if not states:
        states = ["Unknown"]
    if spec.get("unschedulable"):
        states.append("SchedulingDisabled")
    roles = set()
    for k, v in ((obj.get("metadata") or {}).get("labels") or {}).items():
        if k.startswith("node-role.kubernetes.io/") and len(k) > len("node-role.kubernetes.io/"):
            roles.add(k[len("node-role.kubernetes.io/"):])
        elif k == "kubernetes.io/role" and v:
            roles.add(v)
    info = status.get("nodeInfo") or {}

    def address(kind: str) -> str:
        for a in status.get("addresses") or []:
            if a.get("type") == kind:
                return a.get("address", "")
        return "<none>"

    return [obj["metadata"].get("name", ""), ",".join(states), ",".join(sorted(roles)) or "<none>",
            age(obj, now), info.get("kubeletVersion", ""), address("InternalIP"), address("ExternalIP"),
            info.get("osImage") or "<unknown>", info.get("kernelVersion") or "<unknown>",
            info.get("containerRuntimeVersion") or "<unknown>"]


def event_row(obj: dict, now: float) -> list:
    first = since(obj.get("firstTimestamp"), now) if obj.get("firstTimestamp") else since(obj.get("eventTime"), now)
    last = since(obj.get("lastTimestamp"), now) if obj.get("lastTimestamp") else first
    count = obj.get("count") or 0
    series = obj.get("series")
    if series:
        last = since(series.get("lastObservedTime"), now)
        count = series.get("count", 0)
    elif count == 0:
        count = 1
    involved = obj.get("involvedObject") or {}
    kind = (involved.get("kind") or "").lower()
    target = f"{kind}/{involved['name']}" if involved.get("name") else kind
    source = obj.get("source") or {}
    component = source.get("component") or obj.get("reportingComponent") or ""
    instance = source.get("host") or obj.get("reportingInstance") or ""
    source_text = f"{component}, {instance}" if instance else component
    return [last, obj.get("type", ""), obj.get("reason", ""), target, involved.get("fieldPath", ""),
            source_text, (obj.get("message") or "").strip(), first, count,
            obj["metadata"].get("name", "")]


def events_v1_row(obj: dict, now: float) -> list:
    from .events import events_v1_to_core  # the printer shows events in core/v1 terms, as k8s does
    return event_row(events_v1_to_core(obj), now)


def namespace_row(obj: dict, now: float) -> list:
    return [obj["metadata"].get("name", ""), (obj.get("status") or {}).get("phase", ""), age(obj, now)]


def secret_row(obj: dict, now: float) -> list:
    return [obj["metadata"].get("name", ""), obj.get("type", ""), len(obj.get("data") or {}), age(obj, now)]


def serviceaccount_row(obj: dict, now: float) -> list:
    return [obj["metadata"].get("name", ""), len(obj.get("secrets") or []), age(obj, now)]


def configmap_row(obj: dict, now: float) -> list:
    return [obj["metadata"].get("name", ""), len(obj.get("data") or {}) + len(obj.get("binaryData") or {}),
            age(obj, now)]


def resourcequota_row(obj: dict, now: float) -> list:
    status = obj.get("status") or {}
    hard, used = status.get("hard") or {}, status.get("used") or {}
    requests, limits = [], []
    for name in sorted(hard):
        text = f"{name}: {used.get(name, '0')}/{hard[name]}"
        (limits if name.split(".")[0] == "limits" and "." in name else requests).append(text)
    return [obj["metadata"].get("name", ""), ", ".join(requests), ", ".join(limits), age(obj, now)]


def lease_row(obj: dict, now: float) -> list:
    return [obj["metadata"].get("name", ""), (obj.get("spec") or {}).get("holderIdentity") or "", age(obj, now)]


def rolebinding_row(obj: dict, now: float) -> list:
    ref = obj.get("roleRef") or {}
    users, groups, sas = [], [], []
    for s in obj.get("subjects") or []:
        kind = s.get("kind")
        if kind == "User":
            users.append(s.get("name", ""))
        elif kind == "Group":
            groups.append(s.get("name", ""))
        elif kind == "ServiceAccount":
            sas.append(f"{s.get('namespace', '')}/{s.get('name', '')}")
    return [obj["metadata"].get("name", ""), f"{ref.get('kind', '')}/{ref.get('name', '')}", age(obj, now),
            ", ".join(users), ", ".join(groups), ", ".join(sas)]


def priorityclass_row(obj: dict, now: float) -> list:
    return [obj["metadata"].get("name", ""), obj.get("value", 0), bool(obj.get("globalDefault", False)),
            age(obj, now), obj.get("preemptionPolicy", "")]


def scale_row(obj: dict, now: float) -> list:
    return [obj["metadata"].get("name", ""), (obj.get("spec") or {}).get("replicas", 0),
            (obj.get("status") or {}).get("replicas", 0), age(obj, now)]


# ---------------------------------------------------------------------------------------------
# The Table object


def partial_metadata(obj: dict) -> dict:
    return {"kind": "PartialObjectMetadata", "apiVersion": "meta.k8s.io/v1", "metadata": obj.get("metadata", {})}


def table_row(obj: dict, printer: Callable | None, include_object: str, now: float) -> dict:
    cells = (printer or default_row)(obj, now)
    row: dict[str, Any] = {"cells": cells}
    if printer is pod_row:
        conditions = pod_row_conditions(obj)
        if conditions:
            row["conditions"] = conditions
    if include_object == "Object":
        row["object"] = obj
    elif include_object != "None":
        row["object"] = partial_metadata(obj)
    return row


def table(columns: Iterable[Column], printer: Callable | None, objects: Iterable[dict],
          resource_version: str = "", continue_token: str = "", include_object: str = "Metadata",
          remaining: int | None = None, now: float | None = None, rows: list[dict] | None = None) -> dict:
    """A meta.k8s.io/v1 Table of `objects` with `columns` (or of `rows` already made)."""
    now = time.time() if now is None else now
    metadata: dict[str, Any] = {}
    if resource_version:
        metadata["resourceVersion"] = resource_version
    if continue_token:
        metadata["continue"] = continue_token
    if remaining is not None:
        metadata["remainingItemCount"] = remaining
    return {
        "kind": "Table", "apiVersion": "meta.k8s.io/v1", "metadata": metadata,
        "columnDefinitions": list(columns),
        "rows": rows if rows is not None else [table_row(o, printer, include_object, now) for o in objects],
    }
