"""set, unset, wait, expect ... count: failpoints of a process or endpoint."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gofail_py.errors import ClientError, EndpointTimeout, ExpectationFailed, TermSyntaxError
from gofail_py.scenario.model import COMPARISONS, MAX_COUNT, Step, compare, format_duration
from gofail_py.scenario.statements.table import Spec, register
from gofail_py.terms import normalize_terms

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime
    from gofail_py.scenario.targets import Target


@dataclass(frozen=True)
class SetFailpoints(Step):
    target: str
    failpoints: tuple[tuple[str, str], ...]  # (name, normalised terms)
    duration: float | None = None  # `for 3s`: disabled again after that long


@dataclass(frozen=True)
class UnsetFailpoints(Step):
    target: str
    names: tuple[str, ...] | None  # None: all


@dataclass(frozen=True)
class WaitCount(Step):
    target: str
    failpoint: str
    op: str
    value: int
    within: float = 10.0


@dataclass(frozen=True)
class ExpectCount(Step):
    target: str
    failpoint: str
    op: str
    value: int


# --- set ------------------------------------------------------------------------------------


def _parse_set(cursor: Cursor, tokens: Sequence[Token]) -> SetFailpoints:
    if len(tokens) < 3:
        raise cursor.error(tokens[0].column, "expected `set TARGET NAME=TERMS... [for DURATION]`")
    target = cursor.target(tokens[1])
    duration = None
    words = list(tokens[2:])
    window = next((i for i, word in enumerate(words) if word.text == "for"), None)
    if window is not None and window != len(words) - 2:
        raise cursor.error(words[window].column, "`for` takes one duration and ends the line, like `for 3s`")
    if window is not None:
        duration = cursor.duration(words[-1])
        if duration <= 0:
            raise cursor.error(words[-1].column, "a `for` window must be longer than 0s")
        words = words[:-2]
    failpoints = {}
    for word in words:
        name, sep, terms = word.text.partition("=")
        if not sep or not name:
            raise cursor.error(word.column, f"{word.text!r}: expected NAME=TERMS")
        cursor.failpoint(word, name)
        try:
            failpoints[name] = normalize_terms(terms)
        except TermSyntaxError as error:
            raise cursor.error(word.column + len(name) + error.column, f"bad terms: {error.message}") from error
    return SetFailpoints(target, tuple(failpoints.items()), duration, where=cursor.where(tokens[1]))


def _describe_set(step: SetFailpoints) -> str:
    pairs = " ".join(f"{n}={t}" for n, t in step.failpoints)
    return f"set {step.target} {pairs}" + (f" for {format_duration(step.duration)}" if step.duration is not None else "")


def _run_set(rt: Runtime, step: SetFailpoints, record: StepRecord, index: str) -> None:
    target = rt.targets[step.target]
    failpoints = dict(step.failpoints)
    record.sent = failpoints
    with rt.lock:
        # armed before the request: a panic may kill the process before the answer arrives
        target.armed.update(failpoints)
    # through the recorder: the hits of a window already open are read before this PUT resets them
    rt.recording(target).enable_many(failpoints)
    if step.duration is not None:
        timer = threading.Timer(step.duration, _expire, args=(rt, target, failpoints))
        timer.daemon = True
        rt.timers.append(timer)
        timer.start()


def _expire(rt: Runtime, target: Target, failpoints: dict[str, str]) -> None:
    """The end of a `set ... for D` window: disable what it set, if still set to that."""
    for name, terms in failpoints.items():
        with rt.lock:
            if target.armed.get(name) != terms:
                continue
            target.armed.pop(name)
        record = rt.record("timer", f"unset {target.name} {name} (end of `for` window)", target.name)
        try:
            rt.recording(target).disable(name)
        except ClientError as error:
            record.outcome, record.message = "error", str(error)
        rt.finish(record)


register(Spec(
    SetFailpoints, ("set",), "set kv a=T b=T [for 3s]",
    "arms failpoints (one request); with `for`, a timer disables them again after that long while the scenario goes on",
    parse=_parse_set, describe=_describe_set, run=_run_set, subjects=lambda step: (step.target,),
))

# --- unset ----------------------------------------------------------------------------------


def _parse_unset(cursor: Cursor, tokens: Sequence[Token]) -> UnsetFailpoints:
    if len(tokens) < 3:
        raise cursor.error(tokens[0].column, "expected `unset TARGET NAME...` or `unset TARGET all`")
    target = cursor.target(tokens[1])
    names = [t.text for t in tokens[2:]]
    if names == ["all"]:
        return UnsetFailpoints(target, None, where=cursor.where(tokens[1]))
    return UnsetFailpoints(target, tuple(cursor.failpoint(t) for t in tokens[2:]), where=cursor.where(tokens[1]))


def _run_unset(rt: Runtime, step: UnsetFailpoints, record: StepRecord, index: str) -> None:
    target = rt.targets[step.target]
    client = rt.recording(target)
    if step.names is None:
        record.answer = client.disable_all()
        with rt.lock:
            target.armed.clear()
        return
    answers = {}
    for name in step.names:
        answers[name] = "disabled" if client.disable(name) else "was not set"
        with rt.lock:
            target.armed.pop(name, None)
    record.answer = answers


register(Spec(
    UnsetFailpoints, ("unset",), "unset kv a` / `unset kv all",
    "disables failpoints (`all`: every active one; inside the start-up grace window, by name: those the scenario "
    "set and those the process's `GOFAIL_FAILPOINTS` armed, since `GET /` then could kill the binary)",
    parse=_parse_unset,
    describe=lambda step: f"unset {step.target} {' '.join(step.names) if step.names is not None else 'all'}",
    run=_run_unset, subjects=lambda step: (step.target,),
))

# --- counts ---------------------------------------------------------------------------------


def _comparison(cursor: Cursor, tokens: Sequence[Token], usage: str) -> tuple[str, int]:
    if len(tokens) < 6 or tokens[3].text != "count" or tokens[4].text not in COMPARISONS:
        culprit = 4 if len(tokens) > 4 and tokens[3].text == "count" else 3
        raise cursor.error(tokens[min(culprit, len(tokens) - 1)].column, f"expected `{usage}` with one of {' '.join(COMPARISONS)}")
    return tokens[4].text, cursor.integer(tokens[5], "a count", 0, MAX_COUNT)


def _parse_wait(cursor: Cursor, tokens: Sequence[Token]) -> WaitCount:
    usage = "wait TARGET FAILPOINT count OP N [within DURATION]"
    op, value = _comparison(cursor, tokens, usage)
    target, failpoint = cursor.target(tokens[1]), cursor.failpoint(tokens[2])
    rest = tokens[6:]
    within = 10.0
    if rest:
        if len(rest) != 2 or rest[0].text != "within":
            raise cursor.error(rest[0].column, f"expected `{usage}`")
        within = cursor.duration(rest[1])
    return WaitCount(target, failpoint, op, value, within, where=cursor.where(tokens[1]))


LAST_READ = 1.0  # seconds the read at a wait's deadline may take (poll_until's last chance)


def _run_wait(rt: Runtime, step: WaitCount, record: StepRecord, index: str) -> None:
    client = rt.recording(rt.targets[step.target])  # a count read is a lower bound should the process die
    counts: list[int] = []
    end = time.monotonic() + step.within

    def reached() -> int | None:
        try:
            # a slow answer cannot outlast `within` by more than the last read's second
            counts.append(client.count(step.failpoint, until=max(end, time.monotonic()) + LAST_READ))
        except EndpointTimeout:
            if time.monotonic() < end:
                raise
            raise EndpointTimeout(f"{step.failpoint} count: {client.client.endpoint} did not answer within "
                                  f"{step.within:g} s") from None
        return counts[-1] if compare(counts[-1], step.op, step.value) else None

    count = rt.poll_until(reached, end)
    if count is None:
        raise ExpectationFailed(
            f"{step.failpoint} count is {counts[-1]}, not {step.op} {step.value}, after {step.within:g} s"
        )
    record.answer = {"count": count}


register(Spec(
    WaitCount, ("wait",), "wait kv fp count >= 3 [within 5s]", "polls the count until it holds (default within 10 s)",
    parse=_parse_wait,
    describe=lambda step: f"wait {step.target} {step.failpoint} count {step.op} {step.value} within {format_duration(step.within)}",
    run=_run_wait, subjects=lambda step: (step.target,),
))


def _parse_expect_count(cursor: Cursor, tokens: Sequence[Token]) -> ExpectCount:
    usage = "expect TARGET FAILPOINT count OP N"
    op, value = _comparison(cursor, tokens, usage)
    target, failpoint = cursor.target(tokens[1]), cursor.failpoint(tokens[2])
    cursor.arity(tokens, 6, usage)
    return ExpectCount(target, failpoint, op, value, where=cursor.where(tokens[1]))


def _run_expect_count(rt: Runtime, step: ExpectCount, record: StepRecord, index: str) -> None:
    count = rt.recording(rt.targets[step.target]).count(step.failpoint)
    record.answer = {"count": count}
    if not compare(count, step.op, step.value):
        raise ExpectationFailed(f"{step.failpoint} count is {count}, not {step.op} {step.value}")


register(Spec(
    ExpectCount, ("expect",), "expect kv fp count == 1", "the count, read once, compares as written",
    parse=_parse_expect_count, accepts=lambda tokens: len(tokens) > 3 and tokens[2].text not in ("exit", "running"),
    describe=lambda step: f"expect {step.target} {step.failpoint} count {step.op} {step.value}",
    run=_run_expect_count, subjects=lambda step: (step.target,),
))
