"""Runs a Scenario: resolves it fully, executes its steps, and always cleans up in `finally`."""

from __future__ import annotations

import os
import random
import re
import shutil
import signal
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
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

START_TIMEOUT = 15.0  # seconds for a started process to answer on its gofail endpoint
STOP_GRACE = 3.0  # seconds between SIGTERM and SIGKILL
COMMAND_TIMEOUT = 120.0
_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")
_PORTS = ("port", "port2", "port3")  # a process gets three free ports, e.g. client and peer
_PANIC_MARK = "failpoint panic"


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _tail(path: Path, lines: int = 8) -> str:
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


@dataclass
class _Target:
    """A process or endpoint the scenario talks to, with the failpoints it armed there."""

    name: str
    client: Client
    armed: dict[str, str] = field(default_factory=dict)

    @property
    def may_die(self) -> bool:
        """True while a `panic` the scenario armed could take the process down."""
        return any("panic" in terms for terms in self.armed.values())


@dataclass
class _Process(_Target):
    decl: model.ProcessDecl | None = None
    ports: tuple[int, ...] = ()
    popen: subprocess.Popen[bytes] | None = None
    stdout_path: Path = Path()
    stderr_path: Path = Path()
    exit_accounted: bool = True  # its last exit was caused or expected by a step

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None


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
        self.targets: dict[str, _Target] = {}
        self.background: list[subprocess.Popen[bytes]] = []
        self.timers: list[threading.Timer] = []
        self.rngs: dict[int, random.Random] = {}
        self.lock = threading.RLock()

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

    def substitute(self, word: str, own: _Process | None = None) -> str:
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
            assert isinstance(target, _Process)
            if attribute in _PORTS:
                return str(target.ports[_PORTS.index(attribute)])
            return str(target.popen.pid if target.popen else "")

        return _PLACEHOLDER.sub(value, word)

    # --- the run ------------------------------------------------------------------------------

    def prepare(self) -> None:
        for name, decl in self.scenario.processes.items():
            gofail_port = _free_port()
            self.targets[name] = _Process(
                name, Client(f"127.0.0.1:{gofail_port}", timeout=5.0), decl=decl, ports=tuple(_free_port() for _ in _PORTS),
                stdout_path=self.tmp / f"{name}.stdout.log", stderr_path=self.tmp / f"{name}.stderr.log",
            )
        for name, endpoint_decl in self.scenario.endpoints.items():
            self.targets[name] = _Target(name, Client(endpoint_decl.endpoint, timeout=5.0))
        self.check_placeholders()

    def now(self) -> float:
        return time.monotonic() - self.started

    def run_steps(self, steps: Sequence[Step], prefix: str) -> None:
        for number, step in enumerate(steps, start=1):
            self.run_step(step, f"{prefix}{number}")

    def run_step(self, step: Step, index: str) -> None:
        record = StepRecord(index, describe(step), str(step.where), start=self.now())
        record.target = getattr(step, "process", None) or getattr(step, "target", None)
        try:
            handler: Callable[[Any, StepRecord, str], None] = getattr(self, f"do_{type(step).__name__}")
            handler(step, record, index)
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

    def check_deaths(self, step: Step) -> None:
        """A process that died while no step caused or allowed it fails the scenario here."""
        for target in list(self.targets.values()):
            if not isinstance(target, _Process) or target.popen is None or target.exit_accounted:
                continue
            code = target.popen.poll()
            if code is None:
                continue
            if target.may_die:
                continue  # an armed panic did it; `expect NAME exit` accounts for it
            target.exit_accounted = True
            raise ExpectationFailed(
                f"process {target.name} died unexpectedly (exit code {code}) by the end of "
                f"`{describe(step)}`; last lines of its stderr:\n{_tail(target.stderr_path)}"
            )

    def process(self, name: str) -> _Process:
        target = self.targets[name]
        assert isinstance(target, _Process)
        return target

    # --- one method per statement -------------------------------------------------------------

    def do_Start(self, step: model.Start, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        if proc.alive():
            raise ExpectationFailed(f"process {proc.name} is already running (pid {proc.popen.pid if proc.popen else '?'})")
        self.start(proc, record)

    def start(self, proc: _Process, record: StepRecord) -> None:
        assert proc.decl is not None
        argv = [self.substitute(word, proc) for word in proc.decl.argv]
        env = dict(os.environ)
        env.update({key: self.substitute(value, proc) for key, value in proc.decl.env})
        env["GOFAIL_HTTP"] = proc.client.endpoint
        record.sent = {"argv": argv, "GOFAIL_HTTP": proc.client.endpoint}
        with open(proc.stdout_path, "ab") as out, open(proc.stderr_path, "ab") as err:
            try:
                proc.popen = subprocess.Popen(argv, env=env, stdout=out, stderr=err, stdin=subprocess.DEVNULL,
                                              start_new_session=True)
            except OSError as error:
                raise ProcessStartError(f"cannot start {proc.name} ({argv[0]}): {error.strerror}") from error
        proc.armed.clear()
        proc.exit_accounted = False
        deadline = time.monotonic() + START_TIMEOUT
        while not proc.client.available():
            code = proc.popen.poll()
            if code is not None:
                proc.exit_accounted = True
                raise ProcessStartError(
                    f"process {proc.name} exited with code {code} before its gofail endpoint answered; "
                    f"last lines of its stderr:\n{_tail(proc.stderr_path)}"
                )
            if time.monotonic() > deadline:
                raise ProcessStartError(
                    f"process {proc.name} did not answer on {proc.client.endpoint} within {START_TIMEOUT:g} s: "
                    "is it built with failpoints enabled?"
                )
            time.sleep(0.01)
        record.answer = {"pid": proc.popen.pid}

    def do_Stop(self, step: model.Stop, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        record.answer = {"exit_code": self.stop(proc, kill=step.kill)}

    def stop(self, proc: _Process, kill: bool) -> int | None:
        if proc.popen is None:
            return None
        proc.exit_accounted = True
        if proc.popen.poll() is None:
            proc.popen.send_signal(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                proc.popen.wait(timeout=STOP_GRACE)
            except subprocess.TimeoutExpired:
                proc.popen.kill()
                proc.popen.wait()
        proc.armed.clear()
        proc.client.close()
        return proc.popen.returncode

    def do_Restart(self, step: model.Restart, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        exit_code = self.stop(proc, kill=False)
        self.start(proc, record)
        record.answer = {"previous_exit_code": exit_code, **(record.answer or {})}

    def do_SetFailpoints(self, step: model.SetFailpoints, record: StepRecord, index: str) -> None:
        target = self.targets[step.target]
        failpoints = dict(step.failpoints)
        record.sent = failpoints
        if len(failpoints) == 1:
            target.client.enable(*step.failpoints[0])
        else:
            target.client.enable_many(failpoints)
        with self.lock:
            target.armed.update(failpoints)
        if step.duration is not None:
            timer = threading.Timer(step.duration, self._expire, args=(target, failpoints))
            timer.daemon = True
            self.timers.append(timer)
            timer.start()

    def _expire(self, target: _Target, failpoints: dict[str, str]) -> None:
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
        time.sleep(step.seconds)

    def do_RunCommand(self, step: model.RunCommand, record: StepRecord, index: str) -> None:
        argv = [self.substitute(word) for word in step.argv]
        record.sent = argv
        if step.background:
            log = open(self.tmp / f"background-{len(self.background) + 1}.log", "ab")
            try:
                self.background.append(
                    subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
                )
            finally:
                log.close()
            record.answer = {"pid": self.background[-1].pid}
            return
        try:
            done = subprocess.run(argv, capture_output=True, timeout=COMMAND_TIMEOUT, stdin=subprocess.DEVNULL)
        except FileNotFoundError as error:
            if step.allow_failure:
                record.answer = {"error": f"command not found: {argv[0]}"}
                return
            raise ExpectationFailed(f"command not found: {argv[0]}") from error
        except subprocess.TimeoutExpired as error:
            raise ExpectationFailed(f"command did not finish within {COMMAND_TIMEOUT:g} s") from error
        record.answer = {
            "exit_code": done.returncode,
            "stdout": done.stdout.decode("utf-8", "replace")[-2000:],
            "stderr": done.stderr.decode("utf-8", "replace")[-2000:],
        }
        if done.returncode != 0 and not step.allow_failure:
            raise ExpectationFailed(
                f"command exited with {done.returncode} (use `run?` to allow that); stderr: "
                f"{done.stderr.decode('utf-8', 'replace').strip()[-500:]}"
            )

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
            time.sleep(0.01)

    def do_ExpectExit(self, step: model.ExpectExit, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        if proc.popen is None:
            raise ExpectationFailed(f"process {proc.name} was never started")
        try:
            code = proc.popen.wait(timeout=step.within)
        except subprocess.TimeoutExpired as error:
            raise ExpectationFailed(f"process {proc.name} still runs after {step.within:g} s") from error
        proc.exit_accounted = True
        proc.armed.clear()
        stderr = _tail(proc.stderr_path, 40)
        panicked = next((line.strip() for line in stderr.splitlines() if _PANIC_MARK in line), None)
        record.answer = {"exit_code": code, "panic": panicked}
        if step.panic and panicked is None:
            raise ExpectationFailed(
                f"process {proc.name} exited with code {code}, but not by a failpoint panic; stderr:\n{_tail(proc.stderr_path)}"
            )

    def do_ExpectRunning(self, step: model.ExpectRunning, record: StepRecord, index: str) -> None:
        proc = self.process(step.process)
        if not proc.alive():
            code = proc.popen.returncode if proc.popen else None
            proc.exit_accounted = True
            raise ExpectationFailed(f"process {proc.name} is not running (exit code {code})")
        if not proc.client.available():
            raise ExpectationFailed(f"process {proc.name} runs but its gofail endpoint does not answer")
        record.answer = {"pid": proc.popen.pid if proc.popen else None}

    def do_ExpectCount(self, step: model.ExpectCount, record: StepRecord, index: str) -> None:
        count = self.targets[step.target].client.count(step.failpoint)
        record.answer = {"count": count}
        if not compare(count, step.op, step.value):
            raise ExpectationFailed(f"{step.failpoint} count is {count}, not {step.op} {step.value}")

    def do_Parallel(self, step: model.Parallel, record: StepRecord, index: str) -> None:
        with ThreadPoolExecutor(max_workers=len(step.steps)) as pool:
            futures = [pool.submit(self.run_step, child, f"{index}.{n}") for n, child in enumerate(step.steps, 1)]
        for future in futures:
            error = future.exception()
            if error is not None:
                raise error

    def do_Repeat(self, step: model.Repeat, record: StepRecord, index: str) -> None:
        for round_ in range(1, step.times + 1):
            self.run_steps(step.steps, f"{index}.{round_}.")

    def do_Choose(self, step: model.Choose, record: StepRecord, index: str) -> None:
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
        """Timers, background commands, failpoints the scenario set, processes it started."""
        for timer in self.timers:
            timer.cancel()
        for command in self.background:
            self._end(command)
        for target in self.targets.values():
            if isinstance(target, _Process) and not target.alive():
                continue
            for name in list(target.armed):
                record = StepRecord("cleanup", f"unset {target.name} {name}", "", target.name, start=self.now())
                try:
                    target.client.disable(name)
                except (ClientError, OSError) as error:
                    record.outcome, record.message = "error", str(error)
                record.end = self.now()
                self.journal.add(record)
            target.armed.clear()
        for target in self.targets.values():
            if isinstance(target, _Process) and target.alive():
                record = StepRecord("cleanup", f"stop {target.name}", "", target.name, start=self.now())
                record.answer = {"exit_code": self.stop(target, kill=False)}
                record.end = self.now()
                self.journal.add(record)
            target.client.close()
        shutil.rmtree(self.tmp, ignore_errors=True)

    @staticmethod
    def _end(command: subprocess.Popen[bytes]) -> None:
        if command.poll() is not None:
            return
        try:
            os.killpg(command.pid, signal.SIGTERM)
            command.wait(timeout=STOP_GRACE)
        except subprocess.TimeoutExpired:
            os.killpg(command.pid, signal.SIGKILL)
            command.wait()
        except ProcessLookupError:
            pass


def _exit_code(error: BaseException) -> int:
    if isinstance(error, (ProcessStartError, EndpointUnreachable, EndpointTimeout, ProcessDied)):
        return 3
    if isinstance(error, ScenarioSyntaxError):
        return 2
    return 1


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
        runner.check_deaths(model.Sleep(0))
        return ScenarioResult(True, 0, log.records, journal=log.path)
    except _StepFailed as failure:
        return ScenarioResult(False, _exit_code(failure.error), log.records, failure.record, str(failure.error), log.path)
    except GofailError as error:
        final.outcome, final.message, final.end = "failed", str(error), runner.now()
        log.add(final)
        return ScenarioResult(False, _exit_code(error), log.records, final, str(error), log.path)
    finally:
        try:
            runner.cleanup()
        finally:
            log.close()


__all__ = ["ScenarioResult", "run_scenario"]
