"""Assembly: build a running control plane from options. The faces (`kplane` commands, tests,
embedding code) use `ControlPlane`; nothing else wires store, API server and components."""
from .controlplane import Component, ComponentFactory, ControlPlane
from .options import ControlPlaneOptions

__all__ = ["Component", "ComponentFactory", "ControlPlane", "ControlPlaneOptions"]
