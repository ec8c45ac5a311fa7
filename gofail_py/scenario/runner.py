"""Runs a Scenario: resolves it fully, executes its steps, and always cleans up in `finally`."""

from __future__ import annotations

import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from gofail_py.client import Client
from gofail_py.errors import (
    ClientError,
    EndpointTimeout,
    EndpointUnreachable,
    ExpectationFailed,
    FailpointDisabled,
    GofailError,
    ProcessDied,
    ProcessStartError,
    ScenarioSyntaxError,
)
from gofail_py.scenario import model
from gofail_py.scenario.journal import Journal, StepRecord
from gofail_py.scenario.model import Location, Scenario, Step, compare, describe
from gofail_py.scenario.processes import Cancelled, Commands, Process, Target, free_port, tail

START_TIMEOUT = 15.0  # seconds for a started process to answer on its gofail endpoint
COMMAND_TIMEOUT = 120.0
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")
_PORTS = ("port", "port2", "port3")  # a process gets three free ports, e.g. client and peer
# steps after which a process's exit is accounted for: the scenario ended it or expected it to end
_ACCOUNTING = (model.Stop, model.Restart, model.Start, model.ExpectExit)


@dataclass
class ScenarioResult:
    """The outcome of a run: passed or not, the failing step, the whole timeline."""

    passed: bool
    exit_code: int
    timeline: list[StepRecord]
    failed_step: StepRecord | None = None
    error: str | None = None
    journal: Path | None = None

    def summary(self) -> str:
        lines = [record.line() for record in self.timeline]
        if self.passed:
            lines.append(f"PASSED: {sum(1 for r in self.timeline if r.index != 'cleanup')} step(s)")
        else:
            where = f" at {self.failed_step.location} ({self.failed_step.statement})" if self.failed_step else ""
            lines.append(f"FAILED{where}: {self.error}")
        return "\n".join(lines)


class _StepFailed(Exception):
    """Carries a step's error together with its record up to the run loop."""

    def __init__(self, error: BaseException, record: StepRecord) -> None:
        super().__init__(str(error))
        self.error = error
        self.record = record


