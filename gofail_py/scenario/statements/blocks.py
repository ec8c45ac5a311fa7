"""parallel:, repeat N:, choose [seed N]: blocks of indented steps."""

from __future__ import annotations

import random
import threading
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gofail_py.scenario.model import MAX_REPEAT, MAX_SEED, Step
from gofail_py.scenario.statements.table import Spec, describe, register

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime


@dataclass(frozen=True)
class Parallel(Step):
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Repeat(Step):
    times: int
    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Choose(Step):
    steps: tuple[Step, ...]
    seed: int | None = None


def _parse_parallel(cursor: Cursor, tokens: Sequence[Token]) -> Parallel:
    cursor.arity(tokens, 1, "parallel:")
    return Parallel(cursor.children(), where=cursor.where())


def _run_parallel(rt: Runtime, step: Parallel, record: StepRecord, index: str) -> None:
    errors: list[BaseException] = []

    def child(inner: Step, number: int) -> None:
        try:
            rt.run_step(inner, f"{index}.{number}")
        except BaseException as error:  # noqa: BLE001 - handed to the thread that waits
            errors.append(error)
            rt.cancel.set()  # the scenario fails here: the other branches stop at their next pause

    # daemon threads: an interrupted run must not wait at exit for a step still sleeping
    threads = [threading.Thread(target=child, args=(inner, n), daemon=True, name=f"step {index}.{n}")
               for n, inner in enumerate(step.steps, 1)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    failed = [error for error in errors if not isinstance(error, KeyboardInterrupt)] or errors
    if failed:
        raise failed[0]  # the branch that failed, not a sibling it cancelled


register(Spec(
    Parallel, ("parallel:",), "parallel:", "the indented steps run at once; the block fails if one does",
    parse=_parse_parallel, describe=lambda step: "parallel:", run=_run_parallel, children=lambda step: step.steps,
))


def _parse_repeat(cursor: Cursor, tokens: Sequence[Token]) -> Repeat:
    if len(tokens) != 2 or not tokens[1].text.endswith(":"):
        raise cursor.error(tokens[0].column, "expected `repeat N:`")
    times = cursor.integer(tokens[1], "repeat's count", 1, MAX_REPEAT, tokens[1].text[:-1])
    return Repeat(times, cursor.children(), where=cursor.where())


def _run_repeat(rt: Runtime, step: Repeat, record: StepRecord, index: str) -> None:
    for round_ in range(1, step.times + 1):
        rt.run_steps(step.steps, f"{index}.{round_}.")


register(Spec(
    Repeat, ("repeat",), "repeat 3:", "the indented steps, three times",
    parse=_parse_repeat, describe=lambda step: f"repeat {step.times}:", run=_run_repeat,
    children=lambda step: step.steps,
))


def _parse_choose(cursor: Cursor, tokens: Sequence[Token]) -> Choose:
    seed = None
    if tokens[0].text != "choose:":
        if len(tokens) != 3 or tokens[1].text != "seed" or not tokens[2].text.endswith(":"):
            raise cursor.error(tokens[0].column, "expected `choose:` or `choose seed N:`")
        seed = cursor.integer(tokens[2], "the seed", 0, MAX_SEED, tokens[2].text[:-1])
    return Choose(cursor.children(), seed, where=cursor.where())


def _run_choose(rt: Runtime, step: Choose, record: StepRecord, index: str) -> None:
    with rt.lock:
        rng = rt.rngs.get(id(step))
        if rng is None:
            seed = step.seed if step.seed is not None else random.SystemRandom().randrange(2**32)
            rng = rt.rngs[id(step)] = random.Random(seed)
            record.sent = {"seed": seed}
        number = rng.randrange(len(step.steps))
    record.answer = {"chosen": number + 1, "statement": describe(step.steps[number])}
    rt.run_step(step.steps[number], f"{index}.{number + 1}")


register(Spec(
    Choose, ("choose", "choose:"), "choose [seed 42]:",
    "one indented step, chosen at random; with a seed, the same choices every run (the seed used is in the journal otherwise)",
    parse=_parse_choose, describe=lambda step: f"choose{f' seed {step.seed}' if step.seed is not None else ''}:",
    run=_run_choose, children=lambda step: step.steps,
))
