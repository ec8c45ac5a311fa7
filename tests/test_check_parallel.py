"""Independent parts of a big history are checked in forked workers, with the same verdicts and
explanations as one after the other."""

from __future__ import annotations

import random

import pytest

from gofail_py.check import check, parallel
from gofail_py.models.operation import Operation
from tests.support.histories import Registers, generate, registers_apply, registers_input


def _big(seed: int, ops: int) -> list[Operation]:
    rng = random.Random(seed)
    history = generate(rng, registers_input, registers_apply, {}, ops=ops, clients=8, unanswered=0.001)
    return history


def _summary(result: object) -> object:
    """The result without its time and the parts' verdicts (a part still running when another's
    violation settled the verdict is left unchecked: null)."""
    data = result.to_json()  # type: ignore[attr-defined]
    data.pop("elapsed")
    data["parts"] = [{**part, "verdict": "-"} for part in data["parts"]]
    return data


@pytest.mark.parametrize("broken", [False, True])
def test_parts_in_parallel_give_what_one_after_the_other_gives(monkeypatch: pytest.MonkeyPatch, broken: bool) -> None:
    history = _big(7, 24_000)
    if broken:  # an early read answers a value no write of that name ever had
        read = next(op for op in history[200:] if op.op == "read" and op.ret is not None)
        read.output = {"value": 99}
    assert parallel.worth_it(Registers().partition(history))
    together = check(history, Registers())
    monkeypatch.setattr(parallel, "PAYS_FROM", 1 << 40)
    alone = check(history, Registers())
    assert together.verdict == ("not linearizable" if broken else "linearizable")
    assert _summary(together) == _summary(alone)
    for mine, theirs in zip(together.parts, alone.parts):
        assert mine.verdict in (None, theirs.verdict)
