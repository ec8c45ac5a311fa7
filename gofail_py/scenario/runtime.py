"""The state of one run and what every statement's handler may use: targets, placeholders,
starting a process, pauses, the journal, and the accounting of process deaths. The statements
are above it: the runner gives it the function that runs a step by their table.

Must not import: gofail_py.scenario.statements, gofail_py.scenario.builder, gofail_py.scenario.parser,
    gofail_py.scenario.runner
"""

from __future__ import annotations

import os
import random
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from gofail_py.client.client import DEFAULT_REGISTRATION_GRACE, Client
from gofail_py.errors import EtcdError, ExpectationFailed, ProcessStartError
from gofail_py.etcd.roles import EtcdCluster
from gofail_py.processes.supervisor import Cancelled, Child, Supervisor, free_port, poll_until
from gofail_py.recording.recorder import Recorder
from gofail_py.recording.view import RecordingClient
from gofail_py.scenario.journal import Journal, RecordKind, StepRecord
from gofail_py.scenario.model import Plan, Step
from gofail_py.scenario.placeholders import PORTS, substitute
from gofail_py.scenario.targets import Process, Target

START_TIMEOUT = 15.0  # seconds for a started process to answer on its gofail endpoint
T = TypeVar("T")


class StepFailed(Exception):
    """Carries a step's error together with its record up to the run loop."""

    def __init__(self, error: BaseException, record: StepRecord) -> None:
        super().__init__(str(error))
        self.error = error
        self.record = record


