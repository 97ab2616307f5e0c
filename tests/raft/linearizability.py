"""A linearizability checker in the style of porcupine (Wing & Gong's search with Lowe's
memoization), written for the simulation's KV histories.

A history is a list of `Operation`s, each with the logical times of its invocation and of
its response (`ret is None`: it never answered, so it may take effect at any point after
its call, or never). The history is linearizable when every operation can be placed at one
instant between its call and its return so that the sequence is legal for the model.

Search (per key: operations on different keys are independent, so each key is checked on
its own, which is what keeps this tractable):

    events, by time:   call a   call b   ret a   call c   ret b   ret c
    repeatedly take the first call in the list whose op the model accepts from the current
    state, mark it linearized and lift its call and return out of the list; meeting a return
    first means the op it belongs to should already have been placed: undo the last choice.
    A cache of (set of linearized ops, state) prunes every configuration seen before.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from typing import Any, Hashable, Iterable

NEVER = float("inf")


@dataclass(frozen=True)
class Operation:
    client: int
    call: int
    ret: int | None
    op: str  # "put" | "get" | "cas"
    key: str
    value: str | None = None  # put: the value; cas: the new value
    expected: str | None = None  # cas: the required current value (None = absent)
    output: Any = None  # get: the value read; cas: True/False; put: "ok"; None if unknown

    @property
    def answered(self) -> bool:
        return self.ret is not None


class KVModel:
    """The register per key: state is the key's value (None = absent)."""

    @staticmethod
    def init() -> Hashable:
        return None

    @staticmethod
    def step(state: Hashable, op: Operation) -> tuple[bool, Hashable]:
        if op.op == "put":
            return True, op.value
        if op.op == "get":
            return op.output == state, state
        if op.op == "cas":
            applies = state == op.expected
            if not op.answered:
                return True, (op.value if applies else state)
            return op.output == applies, (op.value if applies else state)
        raise ValueError(f"unknown op {op.op!r}")


class _Event:
    __slots__ = ("op_id", "match", "prev", "next")

    def __init__(self, op_id: int) -> None:
        self.op_id = op_id
        self.match: _Event | None = None  # set on call events: their return event
        self.prev: _Event | None = None
        self.next: _Event | None = None


def _event_list(ops: list[Operation]) -> _Event:
    timeline = []
    for i, op in enumerate(ops):
        ret = NEVER if op.ret is None else op.ret
        if ret < op.call:
            raise ValueError(f"operation returns before its call: {op}")
        # At equal times calls sort first: touching intervals count as concurrent.
        timeline.append((op.call, 0, i, "call"))
        timeline.append((ret, 1, i, "ret"))
    timeline.sort(key=lambda t: (t[0], t[1], t[2]))
    head = _Event(-1)
    tail = head
    calls: dict[int, _Event] = {}
    for _, _, i, kind in timeline:
        event = _Event(i)
        if kind == "call":
            calls[i] = event
        else:
            calls[i].match = event
        event.prev = tail
        tail.next = event
        tail = event
    return head


def _lift(call: _Event) -> None:
    call.prev.next = call.next
    if call.next is not None:
        call.next.prev = call.prev
    ret = call.match
    ret.prev.next = ret.next
    if ret.next is not None:
        ret.next.prev = ret.prev


def _unlift(call: _Event) -> None:
    ret = call.match
    ret.prev.next = ret
    if ret.next is not None:
        ret.next.prev = ret
    call.prev.next = call
    if call.next is not None:
        call.next.prev = call


def check_single(ops: list[Operation], model: type[KVModel] = KVModel) -> bool:
    """Is this history of one partition (one key) linearizable?"""
    if not ops:
        return True
    head = _event_list(ops)
    state = model.init()
    linearized = 0
    seen: set[tuple[int, Hashable]] = set()
    stack: list[tuple[_Event, Hashable]] = []
    event = head.next
    while head.next is not None:
        if event.match is not None:  # a call: try to linearize its op here
            ok, new_state = model.step(state, ops[event.op_id])
            if ok:
                candidate = linearized | (1 << event.op_id)
                if (candidate, new_state) not in seen:
                    seen.add((candidate, new_state))
                    stack.append((event, state))
                    state = new_state
                    linearized = candidate
                    _lift(event)
                    event = head.next
                    continue
            event = event.next
        else:  # a return whose op is not placed yet: backtrack
            if not stack:
                return False
            event, state = stack.pop()
            linearized &= ~(1 << event.op_id)
            _unlift(event)
            event = event.next
    return True


def check(history: Iterable[Operation], model: type[KVModel] = KVModel) -> list[str]:
    """Check a whole KV history; returns the keys whose sub-history is not linearizable."""
    by_key: dict[str, list[Operation]] = defaultdict(list)
    for op in history:
        if op.op == "get" and not op.answered:
            continue  # a read that never answered has no effect and no output
        by_key[op.key].append(op)
    return [key for key, ops in sorted(by_key.items()) if not check_single(ops, model)]
