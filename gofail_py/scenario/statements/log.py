"""log MESSAGE: a line of the scenario's own in the timeline and the journal."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gofail_py.scenario.model import Step
from gofail_py.scenario.statements.table import Spec, register

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime


@dataclass(frozen=True)
class Log(Step):
    message: str  # the rest of the line, as written; {placeholders} are filled in when it runs


def _parse(cursor: Cursor, tokens: Sequence[Token]) -> Log:
    if len(tokens) < 2:
        raise cursor.error(tokens[0].column + 3, "expected `log MESSAGE`")
    return Log(cursor.line.text[tokens[1].column - cursor.line.offset - 1:], where=cursor.where())


def _run(rt: Runtime, step: Log, record: StepRecord, index: str) -> None:
    record.answer = {"message": rt.substitute(step.message)}


register(Spec(
    Log, ("log",), "log MESSAGE", "writes MESSAGE (placeholders filled in) to the timeline and the journal",
    parse=_parse, describe=lambda step: f"log {step.message}", run=_run, words=lambda step: (step.message,),
))
