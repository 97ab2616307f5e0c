"""Per-kind rules layered on the generic registry (kube-apiserver's RESTCreateStrategy & co).

The registry runs every write through the same steps; a `Strategy` supplies the kind's part:

    create:  prepare_for_create -> defaults -> admit -> validate -> allocations -> store
    update:  prepare_for_update (main resource) | prepare_for_status_update (/status)
             -> defaults -> validate -> allocations -> store
    delete:  check_delete -> grace_period (graceful kinds) -> finalizers -> store

Attributes say what the generic code should do: whether status can be set on create, whether the
kind tracks metadata.generation, whether an update may create, which propagation policy a delete
uses by default, and whether a delete answers with the object or a Status.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Protocol

from pykube_plane.apiserver import status as st

from .allocator import IP_PREFIX, PORT_PREFIX, ServiceAllocator
from .events import core_to_events_v1, events_v1_to_core

if TYPE_CHECKING:
    from .resources import Resource


class StrategyContext(Protocol):
    """What a strategy may ask of the registry: a narrow lookup interface, not the registry
    itself (registry.lookups.Lookups is the one implementation)."""

    allocator: ServiceAllocator

    def copy(self, obj: Any) -> Any:
        """A deep copy of a stored object."""

    async def lookup_priority_class(self, name: str) -> dict | None:
        """The PriorityClass `name`, or None."""

    def default_priority_class(self) -> dict | None:
        """The globalDefault PriorityClass, or None."""


def _spec_changed(obj: dict, old: dict) -> bool:
    return obj.get("spec") != old.get("spec")


class Strategy:
    allow_create_on_update = False
    reset_status_on_create = False
    tracks_generation = False
    return_deleted_object = False
    default_propagation = "Background"
    expires = False             # stored under a store lease that ends it after a TTL (events)
    to_external = None          # stored object -> API object (None: the same)
    to_internal = None          # API object -> stored object

    def __init__(self, **overrides: Any) -> None:
        for name, value in overrides.items():
            if not hasattr(type(self), name):
                raise TypeError(f"unknown strategy attribute {name}")
            setattr(self, name, value)

    # -- create / update -------------------------------------------------------------------------

    def prepare_for_create(self, ctx: "StrategyContext", resource: "Resource", obj: dict) -> None:
        if self.reset_status_on_create and resource.has_status:
            obj["status"] = {}
        if self.tracks_generation:
            obj["metadata"]["generation"] = 1

    def prepare_for_update(self, ctx: "StrategyContext", resource: "Resource", obj: dict, old: dict) -> None:
        """Main resource update: status changes are ignored (they go through /status)."""
        if resource.has_status:
            if "status" in old:
                obj["status"] = old["status"]
            else:
                obj.pop("status", None)

    def bump_generation(self, obj: dict, old: dict) -> None:
        """metadata.generation counts spec changes; run after defaulting, so that a spec that
        only differs before normalisation ("0.5" vs "500m") is no change."""
        if self.tracks_generation:
            generation = old["metadata"].get("generation", 1)
            obj["metadata"]["generation"] = generation + 1 if _spec_changed(obj, old) else generation

    def prepare_for_status_update(self, ctx: "StrategyContext", resource: "Resource", obj: dict,
                                  old: dict) -> dict:
        """/status update: only status changes; spec and metadata stay as stored."""
        new = ctx.copy(old)
        if "status" in obj:
            new["status"] = obj["status"]
        else:
            new.pop("status", None)
        new["metadata"]["resourceVersion"] = obj.get("metadata", {}).get("resourceVersion", "")
        return new

    async def admit(self, ctx: "StrategyContext", resource: "Resource", obj: dict, old: dict | None,
                    user: Any) -> None:
        """Mutating admission that belongs to the kind (pod priority). Raise APIError to refuse."""

    def allocations(self, ctx: "StrategyContext", resource: "Resource", obj: dict) -> dict[bytes, bytes]:
        """Allocation keys this object holds (a Service's IP and node ports), key -> marker."""
        return {}

    async def allocate(self, ctx: "StrategyContext", resource: "Resource", obj: dict, old: dict | None,
                       taken: set[bytes]) -> None:
        """Fill in values the server assigns (cluster IP, node ports); `taken` are keys that lost a
        race on the previous attempt."""

    def prepare_for_finalize(self, ctx: "StrategyContext", obj: dict, old: dict) -> dict:
        """/finalize update (namespaces only): only spec.finalizers change."""
        raise st.method_not_allowed()

    # -- delete -----------------------------------------------------------------------------------

    finalized_by_controller = False   # delete marks Terminating; a controller empties and finalizes

    def check_delete(self, ctx: "StrategyContext", resource: "Resource", obj: dict) -> None:
        """Raise APIError when this object may never be deleted."""

    def grace_period(self, obj: dict, requested: int | None) -> int | None:
        """Seconds of graceful deletion, None for kinds deleted at once (k8s CheckGracefulDelete)."""
        return None

    def should_delete_during_update(self, obj: dict, old: dict) -> bool:
        """An object being deleted whose last finalizer an update removes is deleted by that update."""
        if obj["metadata"].get("finalizers"):
            return False
        old_meta = old["metadata"]
        return bool(old_meta.get("deletionTimestamp")) and not old_meta.get("deletionGracePeriodSeconds")


class WorkloadStrategy(Strategy):
    """Deployments, ReplicaSets, ReplicationControllers, Jobs: status reset, generation tracked."""
    reset_status_on_create = True
    tracks_generation = True


class NodeStrategy(Strategy):
    """Nodes register with their status (the kubelet posts it on create)."""


class NamespaceStrategy(Strategy):
    FINALIZER = "kubernetes"
    finalized_by_controller = True

    def prepare_for_create(self, ctx, resource, obj) -> None:
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        finalizers = spec.get("finalizers") or []
        if self.FINALIZER not in finalizers:
            spec["finalizers"] = list(finalizers) + [self.FINALIZER]
        obj["status"] = {"phase": "Active"}
        labels = obj["metadata"].get("labels")
        if not isinstance(labels, dict):
            labels = obj["metadata"]["labels"] = {}
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")

    def prepare_for_update(self, ctx, resource, obj, old) -> None:
        super().prepare_for_update(ctx, resource, obj, old)
        # spec.finalizers change only through /finalize
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            spec = obj["spec"] = {}
        old_finalizers = (old.get("spec") or {}).get("finalizers")
        if old_finalizers is None:
            spec.pop("finalizers", None)
        else:
            spec["finalizers"] = old_finalizers
        labels = obj["metadata"].get("labels")
        if not isinstance(labels, dict):
            labels = obj["metadata"]["labels"] = {}
        labels["kubernetes.io/metadata.name"] = obj["metadata"].get("name", "")

    def should_delete_during_update(self, obj: dict, old: dict) -> bool:
        # spec.finalizers (the namespace controller's) must be gone too
        return not (obj.get("spec") or {}).get("finalizers") and super().should_delete_during_update(obj, old)

    def prepare_for_finalize(self, ctx, obj: dict, old: dict) -> dict:
        new = ctx.copy(old)
        finalizers = (obj.get("spec") or {}).get("finalizers")
        new.setdefault("spec", {})
        if finalizers is None:
            new["spec"].pop("finalizers", None)
        else:
            new["spec"]["finalizers"] = finalizers
        new["metadata"]["resourceVersion"] = obj.get("metadata", {}).get("resourceVersion", "")
        return new


class PodStrategy(Strategy):
    tracks_generation = True
    return_deleted_object = True

    def prepare_for_create(self, ctx, resource, obj) -> None:
        obj["status"] = {"phase": "Pending"}
        obj["metadata"]["generation"] = 1

    def prepare_for_update(self, ctx, resource, obj, old) -> None:
        super().prepare_for_update(ctx, resource, obj, old)

    def prepare_for_status_update(self, ctx, resource, obj, old) -> dict:
        new = super().prepare_for_status_update(ctx, resource, obj, old)
        # status.qosClass is decided once, at creation
        old_qos = (old.get("status") or {}).get("qosClass")
        if old_qos is not None and isinstance(new.get("status"), dict):
            new["status"]["qosClass"] = old_qos
        return new

    async def admit(self, ctx, resource, obj, old, user) -> None:
        if old is not None:
            return
        # the Priority admission plugin: spec.priority comes from the PriorityClass
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        name = spec.get("priorityClassName") or ""
        policy = None
        if name:
            pc = await ctx.lookup_priority_class(name)
            if pc is None:
                raise st.forbidden(resource, obj["metadata"].get("name", ""),
                                   f"no PriorityClass with name {name} was found")
            value = pc.get("value", 0)
            policy = pc.get("preemptionPolicy")
        else:
            default = ctx.default_priority_class()
            value = default.get("value", 0) if default else 0
            if default:
                spec["priorityClassName"] = default["metadata"]["name"]
                policy = default.get("preemptionPolicy")
        given = spec.get("priority")
        if given is not None and given != value:
            raise st.forbidden(resource, obj["metadata"].get("name", ""),
                               f"the integer value of priority ({given}) must not be provided in pod spec; "
                               f"priority admission controller computed {value} from the given PriorityClass name")
        spec["priority"] = value
        # The class's policy wins, as in the Priority admission plugin (defaulting has already
        # filled in PreemptLowerPriority, so a pod of a "Never" class would otherwise preempt).
        if policy is not None or spec.get("preemptionPolicy") is None:
            spec["preemptionPolicy"] = policy or "PreemptLowerPriority"

    def grace_period(self, obj: dict, requested: int | None) -> int | None:
        spec = obj.get("spec") or {}
        if requested is not None:
            period = requested
        else:
            period = spec.get("terminationGracePeriodSeconds") or 0
        if not spec.get("nodeName"):
            period = 0          # never scheduled: nothing runs, delete at once
        if (obj.get("status") or {}).get("phase") in ("Failed", "Succeeded"):
            period = 0          # already terminated
        if period < 0:
            period = 1
        return period


class PriorityClassStrategy(Strategy):
    SYSTEM = ("system-node-critical", "system-cluster-critical")

    def check_delete(self, ctx, resource, obj) -> None:
        name = obj["metadata"].get("name", "")
        if name in self.SYSTEM:
            raise st.forbidden(resource, name, "this is a system priority class and cannot be deleted")


class EventStrategy(Strategy):
    allow_create_on_update = True
    expires = True              # stored with a lease: gone --event-ttl after its last write


class EventsV1Strategy(EventStrategy):
    """events.k8s.io/v1 shows the stored core/v1 events under other field names."""
    to_external = staticmethod(core_to_events_v1)
    to_internal = staticmethod(events_v1_to_core)


class ServiceStrategy(Strategy):
    """Cluster IPs and node ports are allocated on create and update, released on delete.

    Each allocated value is a key in the store (`/registry/ipaddresses/<ip>`,
    `/registry/servicenodeports/<port>`) written in the same txn as the Service, so two Services
    never get the same value even with several API servers.
    """
    reset_status_on_create = True

    def prepare_for_update(self, ctx, resource, obj, old) -> None:
        super().prepare_for_update(ctx, resource, obj, old)
        # kubectl apply / PUT without the allocated values keeps them (k8s patchAllocatedValues)
        spec, old_spec = obj.get("spec"), old.get("spec") or {}
        if not isinstance(spec, dict):
            return
        if spec.get("type", "ClusterIP") != "ExternalName" and old_spec.get("type", "ClusterIP") != "ExternalName":
            if not spec.get("clusterIP") and old_spec.get("clusterIP"):
                spec["clusterIP"] = old_spec["clusterIP"]
            if not spec.get("clusterIPs") and old_spec.get("clusterIPs"):
                spec["clusterIPs"] = old_spec["clusterIPs"]
            if not spec.get("ipFamilies") and old_spec.get("ipFamilies"):
                spec["ipFamilies"] = old_spec["ipFamilies"]
        if spec.get("type") in ("NodePort", "LoadBalancer"):
            old_ports = {(p.get("port"), p.get("protocol", "TCP")): p.get("nodePort")
                         for p in old_spec.get("ports") or [] if isinstance(p, dict)}
            for port in spec.get("ports") or []:
                if isinstance(port, dict) and not port.get("nodePort"):
                    kept = old_ports.get((port.get("port"), port.get("protocol", "TCP")))
                    if kept:
                        port["nodePort"] = kept

    def allocations(self, ctx, resource, obj) -> dict[bytes, bytes]:
        spec = obj.get("spec") or {}
        meta = obj.get("metadata") or {}
        owner = f'{meta.get("namespace", "")}/{meta.get("name", "")}'.encode()
        keys: dict[bytes, bytes] = {}
        for ip in spec.get("clusterIPs") or ([spec["clusterIP"]] if spec.get("clusterIP") else []):
            if ip and ip != "None":
                keys[IP_PREFIX + ip.encode()] = owner
        for port in spec.get("ports") or []:
            if isinstance(port, dict) and port.get("nodePort"):
                keys[PORT_PREFIX + f'{port.get("protocol", "TCP")}/{port["nodePort"]}'.encode()] = owner
        return keys

    async def allocate(self, ctx, resource, obj, old, taken) -> None:
        """Values the user gave are checked (422 when held by another Service), missing ones picked.
        On a retry `taken` holds the keys another writer won, so picking avoids them."""
        spec = obj.get("spec")
        if not isinstance(spec, dict):
            return
        svc_type = spec.get("type") or "ClusterIP"
        name = obj["metadata"].get("name", "")
        if svc_type == "ExternalName":
            return
        allocator = ctx.allocator
        headless = spec.get("clusterIP") == "None" or (spec.get("clusterIPs") or [""])[0] == "None"
        # Headless Services take every family the cluster has (k8s defaults them to
        # RequireDualStack); the others cannot ask for two on a single-stack cluster.
        if spec.get("ipFamilyPolicy") == "RequireDualStack" and not headless:
            raise st.invalid_field("Service", "", name, "spec.ipFamilyPolicy", "FieldValueInvalid",
                                   "this cluster is not configured for dual-stack services", "RequireDualStack")
        families = spec.get("ipFamilies") or []
        if any(f != "IPv4" for f in families):
            raise st.invalid_field("Service", "", name, "spec.ipFamilies[0]", "FieldValueNotSupported",
                                   "", families[0])
        old_ip = ((old or {}).get("spec") or {}).get("clusterIP") or ""
        cluster_ip = spec.get("clusterIP") or ((spec.get("clusterIPs") or [""])[0])
        if cluster_ip == "None":
            spec["clusterIPs"] = ["None"]
        elif cluster_ip and cluster_ip != old_ip:
            if not allocator.contains_ip(cluster_ip):
                raise st.invalid_field("Service", "", name, "spec.clusterIPs", "FieldValueInvalid",
                                       f"failed to allocate IP {cluster_ip}: the provided IP ({cluster_ip}) is "
                                       f"not in the valid range. The range of valid IPs is {allocator.cidr}",
                                       cluster_ip)
            if IP_PREFIX + cluster_ip.encode() in taken:     # the store said so: another Service has it
                raise st.invalid_field("Service", "", name, "spec.clusterIPs", "FieldValueInvalid",
                                       f"failed to allocate IP {cluster_ip}: provided IP is already allocated",
                                       cluster_ip)
            spec["clusterIPs"] = [cluster_ip]
        elif not cluster_ip:
            cluster_ip = allocator.pick_ip(taken)
            if cluster_ip is None:
                raise st.internal_error("failed to allocate a serviceIP: range is full")
            spec["clusterIPs"] = [cluster_ip]
        spec["clusterIP"] = cluster_ip
        spec.setdefault("ipFamilies", ["IPv4"])
        spec.setdefault("ipFamilyPolicy", "SingleStack")
        old_ports = {(p.get("protocol", "TCP"), p.get("nodePort"))
                     for p in ((old or {}).get("spec") or {}).get("ports") or [] if isinstance(p, dict)}
        if svc_type not in ("NodePort", "LoadBalancer"):
            for port in spec.get("ports") or []:
                if isinstance(port, dict):
                    port.pop("nodePort", None)
            return
        used: set = set()
        for i, port in enumerate(spec.get("ports") or []):
            if not isinstance(port, dict):
                continue
            protocol = port.get("protocol", "TCP")
            node_port = port.get("nodePort")
            if node_port:
                if (protocol, node_port) not in old_ports:
                    key = PORT_PREFIX + f"{protocol}/{node_port}".encode()
                    if not allocator.contains_port(node_port):
                        raise st.invalid_field("Service", "", name, f"spec.ports[{i}].nodePort", "FieldValueInvalid",
                                               f"provided port is not in the valid range. The range of valid "
                                               f"ports is {allocator.port_range_text}", node_port)
                    if key in taken:
                        raise st.invalid_field("Service", "", name, f"spec.ports[{i}].nodePort", "FieldValueInvalid",
                                               "provided port is already allocated", node_port)
                used.add((protocol, node_port))
                continue
            port["nodePort"] = allocator.pick_port(protocol, taken, used)
            used.add((protocol, port["nodePort"]))