class _Runner:
    def __init__(self, scenario: Scenario, journal: Journal, variables: Mapping[str, str]) -> None:
        self.scenario = scenario
        self.journal = journal
        self.variables = dict(variables)
        self.started = time.monotonic()
        self.tmp = Path(tempfile.mkdtemp(prefix="gofail-py-scenario-"))
        self.variables.setdefault("tmp", str(self.tmp))
        self.variables.setdefault("dir", scenario.directory)
        self.targets: dict[str, Target] = {}
        self.commands = Commands(self.tmp)
        self.timers: list[threading.Timer] = []
        self.rngs: dict[int, random.Random] = {}
        self.lock = threading.RLock()
        self.cancel = threading.Event()  # set on interruption: steps in worker threads stop

    # --- placeholders -------------------------------------------------------------------------

    def _known(self, name: str, own: str | None) -> bool:
        if name in self.variables or (own is not None and name in (*_PORTS, "endpoint")):
            return True
        target, _, attribute = name.partition(".")
        if target in self.scenario.processes:
            return attribute in (*_PORTS, "endpoint", "pid")
        return target in self.scenario.endpoints and attribute == "endpoint"

    def check_placeholders(self) -> None:
        """Every {placeholder} must be resolvable before anything starts."""

        def check(words: Sequence[str], where: Location, own: str | None) -> None:
            for word in words:
                for match in _PLACEHOLDER.finditer(word):
                    if not self._known(match.group(1), own):
                        raise ScenarioSyntaxError(
                            where.path, where.line, where.column,
                            f"unknown placeholder {{{match.group(1)}}} (known: {{port}} {{port2}} {{port3}} {{tmp}} {{dir}} {{NAME.port}} "
                            f"{{NAME.endpoint}} {{NAME.pid}} and --var names: {', '.join(sorted(self.variables))})",
                        )

        for decl in self.scenario.processes.values():
            check(decl.argv + tuple(v for _, v in decl.env), decl.where, decl.name)

        def walk(steps: Sequence[Step]) -> None:
            for step in steps:
                if isinstance(step, model.RunCommand):
                    check(step.argv, step.where, None)
                elif isinstance(step, model.BLOCKS):
                    walk(step.steps)

        walk(self.scenario.steps)

    def substitute(self, word: str, own: Process | None = None) -> str:
        def value(match: re.Match[str]) -> str:
            name = match.group(1)
            if own is not None and name in _PORTS:
                return str(own.ports[_PORTS.index(name)])
            if own is not None and name == "endpoint":
                return own.client.endpoint
            if name in self.variables:
                return self.variables[name]
            target_name, _, attribute = name.partition(".")
            target = self.targets[target_name]
            if attribute == "endpoint":
                return target.client.endpoint
            assert isinstance(target, Process)
            if attribute in _PORTS:
                return str(target.ports[_PORTS.index(attribute)])
            return str(target.popen.pid if target.popen else "")

        return _PLACEHOLDER.sub(value, word)

    def processes_of(self, step: Step) -> set[str]:
        """The processes a step talks to: its target, or those whose placeholders a command uses."""
        if isinstance(step, model.RunCommand):
            names = {m.group(1).partition(".")[0] for word in step.argv for m in _PLACEHOLDER.finditer(word)}
        elif isinstance(step, model.BLOCKS):
            return set()  # each inner step is checked on its own
        else:
            names = {getattr(step, "process", None) or getattr(step, "target", "")}
        return names & set(self.scenario.processes)

    # --- the run ------------------------------------------------------------------------------

    def prepare(self) -> None:
        for name, decl in self.scenario.processes.items():
            gofail_port = free_port()
            self.targets[name] = Process(
                name, Client(f"127.0.0.1:{gofail_port}", timeout=5.0), decl=decl, ports=tuple(free_port() for _ in _PORTS),
                stdout_path=self.tmp / f"{name}.stdout.log", stderr_path=self.tmp / f"{name}.stderr.log",
            )
        for name, endpoint_decl in self.scenario.endpoints.items():
            self.targets[name] = Target(name, Client(endpoint_decl.endpoint, timeout=5.0))
        self.check_placeholders()

    def now(self) -> float:
        return time.monotonic() - self.started

    def pause(self, seconds: float) -> None:
        """Sleeps, but returns at once (raising Cancelled) when the run is interrupted."""
        if self.cancel.wait(seconds):
            raise Cancelled

    def run_steps(self, steps: Sequence[Step], prefix: str) -> None:
        for number, step in enumerate(steps, start=1):
            self.run_step(step, f"{prefix}{number}")

    def run_step(self, step: Step, index: str) -> None:
        record = StepRecord(index, describe(step), str(step.where), start=self.now())
        record.target = getattr(step, "process", None) or getattr(step, "target", None)
        try:
            if self.cancel.is_set():
                raise Cancelled
            self.check_before(step)
            handler: Callable[[Any, StepRecord, str], None] = getattr(self, f"do_{type(step).__name__}")
            try:
                handler(step, record, index)
            except (ClientError, OSError) as error:
                # the process it talks to died meanwhile: say that, with its exit code and stderr
                self.check_before(step, during=error)
                raise
            self.check_deaths(step)
        except _StepFailed:
            record.outcome, record.end = "failed", self.now()
            record.message = "a step inside failed"
            self.journal.add(record)
            raise
        except KeyboardInterrupt:
            record.outcome, record.end, record.message = "interrupted", self.now(), "interrupted"
            self.journal.add(record)
            raise
        except (GofailError, OSError) as error:
            record.outcome = "failed" if isinstance(error, ExpectationFailed) else "error"
            record.end, record.message = self.now(), str(error)
            self.journal.add(record)
            raise _StepFailed(error, record) from error
        record.end = self.now()
        self.journal.add(record)

    def _death(self, proc: Process, why: str) -> ExpectationFailed:
        proc.exit_accounted = True
        last = tail(proc.stderr_path)
        panic = proc.panic_line()
        if panic is not None and panic not in last:
            last = f"{panic}\n...\n{last}"  # a Go panic's first line says more than its stack's end
        return ExpectationFailed(
            f"process {proc.name} died unexpectedly (exit code {proc.exit_code()}) {why}; "
            f"last lines of its stderr:\n{last}"
        )

    def check_before(self, step: Step, during: BaseException | None = None) -> None:
        """A step about a process that died unaccounted for fails with that death, not its own error.

        A step that ends or expects the end of a process (stop, kill, start, restart, expect exit)
        accounts for the death instead.
        """
        for name in self.processes_of(step):
            proc = self.targets[name]
            assert isinstance(proc, Process)
            if isinstance(step, _ACCOUNTING) and during is None:
                continue
            if isinstance(during, (EndpointUnreachable, ProcessDied)) and proc.alive() and proc.popen is not None:
                # the endpoint failed: the process may be exiting (sockets close before it is reaped)
                try:
                    proc.popen.wait(timeout=1.0)
                except subprocess.TimeoutExpired:
                    continue
            with self.lock:
                if proc.exit_accounted or proc.alive():
                    continue
                if during is not None:
                    raise self._death(proc, f"while `{describe(step)}` ran ({during})") from during
                panic = proc.panic_line()
                raise self._death(proc, f"before `{describe(step)}`" + (
                    f": it died by a failpoint panic, which no `expect {proc.name} exit` accounted for" if panic else ""
                ))

    def check_deaths(self, step: Step) -> None:
        """A process that died while no step caused or allowed it fails the scenario here.

        A death by a `panic` action the scenario armed on it is left to the steps that follow: one
        of them must account for it (`expect NAME exit`, or start/restart/stop/kill it) before a
        step talks to that process again, or before the scenario ends.
        """
        with self.lock:
            for target in self.targets.values():
                if not isinstance(target, Process) or target.exit_accounted or target.alive():
                    continue
                if target.may_panic and target.panic_line() is not None:
                    continue
                raise self._death(target, f"by the end of `{describe(step)}`")

    def check_end(self) -> None:
        """At the end, every exit must have been accounted for, panics included."""
        with self.lock:
            for target in self.targets.values():
                if isinstance(target, Process) and not target.exit_accounted and not target.alive():
                    raise self._death(
                        target, "and no step accounted for it by the end of the scenario "
                        f"(`expect {target.name} exit` does)" if target.panic_line() else "by the end of the scenario"
                    )

    def process(self, name: str) -> Process:
        target = self.targets[name]
        assert isinstance(target, Process)
        return target

    # --- one method per statement -------------------------------------------------------------

    def do_Start(self, step: model.Start, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        if proc.alive():
            raise ExpectationFailed(f"process {proc.name} is already running (pid {proc.popen.pid if proc.popen else '?'})")
        self.start(proc, record)

    def start(self, proc: Process, record: StepRecord) -> None:
        assert proc.decl is not None
        argv = [self.substitute(word, proc) for word in proc.decl.argv]
        env = {key: self.substitute(value, proc) for key, value in proc.decl.env}
        record.sent = {"argv": argv, "GOFAIL_HTTP": proc.client.endpoint, **({"env": env} if env else {})}
        proc.spawn(argv, env)
        assert proc.popen is not None
        record.answer = {"pid": proc.popen.pid}
        proc.wait_ready(START_TIMEOUT, self.cancel)

    def do_Stop(self, step: model.Stop, record: StepRecord, index: str) -> None:
        record.answer = {"exit_code": self.process(step.process).stop(kill=step.kill)}

    def do_Restart(self, step: model.Restart, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        exit_code = proc.stop()
        self.start(proc, record)
        record.answer = {"previous_exit_code": exit_code, **(record.answer or {})}

    def do_SetFailpoints(self, step: model.SetFailpoints, record: StepRecord, index: str) -> None:
        target = self.targets[step.target]
        failpoints = dict(step.failpoints)
        record.sent = failpoints
        with self.lock:
            # armed before the request: a panic may kill the process before the answer arrives
            target.armed.update(failpoints)
        if len(failpoints) == 1:
            target.client.enable(*step.failpoints[0])
        else:
            target.client.enable_many(failpoints)
        if step.duration is not None:
            timer = threading.Timer(step.duration, self._expire, args=(target, failpoints))
            timer.daemon = True
            self.timers.append(timer)
            timer.start()

    def _expire(self, target: Target, failpoints: dict[str, str]) -> None:
        """The end of a `set ... for D` window: disable what it set, if still set to that."""
        for name, terms in failpoints.items():
            with self.lock:
                if target.armed.get(name) != terms:
                    continue
                target.armed.pop(name)
            record = StepRecord("timer", f"unset {target.name} {name} (end of `for` window)", "", target.name,
                                start=self.now())
            try:
                target.client.disable(name)
            except ClientError as error:
                record.outcome, record.message = "error", str(error)
            record.end = self.now()
            self.journal.add(record)

    def do_UnsetFailpoints(self, step: model.UnsetFailpoints, record: StepRecord, index: str) -> None:
        target = self.targets[step.target]
        if step.names is None:
            record.answer = target.client.disable_all()
            with self.lock:
                target.armed.clear()
            return
        answers = {}
        for name in step.names:
            try:
                target.client.disable(name)
                answers[name] = "disabled"
            except FailpointDisabled:
                answers[name] = "was not set"
            with self.lock:
                target.armed.pop(name, None)
        record.answer = answers

    def do_Sleep(self, step: model.Sleep, record: StepRecord, index: str) -> None:
        self.pause(step.seconds)

    def do_RunCommand(self, step: model.RunCommand, record: StepRecord, index: str) -> None:
        argv = [self.substitute(word) for word in step.argv]
        record.sent = argv
        try:
            if step.background:
                record.answer = {"pid": self.commands.start_background(argv).pid}
                return
            code, out, err = self.commands.run(argv, COMMAND_TIMEOUT, self.cancel)
        except FileNotFoundError as error:
            if step.allow_failure and not step.background:
                record.answer = {"error": f"command not found: {argv[0]}"}
                return
            raise ExpectationFailed(f"command not found: {argv[0]}") from error
        except subprocess.TimeoutExpired as error:
            raise ExpectationFailed(f"command did not finish within {COMMAND_TIMEOUT:g} s") from error
        stderr = err.decode("utf-8", "replace")
        record.answer = {"exit_code": code, "stdout": out.decode("utf-8", "replace")[-2000:], "stderr": stderr[-2000:]}
        if code != 0 and not step.allow_failure:
            raise ExpectationFailed(f"command exited with {code} (use `run?` to allow that); stderr: {stderr.strip()[-500:]}")

    def do_WaitCount(self, step: model.WaitCount, record: StepRecord, index: str) -> None:
        client = self.targets[step.target].client
        deadline = time.monotonic() + step.within
        while True:
            count = client.count(step.failpoint)
            if compare(count, step.op, step.value):
                record.answer = {"count": count}
                return
            if time.monotonic() >= deadline:
                raise ExpectationFailed(
                    f"{step.failpoint} count is {count}, not {step.op} {step.value}, after {step.within:g} s"
                )
            self.pause(0.01)

    def do_ExpectExit(self, step: model.ExpectExit, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        if proc.popen is None:
            raise ExpectationFailed(f"process {proc.name} was never started")
        deadline = time.monotonic() + step.within
        while proc.popen.poll() is None:
            if time.monotonic() >= deadline:
                raise ExpectationFailed(f"process {proc.name} still runs after {step.within:g} s")
            self.pause(0.01)
        code = proc.popen.returncode
        with self.lock:
            proc.exit_accounted = True
            proc.armed.clear()
        panicked = proc.panic_line()
        record.answer = {"exit_code": code, "panic": panicked}
        if step.panic and panicked is None:
            raise ExpectationFailed(
                f"process {proc.name} exited with code {code}, but not by a failpoint panic; stderr:\n{tail(proc.stderr_path)}"
            )

    def do_ExpectRunning(self, step: model.ExpectRunning, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        if not proc.alive():
            proc.exit_accounted = True
            raise ExpectationFailed(f"process {proc.name} is not running (exit code {proc.exit_code()})")
        if not proc.client.available():
            raise ExpectationFailed(f"process {proc.name} runs but its gofail endpoint does not answer")
        record.answer = {"pid": proc.popen.pid if proc.popen else None}

    def do_ExpectCount(self, step: model.ExpectCount, record: StepRecord, index: str) -> None:
        count = self.targets[step.target].client.count(step.failpoint)
        record.answer = {"count": count}
        if not compare(count, step.op, step.value):
            raise ExpectationFailed(f"{step.failpoint} count is {count}, not {step.op} {step.value}")

    def do_Parallel(self, step: model.Parallel, record: StepRecord, index: str) -> None:
        errors: list[BaseException] = []

        def child(inner: Step, number: int) -> None:
            try:
                self.run_step(inner, f"{index}.{number}")
            except BaseException as error:  # noqa: BLE001 - handed to the thread that waits
                errors.append(error)
                self.cancel.set()  # the scenario fails here: the other branches stop at their next pause

        # daemon threads: an interrupted run must not wait at exit for a step still sleeping
        threads = [threading.Thread(target=child, args=(inner, n), daemon=True, name=f"step {index}.{n}")
                   for n, inner in enumerate(step.steps, 1)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        for error in errors:
            if isinstance(error, _StepFailed):
                raise error
        if errors:
            raise errors[0]

    def do_Repeat(self, step: model.Repeat, record: StepRecord, index: str) -> None:
        for round_ in range(1, step.times + 1):
            self.run_steps(step.steps, f"{index}.{round_}.")

    def do_Choose(self, step: model.Choose, record: StepRecord, index: str) -> None:
        with self.lock:
            rng = self.rngs.get(id(step))
            if rng is None:
                seed = step.seed if step.seed is not None else random.SystemRandom().randrange(2**32)
                rng = self.rngs[id(step)] = random.Random(seed)
                record.sent = {"seed": seed}
            number = rng.randrange(len(step.steps))
        record.answer = {"chosen": number + 1, "statement": describe(step.steps[number])}
        self.run_step(step.steps[number], f"{index}.{number + 1}")

    # --- cleanup ----------------------------------------------------------------------------------

    def cleanup(self) -> None:
        """Timers, commands, failpoints the scenario set, processes it started; in that order."""
        self.cancel.set()
        for timer in self.timers:
            timer.cancel()
        self.commands.end_all()
        for target in self.targets.values():
            if isinstance(target, Process) and not target.alive():
                continue
            with self.lock:
                armed = list(target.armed)
                target.armed.clear()
            for name in armed:
                record = StepRecord("cleanup", f"unset {target.name} {name}", "", target.name, start=self.now())
                try:
                    target.client.disable(name)
                except FailpointDisabled:
                    record.answer = "was not set"
                except (ClientError, OSError) as error:
                    record.outcome, record.message = "error", str(error)
                record.end = self.now()
                self.journal.add(record)
        for target in self.targets.values():
            if isinstance(target, Process) and target.alive():
                record = StepRecord("cleanup", f"stop {target.name}", "", target.name, start=self.now())
                record.answer = {"exit_code": target.stop()}
                record.end = self.now()
                self.journal.add(record)
            target.client.close()
        shutil.rmtree(self.tmp, ignore_errors=True)


def _exit_code(error: BaseException) -> int:
    if isinstance(error, (ProcessStartError, EndpointUnreachable, EndpointTimeout, ProcessDied)):
        return 3
    if isinstance(error, ScenarioSyntaxError):
        return 2
    return 1


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


def run_scenario(
    scenario: Scenario,
    *,
    journal: str | Path | None = None,
    variables: Mapping[str, str] | None = None,
    on_step: Callable[[StepRecord], None] | None = None,
) -> ScenarioResult:
    """Runs a scenario to its end or first failure; cleans up always; never raises on failure.

    KeyboardInterrupt (Ctrl-C) still cleans up, then propagates.
    """
    log = Journal(Path(journal) if journal is not None else None, on_step)
    runner = _Runner(scenario, log, variables or {})
    final = StepRecord("end", "end of scenario", "")
    try:
        runner.prepare()
        runner.run_steps(scenario.steps, "")
        final.start = runner.now()
        runner.check_end()
        return ScenarioResult(True, 0, log.records, journal=log.path)
    except _StepFailed as failure:
        return ScenarioResult(False, _exit_code(failure.error), log.records, failure.record, str(failure.error), log.path)
    except GofailError as error:
        final.outcome, final.message, final.end = "failed", str(error), runner.now()
        log.add(final)
        return ScenarioResult(False, _exit_code(error), log.records, final, str(error), log.path)
    finally:
        with _signals_held():
            try:
                runner.cleanup()
            finally:
                log.close()


__all__ = ["ScenarioResult", "run_scenario"]
