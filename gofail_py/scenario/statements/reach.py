"""reach TARGET FAILPOINT within DURATION: the workload made the failpoint fire, or the run is not-reached."""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gofail_py.errors import ClientError, ExpectationFailed, FailpointDisabled, NotReached
from gofail_py.processes.supervisor import poll_until
from gofail_py.scenario.model import Step, format_duration
from gofail_py.scenario.statements.table import Spec, register
from gofail_py.scenario.targets import Process

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime

USAGE = "reach TARGET FAILPOINT within DURATION"
POLL = 0.05  # seconds between count requests
PANIC_SETTLE = 2.0  # seconds a process whose armed panic fired gets to die (net/http may recover it)


@dataclass(frozen=True)
class Reach(Step):
    target: str
    failpoint: str
    within: float


def _parse(cursor: Cursor, tokens: Sequence[Token]) -> Reach:
    if len(tokens) != 5 or tokens[3].text != "within":
        culprit = tokens[min(3, len(tokens) - 1)]
        raise cursor.error(culprit.column, f"expected `{USAGE}`")
    return Reach(cursor.target(tokens[1]), cursor.failpoint(tokens[2]), cursor.duration(tokens[4]),
                 where=cursor.where(tokens[1]))


def _died(rt: Runtime, proc: Process, step: Reach) -> dict[str, Any]:
    """The process is gone: by this failpoint's panic it was reached (its death accounted for)."""
    assert proc.child is not None
    if proc.panicked_at(step.failpoint):
        proc.child.account()
        return {"reached": "panic", "exit_code": proc.exit_code(), "panic": proc.panic_line()}
    if proc.child.claim_unexpected_exit():
        raise rt.death(proc, f"while `reach` waited for {step.failpoint}")
    raise ExpectationFailed(f"process {proc.name} is not running (exit code {proc.exit_code()})")


def _run(rt: Runtime, step: Reach, record: StepRecord, index: str) -> None:
    target = rt.targets[step.target]
    proc = target if isinstance(target, Process) else None
    if proc is not None and proc.child is None:
        raise ExpectationFailed(f"process {proc.name} was never started")
    seen: list[int] = []
    errors: list[ClientError] = []

    def fired() -> dict[str, Any] | None:
        if proc is not None and not proc.alive():
            return _died(rt, proc, step)
        try:
            seen.append(target.client.count(step.failpoint))
        except FailpointDisabled:
            seen.append(0)  # not armed (yet, or any more): it has not fired
        except ClientError as error:
            if proc is None:
                raise
            errors.append(error)  # the process may be dying: its death is seen at the next poll
            return None
        return {"reached": "count", "count": seen[-1]} if seen[-1] >= 1 else None

    answer = poll_until(fired, time.monotonic() + step.within, rt.cancel, POLL)
    if answer is None:
        if errors and proc is not None and proc.alive():
            raise errors[-1]
        raise NotReached(f"not reached: {step.failpoint} did not fire within {format_duration(step.within)} "
                         f"(count {seen[-1] if seen else 'never read'})")
    if proc is not None and answer["reached"] == "count" and "panic" in proc.armed.get(step.failpoint, ""):
        # a panic counts before it ends the process: let it end, so the steps after see it gone
        assert proc.child is not None
        if poll_until(proc.child.exit_code, time.monotonic() + PANIC_SETTLE, rt.cancel, POLL) is not None:
            answer = _died(rt, proc, step)
    record.answer = answer


register(Spec(
    Reach, ("reach",), "reach kv fp within 5s",
    "holds once the failpoint fired (count >= 1, or its `panic` ended the process, which that accounts for); "
    "otherwise the run is *not reached*: the rest is skipped, cleanup runs, `gofail-py run` exits 1",
    parse=_parse,
    describe=lambda step: f"reach {step.target} {step.failpoint} within {format_duration(step.within)}",
    run=_run, subjects=lambda step: (step.target,), accounts_for_exit=True,
))
