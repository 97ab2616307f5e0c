"""State machines the Raft tests replicate.

`KVStateMachine` is the simulation's: puts, gets and compare-and-set over string keys, with a
session table (client -> last sequence number and its result) so that a command delivered
twice (a duplicated or retried proposal) takes effect once (Raft dissertation §6.3).
`RecordingStateMachine` just remembers what was applied (transcripts).
"""
from __future__ import annotations

import pickle
from dataclasses import dataclass


@dataclass(frozen=True)
class Command:
    client: int
    seq: int
    op: str  # "put" | "cas"
    key: str
    value: str = ""
    expected: str | None = None  # cas: the value the key must hold (None = absent)

    def encode(self) -> bytes:
        return pickle.dumps((self.client, self.seq, self.op, self.key, self.value, self.expected))

    @staticmethod
    def decode(data: bytes) -> Command:
        return Command(*pickle.loads(data))


class KVStateMachine:
    def __init__(self) -> None:
        self.data: dict[str, str] = {}
        self.sessions: dict[int, tuple[int, object]] = {}

    def apply(self, payload: bytes) -> tuple[int, int, object] | None:
        """Apply one committed command; returns (client, seq, result) for the waiting client."""
        cmd = Command.decode(payload)
        last_seq, last_result = self.sessions.get(cmd.client, (0, None))
        if cmd.seq <= last_seq:
            # A duplicate: report the original outcome, change nothing.
            return (cmd.client, cmd.seq, last_result) if cmd.seq == last_seq else None
        if cmd.op == "put":
            self.data[cmd.key] = cmd.value
            result: object = "ok"
        elif cmd.op == "cas":
            if self.data.get(cmd.key) == cmd.expected:
                self.data[cmd.key] = cmd.value
                result = True
            else:
                result = False
        else:
            raise ValueError(f"unknown op {cmd.op!r}")
        self.sessions[cmd.client] = (cmd.seq, result)
        return cmd.client, cmd.seq, result

    def get(self, key: str) -> str | None:
        return self.data.get(key)

    def snapshot(self) -> bytes:
        return pickle.dumps((self.data, self.sessions))

    def restore(self, blob: bytes) -> None:
        self.data, self.sessions = pickle.loads(blob)


class RecordingStateMachine:
    def __init__(self) -> None:
        self.applied: list[bytes] = []

    def apply(self, payload: bytes) -> None:
        self.applied.append(payload)

    def snapshot(self) -> bytes:
        return pickle.dumps(self.applied)

    def restore(self, blob: bytes) -> None:
        self.applied = pickle.loads(blob)
