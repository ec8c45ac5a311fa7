"""The bounded timeline of a run (gofail_py.report.spans): what merging keeps, whatever the number of events."""

from __future__ import annotations

import random

from gofail_py.report.coverage import build
from gofail_py.recording.events import Crash, FailpointWindow, ProcessEvent, RunStarted, Step
from gofail_py.report.spans import OTHER_FAILPOINTS, OTHER_PROCESSES, PAGE, PER_RUN, Run
from gofail_py.report.timeline import layout


def _windows(count: int, seed: int = 1) -> list[FailpointWindow]:
    rng = random.Random(seed)
    out, t = [], 0.0
    for _ in range(count):
        t += rng.random()
        out.append(FailpointWindow("r", rng.choice(["a", "b"]), f"fp{rng.randrange(5)}", "panic", t, t + rng.random(),
                                   rng.randrange(10), rng.random() > 0.1))
    return out


def test_merging_keeps_every_event_and_hit_counted() -> None:
    run = Run("r")
    windows = _windows(50_000)
    for window in windows:
        run.add_window(window)
    spans = [span for rows in run.windows.values() for row in rows.values() for span in row.items]
    assert run.size == len(spans) <= PER_RUN and run.merged
    assert sum(span.count for span in spans) == len(windows) == run.events
    assert sum(span.hits for span in spans) == sum(window.hits for window in windows)
    for process, rows in run.windows.items():
        for failpoint, row in rows.items():
            mine = [w for w in windows if w.process == process and w.failpoint == failpoint]
            assert min(s.start for s in row.items) == min(w.start for w in mine)
            assert max(s.end for s in row.items) == max(w.end for w in mine)
            assert sum(s.count for s in row.items) == len(mine)


def test_a_small_run_is_drawn_exactly() -> None:
    run = Run("r")
    run.add_process(ProcessEvent("r", "kv", "start", 0.0, pid=1))
    for window in _windows(40):
        run.add_window(window)
    run.add_step(Step("r", "1", "set kv fp0=panic", start=0.1, end=0.2))
    assert not run.merged and all(span.count == 1 for rows in run.windows.values() for row in rows.values() for span in row.items)
    timeline = layout(run)
    assert not timeline.aggregated
    assert sum(1 for lane in timeline.lanes for shape in lane.shapes if shape.kind.startswith("window")) == 40


def test_lanes_and_rows_past_their_limits_share_one() -> None:
    run = Run("r")
    for n in range(50):
        run.add_window(FailpointWindow("r", f"p{n}", "fp", "panic", 0.0, 1.0, 1))
        run.add_window(FailpointWindow("r", "p0", f"fp{n}", "panic", 0.0, 1.0, 1))
    assert len(run.processes) == 21 and run.processes[-1] == OTHER_PROCESSES
    assert len(run.windows["p0"]) == 31 and OTHER_FAILPOINTS in run.windows["p0"]
    assert sum(s.hits for s in run.windows[OTHER_PROCESSES]["fp"].items) == 30


def test_many_runs_share_the_page() -> None:
    events: list[RunStarted | FailpointWindow | Crash] = []
    for number in range(300):
        events.append(RunStarted(f"r{number}"))
        events += [FailpointWindow(f"r{number}", "kv", "fp", "panic", t, t + 0.5, 1) for t in range(400)]
    coverage = build(events)
    assert coverage.run_count == 300 and len(coverage.runs) == 300
    assert sum(run.size for run in coverage.runs) <= PAGE
    assert coverage.failpoints[0].hits == 300 * 400
