"""Runs a scenario: validates it, executes its steps, and always cleans up in `finally`."""

from __future__ import annotations

import shutil
import signal
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gofail_py.errors import (
    ClientError, EndpointUnreachable, ExpectationFailed, GofailError, JournalError, NotReached, ProcessDied, ScenarioFileError,
)
from gofail_py.processes.supervisor import Cancelled, Supervisor, new_token, poll_until, temp_dir
from gofail_py.recording.events import Event
from gofail_py.recording.recorder import Recorder
from gofail_py.scenario import placeholders
from gofail_py.scenario.journal import Journal, StepRecord
from gofail_py.scenario.model import Plan, Step
from gofail_py.scenario.known import check_names
from gofail_py.scenario.runtime import Runtime, StepFailed
from gofail_py.scenario.statements import Spec, describe, spec_of, walk
from gofail_py.scenario.targets import Process

if TYPE_CHECKING:  # a type only: gofiles brings the rewriter (tree-sitter)
    from gofail_py.rewriter.gofiles import PathArg
    from gofail_py.rewriter.workspace import LocatedFailpoint


@dataclass
class ScenarioResult:
    """The outcome of a run: passed or not, the failing step, the whole timeline."""

    passed: bool
    exit_code: int
    timeline: list[StepRecord]
    failed_step: StepRecord | None = None
    error: str | None = None
    journal: Path | None = None
    events: list[Event] = field(default_factory=list)  # what the recorder wrote (gofail_py.recording.events)

    def verdict(self) -> str:
        """The last word: `PASSED: N statement(s)` or `FAILED at FILE:LINE:COL (statement): error`."""
        if self.passed:
            steps = [r for r in self.timeline if r.kind == "step"]
            top = sum(1 for r in steps if "." not in r.index)
            inner = f" ({len(steps)} with the steps inside blocks)" if len(steps) != top else ""
            return f"PASSED: {top} statement(s){inner}"
        where = f" at {self.failed_step.location} ({self.failed_step.statement})" if self.failed_step else ""
        return f"FAILED{where}: {self.error}"

    def summary(self) -> str:
        """The timeline, one line per record, then the verdict."""
        return "\n".join([*(record.line() for record in self.timeline), self.verdict()])


def _exit_code(error: BaseException) -> int:
    return error.exit_code if isinstance(error, GofailError) else 1


def _cleanup(rt: Runtime, passed: bool) -> tuple[StepRecord, GofailError] | None:
    """Background work (traffic: its history closed), timers, failpoints the scenario set,
    processes and commands it started; in that order. A process that ended on its own after the end check, before the cleanup stopped it, fails a
    run that had passed (its crash is in the journal: the verdict must say it too): the failed
    `end` record and the error, written before the recorder closes."""
    rt.cancel.set()
    for close in rt.closers:
        close()
    for timer in rt.timers:
        timer.cancel()
    died: list[Process] = []

    def ended_on_its_own(target: Process) -> None:
        if target.child is not None and target.child.claim_unexpected_exit():
            died.append(target)

    for target in rt.targets.values():
        if isinstance(target, Process) and not target.alive():
            ended_on_its_own(target)
            continue
        with rt.lock:
            armed = list(target.armed)
            target.armed.clear()
        for name in armed:
            record = rt.record("cleanup", f"unset {target.name} {name}", target.name)
            try:
                if not rt.recording(target).disable(name):
                    record.answer = "was not set"
            except (ClientError, OSError) as error:
                record.outcome, record.message = "error", str(error)
            rt.finish(record)
    for target in rt.targets.values():
        if isinstance(target, Process):
            ended_on_its_own(target)  # the last look before it is stopped: exited since the unsets
        if isinstance(target, Process) and target.alive():
            record = rt.record("cleanup", f"stop {target.name}", target.name)
            record.answer = {"exit_code": rt.stop(target)}
            rt.finish(record)
        target.client.close()
    rt.supervisor.close()  # commands, and every descendant that left a group or a session
    rt.join_watchers()  # their exit events are written before the recorder closes
    late = None
    if passed and died:
        death = rt.death(died[0], "after the last step, before the cleanup stopped it")
        final = rt.record("end", "end of scenario")
        final.outcome, final.message = "failed", str(death)
        rt.finish(final)
        late = (final, death)
    rt.recorder.close({name: target.client for name, target in rt.targets.items() if not isinstance(target, Process)})
    return late


