"""Fault coverage: journals of any number of runs joined with the source inventory, per failpoint.

Pure: events and an inventory in, a Coverage out (the CLI reads the files and renders it).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import PurePath
from typing import Any

from gofail_py.recording.events import Crash, Event, FailpointWindow, ProcessEvent, RunStarted, Step
from gofail_py.recording.panics import Panic, attribute, hits_at_panic
from typing import TYPE_CHECKING

if TYPE_CHECKING:  # the inventory's type only: importing the rewriter would load tree-sitter
    from gofail_py.rewriter.workspace import LocatedFailpoint


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
class Run:
    """The events of one run, in order, for its timeline."""

    run: str
    name: str = ""
    started: float | None = None
    processes: list[str] = field(default_factory=list)
    process_events: list[ProcessEvent] = field(default_factory=list)
    windows: list[FailpointWindow] = field(default_factory=list)
    crashes: list[Crash] = field(default_factory=list)
    steps: list[Step] = field(default_factory=list)

    @property
    def end(self) -> float:
        times = [0.0]
        times += [e.time for e in self.process_events] + [c.time for c in self.crashes]
        times += [w.end for w in self.windows] + [s.end for s in self.steps]
        return max(times)

    @property
    def failed_step(self) -> Step | None:
        return next((s for s in self.steps if s.outcome in ("failed", "not-reached", "error")), None)


@dataclass
class Coverage:
    failpoints: list[FailpointCoverage]
    runs: list[Run]
    in_source: int | None
    unattributed: list[Crash]

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
            "runs": len(self.runs),
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


def _late_attribution(events: list[Event], inventory: Sequence[LocatedFailpoint]) -> list[Event]:
    """Crashes the recorder could not attribute, attributed from the inventory; their windows get the panic's hit."""
    out = [_reattribute(e, inventory) if isinstance(e, Crash) else e for e in events]
    late = {(c.run, c.process, c.time): c.failpoint for old, c in zip(events, out)
            if isinstance(old, Crash) and isinstance(c, Crash) and old.failpoint is None and c.failpoint is not None}
    for i, event in enumerate(out):
        if isinstance(event, FailpointWindow) and event.closed_by == "crash" and late.get((event.run, event.process, event.end)) == event.failpoint:
            fixed = hits_at_panic(event.terms)
            out[i] = replace(event, hits=fixed, exact=True) if fixed is not None else replace(event, hits=event.hits + 1)
    return out


def build(events: Iterable[Event], inventory: Sequence[LocatedFailpoint] | None = None) -> Coverage:
    """Joins the events of any number of runs (and journals) with the inventory."""
    if inventory:
        events = _late_attribution(list(events), inventory)
    runs: dict[str, Run] = {}
    table: dict[str, FailpointCoverage] = {}
    unattributed: list[Crash] = []

    def entry(name: str) -> FailpointCoverage:
        return table.setdefault(name, FailpointCoverage(name))

    for event in events:
        run = runs.setdefault(event.run, Run(event.run))
        if isinstance(event, RunStarted):
            run.name, run.started = event.name, event.started
        elif isinstance(event, ProcessEvent):
            run.process_events.append(event)
            if event.process not in run.processes:
                run.processes.append(event.process)
        elif isinstance(event, FailpointWindow):
            run.windows.append(event)
            if event.process not in run.processes:
                run.processes.append(event.process)
            fp = entry(event.failpoint)
            fp.armed += 1
            fp.hits += event.hits
            fp.exact = fp.exact and event.exact
            fp.processes.add(event.process)
            fp.runs.add(event.run)
        elif isinstance(event, Crash):
            crash = event
            run.crashes.append(crash)
            if crash.process not in run.processes:
                run.processes.append(crash.process)
            if crash.failpoint is None:
                unattributed.append(crash)
            else:
                fp = entry(crash.failpoint)
                fp.crashes += 1
                fp.processes.add(crash.process)
                fp.runs.add(crash.run)
        else:
            run.steps.append(event)
    if inventory is not None:
        names = set()
        for located in inventory:
            fp = entry(located.failpoint.name)
            fp.locations.append(f"{_short_path(located.path)}:{located.failpoint.line}")
            names.add(located.failpoint.name)
        for fp in table.values():
            fp.in_source = fp.name in names
    failpoints = sorted(table.values(), key=lambda fp: (fp.in_source is False, -fp.hits, -fp.armed, fp.name))
    return Coverage(failpoints, list(runs.values()), len({fp.failpoint.name for fp in inventory}) if inventory is not None else None, unattributed)


def _short_path(path: PurePath) -> str:
    """A path as the user gave it to --source (relative stays relative)."""
    return str(path)


__all__ = ["Coverage", "FailpointCoverage", "Run", "build"]
