"""explore with traffic and the check in its template (examples/robustness/explore.gofail): each
failpoint × fault cell's outcome comes from the linearizability of what the traffic saw."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.goprog import REPO

pytestmark = pytest.mark.explore


def test_each_cell_is_passed_failed_or_not_reached_by_the_model(kvserver_binary: Path, tmp_path: Path) -> None:
    journals, page = tmp_path / "journals", tmp_path / "explore.html"
    done = subprocess.run(
        [sys.executable, "-m", "gofail_py.cli", "explore", str(REPO / "examples" / "robustness" / "explore.gofail"),
         "--source", str(REPO / "examples" / "kvserver"), "--var", f"kvserver={kvserver_binary}",
         "--terms", "return", "--terms", "0*return", "--only", "forgetWrite", "--only", "applyTwice",
         "--only", "slowWrite", "-j", "2", "--json", "--journal", str(journals), "-o", str(page)],
        cwd=REPO, capture_output=True, text=True, timeout=600)
    assert done.returncode == 1, done.stderr  # two cells failed
    runs = {(run["failpoint"], run["terms"]): run for run in json.loads(done.stdout)["runs"]}
    assert {cell: run["outcome"] for cell, run in runs.items()} == {
        ("forgetWrite", "return"): "failed", ("applyTwice", "return"): "failed", ("slowWrite", "return"): "passed",
        ("forgetWrite", "0*return"): "not-reached", ("applyTwice", "0*return"): "not-reached",
        ("slowWrite", "0*return"): "not-reached"}
    for cell in (("forgetWrite", "return"), ("applyTwice", "return")):
        assert "not linearizable" in runs[cell]["message"] and "(check now)" in runs[cell]["message"]
    # the histories beside the cells' journals, drawn in the report under each cell's timeline
    assert len(list(journals.glob("*.traffic-*.jsonl"))) == 6  # every cell's traffic, checked or not
    report = page.read_text()
    assert report.count('class="history-head not-linearizable"') == 2
    assert report.count('class="history-head linearizable"') == 1
    assert report.count('class="history-head unchecked"') == 3  # not reached: the check never ran
