# cython: language_level=3, boundscheck=True, wraparound=False
"""pykube_plane._raft — the Raft consensus core, compiled: a deterministic state machine in
the shape of etcd-io/raft, with no I/O, no clock and no asyncio.

Drive it with tick(), step(message), propose(data), read_index(ctx), transfer_leader(id);
collect work with has_ready() / ready(), do it in the documented order (Ready), advance().

Membership changes are one at a time (single voter added or removed per change, applied
when committed). Why that is safe: any majority of the old voter set and any majority of a
set differing by one member intersect, so two leaders of the same term cannot be elected
by the two configurations. Changes must not overlap: a leader refuses a change while an
earlier one is not applied, and a new leader refuses one until its own first entry is
(pending_conf_index), which closes the known gap of single-server changes across leader
changes. A node does not campaign while a committed conf change is unapplied.

Bounds checks stay on (boundscheck=True): an indexing bug must raise, not corrupt memory.
"""

from libc.stdint cimport int64_t, uint64_t
from libc.stdlib cimport malloc, free, qsort

include "types.pxi"
include "storage.pxi"
include "raft_log.pxi"
include "progress.pxi"
include "read_only.pxi"
include "ready.pxi"
include "node.pxi"

# Export the enum members as module constants (MSG_APP, ROLE_LEADER, ...).
for _enum in (MessageType, EntryType, ConfChangeType, Role, ProgressState):
    globals().update(_enum.__members__)
del _enum
