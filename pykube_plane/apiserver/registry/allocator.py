"""Cluster IPs and node ports for Services: which are free, as the watch cache of Services shows.

Each allocated value is also a key in the store, written in the same txn as its Service
(strategies.ServiceStrategy), so two Services can never win the same one.
"""
from __future__ import annotations

import ipaddress
import random
from typing import Any

from pykube_plane.apiserver import status as st

IP_PREFIX = b"/registry/ipaddresses/"
PORT_PREFIX = b"/registry/servicenodeports/"


class ServiceAllocator:
    """Free cluster IPs and node ports, known from the Services in the watch cache."""

    def __init__(self, cidr: str = "10.96.0.0/12", port_range: tuple[int, int] = (30000, 32767)) -> None:
        self.network = ipaddress.ip_network(cidr)
        self.cidr = cidr
        self.port_range = port_range
        self.port_range_text = f"{port_range[0]}-{port_range[1]}"
        self.used_ips: set[str] = set()
        self.used_ports: set[tuple[str, int]] = set()
        self._rng = random.Random()

    @property
    def first_ip(self) -> str:
        return str(self.network.network_address + 1)

    def contains_ip(self, ip: str) -> bool:
        try:
            addr = ipaddress.ip_address(ip)
        except ValueError:
            return False
        return addr in self.network and addr not in (self.network.network_address, self.network.broadcast_address)

    def contains_port(self, port: Any) -> bool:
        return isinstance(port, int) and self.port_range[0] <= port <= self.port_range[1]

    def pick_ip(self, taken: set[bytes]) -> str | None:
        size = self.network.num_addresses - 2
        base = int(self.network.network_address) + 1
        for _ in range(64):
            ip = str(ipaddress.ip_address(base + self._rng.randrange(1, size)))   # .1 is the kubernetes service's
            if ip not in self.used_ips and (IP_PREFIX + ip.encode()) not in taken:
                return ip
        for offset in range(1, size):
            ip = str(ipaddress.ip_address(base + offset))
            if ip not in self.used_ips and (IP_PREFIX + ip.encode()) not in taken:
                return ip
        return None

    def pick_port(self, protocol: str, taken: set[bytes], used: set) -> int:
        low, high = self.port_range
        for _ in range(64):
            port = self._rng.randint(low, high)
            if self._port_free(protocol, port, taken, used):
                return port
        for port in range(low, high + 1):
            if self._port_free(protocol, port, taken, used):
                return port
        raise st.internal_error("failed to allocate a nodePort: range is full")

    def _port_free(self, protocol: str, port: int, taken: set[bytes], used: set) -> bool:
        return ((protocol, port) not in self.used_ports and (protocol, port) not in used
                and PORT_PREFIX + f"{protocol}/{port}".encode() not in taken)

    def observe(self, old: dict | None, new: dict | None) -> None:
        """Track a Service change seen by the watch cache."""
        for obj, add in ((old, False), (new, True)):
            if obj is None:
                continue
            spec = obj.get("spec") or {}
            ips = [ip for ip in spec.get("clusterIPs") or [] if ip and ip != "None"]
            ports = [(p.get("protocol", "TCP"), p["nodePort"]) for p in spec.get("ports") or []
                     if isinstance(p, dict) and p.get("nodePort")]
            for ip in ips:
                (self.used_ips.add if add else self.used_ips.discard)(ip)
            for port in ports:
                (self.used_ports.add if add else self.used_ports.discard)(port)