def run_step(rt: Runtime, step: Step, index: str) -> None:
    """One step by its statement's handler, recorded in the journal; its failure raised as
    StepFailed. The runtime is given this function (it knows no statement) and blocks run their
    inner steps through it. A role word or an alias among the step's targets is resolved first:
    the handler gets the step with the member's name in its place (once per member for
    `c.followers` and `c.all`), so it and the death accounting act on the real process."""
    spec = spec_of(step)
    subjects = spec.subjects(step)
    record = StepRecord(index, describe(step), str(step.where), subjects[0] if subjects else None, start=rt.now())
    try:
        if rt.cancel.is_set():
            raise Cancelled
        bound = _bind(rt, step, subjects, record)
        if len(bound) == 1:
            _run_bound(rt, spec, bound[0][1], record, index)
        else:  # one record for every member: what each was sent and answered under its name
            sent: dict[str, Any] = {}
            answers: dict[str, Any] = {}
            try:
                for member, concrete in bound:
                    record.sent = record.answer = None
                    try:
                        _run_bound(rt, spec, concrete, record, index)
                    finally:
                        sent[member], answers[member] = record.sent, record.answer
            finally:
                record.sent = {k: v for k, v in sent.items() if v is not None} or None
                record.answer = {k: v for k, v in answers.items() if v is not None} or None
    except StepFailed:
        record.outcome, record.message = "failed", "a step inside failed"
        rt.finish(record)
        raise
    except KeyboardInterrupt:
        record.outcome, record.message = "interrupted", "interrupted"
        rt.finish(record)
        raise
    except (GofailError, OSError) as error:
        record.outcome = ("not-reached" if isinstance(error, NotReached)
                          else "failed" if isinstance(error, ExpectationFailed) else "error")
        record.message = str(error)
        rt.finish(record)
        raise StepFailed(error, record) from error
    rt.finish(record)


def _run_bound(rt: Runtime, spec: Spec[Any], step: Step, record: StepRecord, index: str) -> None:
    check_before(rt, step)
    try:
        spec.run(rt, step, record, index)
    except (ClientError, OSError) as error:
        # the process it talks to died meanwhile: say that, with its exit code and stderr
        check_before(rt, step, during=error)
        raise


def _bind(rt: Runtime, step: Step, subjects: Sequence[str], record: StepRecord) -> list[tuple[str, Step]]:
    """(member, the step acting on it) for each process the step's targets stand for now."""
    words = [word for word in dict.fromkeys(subjects) if word not in rt.targets]
    if not words:
        return [("", step)]
    resolved = {word: rt.members(word) for word in words}
    several = [word for word, members in resolved.items() if len(members) > 1]
    if len(several) > 1:
        raise ExpectationFailed(f"{' and '.join(several)} each stand for several members: one per statement")
    record.members = list(dict.fromkeys(m for members in resolved.values() for m in members))
    record.target = next(iter(resolved.values()))[0] if subjects[0] in resolved else subjects[0]
    fanned = several[0] if several else words[0]
    bound = []
    for member in resolved[fanned]:
        names = {word: members[0] for word, members in resolved.items()} | {fanned: member}
        changes: dict[str, Any] = {f.name: names[value] for f in fields(step)
                                   if isinstance(value := getattr(step, f.name), str) and value in names}
        bound.append((member, replace(step, **changes)))
    return bound


def check_before(rt: Runtime, step: Step, during: BaseException | None = None) -> None:
    """A step about a process that died unaccounted for fails with that death, not its own error.

    A step that ends or expects the end of a process (stop, kill, start, restart, expect exit)
    accounts for the death instead.
    """
    spec = spec_of(step)
    for name in spec.subjects(step):
        proc = rt.targets.get(rt.aliases.get(name, name))  # `run ... {victim.port}`: the alias's process
        if not isinstance(proc, Process) or (spec.accounts_for_exit and during is None):
            continue
        if isinstance(during, (EndpointUnreachable, ProcessDied)) and proc.child is not None:
            # the endpoint failed: the process may be exiting (sockets close before it is reaped)
            poll_until(proc.child.exit_code, time.monotonic() + 1.0)
        if proc.child is None or not proc.child.claim_unexpected_exit():
            continue
        if during is not None:
            raise rt.death(proc, f"while `{describe(step)}` ran ({during})") from during
        raise rt.death(proc, f"before `{describe(step)}`" + (
            f": it died by a failpoint panic, which no `expect {proc.name} exit` accounted for"
            if proc.panic_line() else ""
        ))


