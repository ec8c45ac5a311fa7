"""The checker's verdicts agree with a brute-force check on thousands of small random histories.

The brute force (tests/support/histories.py) tries every order of the operations that respects
real time, with each unanswered operation taking effect anywhere after its call or never, against
a reference of each model written apart from gofail_py's. The histories come from real
sequential executions with overlapping and unanswered operations, about half of them then
changed in one answer or one interval; both verdicts are well represented (asserted)."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable
from typing import Any

import pytest

from gofail_py.check import check
from gofail_py.models.operation import Operation
from tests.support.histories import (Registers, bigger_kv, kv_brute_force, random_kv, random_register,
                                     random_registers, register_brute_force, registers_brute_force)

HISTORIES = 3000

# seconds of CPU: in the default suite, out of the developer loop `-m "not slow"`
pytestmark = pytest.mark.slow


def _shown(seed: int, ops: list[Operation]) -> str:
    return f"seed {seed}:\n" + "\n".join(json.dumps(op.to_dict()) for op in ops)


def _agree(make: Callable[[int], list[Operation]], brute: Callable[[list[Operation]], bool], model: Any,
           method: str) -> Counter[str]:
    verdicts: Counter[str] = Counter()
    for seed in range(HISTORIES):
        ops = make(seed)
        expected = "linearizable" if brute(ops) else "not linearizable"
        got = check(ops, model() if callable(model) else model, method=method).verdict
        assert got == expected, f"{method} said {got}, brute force {expected}; {_shown(seed, ops)}"
        verdicts[got] += 1
        verdicts["unanswered"] += any(op.ret is None for op in ops)
    for verdict in ("linearizable", "not linearizable", "unanswered"):
        assert verdicts[verdict] >= HISTORIES // 4, f"too few {verdict}: {verdicts}"
    return verdicts


@pytest.mark.parametrize("method", ["revisions", "search"])
def test_kv_checks_agree_with_brute_force(method: str) -> None:
    _agree(random_kv, kv_brute_force, "kv", method)


def test_kv_histories_exercise_the_revision_checks_choices() -> None:
    """Revisions no answered write claims (so an unanswered write must have made them) are in a
    good share of the histories, linearizable ones included: the choice the revision check makes."""
    from gofail_py.check.kvprep import plan

    with_gaps = linearizable_with_gaps = 0
    for seed in range(HISTORIES):
        ops = random_kv(seed)
        skeleton = plan(ops)
        if any(r not in skeleton.writers for r in range(2, skeleton.top + 1)):
            with_gaps += 1
            linearizable_with_gaps += kv_brute_force(ops)
    assert with_gaps >= HISTORIES // 5 and linearizable_with_gaps >= HISTORIES // 20, (with_gaps, linearizable_with_gaps)


def test_kv_revision_check_agrees_with_the_general_search_on_bigger_histories() -> None:
    """Histories too big for the brute force, half their operations unanswered deletes, txns and
    puts: the revision check's choices (and its stopping at the first operation that returned too
    early) against the general search, itself checked against the brute force above. Checking a
    gap's write against later returns (kvprep's bound) or stopping at a wrong answer fails this."""
    verdicts: Counter[str] = Counter()
    for seed in range(1000):
        ops = bigger_kv(seed)
        expected = check(ops, "kv", method="search").verdict
        got = check(ops, "kv", method="revisions").verdict
        assert got == expected, f"revisions said {got}, search {expected}; {_shown(seed, ops)}"
        verdicts[got] += 1
    assert min(verdicts["linearizable"], verdicts["not linearizable"]) >= 200, verdicts


def test_register_search_agrees_with_brute_force() -> None:
    _agree(random_register, register_brute_force, "register", "search")


def test_a_model_of_ones_own_split_into_parts_agrees_with_brute_force() -> None:
    """The registers of docs/check.md, split by name (P-compositionality), against the brute force
    over the whole history with a reference of all registers together."""
    _agree(random_registers, registers_brute_force, Registers, "search")


def _explanation_holds(ops: list[Operation], seed: int, method: str) -> bool:
    """A not-linearizable verdict's explanation, checked against the brute force's reference model:
    the prefix, in its order, respects real time and is a legal run; no operation that could not be
    placed is in it. Returns whether the history had a violation to check."""
    from tests.support.histories import kv_step

    result = check(ops, "kv", method=method)
    if result.violation is None:
        return False
    prefix = result.violation.prefix
    shown = _shown(seed, ops) + "\nexplained: " + json.dumps(result.violation.to_json())
    assert result.violation.unplaced, shown
    assert not {id(item.op) for item in result.violation.unplaced} & {id(op) for op in prefix}, shown
    for i, earlier in enumerate(prefix):
        for later in prefix[i + 1:]:
            assert later.ret is None or later.ret >= earlier.call, shown
    state: Any = (1, {})
    for op in prefix:
        state = kv_step(state, op)
        assert state is not None, shown
    return True


@pytest.mark.parametrize("method", ["revisions", "search"])
def test_the_kv_explanations_hold(method: str) -> None:
    """Every explanation of a violation on the random histories above and the bigger ones. The
    revision check once named an innocent read or write when a stale read held the writes after it
    back, placed a read in the prefix without comparing its answer, and gave no operation at all
    when every candidate for a revision wrote nothing."""
    explained = sum(_explanation_holds(random_kv(seed), seed, method) for seed in range(HISTORIES))
    explained += sum(_explanation_holds(bigger_kv(seed), seed, method) for seed in range(1000))
    assert explained >= HISTORIES // 4, explained
