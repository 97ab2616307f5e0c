"""Clients of the API server: what the scheduler, controllers, kubelets and users build on.

- `Client` (HTTP, from a kubeconfig) and `InProcessClient` (same interface, through an
  in-process API server's local entry point, typed by the `LocalAPI` Protocol), with typed
  errors (`NotFound`, `Conflict`, ...).
- `SharedIndexInformer` / `SharedInformerFactory`: list+watch into an indexed local cache, with
  event handlers; `WorkQueue` / `RateLimitingQueue` for the keys handlers enqueue.
- `LeaderElector`: Lease-based leader election.

See docs/client.md for the whole surface and an example controller.
"""
from __future__ import annotations

from pykube_plane.api.users import UserInfo
from pykube_plane.api.watchevents import ADDED, BOOKMARK, DELETED, ERROR, MODIFIED

from .api import PATCH_TYPES, APIClient
from .backoff import NO_RETRIES, Backoff, RetryPolicy
from .config import ClientConfig, ConfigError
from .errors import (
    AlreadyExists, ApiError, BadRequest, Conflict, ConnectionFailed, Forbidden, Gone, InternalError, Invalid,
    MethodNotAllowed, NotFound, RequestEntityTooLarge, ServerTimeout, ServiceUnavailable, TooManyRequests,
    Unauthorized, UnsupportedMediaType, error_from_status,
)
from .factory import SharedInformerFactory
from .indexer import (
    NAMESPACE_INDEX, Indexer, index_by_field, index_by_label, index_by_namespace, object_key, split_key,
)
from .informer import HandlerRegistration, ResourceEventHandler, SharedIndexInformer
from .inprocess import InProcessClient, copy_json
from .leaderelection import LeaderElectionRecord, LeaderElector, LeaseLock
from .local import LocalAPI, LocalRequest, LocalResponse
from .reflector import Reflector
from .resources import BUILTIN, APIResource, ResourceResolver
from .rest import Client
from .watch import Watch, WatchEvent
from .workqueue import (
    DelayingQueue, ItemExponentialBackoff, RateLimitingQueue, ShutDown, TokenBucket, WorkQueue,
)


__all__ = [
    "ADDED", "APIClient", "APIResource", "AlreadyExists", "ApiError", "BOOKMARK", "BUILTIN", "Backoff",
    "BadRequest", "Client", "ClientConfig", "ConfigError", "Conflict", "ConnectionFailed", "DELETED",
    "DelayingQueue", "ERROR", "Forbidden", "Gone", "HandlerRegistration", "InProcessClient", "Indexer",
    "InternalError", "Invalid", "ItemExponentialBackoff", "LeaderElectionRecord", "LeaderElector", "LeaseLock",
    "LocalAPI", "LocalRequest", "LocalResponse",
    "MODIFIED", "MethodNotAllowed", "NAMESPACE_INDEX", "NO_RETRIES", "NotFound", "PATCH_TYPES",
    "RateLimitingQueue", "Reflector", "RequestEntityTooLarge", "ResourceEventHandler", "ResourceResolver",
    "RetryPolicy", "ServerTimeout", "ServiceUnavailable", "SharedIndexInformer", "SharedInformerFactory",
    "ShutDown", "TokenBucket", "TooManyRequests", "Unauthorized", "UnsupportedMediaType", "UserInfo", "Watch",
    "WatchEvent", "WorkQueue", "copy_json", "error_from_status", "index_by_field", "index_by_label",
    "index_by_namespace", "object_key", "split_key",
]
