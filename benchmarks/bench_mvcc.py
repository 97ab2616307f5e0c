"""The compiled MVCC core against its plain-Python model, operation by operation, in one run.

Each benchmark runs once per implementation on the same starting state (10,000 pod-like keys of
57 B with 256 B values, 10 namespaces of 1,000). A measured call is a batch of operations over
different keys, so the harness's own per-call cost does not blur sub-microsecond operations; the
module writes the median time per operation and the model / compiled ratios to
benchmarks/results/mvcc.json when it finishes.

    .venv/bin/pytest benchmarks/bench_mvcc.py --benchmark-only
"""
from __future__ import annotations

import itertools
import time

import pytest

from pykube_plane._mvcc import MVCC, WatchIndex
from pykube_plane.store.kv import TARGET_MOD, RESULT_EQUAL, Compare, PutOp, RangeOp, prefix_end

from benchmarks.conftest import write_result
from tests.store.mvcc_model import MVCCModel, WatchIndexModel

NAMESPACES = 10
PODS_PER_NAMESPACE = 1000
VALUE = bytes(range(256))
WATCHERS = 10_000

IMPLEMENTATIONS = {"compiled": (MVCC, WatchIndex), "model": (MVCCModel, WatchIndexModel)}


def pod_key(namespace: int, pod: int) -> bytes:
    return b"/registry/pods/namespace-%02d/pod-with-a-longer-name-%06d" % (namespace, pod)


KEYS = [pod_key(n, p) for n in range(NAMESPACES) for p in range(PODS_PER_NAMESPACE)]

_dumps: dict[str, bytes] = {}
_medians: dict[str, dict[str, float]] = {}


def fresh_store(impl: str):
    """The 10,000-key starting state, rebuilt from a dump so every benchmark starts equal."""
    store_class = IMPLEMENTATIONS[impl][0]
    if impl not in _dumps:
        store = store_class()
        for key in KEYS:
            store.put(key, VALUE)
        store.take_events()
        _dumps[impl] = store.dump()
    return store_class.load(_dumps[impl])


def record(name: str, impl: str, benchmark, batch: int) -> None:
    _medians.setdefault(name, {})[impl] = benchmark.stats.stats.median / batch


@pytest.fixture(scope="module", autouse=True)
def ratios_to_json():
    yield
    figures = {}
    for name, by_impl in sorted(_medians.items()):
        entry = {f"{impl}_us": round(seconds * 1e6, 3) for impl, seconds in by_impl.items()}
        if len(by_impl) == 2:
            entry["model_over_compiled"] = round(by_impl["model"] / by_impl["compiled"], 1)
        figures[name] = entry
    if figures:
        write_result("mvcc", {
            "operations": figures,
            "note": ("median CPU time per operation, compiled core vs the plain-Python model "
                     "(tests/store/mvcc_model.py) in one run; 10,000 keys of 57 B, 256 B values; "
                     "pytest benchmarks/bench_mvcc.py --benchmark-only"),
        })


# CPU time of this process, not wall time: the machine's two cores are shared, and a neighbour's
# compile would otherwise land in whichever implementation happened to be running.
pytestmark = pytest.mark.benchmark(timer=time.process_time)

impls = pytest.mark.parametrize("impl", ["compiled", "model"])
BATCH = 1000
HISTORY = 10_000  # revisions kept by the compaction between rounds of the write benchmarks
ROUNDS = {"compiled": 300, "model": 60}


def steady(store):
    """Untimed between rounds, as the store runs: events handed on, history compacted to a window."""
    def setup():
        store.take_events()
        if store.revision - HISTORY > store.compact_revision:
            store.compact(store.revision - HISTORY)
    return setup


def measure(benchmark, impl: str, run, setup) -> None:
    benchmark.pedantic(run, setup=setup, rounds=ROUNDS[impl], warmup_rounds=2)


