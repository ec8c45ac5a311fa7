"""sleep and run: time and commands."""

from __future__ import annotations

import re
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gofail_py.errors import ExpectationFailed, ProcessStartError
from gofail_py.scenario.model import Step, format_duration, quote_word
from gofail_py.scenario.statements.table import Spec, register

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime

COMMAND_TIMEOUT = 120.0
# a command's output goes to a file of the run; only its end is read back (memory does not grow
# with it), and the journal keeps the last ANSWER_TAIL characters of each stream with their sizes
OUTPUT_TAIL = 16384
ANSWER_TAIL = 2000
_REFERENCE = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*)\.")


@dataclass(frozen=True)
class Sleep(Step):
    seconds: float


@dataclass(frozen=True)
class RunCommand(Step):
    argv: tuple[str, ...]
    allow_failure: bool = False
    background: bool = False


def _parse_sleep(cursor: Cursor, tokens: Sequence[Token]) -> Sleep:
    cursor.arity(tokens, 2, "sleep DURATION")
    return Sleep(cursor.duration(tokens[1]), where=cursor.where())


register(Spec(
    Sleep, ("sleep",), "sleep 500ms", "waits",
    parse=_parse_sleep, describe=lambda step: f"sleep {format_duration(step.seconds)}",
    run=lambda rt, step, record, index: rt.pause(step.seconds),
))


def _parse_run(cursor: Cursor, tokens: Sequence[Token]) -> RunCommand:
    background = len(tokens) > 1 and tokens[1].text == "background"
    first = 2 if background else 1
    if len(tokens) <= first:
        raise cursor.error(tokens[-1].column, "expected a command after `run`")
    argv = cursor.command(tokens[first])
    return RunCommand(argv, allow_failure=tokens[0].text == "run?", background=background, where=cursor.where())


def _describe_run(step: RunCommand) -> str:
    verb = ("run?" if step.allow_failure else "run") + (" background" if step.background else "")
    words = [quote_word(word) for word in step.argv]
    if words[0] == "background" and not step.background:
        words[0] = "'background'"  # a command named so, not the keyword
    return f"{verb} {' '.join(words)}"


def _run(rt: Runtime, step: RunCommand, record: StepRecord, index: str) -> None:
    argv = [rt.substitute(word) for word in step.argv]
    record.sent = argv
    try:
        if step.background:
            record.answer = {"pid": rt.supervisor.start(f"background-{index}", argv, merge_stderr=True, accounted=True).pid}
            return
        ran = rt.supervisor.run(f"run-{index}", argv, COMMAND_TIMEOUT, rt.cancel, keep=OUTPUT_TAIL)
    except ProcessStartError as error:
        if step.allow_failure and not step.background:
            record.answer = {"error": str(error)}
            return
        raise ExpectationFailed(str(error)) from error
    except subprocess.TimeoutExpired as error:
        raise ExpectationFailed(f"command did not finish within {COMMAND_TIMEOUT:g} s") from error
    stderr = ran.stderr.decode("utf-8", "replace")
    record.answer = {"exit_code": ran.code, "stdout": ran.stdout.decode("utf-8", "replace")[-ANSWER_TAIL:],
                     "stderr": stderr[-ANSWER_TAIL:], "stdout_bytes": ran.stdout_size, "stderr_bytes": ran.stderr_size}
    if ran.code != 0 and not step.allow_failure:
        raise ExpectationFailed(f"command exited with {ran.code} (use `run?` to allow that); stderr: {stderr.strip()[-500:]}")


register(Spec(
    RunCommand, ("run", "run?"), "run CMD",
    "runs a command (argv, no shell); it must exit 0. `run?` allows failure. `run background CMD` starts "
    "traffic that runs until the scenario ends",
    parse=_parse_run, describe=_describe_run, run=_run,
    # the processes whose {NAME.x} placeholders it uses: a death of one of them is reported first
    subjects=lambda step: tuple(m.group(1) for word in step.argv for m in _REFERENCE.finditer(word)),
    words=lambda step: step.argv,
))
