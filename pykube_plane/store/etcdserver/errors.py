"""Store errors leave the server as etcd's gRPC statuses, never as tracebacks."""
from __future__ import annotations

import functools
import logging
from typing import Any, Awaitable, Callable, TypeVar

import grpc

from ..etcdpb.rpctypes import status_for
from ..kv import StoreError

log = logging.getLogger("pykube_plane.store.etcdserver")

F = TypeVar("F", bound=Callable[..., Awaitable[Any]])


def etcd_errors(handler: F) -> F:
    """Wrap a unary handler: StoreError -> etcd's code and message; anything else -> UNKNOWN,
    logged with its traceback here and reported to the client by message only."""

    @functools.wraps(handler)
    async def wrapper(self, request, context: grpc.aio.ServicerContext):
        try:
            return await handler(self, request, context)
        except StoreError as exc:
            code, message = status_for(exc)
            await context.abort(code, message)
        except (grpc.aio.AbortError, grpc.aio.UsageError):
            raise
        except Exception as exc:  # a server bug: keep serving, tell the client what failed
            log.exception("%s failed", handler.__name__)
            await context.abort(grpc.StatusCode.UNKNOWN, f"etcdserver: {type(exc).__name__}: {exc}")

    return wrapper  # type: ignore[return-value]
