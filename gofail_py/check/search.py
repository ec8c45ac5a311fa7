"""The general search: Wing & Gong's linearizability check with Lowe's memoisation, for any model.

Operations become call and return entries in one list ordered by time (at equal times calls
first: operations that touch are concurrent). The search walks the list: at a call entry it tries
to linearize that operation next (the model allows its output in the current state, and the pair
(linearized set, state) was not tried before), lifting its entries out of the list; at a return
entry the operation returning there should have been linearized already, so the search undoes its
last choice and tries the next candidate. All answered operations linearized: linearizable; no
choice left to undo: not linearizable.

Indeterminate operations have no return entry: linearizing one is optional, and is tried only
when it changes the state (taking effect without a change is the same as never).

Memory: the stack holds one frame per linearized operation; the memo holds the configurations
tried, up to a budget, after which its older half is forgotten (forgetting only costs repeated
work, never a wrong verdict)."""

from __future__ import annotations

import sys
import time
from collections.abc import Sequence
from itertools import islice
from typing import Any

from gofail_py.check.result import LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, Unplaced, Violation
from gofail_py.errors import ModelError
from gofail_py.models.operation import Operation
from gofail_py.models.base import Model

MEMO_BYTES = 256 << 20  # what the memo of one search may hold, roughly
_CHECK_EVERY = 64  # steps between looks at the clock (a step of a big model can take a millisecond)


class Outcome:
    __slots__ = ("verdict", "violation")

    def __init__(self, verdict: str, violation: Violation | None = None) -> None:
        self.verdict = verdict
        self.violation = violation


def search(model: Model, ops: Sequence[Operation], deadline: float | None = None, part: int = 0,
           memo_bytes: int = MEMO_BYTES) -> Outcome:
    """Whether ``ops`` (one independent part) is linearizable with respect to ``model``."""
    ops = sorted(ops, key=lambda op: op.call)
    count = len(ops)
    # entries: 0 .. 2n-1; entry 2i is op i's call, 2i+1 its return; HEAD is the list's head
    events = [(op.call, 0, 2 * i) for i, op in enumerate(ops)]
    events += [(op.ret, 1, 2 * i + 1) for i, op in enumerate(ops) if op.ret is not None]
    events.sort()
    head = 2 * count
    nxt = [-1] * (head + 1)
    prv = [-1] * (head + 1)
    last = head
    for _, _, entry in events:
        nxt[last] = entry
        prv[entry] = last
        last = entry
    answered = [op.ret is not None for op in ops]
    remaining = sum(answered)
    step, changes, names, inputs, outputs = model.step, model.changes, [op.op for op in ops], [op.input for op in ops], [op.output for op in ops]

    state: Any = model.init()
    try:
        hash(state)
    except TypeError:
        raise ModelError(f"the {model.name} model's states must be hashable (a tuple, a frozenset...), "
                         f"not {type(state).__name__}") from None
    memo: dict[tuple[int, Any], None] = {}
    memo_limit = 0  # entries: the budget over the size of an entry, sampled as the memo fills
    linearized = 0
    stack: list[tuple[int, Any, int]] = []  # (call entry, state before, linearized before)
    path: tuple[Any, ...] | None = None  # persistent list: (op index, state after, depth, parent)
    best: tuple[Any, ...] | None = None
    best_depth = 0
    steps = 0
    entry = nxt[head]
    while remaining:
        steps += 1
        if steps % _CHECK_EVERY == 0 and deadline is not None and time.monotonic() > deadline:
            return Outcome(UNKNOWN)
        if entry & 1 == 0:  # a call entry: try its operation next
            i = entry >> 1
            if answered[i]:
                after = step(state, names[i], inputs[i], outputs[i])
            else:
                after = step(state, names[i], inputs[i], None) if changes(state, names[i], inputs[i]) else None
            if after is not None:
                bits = linearized | (1 << i)
                key = (bits, after)
                if key not in memo:
                    if len(memo) >= memo_limit:
                        memo_limit = max(16, memo_bytes // (120 + bits.bit_length() // 8 + _size(after)))
                        if len(memo) >= memo_limit:
                            for old in list(islice(memo, len(memo) - memo_limit // 2)):
                                del memo[old]
                    memo[key] = None
                    stack.append((entry, state, linearized))
                    state, linearized = after, bits
                    depth = len(stack)
                    path = (i, after, depth, path)
                    if depth > best_depth:
                        best, best_depth = path, depth
                    # lift: out of the list go its call entry and its return entry
                    nxt[prv[entry]] = nxt[entry]
                    if nxt[entry] != -1:
                        prv[nxt[entry]] = prv[entry]
                    if answered[i]:
                        back = entry + 1
                        nxt[prv[back]] = nxt[back]
                        if nxt[back] != -1:
                            prv[nxt[back]] = prv[back]
                        remaining -= 1
                    entry = nxt[head]
                    continue
            entry = nxt[entry]
        else:  # a return entry: its operation was not linearized in time; undo the last choice
            if not stack:
                return Outcome(NOT_LINEARIZABLE, _explain(model, ops, best, part))
            entry, state, linearized = stack.pop()
            i = entry >> 1
            assert path is not None
            path = path[3]
            if answered[i]:
                back = entry + 1
                nxt[prv[back]] = back
                if nxt[back] != -1:
                    prv[nxt[back]] = back
                remaining += 1
            nxt[prv[entry]] = entry
            if nxt[entry] != -1:
                prv[nxt[entry]] = entry
            entry = nxt[entry]
    return Outcome(LINEARIZABLE)


def _size(value: Any, depth: int = 0) -> int:
    """Roughly the bytes a state holds (a model's states are tuples, strings, numbers...)."""
    size = sys.getsizeof(value)
    if depth < 4 and isinstance(value, (tuple, list, frozenset, set)):
        size += sum(_size(item, depth + 1) for item in islice(value, 64)) * max(1, len(value)) // max(1, min(len(value), 64))
    elif depth < 4 and isinstance(value, dict):
        size += sum(_size(k, depth + 1) + _size(v, depth + 1) for k, v in islice(value.items(), 64)) * max(1, len(value)) // max(1, min(len(value), 64))
    return size


def _explain(model: Model, ops: list[Operation], best: tuple[Any, ...] | None, part: int) -> Violation:
    """The deepest configuration the search reached: its prefix, its state, and the operations
    that were candidates to come next there (called before the first return still to place)."""
    order: list[int] = []
    state = model.init()
    if best is not None:
        state = best[1]
        node: tuple[Any, ...] | None = best
        while node is not None:
            order.append(node[0])
            node = node[3]
        order.reverse()
    placed = set(order)
    open_answered = [i for i, op in enumerate(ops) if i not in placed and op.ret is not None]
    bound = min(ret for i in open_answered if (ret := ops[i].ret) is not None)
    unplaced: list[Unplaced] = []
    for i, op in enumerate(ops):
        if i in placed or op.call > bound or op.ret is None:
            continue
        if model.step(state, op.op, op.input, op.output) is None:
            reason = "its output is not possible in this state"
        else:
            reason = "possible next, but no way on from there for the operations that must follow"
        unplaced.append(Unplaced(op, reason))
    return Violation(part, [ops[i] for i in order], model.describe_state(state), unplaced)
