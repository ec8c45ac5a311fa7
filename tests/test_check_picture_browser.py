"""The picture of a checked history (`gofail-py check -o`) opened in headless Chromium: a violation
on a generated history, and a 50,000-operation one (density lanes)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.history_gen import Spec, write
from tests.test_check_picture import Page
from tests.test_report_browser import CHROMIUM, chromium

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: run scripts/install-browser.sh"),
]


def picture(tmp_path: Path, spec: Spec) -> tuple[Path, dict[str, object]]:
    history = tmp_path / "h.jsonl"
    write(spec, history)
    page = tmp_path / "report.html"
    done = subprocess.run([sys.executable, "-m", "gofail_py.cli", "check", str(history), "--json", "-o", str(page)],
                          capture_output=True, text=True, timeout=300)
    assert done.returncode in (0, 1), done.stderr
    return page, json.loads(done.stdout)


def test_the_violation_renders_in_the_browser(tmp_path: Path) -> None:
    page, result = picture(tmp_path, Spec(300, stale_read=True, seed=3))
    violation = result["violation"]
    assert isinstance(violation, dict)
    dom, console = chromium(page, "--dump-dom")
    assert console == []
    shapes = Page()
    shapes.feed(dom)
    detail, overview = shapes.svgs
    assert len(overview["lanes"]) == 10 and len(overview["ops"]) == 300
    assert sum("unplaced" in op["class"] for op in detail["ops"]) == len(violation["unplaced"])
    assert any(op["label"] == str(len(violation["prefix"])) for op in detail["ops"])  # the prefix's last, numbered
    screenshot = tmp_path / "picture.png"
    chromium(page, f"--screenshot={screenshot}", "--window-size=1100,900")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_fifty_thousand_operations_render_as_density_lanes(tmp_path: Path) -> None:
    page, result = picture(tmp_path, Spec(50_000, stale_read=True, seed=1))
    assert result["verdict"] == "not linearizable"
    assert page.stat().st_size < 3_000_000
    dom, console = chromium(page, "--dump-dom")
    assert console == []
    shapes = Page()
    shapes.feed(dom)
    detail, overview = shapes.svgs
    assert overview["cells"] and not detail["cells"]  # the whole history as density, its detail bar by bar
    assert "more than the 2,500 drawn one by one" in dom
    assert sum("unplaced" in op["class"] for op in overview["ops"]) >= 1
    screenshot = tmp_path / "big.png"
    chromium(page, f"--screenshot={screenshot}", "--window-size=1100,900")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