@impls
def test_put(benchmark, impl):
    store = fresh_store(impl)
    batches = itertools.cycle([KEYS[i:i + BATCH] for i in range(0, len(KEYS), BATCH)])

    def puts():
        put = store.put
        for key in next(batches):
            put(key, VALUE)

    measure(benchmark, impl, puts, steady(store))
    record("put", impl, benchmark, BATCH)


@impls
def test_put_then_take_events(benchmark, impl):
    """The apply loop's worst case: each write's event (with prev_kv) handed on at once."""
    store = fresh_store(impl)
    batches = itertools.cycle([KEYS[i:i + BATCH] for i in range(0, len(KEYS), BATCH)])

    def puts():
        put, take_events = store.put, store.take_events
        for key in next(batches):
            put(key, VALUE)
            take_events()

    measure(benchmark, impl, puts, steady(store))
    record("put_then_take_events", impl, benchmark, BATCH)


@impls
def test_range_single_key(benchmark, impl):
    store = fresh_store(impl)
    shuffled = KEYS[::7] + KEYS[3::7]
    batches = itertools.cycle([shuffled[i:i + BATCH] for i in range(0, len(shuffled) - BATCH, BATCH)])

    def ranges():
        get = store.range
        for key in next(batches):
            get(key)

    benchmark(ranges)
    record("range_single_key", impl, benchmark, BATCH)


@impls
def test_range_prefix_1000_keys(benchmark, impl):
    store = fresh_store(impl)
    prefix = b"/registry/pods/namespace-03/"
    result = benchmark(lambda: store.range(prefix, prefix_end(prefix)))
    assert result.count == PODS_PER_NAMESPACE
    record("range_prefix_1000_keys", impl, benchmark, 1)


@impls
def test_txn_optimistic_update(benchmark, impl):
    """The API server's update: compare mod_revision, put on success, read back on failure.

    The requests are built once and only the compared revision changes, so the figure is the
    store's work, not the cost of constructing dataclasses in the caller.
    """
    store = fresh_store(impl)
    requests = {kv.key: ([Compare(kv.key, TARGET_MOD, RESULT_EQUAL, kv.mod_revision)],
                         [PutOp(kv.key, VALUE)], [RangeOp(kv.key)])
                for kv in store.range(b"/", b"\0", keys_only=True).kvs}
    batches = itertools.cycle([KEYS[i:i + BATCH] for i in range(0, len(KEYS), BATCH)])
    outcomes = []

    def updates():
        txn = store.txn
        for key in next(batches):
            compare, success, failure = requests[key]
            result = txn(compare, success, failure)
            compare[0].operand = result.revision
        outcomes.append(result.succeeded)

    measure(benchmark, impl, updates, steady(store))
    assert all(outcomes)
    record("txn_optimistic_update", impl, benchmark, BATCH)


@impls
def test_watch_fan_out_10000_watchers(benchmark, impl):
    """WatchIndex.match among 10,000 watchers: single pods, namespaces, and wider ranges."""
    index = IMPLEMENTATIONS[impl][1]()
    for watch_id in range(WATCHERS):
        kind = watch_id % 10
        if kind < 8:      # a single pod (kubelets, controllers)
            index.add(watch_id, KEYS[(watch_id * 7919) % len(KEYS)], b"")
        elif kind == 8:   # a namespace
            prefix = b"/registry/pods/namespace-%02d/" % (watch_id % NAMESPACES)
            index.add(watch_id, prefix, prefix_end(prefix))
        else:             # a slice of a namespace
            start = (watch_id * 31) % len(KEYS)
            index.add(watch_id, KEYS[start], KEYS[min(start + 50, len(KEYS) - 1)])
    probes = KEYS[::500]
    hits = []

    def matches():
        match = index.match
        for key in probes:
            hits.append(len(match(key)))

    benchmark(matches)
    assert min(hits) > 0
    record("watch_match_10000_watchers", impl, benchmark, len(probes))
