"""recover PROCESS: starts it again if a failpoint panic ended it; does nothing otherwise."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gofail_py.errors import ExpectationFailed
from gofail_py.scenario.model import Step
from gofail_py.scenario.statements.table import Spec, register

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime


@dataclass(frozen=True)
class Recover(Step):
    process: str


def _parse(cursor: Cursor, tokens: Sequence[Token]) -> Recover:
    cursor.arity(tokens, 2, "recover PROCESS")
    return Recover(cursor.process(tokens[1]), where=cursor.where(tokens[1]))


def _run(rt: Runtime, step: Recover, record: StepRecord, index: str) -> None:
    # one template for fatal and non-fatal faults: after a panic the process runs again, else as it was
    proc = rt.process(step.process)
    if proc.child is None:
        raise ExpectationFailed(f"process {proc.name} was never started")
    if proc.alive():
        record.answer = {"recovered": False, "pid": proc.pid}
        return
    panic = proc.panic_line()
    if panic is None:
        if proc.child.claim_unexpected_exit():  # a crash that is not a failpoint's is still reported
            raise rt.death(proc, "before `recover` (not by a failpoint panic)")
        record.answer = {"recovered": False, "exit_code": proc.exit_code()}  # stopped by the scenario
        return
    proc.child.account()
    code = proc.exit_code()
    rt.start(proc, record)
    record.answer = {"recovered": True, "previous_exit_code": code, "panic": panic, **(record.answer or {})}


register(Spec(
    Recover, ("recover",), "recover kv",
    "starts it again (as `start` does) if a failpoint panic ended it; does nothing if it runs",
    parse=_parse, describe=lambda step: f"recover {step.process}",
    run=_run, subjects=lambda step: (step.process,), accounts_for_exit=True,
))