class Runtime:
    """One run of a scenario. Handlers (gofail_py.scenario.statements) get it as their first argument."""

    def __init__(self, scenario: Plan, journal: Journal, variables: Mapping[str, str], supervisor: Supervisor,
                 tmp: Path, recorder: Recorder | None = None, on_notice: Callable[[str], None] | None = None, *,
                 run_step: Callable[[Runtime, Step, str], None]) -> None:
        self.scenario = scenario
        self._run_step = run_step
        self.journal = journal
        self.recorder = recorder or Recorder(name=scenario.name)  # process, window, crash and step events
        self._stopping: set[int] = set()  # pids we stop: their exit is a `stop`, not an `exit`
        self._watchers: list[threading.Thread] = []
        self.supervisor = supervisor
        self.variables = {**variables, "tmp": str(tmp), "dir": scenario.directory}  # built-ins win
        self.started = time.monotonic()
        self.targets: dict[str, Target] = {}
        self.timers: list[threading.Timer] = []
        self.closers: list[Callable[[], None]] = []  # run first at cleanup: background work ends (traffic)
        self.extras: dict[str, object] = {}  # what a family of statements keeps for the run, by its name
        self.rngs: dict[int, random.Random] = {}
        self.lock = threading.RLock()
        self.cancel = threading.Event()  # set on interruption: steps in worker threads stop
        # the source's failpoint names (run --source): a name it lacks is not waited for
        inventory = {located.failpoint.name for located in self.recorder.inventory} or None
        for name in scenario.processes:
            # a started binary registers its failpoints after its endpoint answers: the client
            # asks again for a name not registered yet until DEFAULT_REGISTRATION_GRACE after start
            client = Client(f"127.0.0.1:{free_port()}", timeout=5.0, registration_grace=DEFAULT_REGISTRATION_GRACE,
                            inventory=inventory, on_wait=on_notice)
            self.targets[name] = Process(name, client, ports=tuple(free_port() for _ in PORTS))
        for name, endpoint in scenario.endpoints.items():
            self.targets[name] = Target(name, Client(endpoint.endpoint, timeout=5.0))
        self.clusters = {
            name: EtcdCluster({member: f"127.0.0.1:{self.process(member).ports[PORTS.index(decl.client)]}"
                               for member in decl.members}, name)
            for name, decl in scenario.clusters.items()
        }
        self.aliases: dict[str, str] = {}  # alias -> the process its last `pick` bound it to

    # --- what handlers use ----------------------------------------------------------------------

    def now(self) -> float:
        return self.recorder.now()  # one clock for steps, windows and process events

    def pause(self, seconds: float) -> None:
        """Sleeps, but returns at once (raising Cancelled) when the run is interrupted."""
        if self.cancel.wait(seconds):
            raise Cancelled

    def poll_until(self, check: Callable[[], T | None], deadline: float) -> T | None:
        return poll_until(check, deadline, self.cancel)

    def record(self, kind: RecordKind, statement: str, target: str | None = None) -> StepRecord:
        """A journal record that is not a step of the scenario (a timer's or cleanup's action)."""
        return StepRecord(kind, statement, "", target, start=self.now(), kind=kind)

    def finish(self, record: StepRecord) -> None:
        record.end = self.recorder.now()
        self.journal.add(record)
        self.recorder.step(record)

    def recording(self, target: Target) -> RecordingClient:
        """The target's client with set/unset/count going through the recorder (hits per window)."""
        return RecordingClient(target.client, self.recorder, target.name)

    def stop(self, proc: Process, kill: bool = False) -> int | None:
        """Stops a process: the hits of its armed windows are read first, while it still answers."""
        child = proc.child
        if child is None or not child.alive():
            return proc.stop(kill=kill)
        self.recorder.before_stop(proc.name, proc.client)
        with self.lock:
            self._stopping.add(child.pid)
        code = proc.stop(kill=kill)
        self.recorder.process_stopped(proc.name, child.pid, code)
        return code

    def _watch(self, name: str, child: Child) -> None:
        """Records an exit we did not cause when it happens (a panic's time is the crash's time)."""
        code = child.popen.wait()
        with self.lock:
            if child.pid in self._stopping:
                return
        try:
            stderr = child.stderr_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            stderr = ""
        self.recorder.process_exited(name, child.pid, code, stderr)

    def join_watchers(self, timeout: float = 5.0) -> None:
        deadline = time.monotonic() + timeout
        for watcher in self._watchers:
            watcher.join(max(0.0, deadline - time.monotonic()))

    def process(self, name: str) -> Process:
        target = self.targets[name]
        assert isinstance(target, Process)
        return target

    # --- names: role words and aliases ---------------------------------------------------------

    def bind(self, alias: str, member: str) -> None:
        with self.lock:
            self.aliases[alias] = member

    def bound(self, alias: str) -> str:
        """The process an alias names now; ExpectationFailed before its `pick` ran."""
        with self.lock:
            member = self.aliases.get(alias)
        if member is None:
            raise ExpectationFailed(f"{alias} names no process yet: no `pick {alias} ...` has run before this step")
        return member

    def members(self, word: str) -> tuple[str, ...]:
        """The processes a step's target stands for now: itself, an alias's process, or the
        members holding a role, asked of the cluster's running members (gofail_py.etcd.roles)."""
        if word in self.targets:
            return (word,)
        if word in self.scenario.aliases:
            return (self.bound(word),)
        name, _, role = word.partition(".")
        decl = self.scenario.clusters[name]
        running = {member for member in decl.members if self.process(member).alive()}
        try:
            return self.clusters[name].resolve(role, running, cancel=self.cancel)
        except EtcdError:
            if self.cancel.is_set():
                raise Cancelled from None
            raise

    def substitute(self, word: str, own: Process | None = None) -> str:
        def value(name: str) -> str:
            if own is not None and name in PORTS:
                return str(own.ports[PORTS.index(name)])
            if own is not None and name == "endpoint":
                return own.client.endpoint
            if name in self.variables:
                return self.variables[name]
            target_name, _, attribute = name.partition(".")
            if target_name in self.scenario.aliases:
                target_name = self.bound(target_name)
            target = self.targets[target_name]
            if attribute == "endpoint":
                return target.client.endpoint
            assert isinstance(target, Process)
            if attribute in PORTS:
                return str(target.ports[PORTS.index(attribute)])
            return str(target.pid or "")

        return substitute(word, value)

    def start(self, proc: Process, record: StepRecord, more_env: Mapping[str, str] | None = None) -> None:
        """Starts a declared process and waits until its gofail endpoint answers (``more_env``: set
        over its declared environment for this start only, e.g. a trigger's GOFAIL_FAILPOINTS)."""
        decl = self.scenario.processes[proc.name]
        argv = [self.substitute(word, proc) for word in decl.argv]
        env = {key: self.substitute(value, proc) for key, value in decl.env}
        env.update(more_env or {})
        if "GOFAIL_FAILPOINTS" in env:  # as the runtime will split it: no entry smuggled in by a value
            from gofail_py.terms import failpoints_env

            failpoints_env(env["GOFAIL_FAILPOINTS"])
        record.sent = {"argv": argv, "GOFAIL_HTTP": proc.client.endpoint, **({"env": env} if env else {})}
        began = time.monotonic()
        child = self.supervisor.start(proc.name, argv, {**env, "GOFAIL_HTTP": proc.client.endpoint})
        proc.started(child)
        proc.client.mark_started(began, {**os.environ, **env})  # its registration grace window starts now
        self.recorder.process_started(proc.name, child.pid, proc.client.endpoint)
        watcher = threading.Thread(target=self._watch, args=(proc.name, child), name=f"watch-{proc.name}", daemon=True)
        watcher.start()
        self._watchers.append(watcher)
        record.answer = {"pid": child.pid}

        def ready() -> bool | None:
            if proc.client.available():
                return True
            if not child.alive():
                child.account()  # reported here
                raise ProcessStartError(f"process {proc.name} exited with code {child.exit_code()} before its "
                                        f"gofail endpoint answered; {proc.stderr_excerpt()}")
            return None

        if self.poll_until(ready, time.monotonic() + START_TIMEOUT) is None:
            raise ProcessStartError(f"process {proc.name} did not answer on {proc.client.endpoint} within "
                                    f"{START_TIMEOUT:g} s: is it built with failpoints enabled?")

    # --- running steps --------------------------------------------------------------------------

    def run_steps(self, steps: Sequence[Step], prefix: str) -> None:
        for number, step in enumerate(steps, start=1):
            self.run_step(step, f"{prefix}{number}")

    def run_step(self, step: Step, index: str) -> None:
        """Runs one step, recorded in the journal: by the statements' table, through the function
        the runner gave (this module knows no statement: the statements' handlers use it)."""
        self._run_step(self, step, index)

    # --- deaths ---------------------------------------------------------------------------------
    # A process death is reported at the first later step that talks to that process, or at the
    # end: never by a race between the death and the end of an unrelated step, so a run's verdict
    # does not depend on timing.

    def death(self, proc: Process, why: str) -> ExpectationFailed:
        excerpt = proc.stderr_excerpt()
        panic = proc.panic_line()
        if panic is not None and panic not in excerpt:
            excerpt = excerpt.replace(":\n", f":\n{panic}\n...\n", 1)  # a Go panic's first line says more than its stack's end
        return ExpectationFailed(f"process {proc.name} died unexpectedly (exit code {proc.exit_code()}) {why}; {excerpt}")

    def check_end(self) -> None:
        """At the end, every exit must have been accounted for, panics included."""
        for target in self.targets.values():
            if isinstance(target, Process) and target.child is not None and target.child.claim_unexpected_exit():
                raise self.death(
                    target, "and no step accounted for it by the end of the scenario "
                    f"(`expect {target.name} exit` does)" if target.panic_line() else "by the end of the scenario"
                )
