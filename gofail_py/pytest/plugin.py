"""pytest fixtures for robustness tests: start gofail-enabled binaries, run scenarios.

Registered through the `pytest11` entry point, so installing gofail-py makes them available:

    def test_crash(gofail_process, gofail_scenario):
        kv = gofail_process(["./kvserver", "--listen", "127.0.0.1:{port}"])
        kv.client.enable("afterCommit", "panic")
        ...
        gofail_scenario("scenarios/crash.gofail", variables={"kvserver": "./kvserver"})
"""

from __future__ import annotations

import os
import subprocess
import threading
import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import pytest

from gofail_py.client.client import DEFAULT_REGISTRATION_GRACE, Client
from gofail_py.errors import ClientError, ProcessStartError
from gofail_py.pytest.coverage import SESSION, journal_of_this_worker, recorder_for
from gofail_py.pytest.coverage import pytest_addoption, pytest_configure, pytest_sessionfinish, pytest_terminal_summary
from gofail_py.processes.supervisor import Child, Supervisor, free_port, poll_until, tail

if TYPE_CHECKING:
    from gofail_py.scenario.runner import ScenarioResult


@dataclass
class GofailProcess:
    """A started binary: its process, its gofail client, the {port} its command was given, its logs."""

    child: Child
    client: Client
    port: int
    recorded_end: bool = False  # its stop or exit is in the coverage journal
    _stopping: bool = False  # we are stopping it: its exit is a `stop`
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _watcher: threading.Thread | None = None

    @property
    def popen(self) -> subprocess.Popen[bytes]:
        return self.child.popen

    @property
    def stderr_path(self) -> Path:
        return self.child.stderr_path

    def stderr_tail(self, lines: int = 20) -> str:
        return tail(self.stderr_path, lines)

    def watch(self) -> None:
        """Recording: an exit we did not cause (a panic) is written when it happens, not at teardown."""
        self._watcher = threading.Thread(target=self._wait, name=f"watch-{self.client.process}", daemon=True)
        self._watcher.start()

    def _wait(self) -> None:
        code = self.child.popen.wait()
        with self._lock:
            if self._stopping or self.recorded_end or self.client.recorder is None:
                return
            self.recorded_end = True
        self.client.recorder.process_exited(self.client.process, self.child.pid, code, tail(self.stderr_path, 200))

    def stop(self, kill: bool = False) -> int:
        """SIGTERM (SIGKILL with ``kill``) to its process group, SIGKILL after 3 s; the exit code."""
        recorder = self.client.recorder
        with self._lock:
            ours = recorder is not None and not self.recorded_end and self.child.alive()
            self._stopping = self._stopping or ours
        if recorder is None or not ours:
            code = self.child.stop(kill=kill)
            if self._watcher is not None:
                self._watcher.join(5.0)  # its exit event is written before the journal closes
            return code
        recorder.before_stop(self.client.process, self.client.unrecorded)  # counts, while it answers
        code = self.child.stop(kill=kill)
        with self._lock:
            self.recorded_end = True
        recorder.process_stopped(self.client.process, self.child.pid, code)
        return code


class StartProcess(Protocol):
    def __call__(self, argv: Sequence[str | os.PathLike[str]], env: Mapping[str, str] | None = None,
                 timeout: float = 10.0) -> GofailProcess: ...


class RunScenario(Protocol):
    def __call__(self, scenario: object, variables: Mapping[str, str] | None = None,
                 journal: str | Path | None = None) -> ScenarioResult: ...


