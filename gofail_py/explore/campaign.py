"""Running a campaign: each cell as its own `gofail-py run` subprocess, up to N at once.

Each run is isolated: the runner picks its own free ports and its own {tmp}; a run that lost a port
to another one between choosing and binding ("address already in use") is run again.
"""

from __future__ import annotations

import json
import re
import shutil
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from concurrent.futures import ThreadPoolExecutor, as_completed
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gofail_py.errors import GofailError
from gofail_py.explore.cells import Cell
from gofail_py.processes.supervisor import Child, Supervisor, explore_temp_dir, new_token, temp_dir

PASSED, FAILED, NOT_REACHED, ERROR = "passed", "failed", "not-reached", "error"
OUTCOMES = (PASSED, FAILED, NOT_REACHED, ERROR)
PORT_RETRIES = 2  # extra runs of a cell whose port was taken by another run
_PORT_LOST = ("address already in use", "bind: address in use")
STOP_GRACE = 20.0  # seconds a stopped run gets to clean up (stop its processes) before SIGKILL


@dataclass
class RunResult:
    """How one cell's run ended."""

    cell: Cell
    outcome: str
    exit_code: int
    journal: Path | None
    seconds: float
    attempts: int = 1
    message: str = ""  # the run's last line: PASSED..., FAILED at ...: why
    output: str = ""

    @property
    def why(self) -> str:
        """Why it was not reached, as the failpoint table says ("" when reached or not said)."""
        return self.cell.why if self.outcome == NOT_REACHED else ""

    def as_dict(self) -> dict[str, Any]:
        return {
            "failpoint": self.cell.failpoint, "terms": self.cell.terms, "outcome": self.outcome,
            "journal": str(self.journal) if self.journal else None, "exit_code": self.exit_code,
            "seconds": round(self.seconds, 3), "attempts": self.attempts, "message": self.message,
            **({"why": self.why} if self.why else {}),
        }


def read_journal(path: Path | None) -> list[dict[str, Any]]:
    """The journal's records; an unreadable or half-written line ends the list."""
    records: list[dict[str, Any]] = []
    if path is None or not path.is_file():
        return records
    for line in path.read_text(encoding="utf-8", errors="replace").splitlines():
        try:
            records.append(json.loads(line))
        except ValueError:
            break
    return records


def failed_step(records: Sequence[Mapping[str, Any]]) -> Mapping[str, Any] | None:
    """The step that failed first (a block's own record, "a step inside failed", is skipped)."""
    for record in records:
        if record.get("index") == "cleanup":
            continue
        if record.get("outcome") in ("failed", "error") and record.get("message") != "a step inside failed":
            return record
    return None


def armed(records: Sequence[Mapping[str, Any]], cell: Cell) -> bool:
    """A step that went through sent the failpoint's name: a `set`, a start with it in the
    environment (GOFAIL_FAILPOINTS), or a command given it."""
    pattern = re.compile(rf"\b{re.escape(cell.failpoint)}\b")
    return any(record.get("outcome") == "ok" and pattern.search(json.dumps(record.get("sent"), default=str))
               for record in records)


def classify(exit_code: int, records: Sequence[Mapping[str, Any]], cell: Cell) -> str:
    """The outcome of one run, from its exit code and journal. The one place outcomes are decided.

    0 passed. A `reach` that timed out (its record's outcome is "not-reached") is not-reached.
    2 (template/bad input), 3 (a process or endpoint unreachable), 130 and signals are errors; so
    is 1 when no step armed the failpoint before the failure. Any other 1 is failed.
    """
    if exit_code == 0:
        return PASSED
    if exit_code == 1 and any(record.get("outcome") == NOT_REACHED for record in records):
        return NOT_REACHED
    if exit_code != 1 or not armed(records, cell):
        return ERROR  # the template or the environment (a step failed before the fault was even armed)
    return FAILED


def _port_lost(output: str, records: Sequence[Mapping[str, Any]]) -> bool:
    text = (output + json.dumps(list(records), default=str)).lower()
    return any(sign in text for sign in _PORT_LOST)


def _last_line(output: str) -> str:
    lines = [line for line in output.splitlines() if line.strip()]
    for line in reversed(lines):
        if line.startswith(("PASSED", "FAILED", "interrupted", "gofail-py:", "explore:")):
            return line
    return lines[-1] if lines else ""


