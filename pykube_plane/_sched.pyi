"""Type stub of the compiled scheduler core (csrc/sched): a struct-of-arrays node table and the
default plugins' filter and score kernels, run without the GIL."""
from array import array
from typing import Any, Sequence

F_UNSCHEDULABLE: int
F_NODE_NAME: int
F_TAINT: int
F_AFFINITY: int
F_PORTS: int
F_FIT: int
F_SPREAD: int
F_INTERPOD: int
F_ALL: int
R_UNSCHEDULABLE: int
R_NODE_NAME: int
R_TAINT: int
R_AFFINITY: int
R_PORTS: int
R_TOO_MANY_PODS: int
R_CPU: int
R_MEMORY: int
R_EPHEMERAL: int
R_SPREAD_LABEL: int
R_SPREAD_SKEW: int
R_POD_AFFINITY: int
R_POD_ANTI_AFFINITY: int
R_EXISTING_ANTI_AFFINITY: int
S_TAINT: int
S_NODE_AFFINITY: int
S_FIT: int
S_BALANCED: int
S_IMAGE: int
S_SPREAD: int
S_INTERPOD: int
N_SCORES: int
OP_IN: int
OP_NOT_IN: int
OP_EXISTS: int
OP_DOES_NOT_EXIST: int
OP_GT: int
OP_LT: int
EFFECT_ANY: int
EFFECT_NO_SCHEDULE: int
EFFECT_PREFER_NO_SCHEDULE: int
EFFECT_NO_EXECUTE: int
KEY_NODE_NAME: int

class Interner:
    """Strings to dense ids, shared by labels, taints, host IPs and image names."""
    def intern(self, text: str) -> int: ...
    def lookup(self, text: str) -> int: ...
    def string(self, i: int) -> str: ...
    def __len__(self) -> int: ...

class PodQuery:
    """One pod with every string interned (built by pykube_plane.scheduler.state)."""
    spread: Any
    interpod: Any
    def __init__(self, requests: Sequence[int] = ..., nonzero: Sequence[int] = ..., node_name: int = ...,
                 ports: Sequence[tuple[int, int, int]] = ..., tolerations: Sequence[tuple[int, int, int, int]] = ...,
                 selector: Sequence[tuple[int, int]] = ..., required: Any = ..., preferred: Any = ...,
                 images: Sequence[int] = ..., n_containers: int = ..., spread: Any = ...,
                 interpod: Any = ...) -> None: ...

class RunResult:
    feasible: array          # 'i': node indexes in the order visited
    total: array             # 'q': weighted score per feasible node
    plugin_scores: list[array]
    reasons: array           # 'I': R_* bits per node (0: feasible or not visited)
    untolerated: array       # 'i': per node, the index of the untolerated taint
    processed: int
    best: int                # position in feasible of the chosen node, -1 when none

class NodeTable:
    interner: Interner
    n: int
    def __len__(self) -> int: ...
    def __contains__(self, name: str) -> bool: ...
    def index_of(self, name: str) -> int: ...
    def name_at(self, i: int) -> str: ...
    def node_names(self) -> list[str]: ...
    def set_node(self, name: str, allocatable: Sequence[int], unschedulable: bool,
                 labels: Sequence[tuple[int, int]], taints: Sequence[tuple[int, int, int]],
                 images: Sequence[tuple[int, int]]) -> int: ...
    def remove_node(self, name: str) -> bool: ...
    def add_pod(self, node: str, requests: Sequence[int], nonzero: Sequence[int],
                ports: Sequence[tuple[int, int, int]] = ...) -> None: ...
    def remove_pod(self, node: str, requests: Sequence[int], nonzero: Sequence[int],
                   ports: Sequence[tuple[int, int, int]] = ...) -> None: ...
    def node_state(self, i: int) -> dict: ...
    def taint_of(self, i: int, t: int) -> tuple[str, str, int]: ...
    def run(self, pod: PodQuery, start: int, num_to_find: int, filters: int, weights: Sequence[int],
            most_allocated: bool = ..., score: bool = ..., tie_seed: int = ..., max_visit: int = ...) -> RunResult: ...
