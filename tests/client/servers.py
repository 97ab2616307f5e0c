"""Real API servers for the client tests, and a TCP proxy to break connections on purpose.

`APIServerProcess` runs `kplane apiserver` (TLS, x509 + token authentication, RBAC) on its own
data dir and a fixed port, so it can be stopped, killed and started again on the same data and
address while clients keep their configuration. `TCPProxy` forwards bytes (TLS passes through
untouched) and can cut every connection or refuse new ones for a while: a real network fault
between a real client and a real server.
"""
from __future__ import annotations

import asyncio
import contextlib
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import AsyncIterator

import yaml

from tests.conftest import ROOT, free_port

KPLANE = [sys.executable, "-m", "pykube_plane.cli.main"]

# token -> (user, groups): the same identities for the process and the in-process server.
TOKENS = {
    "admin-token": ("admin", ("system:masters",)),
    "bob-token": ("bob", ()),
}


class APIServerProcess:
    def __init__(self, tmp: Path, *, watch_cache_size: int = 10_000) -> None:
        self.tmp = tmp
        self.data_dir = tmp / "data"
        self.kubeconfig = tmp / "admin.kubeconfig"
        self.log = tmp / "apiserver.log"
        self.token_file = tmp / "tokens.csv"
        self.token_file.write_text("".join(f'{token},{user},uid-{user},"{",".join(groups)}"\n'
                                           for token, (user, groups) in TOKENS.items()))
        self.port = free_port()
        self.watch_cache_size = watch_cache_size
        self.proc: subprocess.Popen | None = None
        self.starts = 0

    @property
    def url(self) -> str:
        return f"https://127.0.0.1:{self.port}"

    def kubeconfig_dict(self) -> dict:
        return yaml.safe_load(self.kubeconfig.read_text())

    def start(self, timeout: float = 60) -> None:
        """Start and wait until it serves (the kubeconfig is written once it listens)."""
        self.kubeconfig.unlink(missing_ok=True)
        with open(self.log, "ab") as out:
            out.write(f"---- start {self.starts}\n".encode())
            out.flush()
            self.proc = subprocess.Popen(
                KPLANE + ["apiserver", "--data-dir", str(self.data_dir), "--secure-port", str(self.port),
                          "--write-kubeconfig", str(self.kubeconfig), "--token-auth-file", str(self.token_file),
                          "--watch-cache-size", str(self.watch_cache_size), "--unsafe-no-fsync",
                          "--log-level", "warn"],
                stdout=out, stderr=subprocess.STDOUT, cwd=ROOT)
        self.starts += 1
        deadline = time.monotonic() + timeout
        while not self.kubeconfig.exists():
            if self.proc.poll() is not None:
                raise AssertionError(f"kplane apiserver exited with {self.proc.returncode}:\n{self.log.read_text()}")
            if time.monotonic() > deadline:
                self.proc.kill()
                raise AssertionError(f"kplane apiserver did not start:\n{self.log.read_text()}")
            time.sleep(0.05)

    def stop(self, sig: int = signal.SIGTERM) -> None:
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        proc.send_signal(sig)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()

    def kill(self) -> None:
        self.stop(signal.SIGKILL)

    def restart(self, sig: int = signal.SIGTERM) -> None:
        self.stop(sig)
        self.start()


class TCPProxy:
    """127.0.0.1:<port> -> target. `cut()` drops every open connection; inside `refusing()` new
    connections are accepted and closed at once (the client sees the server hang up)."""

    def __init__(self, target_port: int, target_host: str = "127.0.0.1") -> None:
        self.target_host = target_host
        self.target_port = target_port
        self.port = 0
        self.refuse = False
        self.connections = 0
        self._server: asyncio.base_events.Server | None = None
        self._pipes: set[asyncio.Task] = set()
        self._writers: set[asyncio.StreamWriter] = set()

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._accept, "127.0.0.1", 0)
        self.port = self._server.sockets[0].getsockname()[1]

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
        self.cut()      # the pipes see their transports gone and finish
        await asyncio.gather(*self._pipes, return_exceptions=True)

    def cut(self) -> None:
        for writer in list(self._writers):
            writer.transport.abort()
        self._writers.clear()

    @contextlib.asynccontextmanager
    async def refusing(self) -> AsyncIterator[None]:
        self.refuse = True
        self.cut()
        try:
            yield
        finally:
            self.refuse = False

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        if self.refuse:
            writer.transport.abort()
            return
        try:
            up_reader, up_writer = await asyncio.open_connection(self.target_host, self.target_port)
        except OSError:
            writer.transport.abort()
            return
        self.connections += 1
        self._writers.update((writer, up_writer))
        task = asyncio.current_task()
        assert task is not None
        self._pipes.add(task)
        try:
            await asyncio.gather(self._pipe(reader, up_writer), self._pipe(up_reader, writer))
        finally:
            self._pipes.discard(task)
            for w in (writer, up_writer):
                self._writers.discard(w)
                w.transport.abort()

    @staticmethod
    async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            while True:
                data = await reader.read(65536)
                if not data:
                    break
                writer.write(data)
                await writer.drain()
        except (ConnectionError, OSError):
            pass
        finally:
            writer.transport.abort()
