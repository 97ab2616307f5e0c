"""The type of a watch event (metav1.WatchEvent.type), one definition for server and clients."""
from __future__ import annotations

ADDED = "ADDED"
MODIFIED = "MODIFIED"
DELETED = "DELETED"
BOOKMARK = "BOOKMARK"
ERROR = "ERROR"

# The annotation of the bookmark that ends a watch's initial events (sendInitialEvents=true).
INITIAL_EVENTS_END = "k8s.io/initial-events-end"
