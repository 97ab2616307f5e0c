"""The checker itself: it must accept linearizable histories and reject the others."""
from __future__ import annotations

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from .linearizability import KVModel, Operation, check, check_single


def put(client, call, ret, key, value):
    return Operation(client, call, ret, "put", key, value=value, output="ok")


def get(client, call, ret, key, output):
    return Operation(client, call, ret, "get", key, output=output)


def cas(client, call, ret, key, expected, value, output):
    return Operation(client, call, ret, "cas", key, value=value, expected=expected,
                     output=output)


def test_empty_history_is_linearizable():
    assert check([]) == []


def test_sequential_history():
    h = [put(1, 1, 2, "x", "a"), get(1, 3, 4, "x", "a"), put(2, 5, 6, "x", "b"),
         get(2, 7, 8, "x", "b")]
    assert check(h) == []


def test_read_of_initial_absent_value():
    assert check([get(1, 1, 2, "x", None)]) == []
    assert check([get(1, 1, 2, "x", "a")]) == ["x"]


def test_stale_read_after_completed_write_is_rejected():
    h = [put(1, 1, 2, "x", "a"), put(1, 3, 4, "x", "b"), get(2, 5, 6, "x", "a")]
    assert check(h) == ["x"]


def test_concurrent_read_may_see_either_value():
    for seen in ("a", "b"):
        h = [put(1, 1, 2, "x", "a"), put(1, 3, 8, "x", "b"), get(2, 4, 6, "x", seen)]
        assert check(h) == []


def test_reads_cannot_go_back_in_time():
    # Both reads overlap the write, but once one read saw the new value a later read
    # (that started after it returned) cannot see the old one.
    h = [put(1, 1, 2, "x", "a"), put(1, 3, 20, "x", "b"), get(2, 4, 5, "x", "b"),
         get(3, 6, 7, "x", "a")]
    assert check(h) == ["x"]


def test_ordered_intervals_must_keep_their_order():
    # The read starts right after the write returns: it must see it.
    assert check([put(1, 1, 5, "x", "a"), get(2, 6, 7, "x", None)]) == ["x"]
    # Touching intervals (same instant) count as concurrent, as in porcupine.
    assert check([put(1, 1, 5, "x", "a"), get(2, 5, 6, "x", None)]) == []


def test_cas_semantics():
    ok = [put(1, 1, 2, "x", "a"), cas(1, 3, 4, "x", "a", "b", True), get(1, 5, 6, "x", "b")]
    assert check(ok) == []
    wrong_result = [put(1, 1, 2, "x", "a"), cas(1, 3, 4, "x", "z", "b", True)]
    assert check(wrong_result) == ["x"]
    failed_cas_changes_nothing = [put(1, 1, 2, "x", "a"), cas(1, 3, 4, "x", "z", "b", False),
                                  get(1, 5, 6, "x", "a")]
    assert check(failed_cas_changes_nothing) == []


def test_two_cas_cannot_both_win():
    h = [put(1, 1, 2, "x", "a"), cas(1, 3, 10, "x", "a", "b", True),
         cas(2, 4, 11, "x", "a", "c", True)]
    assert check(h) == ["x"]


def test_unanswered_write_may_or_may_not_take_effect():
    pending = put(1, 1, None, "x", "a")
    assert check([pending, get(2, 5, 6, "x", "a")]) == []
    assert check([pending, get(2, 5, 6, "x", None)]) == []
    # ...but once observed it cannot be un-done.
    assert check([pending, get(2, 5, 6, "x", "a"), get(2, 7, 8, "x", None)]) == ["x"]


def test_unanswered_cas_takes_effect_only_if_it_could():
    h = [put(1, 1, 2, "x", "a"), cas(2, 3, None, "x", "zzz", "b", None),
         get(3, 5, 6, "x", "b")]
    assert check(h) == ["x"]
    h = [put(1, 1, 2, "x", "a"), cas(2, 3, None, "x", "a", "b", None), get(3, 5, 6, "x", "b")]
    assert check(h) == []


def test_unanswered_read_is_ignored():
    h = [put(1, 1, 2, "x", "a"), get(2, 3, None, "x", "nonsense")]
    assert check(h) == []


def test_keys_are_checked_independently():
    h = [put(1, 1, 2, "x", "a"), put(1, 3, 4, "y", "b"), get(2, 5, 6, "y", "b"),
         get(2, 7, 8, "x", "b")]
    assert check(h) == ["x"]


def test_write_must_be_placed_inside_its_interval():
    # The write of "b" finished before the read of "a" started, and "a" was written before it:
    # seeing "a" afterwards is stale whatever the interleaving.
    h = [put(1, 1, 2, "x", "a"), put(2, 3, 4, "x", "b"), get(3, 5, 9, "x", "a"),
         put(1, 6, 7, "x", "c")]
    assert check(h) == ["x"]


def sequential_history(rng: random.Random, n: int, clients: int) -> list[Operation]:
    """Run ops one at a time on a real dict, then blur their intervals without reordering
    their linearization points: always linearizable."""
    store: dict[str, str] = {}
    ops = []
    for i in range(n):
        key = rng.choice("xy")
        kind = rng.choice(["put", "get", "cas"])
        point = 10 * i + 5
        call = point - rng.randint(0, 30)
        ret = point + rng.randint(0, 30)
        client = rng.randrange(clients)
        if kind == "put":
            store[key] = f"v{i}"
            ops.append(put(client, call, ret, key, f"v{i}"))
        elif kind == "get":
            ops.append(get(client, call, ret, key, store.get(key)))
        else:
            expected = rng.choice([store.get(key), f"v{rng.randrange(i + 1)}"])
            won = store.get(key) == expected
            if won:
                store[key] = f"v{i}"
            ops.append(cas(client, call, ret, key, expected, f"v{i}", won))
    return ops


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32), st.integers(1, 60))
def test_histories_from_a_sequential_execution_are_accepted(seed, n):
    assert check(sequential_history(random.Random(seed), n, clients=4)) == []


@settings(max_examples=200, deadline=None)
@given(st.integers(0, 2**32), st.integers(2, 60))
def test_a_read_of_a_never_written_value_is_rejected(seed, n):
    rng = random.Random(seed)
    ops = sequential_history(rng, n, clients=4)
    reads = [i for i, op in enumerate(ops) if op.op == "get"]
    if not reads:
        ops.append(get(0, 10 * n + 100, 10 * n + 101, "x", "never-written"))
    else:
        i = rng.choice(reads)
        o = ops[i]
        ops[i] = get(o.client, o.call, o.ret, o.key, "never-written")
    assert check(ops) != []


def test_model_rejects_unknown_op():
    try:
        KVModel.step(None, Operation(1, 1, 2, "delete", "x"))
    except ValueError:
        return
    raise AssertionError("unknown op accepted")


def test_check_single_on_large_concurrent_history_finishes():
    ops = sequential_history(random.Random(7), 400, clients=5)
    assert check_single([o for o in ops if o.key == "x"]) is True
