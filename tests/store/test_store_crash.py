"""Kill -9 at random moments: every acknowledged put survives, nothing never-written appears.

A child process opens the store (fsync on, small snapshot interval so snapshots and WAL release
happen mid-run) and runs concurrent writers, each putting its own sequence of keys one at a time
and printing an ACK line once `put` returns. The parent kills it with SIGKILL at a random moment,
then recovers the same data dir in-process and checks, per writer w:

- every seq <= last acknowledged seq is present with its value (acknowledged = durable);
- nothing beyond last acknowledged + 1 is present (a writer has at most one put in flight);
- every value is exactly what that key was written with.

The same data dir is reused across runs, so recovery of a recovered (and torn) log is covered too.
"""
from __future__ import annotations

import asyncio
import os
import random
import signal
import subprocess
import sys
import textwrap
import threading
import time

from pykube_plane.store.kv import prefix_end
from pykube_plane.store.store import Store

WRITERS = 8
RUNS = int(os.environ.get("KPLANE_CRASH_RUNS", "20"))

CHILD = textwrap.dedent("""
    import asyncio, sys
    from pykube_plane.store.store import Store

    async def writer(store, w, start):
        seq = start
        while True:
            rev = await store.put(b"/crash/%d/%08d" % (w, seq), b"%d:%d" % (w, seq))
            sys.stdout.write("ACK %d %d %d\\n" % (w, seq, rev))
            sys.stdout.flush()
            seq += 1

    async def main(data_dir, starts):
        store = await Store.open(data_dir, snapshot_count=150)
        sys.stdout.write("READY\\n"); sys.stdout.flush()
        await asyncio.gather(*(writer(store, w, s) for w, s in enumerate(starts)))

    asyncio.run(main(sys.argv[1], [int(x) for x in sys.argv[2:]]))
""")


def run_child_until_killed(data_dir, starts, rng) -> dict[int, int]:
    """Run the writer child, SIGKILL it after a random delay; return last acked seq per writer."""
    proc = subprocess.Popen([sys.executable, "-c", CHILD, str(data_dir), *map(str, starts)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    acked: dict[int, int] = {}
    line = proc.stdout.readline()
    assert line.strip() == "READY", proc.stderr.read()
    lines: list[str] = []
    reader = threading.Thread(target=lambda: lines.extend(proc.stdout), daemon=True)
    reader.start()
    time.sleep(rng.uniform(0.05, 0.6))
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    reader.join()  # reads to EOF: ACKs printed before death were acknowledged too
    buffered = "".join(lines)
    for line in buffered.splitlines():
        if line.startswith("ACK "):
            _, w, seq, _rev = line.split()
            acked[int(w)] = max(acked.get(int(w), -1), int(seq))
    assert proc.returncode == -signal.SIGKILL, proc.stderr.read()
    return acked


async def check_recovered(data_dir, last_acked: dict[int, int]) -> dict[int, int]:
    """Verify the invariants; return the highest seq present per writer (the next run's start - 1)."""
    store = await Store.open(data_dir)
    try:
        res = await store.range(b"/crash/", prefix_end(b"/crash/"))
        present: dict[int, set[int]] = {}
        for kv in res.kvs:
            _, _, w, seq = kv.key.split(b"/")
            w, seq = int(w), int(seq)
            assert kv.value == b"%d:%d" % (w, seq), f"key {kv.key!r} holds {kv.value!r}"
            present.setdefault(w, set()).add(seq)
        highest = {}
        for w in range(WRITERS):
            seqs = present.get(w, set())
            acked = last_acked.get(w, -1)
            missing = [s for s in range(acked + 1) if s not in seqs]
            assert not missing, f"writer {w}: acknowledged seqs lost: {missing[:10]}"
            assert not seqs or max(seqs) <= acked + 1, f"writer {w}: seq {max(seqs)} never written"
            highest[w] = max(seqs, default=-1)
        return highest
    finally:
        await store.close()


def test_sigkill_never_loses_an_acknowledged_put(tmp_path):
    rng = random.Random(int(os.environ.get("KPLANE_CRASH_SEED", "1234")))
    data_dir = tmp_path / "data"
    last_acked = {w: -1 for w in range(WRITERS)}
    starts = [0] * WRITERS
    total_acked = 0
    for _run in range(RUNS):
        acked = run_child_until_killed(data_dir, starts, rng)
        for w, seq in acked.items():
            last_acked[w] = max(last_acked[w], seq)
        total_acked += sum(seq - starts[w] + 1 for w, seq in acked.items())
        highest = asyncio.run(check_recovered(data_dir, last_acked))
        # An unacknowledged put that did land counts as written: the next run continues after it.
        for w in range(WRITERS):
            last_acked[w] = max(last_acked[w], highest[w])
        starts = [last_acked[w] + 1 for w in range(WRITERS)]
    assert total_acked > RUNS  # the child really wrote under load before dying
