"""The SVG timeline of one run, laid out as plain shapes (the Jinja2 template only draws them).

A lane per process: its state over time (running, stopped, crashed, exited), a row per
failpoint armed there with a bar per armed window and its hits, a mark per crash and restart.
Above the lanes, the scenario's steps as ticks; the failing one red, with a line down the lanes.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field

from gofail_py.report.coverage import Run

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


def _ticks(span: float) -> list[float]:
    """Round times for the axis, about eight of them."""
    raw = span / 8
    magnitude = 10 ** math.floor(math.log10(raw)) if raw > 0 else 1
    step = next(m * magnitude for m in (1, 2, 5, 10) if m * magnitude >= raw)
    return [i * step for i in range(int(span / step) + 1)]


def layout(run: Run) -> Timeline:
    span = max(run.end, 0.001) * 1.02

    def x(t: float) -> float:
        return round(LEFT + WIDTH * max(t, 0.0) / span, 2)

    culprits = {(c.process, c.time, c.failpoint) for c in run.crashes}
    steps = []
    for step in run.steps:
        kind = "step ok" if step.passed else "step failed"
        width = max(x(step.end) - x(step.start), 2.0)
        title = f"{step.index} {step.statement} [{step.outcome}] {step.start:.3f}s..{step.end:.3f}s"
        label = step.index if width >= 7 * len(step.index) + 4 or not step.passed else ""
        steps.append(Shape(kind, x(step.start), 6, width, STEP_ROW - 10, label=label, title=title + (f": {step.message}" if step.message else "")))
    y = STEP_ROW + GAP
    lanes = []
    for process in run.processes:
        rows = list(dict.fromkeys(w.failpoint for w in run.windows if w.process == process))
        height = LANE_HEAD + ROW * len(rows) + 4
        lane = Lane(process, y, height)
        lane.shapes += _states(run, process, x, y, span)
        for window in (w for w in run.windows if w.process == process):
            row_y = y + LANE_HEAD + ROW * rows.index(window.failpoint)
            hits = f"{window.hits}" if window.exact else f"≥{window.hits}"
            lane.shapes.append(Shape(
                "window" + (" hit" if window.hits else ""), x(window.start), row_y + 2, max(x(window.end) - x(window.start), 2.0), ROW - 4,
                label=f"{window.failpoint} ×{hits}" + (" ✕ crashed it" if (window.process, window.end, window.failpoint) in culprits else ""),
                title=f"{window.failpoint}={window.terms}: {hits} hit(s), {window.start:.3f}s..{window.end:.3f}s, closed by {window.closed_by}",
            ))
        for crash in (c for c in run.crashes if c.process == process):
            by = crash.failpoint or f"unattributed: {crash.reason}"
            lane.shapes.append(Shape("crash", x(crash.time), y + LANE_HEAD / 2, label="✕",
                                     title=f"crashed at {crash.time:.3f}s by {by}; {crash.message}"))
        # marks (crash, restart) over the bars
        lane.shapes.sort(key=lambda shape: not shape.kind.startswith(("state", "window")))
        lanes.append(lane)
        y += height + GAP
    axis = [Shape("tick", x(t), y, label=f"{t:g}s") for t in _ticks(span)]
    failed = run.failed_step
    failure = Shape("failure", x(failed.start), 0, h=y, title=failed.message) if failed else None
    message = f"step {failed.index} `{failed.statement}` {failed.outcome}: {failed.message}" if failed else ""
    return Timeline(run.run, run.name, LEFT + WIDTH + 20, y + AXIS, lanes, steps, axis, failure, message)


def _states(run: Run, process: str, x: Callable[[float], float], y: float, span: float) -> list[Shape]:
    """The process's state bars: running from each start, then stopped/crashed/exited."""
    events = sorted((e for e in run.process_events if e.process == process), key=lambda e: e.time)
    if not events:  # only its failpoints were recorded (a Client script): state unknown
        return [Shape("state unknown", x(0), y + 3, x(span) - x(0), LANE_HEAD - 8, title="process state not recorded")]
    crashes = {c.time for c in run.crashes if c.process == process}
    shapes = []
    state, since = "absent", 0.0
    for event in events:
        shapes.append(_bar(state, since, event.time, x, y))
        if event.action in ("start", "restart"):
            state = "running"
            if event.action == "restart":
                shapes.append(Shape("restart", x(event.time), y + LANE_HEAD / 2, label="↻", title=f"restarted at {event.time:.3f}s (pid {event.pid})"))
        elif event.action == "stop":
            state = "stopped"
        else:
            state = "crashed" if any(abs(t - event.time) < 1e-3 for t in crashes) else "exited"
        since = event.time
    shapes.append(_bar(state, since, span, x, y))
    return [s for s in shapes if s.w > 0 or not s.kind.startswith("state")]


def _bar(state: str, start: float, end: float, x: Callable[[float], float], y: float) -> Shape:
    width = x(end) - x(start)
    return Shape(f"state {state}", x(start), y + 3, width, LANE_HEAD - 8, title=f"{state} {start:.3f}s..{end:.3f}s")


__all__ = ["Lane", "Shape", "Timeline", "layout"]
