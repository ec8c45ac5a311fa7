"""trigger[?] TARGET ACTION [ARG ...] [within DURATION]: makes a running etcd member do what reaches
a failpoint that puts never touch (gofail_py.etcd's triggers), and checks that it did.

TARGET is a declared process running etcd, its client address ``127.0.0.1:{TARGET.port}``. An
unknown action or argument is refused when the scenario is validated (exit 2); a target that is
not running or not etcd, or a trigger that does not do what it claims within its time, fails the
step. What a trigger starts (a learner's etcd) is stopped by the trigger, and by the run's end at
the latest."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from gofail_py.errors import ClientError, EtcdError, ExpectationFailed, ScenarioError, TriggerUsageError
from gofail_py.scenario.model import Step, format_duration
from gofail_py.scenario.statements.table import Spec, register

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime
    from gofail_py.scenario.targets import Process

DEFAULT_WITHIN = 60.0


@dataclass(frozen=True)
class TriggerStep(Step):
    target: str
    action: str
    args: tuple[str, ...] = ()
    within: float = DEFAULT_WITHIN
    tolerate: bool = False  # `trigger?`: the step passes whether or not the trigger did what it claims


def _parse(cursor: Cursor, tokens: Sequence[Token]) -> TriggerStep:
    from gofail_py.etcd.triggers import check_arguments

    if len(tokens) < 3:
        raise cursor.error(tokens[-1].column + len(tokens[-1].text),
                           "expected `trigger TARGET ACTION [ARG ...] [within DURATION]`")
    words = list(tokens[3:])
    within = DEFAULT_WITHIN
    if len(words) >= 2 and words[-2].text == "within":
        within = cursor.duration(words[-1])
        if not within > 0:
            raise cursor.error(words[-1].column, "a trigger's time must be above 0 s")
        words = words[:-2]
    try:
        check_arguments(tokens[2].text, [word.text for word in words])
    except TriggerUsageError as error:
        raise cursor.error((words[0] if words and tokens[2].text in _actions() else tokens[2]).column, str(error)) from None
    return TriggerStep(cursor.process(tokens[1]), tokens[2].text, tuple(word.text for word in words), within,
                       tokens[0].text == "trigger?", where=cursor.where(tokens[1]))


def _actions() -> tuple[str, ...]:
    from gofail_py.etcd.triggers import ACTIONS

    return tuple(ACTIONS)


def _describe(step: TriggerStep) -> str:
    within = "" if step.within == DEFAULT_WITHIN else f" within {format_duration(step.within)}"
    return " ".join(("trigger?" if step.tolerate else "trigger", step.target, step.action, *step.args)) + within


class _Control:
    """The triggers' Control over the run's processes: stop and start through the runtime (its
    crash accounting and journal), a learner through the supervisor, stopped at the end at the latest."""

    def __init__(self, rt: Runtime, record: StepRecord) -> None:
        self.rt, self.record = rt, record

    def _proc(self, name: str) -> Process:
        return self.rt.process(name)

    def pid(self, name: str) -> int | None:
        proc = self._proc(name)
        return proc.pid if proc.alive() else None

    def stop(self, name: str) -> None:
        self.rt.stop(self._proc(name))

    def start(self, name: str, env: Mapping[str, str]) -> None:
        self.rt.start(self._proc(name), self.record, env)
        armed = [entry.partition("=") for entry in env.get("GOFAIL_FAILPOINTS", "").split(";") if entry]
        self.rt.recorder.armed_at_start(name, {fp: terms for fp, _, terms in armed})
        proc = self._proc(name)
        with self.rt.lock:  # armed again from its start: a panic of theirs is the scenario's, as before the restart
            proc.armed.update({fp: terms for fp, _, terms in armed})

    def spawn(self, name: str, argv: Sequence[str]) -> Callable[[], None]:
        child = self.rt.supervisor.start(name, argv, accounted=True)

        def stop() -> None:
            if child.alive():
                child.stop()

        self.rt.closers.append(stop)  # the run's end stops it if the trigger could not
        return stop


def _trigger(rt: Runtime, step: TriggerStep, record: StepRecord) -> dict[str, Any]:
    from gofail_py.etcd.common import Member
    from gofail_py.etcd.triggers import trigger

    proc = rt.process(step.target)
    if not proc.alive():
        raise ExpectationFailed(f"trigger {step.action}: process {proc.name} is not running"
                                + (" (it was never started)" if proc.child is None else ""))
    member = Member(proc.name, f"127.0.0.1:{proc.ports[0]}", proc.client.endpoint)
    record.sent = {"action": step.action, "args": list(step.args), "address": member.address}
    from gofail_py.scenario.statements.traffic import beside

    # the trigger's writes go into the history of a traffic running on that member: its check must
    # see every write to the store, or the revisions they take look like the store's own mistakes
    writes = beside(rt, member.address)
    if writes is not None:
        record.sent["recorded as client"] = writes[1]
    return trigger(step.action, member, step.args, timeout=step.within, control=_Control(rt, record),
                   writes=writes)


def _run(rt: Runtime, step: TriggerStep, record: StepRecord, index: str) -> None:
    try:
        record.answer = _trigger(rt, step, record)
    except (EtcdError, ClientError, ScenarioError) as error:
        if not step.tolerate:
            raise
        # a fault armed on the member may well make it fail (a panic ends the member mid-call): recorded, not fatal
        record.answer = {"failed": str(error)}


register(Spec(
    TriggerStep, ("trigger", "trigger?"), "trigger m1 ACTION [ARG ...] [within 60s]",
    "makes the etcd member at 127.0.0.1:{m1.port} do what reaches a failpoint (put, compact, defrag, lease-grant, "
    "lease-keepalive, lease-ttl, lease-revoke, watch, restart, snapshot, member-add, member-promote, "
    "member-remove: [etcd.md](etcd.md)) and checks it did; fails the step when not, within 60 s by default. "
    "`trigger?` records a failure and goes on (a fault armed on the member may make it fail)",
    parse=_parse, describe=_describe, run=_run, subjects=lambda step: (step.target,), accounts_for_exit=True,
))
