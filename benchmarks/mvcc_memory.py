"""Resident memory per key: 1,000,000 keys of 64 B with 256 B values, compiled core vs the model.

Each variant runs in its own subprocess so its RSS is its own: the figure is the growth of
VmRSS from just before the first put to just after the last (interpreter and imports excluded).
Every value is a distinct bytes object, as real values are. Events are drained every 10,000 puts,
as the store's apply loop does after each batch. For scale, the figure quoted for etcd with
this load is about 470 MB of RSS (not measured here).

    .venv/bin/python -m benchmarks.mvcc_memory [--keys N]      (from the repo root)

writes benchmarks/results/mvcc_memory.json.
"""
from __future__ import annotations

import argparse
import gc
import json
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
KEY_SIZE = 64
VALUE_SIZE = 256


def rss_bytes() -> int:
    with open("/proc/self/status") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS in /proc/self/status")


def key_of(i: int) -> bytes:
    key = b"/registry/pods/namespace-%04d/pod-%010d" % (i % 1000, i)
    return key + b"-" * (KEY_SIZE - len(key))


def value_of(i: int) -> bytes:
    return (b"%016d" % i) * (VALUE_SIZE // 16)


def measure(variant: str, n_keys: int) -> dict:
    """Runs inside the subprocess."""
    if variant == "compiled":
        from pykube_plane._mvcc import MVCC as Store
    else:
        from tests.store.mvcc_model import MVCCModel as Store
    assert len(key_of(n_keys)) == KEY_SIZE and len(value_of(0)) == VALUE_SIZE
    gc.collect()
    store = Store()
    before = rss_bytes()
    started = time.process_time()
    for i in range(n_keys):
        store.put(key_of(i), value_of(i))
        if i % 10_000 == 9_999:
            store.take_events()
    store.take_events()
    seconds = time.process_time() - started
    gc.collect()
    grown = rss_bytes() - before
    assert store.range(key_of(n_keys // 2)).kvs[0].value == value_of(n_keys // 2)
    stats = store.stats()
    return {"keys": n_keys, "rss_bytes": grown, "bytes_per_key": round(grown / n_keys, 1),
            "put_cpu_seconds": round(seconds, 2), "store_estimate_bytes": stats.get("bytes")}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--keys", type=int, default=1_000_000)
    parser.add_argument("--variant", choices=["compiled", "model"], help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.variant:  # the child
        print(json.dumps(measure(args.variant, args.keys)))
        return
    results = {}
    for variant in ("compiled", "model"):
        out = subprocess.run([sys.executable, "-m", "benchmarks.mvcc_memory", "--variant", variant,
                              "--keys", str(args.keys)],
                             check=True, capture_output=True, text=True, cwd=ROOT).stdout
        results[variant] = json.loads(out)
        print(variant, results[variant], flush=True)
    from benchmarks.conftest import write_result
    path = write_result("mvcc_memory", {
        **results,
        "model_over_compiled": round(results["model"]["rss_bytes"] / results["compiled"]["rss_bytes"], 2),
        "raw_bytes_per_key": KEY_SIZE + VALUE_SIZE,
        "note": ("RSS growth over the puts, one subprocess per variant; 64 B keys, 256 B distinct "
                 "values; the figure quoted for etcd with this load is ~470 MB (not measured "
                 "here); "
                 "python -m benchmarks.mvcc_memory"),
    })
    print("wrote", path)


if __name__ == "__main__":
    main()
