"""expect PROCESS exit / running: what state a process is in."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gofail_py.errors import ExpectationFailed
from gofail_py.scenario.model import Step, format_duration
from gofail_py.scenario.statements.table import Spec, register

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime


@dataclass(frozen=True)
class ExpectExit(Step):
    process: str
    panic: bool = False
    within: float = 5.0


@dataclass(frozen=True)
class ExpectRunning(Step):
    process: str


def _parse_exit(cursor: Cursor, tokens: Sequence[Token]) -> ExpectExit:
    process = cursor.process(tokens[1])
    rest = tokens[3:]
    panic = bool(rest) and rest[0].text == "panic"
    rest = rest[1:] if panic else rest
    within = 5.0
    if rest:
        if len(rest) != 2 or rest[0].text != "within":
            raise cursor.error(rest[0].column, "expected `expect PROCESS exit [panic] [within DURATION]`")
        within = cursor.duration(rest[1])
    return ExpectExit(process, panic, within, where=cursor.where(tokens[1]))


def _run_exit(rt: Runtime, step: ExpectExit, record: StepRecord, index: str) -> None:
    proc = rt.process(step.process)
    if proc.child is None:
        raise ExpectationFailed(f"process {proc.name} was never started")
    code = rt.poll_until(proc.child.exit_code, time.monotonic() + step.within)
    if code is None:
        raise ExpectationFailed(f"process {proc.name} still runs after {step.within:g} s")
    proc.child.account()
    with rt.lock:
        proc.armed.clear()
    panicked = proc.panic_line()
    record.answer = {"exit_code": code, "panic": panicked}
    if step.panic and panicked is None:
        raise ExpectationFailed(
            f"process {proc.name} exited with code {code}, but not by a failpoint panic; {proc.stderr_excerpt()}"
        )


register(Spec(
    ExpectExit, ("expect",), "expect kv exit [panic] [within 5s]",
    "the process ends (default within 5 s); with `panic`, by a failpoint panic (found in its stderr)",
    parse=_parse_exit, accepts=lambda tokens: len(tokens) > 2 and tokens[2].text == "exit",
    describe=lambda step: f"expect {step.process} exit{' panic' if step.panic else ''} within {format_duration(step.within)}",
    run=_run_exit, subjects=lambda step: (step.process,), accounts_for_exit=True,
))


def _parse_running(cursor: Cursor, tokens: Sequence[Token]) -> ExpectRunning:
    cursor.arity(tokens, 3, "expect PROCESS running")
    return ExpectRunning(cursor.process(tokens[1]), where=cursor.where(tokens[1]))


def _run_running(rt: Runtime, step: ExpectRunning, record: StepRecord, index: str) -> None:
    proc = rt.process(step.process)
    if not proc.alive():
        if proc.child is not None:
            proc.child.account()  # reported here
        raise ExpectationFailed(f"process {proc.name} is not running (exit code {proc.exit_code()})")
    if not proc.client.available():
        raise ExpectationFailed(f"process {proc.name} runs but its gofail endpoint does not answer")
    record.answer = {"pid": proc.pid}


register(Spec(
    ExpectRunning, ("expect",), "expect kv running", "the process is alive and its endpoint answers",
    parse=_parse_running, accepts=lambda tokens: len(tokens) > 2 and tokens[2].text == "running",
    describe=lambda step: f"expect {step.process} running",
    run=_run_running, subjects=lambda step: (step.process,),
))
