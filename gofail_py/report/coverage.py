"""Fault coverage: journals of any number of runs joined with the source inventory, per failpoint.

Pure: events and an inventory in, a Coverage out (the CLI reads the files and renders it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Any

from gofail_py.recording.events import Crash, Event, FailpointWindow, ProcessEvent, RunStarted
from gofail_py.recording.panics import Panic, attribute, hits_at_panic
from gofail_py.report.spans import MAX_RUNS, PAGE, PER_RUN, Run
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the inventory's type only: importing the rewriter would load tree-sitter
    from gofail_py.rewriter.workspace import LocatedFailpoint

MAX_UNATTRIBUTED = 1_000  # unattributed crashes listed one by one; the rest are counted
MAX_LATE = 100_000  # crashes attributed afresh whose windows are still to come (a few per run)


@dataclass
class FailpointCoverage:
    """One failpoint over every run: where it is, how often armed, hit, and crashing."""

    name: str
    locations: list[str] = field(default_factory=list)  # file:line from the inventory
    in_source: bool | None = None  # None: no inventory given
    armed: int = 0  # windows
    hits: int = 0
    exact: bool = True  # false when some window's hits are a lower bound
    crashes: int = 0
    processes: set[str] = field(default_factory=set)
    runs: set[str] = field(default_factory=set)

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name, "locations": self.locations, "in_source": self.in_source,
            "armed": self.armed, "hits": self.hits, "hits_exact": self.exact, "crashes": self.crashes,
            "processes": sorted(self.processes), "runs": sorted(self.runs),
        }


@dataclass
class Coverage:
    failpoints: list[FailpointCoverage]
    runs: list[Run]  # the runs drawn (timelines), at most MAX_RUNS
    in_source: int | None
    unattributed: list[Crash]  # the first MAX_UNATTRIBUTED of them
    run_count: int = 0  # every run, drawn or not
    unattributed_count: int = 0

    @property
    def armed(self) -> int:
        return sum(1 for fp in self.failpoints if fp.armed and fp.in_source is not False)

    @property
    def hit(self) -> int:
        return sum(1 for fp in self.failpoints if fp.hits and fp.in_source is not False)

    @property
    def crashed(self) -> int:
        return sum(1 for fp in self.failpoints if fp.crashes and fp.in_source is not False)

    def percent(self, count: int) -> float | None:
        return None if not self.in_source else 100.0 * count / self.in_source

    def summary(self) -> str:
        crashed = f"{self.crashed} crashed a process"
        if self.in_source is None:
            return f"{self.armed} failpoint{'' if self.armed == 1 else 's'} armed, {self.hit} hit, {crashed} (no --source: never-armed failpoints unknown)"
        return (f"{self.in_source} failpoint{'' if self.in_source == 1 else 's'} in source, {self.armed} armed ({_pct(self.percent(self.armed))}), "
                f"{self.hit} hit ({_pct(self.percent(self.hit))}), {crashed}")

    def as_dict(self) -> dict[str, Any]:
        return {
            "coverage": {
                "in_source": self.in_source, "armed": self.armed, "hit": self.hit, "crashed": self.crashed,
                "armed_percent": self.percent(self.armed), "hit_percent": self.percent(self.hit),
            },
            "failpoints": [fp.as_dict() for fp in self.failpoints],
            "unattributed_crashes": [{"run": c.run, "process": c.process, "time": c.time, "message": c.message,
                                      "file": c.file, "line": c.line, "reason": c.reason} for c in self.unattributed],
            "unattributed_count": self.unattributed_count,
            "runs": self.run_count,
        }


def _pct(value: float | None) -> str:
    return "-" if value is None else f"{value:.0f}%"


def _reattribute(crash: Crash, inventory: Sequence[LocatedFailpoint]) -> Crash:
    """With an inventory, a crash whose stack frame is known is attributed (again) from it."""
    if not inventory or crash.file is None or crash.line is None:
        return crash
    name, how = attribute(Panic(crash.message, True, crash.file, crash.line), inventory)
    if name is None and crash.failpoint is not None:
        return crash
    return replace(crash, failpoint=name, reason=how)


class Builder:
    """Coverage from events streamed in one at a time: what it holds is bounded by what it reports
    (a row per failpoint, a bounded timeline per drawn run), not by the number of events."""

    def __init__(self, inventory: Sequence[LocatedFailpoint] | None = None) -> None:
        self.inventory = inventory
        self.table: dict[str, FailpointCoverage] = {}
        self.runs: dict[str, Run] = {}  # drawn
        self.run_ids: set[str] = set()
        self.unattributed: list[Crash] = []
        self.unattributed_count = 0
        # crashes the inventory attributed afresh, by (run, process, time): the window the recorder
        # closed with that crash (written after it) gets the panic's own hit
        self.late: dict[tuple[str, str, float], str | None] = {}

    def _entry(self, name: str) -> FailpointCoverage:
        return self.table.setdefault(name, FailpointCoverage(name))

    def _run(self, run_id: str) -> Run | None:
        run = self.runs.get(run_id)
        if run is None and run_id not in self.run_ids:
            self.run_ids.add(run_id)
            if len(self.runs) < MAX_RUNS:
                run = self.runs[run_id] = Run(run_id)
                budget = max(1, min(PER_RUN, PAGE // len(self.runs)))
                for each in self.runs.values():  # the runs share the page: each one's part shrinks
                    each.budget = budget
                    each.fit(budget)
        return run

    def add(self, event: Event) -> None:
        if self.inventory and isinstance(event, Crash):
            event = self._late_crash(event)
        if self.inventory and isinstance(event, FailpointWindow) and event.closed_by == "crash":
            event = self._late_window(event)
        run = self._run(event.run)
        if isinstance(event, RunStarted):
            if run is not None:
                run.name, run.started = event.name, event.started
        elif isinstance(event, ProcessEvent):
            if run is not None:
                run.add_process(event)
        elif isinstance(event, FailpointWindow):
            if run is not None:
                run.add_window(event)
            fp = self._entry(event.failpoint)
            fp.armed += 1
            fp.hits += event.hits
            fp.exact = fp.exact and event.exact
            fp.processes.add(event.process)
            fp.runs.add(event.run)
        elif isinstance(event, Crash):
            if run is not None:
                run.add_crash(event)
            if event.failpoint is None:
                self.unattributed_count += 1
                if len(self.unattributed) < MAX_UNATTRIBUTED:
                    self.unattributed.append(event)
            else:
                fp = self._entry(event.failpoint)
                fp.crashes += 1
                fp.processes.add(event.process)
                fp.runs.add(event.run)
        elif run is not None:
            run.add_step(event)

    def _late_crash(self, crash: Crash) -> Crash:
        assert self.inventory is not None
        fixed = _reattribute(crash, self.inventory)
        if crash.failpoint is None and fixed.failpoint is not None and len(self.late) < MAX_LATE:
            self.late[(fixed.run, fixed.process, fixed.time)] = fixed.failpoint
        return fixed

    def _late_window(self, window: FailpointWindow) -> FailpointWindow:
        if self.late.get((window.run, window.process, window.end)) != window.failpoint:
            return window
        fixed = hits_at_panic(window.terms)
        return replace(window, hits=fixed, exact=True) if fixed is not None else replace(window, hits=window.hits + 1)

    def finish(self) -> Coverage:
        inventory = self.inventory
        if inventory is not None:
            names = set()
            for located in inventory:
                fp = self._entry(located.failpoint.name)
                fp.locations.append(f"{_short_path(located.path)}:{located.failpoint.line}")
                names.add(located.failpoint.name)
            for fp in self.table.values():
                fp.in_source = fp.name in names
        failpoints = sorted(self.table.values(), key=lambda fp: (fp.in_source is False, -fp.hits, -fp.armed, fp.name))
        in_source = len({located.failpoint.name for located in inventory}) if inventory is not None else None
        return Coverage(failpoints, list(self.runs.values()), in_source, self.unattributed, len(self.run_ids),
                        self.unattributed_count)


def build(events: Iterable[Event], inventory: Sequence[LocatedFailpoint] | None = None) -> Coverage:
    """Joins the events of any number of runs (and journals) with the inventory, as they stream."""
    builder = Builder(inventory)
    for event in events:
        builder.add(event)
    return builder.finish()


def _short_path(path: PurePath) -> str:
    """A path as the user gave it to --source (relative stays relative)."""
    return str(path)


__all__ = ["Builder", "Coverage", "FailpointCoverage", "Run", "build"]
