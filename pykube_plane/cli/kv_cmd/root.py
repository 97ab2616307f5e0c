"""The `kplane kv` group: etcdctl's global flags, exit codes and the helpers every command uses."""
from __future__ import annotations

import asyncio
import os
import sys
from typing import Any, Awaitable, Callable

import click

from pykube_plane.store.kv import StoreError, prefix_end
from pykube_plane.store.remote import EndpointsUnavailableError, RemoteKV

from .printer import kv_lines

# etcdctl's exit codes (etcdctl/ctlv3/command/error.go)
EXIT_ERROR = 1
EXIT_BAD_CONNECTION = 2
EXIT_INVALID_INPUT = 3
EXIT_INTERRUPTED = 5
EXIT_IO = 6
EXIT_BAD_ARGS = 128

OUTPUT_FORMATS = ("simple", "json", "table")


class Settings:
    def __init__(self, endpoints: list[str], write_out: str, command_timeout: float,
                 dial_timeout: float, hex_output: bool) -> None:
        self.endpoints = endpoints
        self.write_out = write_out
        self.command_timeout = command_timeout
        self.dial_timeout = dial_timeout
        self.hex = hex_output

    def client(self, endpoints: list[str] | None = None) -> RemoteKV:
        return RemoteKV(endpoints or self.endpoints, request_timeout=self.command_timeout,
                        retry_budget=self.dial_timeout)


def fail(message: str, code: int = EXIT_ERROR) -> None:
    click.echo(f"Error: {message}", err=True)
    sys.exit(code)


def run(ctx: click.Context, body: Callable[[Settings, RemoteKV], Awaitable[Any]]) -> Any:
    """Run one command's coroutine with a client; etcd errors become `Error: ...` + exit code."""
    settings: Settings = ctx.obj

    async def main() -> Any:
        client = settings.client()
        try:
            return await body(settings, client)
        finally:
            await client.close()

    try:
        return asyncio.run(main())
    except EndpointsUnavailableError:
        fail(EndpointsUnavailableError.message)  # etcdctl says just this, with exit code 1
    except StoreError as exc:
        fail(exc.message)
    except KeyboardInterrupt:
        sys.exit(EXIT_INTERRUPTED)


async def call_endpoint(settings: Settings, endpoint: str, method: Callable, request, *,
                        retry_safe: bool):
    """One call to exactly `endpoint`, on a client of its own (etcdctl's per-endpoint commands)."""
    one = settings.client([endpoint])
    try:
        return await one.conn.call(method, request, retry_safe=retry_safe)
    finally:
        await one.close()


def command(fn: Callable) -> Callable:
    """Decorator: pass the click context first, the rest as click gives it."""
    return click.pass_context(fn)


def parse_lease_id(text: str) -> int:
    try:
        return int(text, 16)
    except ValueError:
        raise click.BadParameter(f"bad lease ID arg ({text!r}), expecting ID in Hex") from None


def encode(text: str) -> bytes:
    return text.encode()


def lease_hex(lease_id: int) -> str:
    return f"{lease_id & 0xFFFFFFFFFFFFFFFF:016x}"


# =================================================================================================
# Global flags. etcdctl (cobra) accepts them before or after the subcommand: `etcdctl get k -w json`.
# Every command here carries them too; a value given after the subcommand wins.


def _global_options() -> list[click.Option]:
    return [
        click.Option(["--endpoints"], help="Comma-separated gRPC endpoints "
                     "(default 127.0.0.1:2379 or $ETCDCTL_ENDPOINTS)."),
        click.Option(["-w", "--write-out"], type=click.Choice(OUTPUT_FORMATS), help="Output format."),
        click.Option(["--command-timeout"], type=float, help="Seconds before a request times out (5)."),
        click.Option(["--dial-timeout"], type=float, help="Seconds to keep trying an endpoint (2)."),
        click.Option(["--hex", "hex_output"], is_flag=True, default=None,
                     help="Print keys and values as hex."),
    ]


_GLOBAL_NAMES = ("endpoints", "write_out", "command_timeout", "dial_timeout", "hex_output")


def _apply_globals(ctx: click.Context) -> None:
    """Move the global flags given to this (sub)command into the shared Settings."""
    settings = ctx.find_object(Settings)
    if settings is None:
        return  # the top-level group: its callback builds Settings from these params
    _merge(settings, {name: ctx.params.pop(name, None) for name in _GLOBAL_NAMES})


def _merge(settings: "Settings", values: dict[str, Any]) -> None:
    if values.get("endpoints"):
        settings.endpoints = [e.strip() for e in values["endpoints"].split(",") if e.strip()]
    if values.get("write_out"):
        settings.write_out = values["write_out"]
    if values.get("command_timeout"):
        settings.command_timeout = values["command_timeout"]
    if values.get("dial_timeout"):
        settings.dial_timeout = values["dial_timeout"]
    if values.get("hex_output"):
        settings.hex = True


class _TakesGlobalFlags:
    """Mixed into a click command or group: it takes the global flags too."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.params.extend(_global_options())

    def invoke(self, ctx: click.Context) -> Any:
        _apply_globals(ctx)
        return super().invoke(ctx)


class KvCommand(_TakesGlobalFlags, click.Command):
    pass


class KvGroup(_TakesGlobalFlags, click.Group):
    command_class = KvCommand


KvGroup.group_class = KvGroup


@click.group(cls=KvGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def kv(ctx: click.Context, **global_flags: Any) -> None:
    """etcdctl-like client for a kplane store or an etcd cluster."""
    eps = os.environ.get("ETCDCTL_ENDPOINTS", "127.0.0.1:2379")
    ctx.obj = Settings([e.strip() for e in eps.split(",") if e.strip()], "simple", 5.0, 2.0, False)
    _merge(ctx.obj, global_flags)


def range_end_of(key: str, range_end: str | None, prefix: bool, from_key: bool) -> bytes:
    if prefix:
        return prefix_end(encode(key)) if key else b"\0"
    if from_key:
        return b"\0"
    return encode(range_end) if range_end else b""


def format_kv(settings: Settings, kv_msg, value_only: bool = False) -> str:
    if settings.hex:
        key, value = kv_msg.key.hex(), kv_msg.value.hex()
        return f"{value}\n" if value_only else f"{key}\n{value}\n"
    return kv_lines(kv_msg, value_only)
