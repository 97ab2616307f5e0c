"""The controller manager: control loops that reconcile what is stored with what is asked.

- `Controller` (controller.py): informers it declares, a rate-limited queue of `namespace/name`
  keys, N workers calling `sync(key)`; retries with backoff, an Event on error, never a crash loop.
- `ControllerManager` (manager.py): one SharedInformerFactory for every controller, leader election
  for the process, /healthz and /metrics.
- registry.py: the names `kube-controller-manager --controllers` uses -> controller factories.
"""
from __future__ import annotations

from .controller import Controller, ControllerContext
from .manager import ControllerManager, ManagerOptions
from .registry import CONTROLLERS, DISABLED_BY_DEFAULT, enabled_controllers

__all__ = ["CONTROLLERS", "Controller", "ControllerContext", "ControllerManager", "DISABLED_BY_DEFAULT",
           "ManagerOptions", "enabled_controllers"]
