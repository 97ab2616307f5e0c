"""The scheduler: binds pending pods to nodes (see docs/scheduler.md).

`Scheduler(client, config)` runs in-process over any pykube_plane.client client;
`kplane scheduler` runs it as a process with leader election, /healthz and /metrics."""
from .config import ConfigError, Profile, SchedulerConfig
from .scheduler import Scheduler

__all__ = ["ConfigError", "Profile", "Scheduler", "SchedulerConfig"]
