"""Crash safety with a real process: a child appends, acknowledges, and is killed with SIGKILL.

The child prints an index only after `save()` returned for it (so it is durable), and a mark
only after `save_snapshot_mark()` and `release_before()` returned. The parent kills it after a
random number of acknowledgements, reopens the log, and checks that every acknowledged entry is
there, that nothing appears that the child did not write, and then lets the next child carry on
from the recovered log. Every round kills the same log again.
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
from pathlib import Path

from pykube_plane.store.wal import WAL, Entry, HardState

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = 20

CHILD = r"""
import asyncio, itertools, sys
from pykube_plane.store.wal import WAL, Entry, HardState, SnapshotMark

def payload(index):
    return b"payload-%d." % index * (1 + index % 13)

def ack(line):
    sys.stdout.write(line + "\n")  # one write: the line reaches the pipe whole or not at all
    sys.stdout.flush()

async def main(directory, writers):
    wal = await WAL.open(directory, segment_bytes=4096)
    _, entries, mark = wal.read_all()
    start = entries[-1].index + 1 if entries else (mark.index + 1 if mark else 1)
    indexes = itertools.count(start)

    async def writer():
        while True:
            index = next(indexes)  # taken and encoded with no await in between: log order
            await wal.save([Entry(1, index, payload(index))], HardState(1, 1, index))
            ack(f"e {index}")
            if index % 250 == 0:
                await wal.save_snapshot_mark(SnapshotMark(index - 100, 1))
                await wal.release_before(index - 99)
                ack(f"m {index - 100}")

    await asyncio.gather(*(writer() for _ in range(writers)))

asyncio.run(main(sys.argv[1], int(sys.argv[2])))
"""


def payload(index: int) -> bytes:
    return b"payload-%d." % index * (1 + index % 13)


def run_child_until_killed(directory: Path, writers: int, acks_before_kill: int) -> list[tuple[str, int]]:
    """Start a child, SIGKILL it after `acks_before_kill` acknowledgements; every line it printed."""
    env = dict(os.environ, PYTHONPATH=str(ROOT))
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(directory), str(writers)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, cwd=ROOT)
    lines = []
    try:
        while len(lines) < acks_before_kill:
            line = child.stdout.readline()
            if not line:
                raise AssertionError(f"child died on its own: {child.stderr.read().decode()}")
            lines.append(line)
        child.send_signal(signal.SIGKILL)
        lines.extend(child.stdout.readlines())  # printed before the kill: acknowledged too
    finally:
        if child.poll() is None:
            child.kill()
        child.wait()
        child.stdout.close()
        child.stderr.close()
    assert child.returncode == -signal.SIGKILL
    acks = []
    for line in lines:
        if not line.endswith(b"\n"):
            continue  # killed while printing; what it acknowledged is not known for sure
        kind, index = line.split()
        acks.append((kind.decode(), int(index)))
    return acks


async def recovered(directory: Path):
    wal = await WAL.open(directory)
    try:
        return wal.read_all()
    finally:
        await wal.close()


def test_sigkill_never_loses_an_acknowledged_entry(tmp_path):
    directory = tmp_path / "wal"
    rng = random.Random(int(os.environ.get("WAL_CRASH_SEED", "7")))
    acked_entries = 0  # highest acknowledged entry index so far
    acked_mark = 0
    for round_ in range(ROUNDS):
        writers = rng.choice([1, 1, 8, 32])
        for kind, index in run_child_until_killed(directory, writers, rng.randint(1, 600)):
            if kind == "e":
                acked_entries = max(acked_entries, index)
            else:
                acked_mark = max(acked_mark, index)

        hard_state, entries, mark = asyncio.run(recovered(directory))
        mark_index = mark.index if mark else 0
        last = entries[-1].index if entries else mark_index
        context = f"round {round_}, {writers} writers"
        # every acknowledged entry is there (those at or below the mark live in the snapshot)
        assert mark_index >= acked_mark, context
        assert last >= acked_entries, context
        assert [e.index for e in entries] == list(range(mark_index + 1, last + 1)), context
        # and nothing the child did not write
        assert all(e.data == payload(e.index) and e.term == 1 for e in entries), context
        assert hard_state.commit >= acked_entries and hard_state.commit <= last, context
        acked_entries = max(acked_entries, last)  # what survived is what the next child builds on
    assert acked_entries > ROUNDS  # the children made progress
    assert acked_mark > 0  # and snapshot marks with segment releases happened under the kills
