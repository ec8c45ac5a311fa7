"""The SVG timeline of one run, laid out as plain shapes (the Jinja2 template only draws them).

A lane per process: its state over time (running, stopped, crashed, exited), a row per
failpoint armed there with a bar per armed window and its hits, a mark per crash and restart.
Above the lanes, the scenario's steps as ticks; the failing one red, with a line down the lanes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from gofail_py.report.spans import FAILED, Run, Span, Spans
from gofail_py.report.spans import title as describe

LEFT = 150  # room for the process names
WIDTH = 900  # the plotted time span
STEP_ROW = 26
LANE_HEAD = 22
ROW = 18
GAP = 10
AXIS = 28


@dataclass
class Shape:
    """A rectangle, mark or label; ``kind`` becomes its CSS class."""

    kind: str
    x: float
    y: float
    w: float = 0.0
    h: float = 0.0
    label: str = ""
    title: str = ""


@dataclass
class Lane:
    process: str
    y: float
    height: float
    shapes: list[Shape] = field(default_factory=list)


@dataclass
class Timeline:
    run: str
    name: str
    width: float
    height: float
    lanes: list[Lane]
    steps: list[Shape]
    axis: list[Shape]
    failure: Shape | None  # the first failing step's line down the picture
    failure_message: str
    aggregated: str = ""  # said above the picture when neighbouring marks were merged


def _ticks(span: float) -> list[float]:
    """Round times for the axis, about eight of them."""
    raw = span / 8
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(span / step) + 1)]


def span_of(run: Run) -> float:
    """The seconds the plotted width stands for (a little past the run's last event)."""
    return max(run.end, 0.001) * 1.02


def layout(run: Run) -> Timeline:
    span = span_of(run)

    def x(t: float) -> float:
        return round(LEFT + WIDTH * max(t, 0.0) / span, 2)

    steps = [_step(s, x) for s in sorted(run.steps.items, key=lambda s: s.start)]
    y = STEP_ROW + GAP
    lanes = []
    for process in run.processes:
        rows = run.windows.get(process, {})
        height = LANE_HEAD + ROW * len(rows) + 4
        lane = Lane(process, y, height)
        lane.shapes += _states(run, process, x, y, span)
        for number, (failpoint, windows) in enumerate(rows.items()):
            row_y = y + LANE_HEAD + ROW * number
            lane.shapes += [_window(w, failpoint, process, x, row_y, run.merged) for w in windows.items]
        for crash in run.crashes.get(process, Spans()).items:
            title = describe(crash, process) or f"{crash.count} crashes from {crash.start:.3f}s to {crash.end:.3f}s"
            lane.shapes.append(Shape("crash", x(crash.start), y + LANE_HEAD / 2, label="✕" if crash.count == 1 else f"✕{crash.count}", title=title))
        # marks (crash, restart) over the bars
        lane.shapes.sort(key=lambda shape: not shape.kind.startswith(("state", "window")))
        lanes.append(lane)
        y += height + GAP
    axis = [Shape("tick", x(t), y, label=f"{t:g}s") for t in _ticks(span)]
    failed = run.failed_step
    failure = Shape("failure", x(failed.start), 0, h=y, title=failed.message) if failed else None
    message = f"step {failed.index} `{failed.statement}` {failed.outcome}: {failed.message}" if failed else ""
    note = (f"{run.events:,} events drawn as {run.size:,} marks: neighbouring marks are merged, each says how many "
            "it stands for" if run.merged else "")
    return Timeline(run.run, run.name, LEFT + WIDTH + 20, y + AXIS, lanes, steps, axis, failure, message, note)


def _step(step: Span, x: Callable[[float], float]) -> Shape:
    failed = step.kind in FAILED if step.count == 1 else step.hits > 0
    width = max(x(step.end) - x(step.start), 2.0)
    if step.count == 1:
        label = step.label if width >= 7 * len(step.label) + 4 or failed else ""
        return Shape("step ok" if not failed else "step failed", x(step.start), 6, width, STEP_ROW - 10, label=label,
                     title=describe(step, ""))
    title = f"{step.count} steps, {step.label} to {step.last}, {step.start:.3f}s..{step.end:.3f}s: {step.hits} did not pass"
    return Shape("step merged" + (" failed" if failed else " ok"), x(step.start), 6, width, STEP_ROW - 10, title=title)


def _window(window: Span, row: str, lane: str, x: Callable[[float], float], row_y: float, crowded: bool) -> Shape:
    hits = f"{window.hits}" if window.exact else f"≥{window.hits}"
    if window.count == 1:
        label = f"{window.label} ×{hits}" + (" ✕ crashed it" if window.flag else "")
        title = describe(window, lane)
    else:
        label = f"{row} ×{hits} ({window.count} windows)" + (" ✕" if window.flag else "")
        title = f"{row}: {window.count} armed windows, {hits} hit(s) in all, {window.start:.3f}s..{window.end:.3f}s"
    width = max(x(window.end) - x(window.start), 2.0)
    if crowded and width <= 6 * len(label) + 6:
        label = ""  # an aggregated row is dense: a label goes inside its bar or nowhere
    return Shape("window" + (" hit" if window.hits else "") + (" merged" if window.count > 1 else ""), x(window.start), row_y + 2,
                 width, ROW - 4, label=label, title=title)


def _states(run: Run, process: str, x: Callable[[float], float], y: float, span: float) -> list[Shape]:
    """The process's state bars: running from each start, then stopped/crashed/exited; a span of
    several merged events is drawn as one bar of mixed states."""
    events = sorted(run.states.get(process, Spans()).items, key=lambda e: (e.start, e.end))
    if not events:  # only its failpoints were recorded (a Client script): state unknown
        return [Shape("state unknown", x(0), y + 3, x(span) - x(0), LANE_HEAD - 8, title="process state not recorded")]
    crashes = run.crashes.get(process, Spans()).items
    shapes = []
    state, since = "absent", 0.0
    for event in events:
        shapes.append(_bar(state, since, event.start, x, y))
        if event.count > 1:
            shapes.append(Shape("state mixed", x(event.start), y + 3, max(x(event.end) - x(event.start), 2.0), LANE_HEAD - 8,
                                title=f"{event.count} starts, stops and exits from {event.start:.3f}s to {event.end:.3f}s"))
        elif event.kind == "restart":
            shapes.append(Shape("restart", x(event.start), y + LANE_HEAD / 2, label="↻", title=describe(event, process)))
        if event.kind in ("start", "restart"):
            state = "running"
        elif event.kind == "stop":
            state = "stopped"
        else:
            crashed = any(c.start - 1e-3 <= event.end <= c.end + 1e-3 for c in crashes)
            state = "crashed" if crashed else "exited"
        since = event.end
    shapes.append(_bar(state, since, span, x, y))
    return [s for s in shapes if s.w > 0 or not s.kind.startswith("state")]


def _bar(state: str, start: float, end: float, x: Callable[[float], float], y: float) -> Shape:
    width = x(end) - x(start)
    return Shape(f"state {state}", x(start), y + 3, width, LANE_HEAD - 8, title=f"{state} {start:.3f}s..{end:.3f}s")


__all__ = ["Lane", "Shape", "Timeline", "layout", "span_of"]
