"""Profiles from a KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1) document: which
plugins filter and score, their weights, the NodeResourcesFit strategy, percentageOfNodesToScore."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Mapping

import yaml

from pykube_plane import _sched

DEFAULT_SCHEDULER = "default-scheduler"
FILTERS = {"NodeUnschedulable": _sched.F_UNSCHEDULABLE, "NodeName": _sched.F_NODE_NAME,
           "TaintToleration": _sched.F_TAINT, "NodeAffinity": _sched.F_AFFINITY, "NodePorts": _sched.F_PORTS,
           "NodeResourcesFit": _sched.F_FIT, "PodTopologySpread": _sched.F_SPREAD,
           "InterPodAffinity": _sched.F_INTERPOD}
# Score plugins with Kubernetes' default weights, in the kernel's order.
SCORES = {"TaintToleration": 3, "NodeAffinity": 2, "NodeResourcesFit": 1, "NodeResourcesBalancedAllocation": 1,
          "ImageLocality": 1, "PodTopologySpread": 2, "InterPodAffinity": 2}
SCORE_INDEX = {name: i for i, name in enumerate(SCORES)}


class ConfigError(ValueError):
    pass


@dataclass
class Profile:
    scheduler_name: str = DEFAULT_SCHEDULER
    filters: int = _sched.F_ALL
    weights: list[int] = field(default_factory=lambda: list(SCORES.values()))
    most_allocated: bool = False
    percentage_of_nodes_to_score: int = 0       # 0: Kubernetes' adaptive default
    python_filters: list[str] = field(default_factory=list)
    python_scores: dict[str, int] = field(default_factory=dict)

    def num_feasible_nodes_to_find(self, n_nodes: int) -> int:
        """numFeasibleNodesToFind: every node below 100, else max(5, 50 - n/125)% (at least 100)."""
        pct = self.percentage_of_nodes_to_score
        if n_nodes < 100 or pct >= 100:
            return n_nodes
        if pct <= 0:
            pct = max(5, 50 - n_nodes // 125)
        return max(100, n_nodes * pct // 100)


def _names(section: Mapping | None, key: str) -> list[Mapping]:
    return list(((section or {}).get(key)) or ())


def profile_from(doc: Mapping, default_percentage: int, python_plugins: Mapping[str, Any]) -> Profile:
    profile = Profile(scheduler_name=doc.get("schedulerName") or DEFAULT_SCHEDULER,
                      percentage_of_nodes_to_score=int(doc.get("percentageOfNodesToScore") or default_percentage))
    plugins = doc.get("plugins") or {}
    for point in ("multiPoint", "filter", "score"):
        section = plugins.get(point) or {}
        for entry in _names(section, "disabled"):
            name = entry.get("name")
            if name == "*":
                if point in ("multiPoint", "filter"):
                    profile.filters = 0
                if point in ("multiPoint", "score"):
                    profile.weights = [0] * len(SCORES)
                continue
            if name not in FILTERS and name not in SCORES and name not in python_plugins:
                raise ConfigError(f"unknown plugin {name!r}")
            if point != "score" and name in FILTERS:
                profile.filters &= ~FILTERS[name]
            if point != "filter" and name in SCORES:
                profile.weights[SCORE_INDEX[name]] = 0
        for entry in _names(section, "enabled"):
            name = entry.get("name")
            weight = entry.get("weight")
            if name in python_plugins:
                plugin = python_plugins[name]
                if point != "score" and hasattr(plugin, "filter"):
                    profile.python_filters.append(name)
                if point != "filter" and hasattr(plugin, "score"):
                    profile.python_scores[name] = int(weight or getattr(plugin, "weight", 1))
                continue
            if name not in FILTERS and name not in SCORES:
                raise ConfigError(f"unknown plugin {name!r}")
            if point != "score" and name in FILTERS:
                profile.filters |= FILTERS[name]
            if point != "filter" and name in SCORES:
                profile.weights[SCORE_INDEX[name]] = int(weight or SCORES[name])
    for entry in doc.get("pluginConfig") or ():
        if entry.get("name") == "NodeResourcesFit":
            strategy = (((entry.get("args") or {}).get("scoringStrategy")) or {}).get("type", "LeastAllocated")
            if strategy not in ("LeastAllocated", "MostAllocated"):
                raise ConfigError(f"unsupported NodeResourcesFit scoringStrategy {strategy!r}")
            profile.most_allocated = strategy == "MostAllocated"
    return profile


@dataclass
class SchedulerConfig:
    profiles: dict[str, Profile] = field(default_factory=lambda: {DEFAULT_SCHEDULER: Profile()})
    leader_election: dict = field(default_factory=dict)

    @classmethod
    def from_yaml(cls, text: str, python_plugins: Mapping[str, Any] | None = None) -> "SchedulerConfig":
        doc = yaml.safe_load(text) or {}
        if not isinstance(doc, Mapping):
            raise ConfigError("the configuration must be a KubeSchedulerConfiguration object")
        kind = doc.get("kind", "KubeSchedulerConfiguration")
        if kind != "KubeSchedulerConfiguration":
            raise ConfigError(f"kind must be KubeSchedulerConfiguration, not {kind!r}")
        default_pct = int(doc.get("percentageOfNodesToScore") or 0)
        profiles = [profile_from(p, default_pct, python_plugins or {}) for p in doc.get("profiles") or [{}]]
        names = [p.scheduler_name for p in profiles]
        if len(set(names)) != len(names):
            raise ConfigError("profiles must have distinct schedulerName")
        return cls({p.scheduler_name: p for p in profiles}, dict(doc.get("leaderElection") or {}))
