"""examples/robustness: each seeded bug of examples/kvserver, armed under traffic, is caught by the
scenario's `check` step (not linearizable, the operation named); its twin, the failpoint off, passes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

from tests.support.goprog import REPO

pytestmark = pytest.mark.slow  # a real kvserver under seconds of traffic per scenario

EXAMPLES = REPO / "examples" / "robustness"
BUGS = ["stale_read", "forget_write", "apply_twice", "revision_back"]


def run(scenario: Path, kvserver: Path, tmp_path: Path, *extra: str) -> tuple[subprocess.CompletedProcess[str], list[dict[str, Any]]]:
    journal = tmp_path / "journal.jsonl"
    done = subprocess.run([sys.executable, "-m", "gofail_py.cli", "run", str(scenario), "--var", f"kvserver={kvserver}",
                           "--journal", str(journal), *extra], capture_output=True, text=True, timeout=120)
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    return done, events


def check_step(events: list[dict[str, Any]]) -> dict[str, Any]:
    [step] = [e for e in events if e.get("event") == "step" and e["statement"].startswith("check")]
    return step


@pytest.mark.parametrize("bug", BUGS)
def test_the_seeded_bug_is_not_linearizable(bug: str, kvserver_binary: Path, tmp_path: Path) -> None:
    done, events = run(EXAMPLES / f"{bug}.gofail", kvserver_binary, tmp_path)
    assert done.returncode == 1, done.stdout + done.stderr
    step = check_step(events)
    assert step["outcome"] == "failed"
    [answer] = step["answer"]
    assert answer["verdict"] == "not linearizable" and answer["operations"] > 100 and answer["elapsed"] >= 0
    assert "could not be placed next:" in step["message"] and "client" in step["message"]
    assert f"FAILED at {EXAMPLES / bug}.gofail" in done.stdout or f"FAILED at examples/robustness/{bug}.gofail" in done.stdout
    history = Path(answer["history"])
    assert history.parent == tmp_path and history.is_file()  # kept beside the journal
    ended = [e for e in events if e.get("event") == "step" and e["index"] == "traffic"]
    assert len(ended) == 1 and ended[0]["answer"]["operations"] == answer["operations"]


@pytest.mark.parametrize("bug", BUGS)
def test_its_twin_with_the_failpoint_off_is_linearizable(bug: str, kvserver_binary: Path, tmp_path: Path) -> None:
    done, events = run(EXAMPLES / f"{bug}_twin.gofail", kvserver_binary, tmp_path)
    assert done.returncode == 0, done.stdout + done.stderr
    [answer] = check_step(events)["answer"]
    assert answer["verdict"] == "linearizable" and answer["operations"] > 100


def test_the_report_draws_the_stale_read_under_the_window_that_caused_it(kvserver_binary: Path, tmp_path: Path) -> None:
    """run --report (no --journal): the history under the failpoint timeline, on its time axis:
    each read that could not be placed overlaps the staleRead window, which holds every moment the
    failpoint may have been armed (half a pixel of slack for the rounding of coordinates). Under
    load this once failed twice: the window began with the `set`'s answer, not its request, and
    the check blamed a put or read that the stale read had held back instead of the read."""
    report = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "gofail_py.cli", "run", str(EXAMPLES / "stale_read.gofail"), "--var",
                           f"kvserver={kvserver_binary}", "--report", str(report), "-q"],
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 1, done.stdout + done.stderr
    page = report.read_text()
    assert 'class="history-head not-linearizable"' in page
    import re

    [window] = re.findall(r'<rect class="window hit" x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', page)
    start, end = float(window[0]), float(window[0]) + float(window[1])
    unplaced = re.findall(r'<g class="op op-get [a-z ]*unplaced[a-z ]*"><rect x="([\d.]+)" y="[\d.]+" width="([\d.]+)"', page)
    assert unplaced
    for x, width in unplaced:
        assert float(x) <= end + 0.5 and float(x) + float(width) >= start - 0.5, (x, width, start, end)
    # every operation of the history is in the drawing (one by one, or as density past 2,500)
    [drawn] = re.findall(r'class="history-view[^"]*" data-operations="(\d+)"', page)
    [counted] = re.findall(r'<small>([\d,]+) operations, ', page)
    assert int(drawn) == int(counted.replace(",", "")) > 100