@dataclass
class Campaign:
    """A template run over cells; ``stop()`` (any thread) ends every run and keeps nothing running."""

    template: Path
    journal_dir: Path | None = None
    variables: Mapping[str, str] = field(default_factory=dict)
    timeout: float = 600.0  # per run, whole run
    table: Path | None = None  # the failpoint table: each run fills its row's columns (`run --table`)
    _children: dict[int, Child] = field(default_factory=dict)  # runs under way, by pid
    _supervisor: Supervisor | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _stopping: threading.Event = field(default_factory=threading.Event)

    def command(self, cell: Cell, journal: Path) -> list[str]:
        argv = [sys.executable, "-m", "gofail_py.cli", "run", str(self.template), "--journal", str(journal), "-q"]
        if self.table is not None:
            argv += ["--table", str(self.table)]
        for name, value in {**self.variables, **cell.variables()}.items():
            argv += ["--var", f"{name}={value}"]
        return argv

    def _attempt(self, cell: Cell, journal: Path) -> tuple[int, str]:
        with self._lock:
            if self._stopping.is_set() or self._supervisor is None:
                return 130, "interrupted before it started"
            # through the one supervisor: its own session (a Ctrl-C at the terminal reaches us only;
            # we stop each run ourselves so it cleans up), and SIGKILL from the kernel if explore
            # dies: SIGTERM, so the run stops its processes and disables its failpoints as on Ctrl-C
            child = self._supervisor.start(cell.slug, self.command(cell, journal), merge_stderr=True,
                                           death_signal=signal.SIGTERM)
            self._children[child.pid] = child
        timer = threading.Timer(self.timeout, self._end, (child,))
        timer.daemon = True
        timer.start()
        try:
            child.popen.wait()
        finally:
            timer.cancel()
            with self._lock:
                self._children.pop(child.pid, None)
        try:
            output = child.stdout_path.read_text(encoding="utf-8", errors="replace")
            child.stdout_path.unlink()
        except OSError:
            output = ""
        return child.popen.returncode, output

    def run_cell(self, cell: Cell) -> RunResult:
        """Runs one cell (again when it lost a port to another run) and classifies it."""
        with self.supervised():
            return self._run_cell(cell)

    def _run_cell(self, cell: Cell) -> RunResult:
        began = time.monotonic()
        own_dir = None
        if self.journal_dir is not None:
            self.journal_dir.mkdir(parents=True, exist_ok=True)
            journal = self.journal_dir / f"{cell.slug}.jsonl"
        else:
            own_dir = explore_temp_dir()
            journal = own_dir / f"{cell.slug}.jsonl"
        try:
            attempts = 0
            while True:
                attempts += 1
                deadline = time.monotonic() + self.timeout
                code, output = self._attempt(cell, journal)
                records = read_journal(journal)
                outcome = classify(code, records, cell)
                timed_out = time.monotonic() >= deadline and outcome != PASSED
                if timed_out:
                    outcome, output = ERROR, output + f"\nexplore: the run took longer than {self.timeout:g} s and was stopped"
                retry = outcome != PASSED and attempts <= PORT_RETRIES and _port_lost(output, records)
                if not retry or self._stopping.is_set():
                    break
            step = failed_step(records)
            message = _last_line(output) if step is None or timed_out else (
                f"{step.get('location')} ({step.get('statement')}): {step.get('message', '')}".replace("\n", " | ")[:400]
            )
            if outcome == NOT_REACHED and cell.why:  # the table's reason, not a bare "not reached"
                message = f"not reached: {cell.why}"
            return RunResult(cell, outcome, code, journal if own_dir is None else None, time.monotonic() - began,
                             attempts, message, output)
        finally:
            if own_dir is not None:
                shutil.rmtree(own_dir, ignore_errors=True)

    @contextmanager
    def supervised(self) -> Iterator[None]:
        """Every run started inside goes through one supervisor, closed (its log dir removed) at the end."""
        with self._lock:
            mine = self._supervisor is None
            if mine:
                token = new_token()
                # named by the token: `gofail-py sweep` removes it if explore is SIGKILLed
                self._supervisor = Supervisor(temp_dir(token), token)
        try:
            yield
        finally:
            if mine:
                with self._lock:
                    supervisor, self._supervisor = self._supervisor, None
                if supervisor is not None:
                    supervisor.close()
                    shutil.rmtree(supervisor.log_dir, ignore_errors=True)

    def _end(self, child: Child) -> None:
        """SIGTERM (the run stops its processes and disables its failpoints), SIGKILL if it hangs."""
        if child.alive():
            child.stop(grace=STOP_GRACE)

    def stop(self) -> None:
        """Ends every run under way and keeps new ones from starting; returns when all are gone."""
        self._stopping.set()
        with self._lock:
            children = list(self._children.values())
        threads = [threading.Thread(target=self._end, args=(child,), daemon=True) for child in children]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    def run(self, cells: Iterable[Cell], jobs: int = 1,
            on_result: Callable[[RunResult], None] | None = None) -> list[RunResult]:
        """Runs the cells, ``jobs`` at once; results in cell order. Interrupted: stops all, re-raises."""
        cells = list(cells)
        with self.supervised():
            return self._run(cells, jobs, on_result)

    def _run(self, cells: list[Cell], jobs: int, on_result: Callable[[RunResult], None] | None) -> list[RunResult]:
        results: dict[Cell, RunResult] = {}
        pool = ThreadPoolExecutor(max_workers=max(1, jobs), thread_name_prefix="explore")
        try:
            futures = {pool.submit(self.run_cell, cell): cell for cell in cells}
            for future in as_completed(futures):
                try:
                    result = future.result()
                except (OSError, GofailError) as error:  # this machine, not the run: say so in the matrix, go on
                    result = RunResult(futures[future], ERROR, -1, None, 0.0, message=f"explore: {error}")
                results[futures[future]] = result
                if on_result is not None:
                    on_result(result)
        except BaseException:
            self.stop()
            raise
        finally:
            pool.shutdown(wait=True, cancel_futures=True)
        return [results[cell] for cell in cells]


def summary(results: Sequence[RunResult]) -> dict[str, int]:
    counts = {outcome: 0 for outcome in OUTCOMES}
    for result in results:
        counts[result.outcome] += 1
    return counts


def exit_code(results: Sequence[RunResult], fail_on_not_reached: bool = False) -> int:
    """1 when a run failed (or, asked to, was not reached), else 3 when one errored, else 0."""
    counts = summary(results)
    if counts[FAILED] or (fail_on_not_reached and counts[NOT_REACHED]):
        return 1
    return 3 if counts[ERROR] else 0
