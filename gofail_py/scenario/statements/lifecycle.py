"""start, stop, kill, restart: the life of a declared process."""

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
class Start(Step):
    process: str


@dataclass(frozen=True)
class Stop(Step):
    process: str
    kill: bool = False  # SIGKILL at once instead of SIGTERM and a grace period


@dataclass(frozen=True)
class Restart(Step):
    process: str


def _name(cursor: Cursor, tokens: Sequence[Token]) -> str:
    cursor.arity(tokens, 2, f"{tokens[0].text} PROCESS")
    return cursor.process(tokens[1])


def _start(rt: Runtime, step: Start, record: StepRecord, index: str) -> None:
    proc = rt.process(step.process)
    if proc.alive():
        raise ExpectationFailed(f"process {proc.name} is already running (pid {proc.pid})")
    rt.start(proc, record)


def _stop(rt: Runtime, step: Stop, record: StepRecord, index: str) -> None:
    record.answer = {"exit_code": rt.stop(rt.process(step.process), kill=step.kill)}


def _restart(rt: Runtime, step: Restart, record: StepRecord, index: str) -> None:
    proc = rt.process(step.process)
    exit_code = rt.stop(proc)
    rt.start(proc, record)
    record.answer = {"previous_exit_code": exit_code, **(record.answer or {})}


register(Spec(
    Start, ("start",), "start kv",
    "starts it with `GOFAIL_HTTP` on a free loopback port and waits (15 s at most) until that endpoint "
    "answers; also starts it again after it died",
    parse=lambda cursor, tokens: Start(_name(cursor, tokens), where=cursor.where(tokens[1])),
    describe=lambda step: f"start {step.process}",
    run=_start, subjects=lambda step: (step.process,), accounts_for_exit=True,
))
register(Spec(
    Stop, ("stop", "kill"), "stop kv` / `kill kv",
    "SIGTERM, then SIGKILL after 3 s / SIGKILL at once, to it and everything it started (its group, its session, "
    "and those that left both); the step ends when all of it is gone",
    parse=lambda cursor, tokens: Stop(_name(cursor, tokens), tokens[0].text == "kill", where=cursor.where(tokens[1])),
    describe=lambda step: f"{'kill' if step.kill else 'stop'} {step.process}",
    run=_stop, subjects=lambda step: (step.process,), accounts_for_exit=True,
))
register(Spec(
    Restart, ("restart",), "restart kv", "stop (if running), then start",
    parse=lambda cursor, tokens: Restart(_name(cursor, tokens), where=cursor.where(tokens[1])),
    describe=lambda step: f"restart {step.process}",
    run=_restart, subjects=lambda step: (step.process,), accounts_for_exit=True,
))