@contextmanager
def _signals_held() -> Iterator[None]:
    """Cleanup runs to its end: a second Ctrl-C (or SIGTERM) must not leave processes behind."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    previous = {sig: signal.signal(sig, signal.SIG_IGN) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def validate(scenario: Plan, variables: Mapping[str, str]) -> None:
    """Placeholders and command words, before anything starts; every problem at once."""
    processes = [(decl.name, decl.where, decl.argv + tuple(v for _, v in decl.env)) for decl in scenario.processes.values()]
    steps_words = [(spec_of(step).words(step), step.where) for step in walk(scenario.steps)]
    # an alias is a process's name in placeholders too: {victim.port}
    placeholders.check(processes, steps_words, {*scenario.processes, *scenario.aliases}, set(scenario.endpoints), variables)


def run_scenario(
    scenario: Plan,
    *,
    journal: str | Path | None = None,
    variables: Mapping[str, str] | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
    source: Sequence[PathArg] = (),
    on_notice: Callable[[str], None] | None = None,
) -> ScenarioResult:
    """Runs a scenario to its end or first failure; cleans up always; never raises on failure.

    The journal (and ``result.events``) holds the events of gofail_py.recording.events: the run, each
    process's start/restart/stop/exit, each armed window with its hits, crashes (attributed from
    the panic's stack with the inventory of ``source``, when given) and every step. ``on_notice``
    is told what a step waits for when it waits long (a failpoint name to register, after a few s).

    Bad input raises before anything starts: ScenarioSyntaxError(s) for an unknown placeholder, a
    NUL byte or (with ``source``) a failpoint name the source does not have, ScenarioFileError for a journal that cannot be written, a WorkspaceError for a bad
    ``source`` path. KeyboardInterrupt (Ctrl-C)
    still cleans up, then propagates.
    """
    variables = dict(variables or {})
    validate(scenario, variables)
    path = Path(journal) if journal is not None else None
    inventory = _inventory(source)
    if inventory:
        check_names(scenario.steps, {located.failpoint.name for located in inventory})
    recorder = _recorder(scenario, path, inventory)
    log = Journal(path, on_step)
    token = new_token()
    tmp = temp_dir(token)  # named by the token: `gofail-py sweep` removes it if this run is SIGKILLed
    supervisor = Supervisor(tmp, token)
    runtime = Runtime(scenario, log, variables, supervisor, tmp, recorder, on_notice, run_step=run_step)
    passed, late = False, None
    try:
        runtime.run_steps(scenario.steps, "")
        runtime.check_end()
        passed = True
    except StepFailed as failure:
        return ScenarioResult(False, _exit_code(failure.error), log.records, failure.record, str(failure.error), log.path,
                              recorder.events)
    except GofailError as error:
        final = runtime.record("end", "end of scenario")
        final.outcome, final.message = "failed", str(error)
        runtime.finish(final)
        return ScenarioResult(False, _exit_code(error), log.records, final, str(error), log.path, recorder.events)
    finally:
        with _signals_held():
            try:
                late = _cleanup(runtime, passed)
            finally:
                recorder.close()
                shutil.rmtree(tmp, ignore_errors=True)
    if late is not None:
        end, death = late
        return ScenarioResult(False, _exit_code(death), log.records, end, str(death), log.path, recorder.events)
    return ScenarioResult(True, 0, log.records, journal=log.path, events=recorder.events)


def _inventory(source: Sequence[PathArg]) -> list[LocatedFailpoint] | None:
    from gofail_py.rewriter.workspace import list_failpoints

    return list_failpoints(source) if source else None


def _recorder(scenario: Plan, journal: Path | None, inventory: list[LocatedFailpoint] | None) -> Recorder:
    """The run's recorder; a journal file is started afresh (the recorder itself appends; its
    folders are made by gofail_py.recording.outputs, after the path is checked)."""
    try:
        return Recorder(journal, name=scenario.name, inventory=inventory, exclusive=True)
    except JournalError as error:  # a path refused, or a journal that cannot be written: the scenario's file error
        raise ScenarioFileError(str(error)) from error


__all__ = ["ScenarioResult", "run_scenario", "run_step", "validate"]