@pytest.fixture
def gofail_process(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[StartProcess]:
    """A factory: ``gofail_process(argv, env=None, timeout=10)`` starts a gofail-enabled binary.

    `{port}` in argv becomes a free loopback port; GOFAIL_HTTP is set to another one and the
    factory waits until the endpoint answers. Its stdout and stderr go to files. Its client asks
    again for a failpoint not registered yet, until DEFAULT_REGISTRATION_GRACE (30 s) after the
    start (big binaries register failpoints after their endpoint answers). At teardown every
    failpoint of a live process is disabled and every process is stopped, with whatever it started
    (gofail_py.processes.supervisor.Supervisor). With ``--gofail-report``/``--gofail-source`` the client
    records its failpoints' windows, hits and crashes for the session's fault coverage.
    """
    supervisor = Supervisor(tmp_path_factory.mktemp("gofail-process"))
    started: list[GofailProcess] = []
    recorder = recorder_for(request.config, request.node.nodeid)

    def start(argv: Sequence[str | os.PathLike[str]], env: Mapping[str, str] | None = None,
              timeout: float = 10.0) -> GofailProcess:
        port = free_port()
        args = [os.fspath(a).replace("{port}", str(port)) for a in argv]
        name = Path(args[0]).name if len(started) == 0 else f"{Path(args[0]).name}-{len(started) + 1}"
        began = time.monotonic()
        inventory = SESSION.inventory_of(request.config)  # --gofail-source: a name it lacks is not waited for
        client = Client(f"127.0.0.1:{free_port()}", registration_grace=DEFAULT_REGISTRATION_GRACE, started_at=began,
                        journal=recorder, process=name,
                        inventory={located.failpoint.name for located in inventory} if inventory else None)
        client.mark_started(began, {**os.environ, **(env or {})})  # GOFAIL_FAILPOINTS: what disable_all needs
        child = supervisor.start(name, args, {**(env or {}), "GOFAIL_HTTP": client.endpoint})
        if recorder is not None:
            recorder.process_started(name, child.pid, client.endpoint)
        process = GofailProcess(child, client, port)
        if recorder is not None:
            process.watch()
        started.append(process)
        answered = poll_until(lambda: True if client.available() else (False if not child.alive() else None),
                              time.monotonic() + timeout)
        if not answered:
            code = process.stop()
            raise ProcessStartError(
                f"{args[0]} did not answer on {client.endpoint} (exit code {code}); its stderr:\n{process.stderr_tail()}"
            )
        return process

    yield start
    for process in started:
        if process.child.alive():
            try:
                process.client.disable_all()
            except ClientError:
                pass  # it is being stopped anyway
        process.stop()
        process.client.close()
    supervisor.close()
    if recorder is not None:
        recorder.close()


@pytest.fixture
def gofail_scenario(tmp_path: Path, pytestconfig: pytest.Config) -> RunScenario:
    """``gofail_scenario(path_or_scenario, variables=None, journal=None)`` runs a scenario and
    fails the test at the scenario's failing step, with its timeline; returns the result.

    The journal goes to the test's tmp_path (``gofail-journal.jsonl``) unless one is given.
    """
    from gofail_py.scenario import Scenario, load_scenario, run_scenario

    def run(scenario: object, variables: Mapping[str, str] | None = None,
            journal: str | Path | None = None) -> ScenarioResult:
        if isinstance(scenario, Scenario):
            model = scenario
        elif isinstance(scenario, (str, os.PathLike)):
            model = load_scenario(os.fspath(scenario))
        else:
            raise TypeError(f"gofail_scenario takes a path or a Scenario, not {type(scenario).__name__}")
        path = Path(journal or tmp_path / "gofail-journal.jsonl")
        result = run_scenario(model, variables=variables, journal=path, source=SESSION.sources(pytestconfig))
        session_journal = journal_of_this_worker(pytestconfig)
        if session_journal is not None:  # the session's fault coverage counts this run too
            with session_journal.open("a", encoding="utf-8") as out:
                out.write(path.read_text(encoding="utf-8"))
        if not result.passed:
            pytest.fail(f"scenario {model.name} failed:\n{result.summary()}\n(journal: {result.journal})", pytrace=False)
        return result

    return run


__all__ = ["GofailProcess", "gofail_process", "gofail_scenario", "pytest_addoption", "pytest_configure",
           "pytest_sessionfinish", "pytest_terminal_summary"]
