"""`gofail-py explore -o report.html` over real kvserver runs, opened in headless Chromium: the
matrix on top, each cell a link to its run's timeline in the same page."""

from __future__ import annotations

import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from tests.support.goprog import REPO
from tests.test_report_browser import CHROMIUM, chromium

pytestmark = [
    pytest.mark.browser, pytest.mark.explore,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: run scripts/install-browser.sh"),
]


class Page(HTMLParser):
    """The matrix's cells (outcome, link) and the ids of the timelines' sections."""

    def __init__(self) -> None:
        super().__init__()
        self.cells: list[tuple[str, str | None]] = []
        self.sections: dict[str, int] = {}  # id -> number of svgs inside
        self._in_matrix = False
        self._cell: str | None = None
        self._section: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "table":
            self._in_matrix = found.get("id") == "matrix"
        elif tag == "td" and self._in_matrix:
            self._cell = found.get("class")
            self.cells.append((self._cell or "", None))
        elif tag == "a" and self._in_matrix and self._cell is not None:
            self.cells[-1] = (self._cell, found.get("href"))
        elif tag == "section":
            self._section = found.get("id")
            self.sections[self._section or ""] = 0
        elif tag == "svg" and self._section is not None:
            self.sections[self._section] += 1

    def handle_endtag(self, tag: str) -> None:
        if tag == "table":
            self._in_matrix = False
        elif tag == "td":
            self._cell = None


def test_the_report_links_every_cell_to_its_timeline(kvserver_binary: Path, tmp_path: Path) -> None:
    page = tmp_path / "report.html"
    result = subprocess.run(
        [sys.executable, "-m", "gofail_py.cli", "explore", str(REPO / "examples" / "explore" / "kv.gofail"),
         "--source", str(REPO / "examples" / "kvserver"), "--only", "truncateValue", "--only", "afterCommit",
         "--terms", "return(2)", "--terms", "0*return(2)", "--terms", "panic", "-j", "2", "--json",
         "--var", f"kvserver={kvserver_binary}", "-o", str(page)],
        cwd=REPO, capture_output=True, text=True, timeout=300,
    )
    assert result.returncode == 1, result.stderr  # truncateValue × return(2) fails on purpose
    assert '"journal": null' in result.stdout  # kept for the report only, then removed

    dom, console = chromium(page, "--dump-dom")
    assert console == []
    parsed = Page()
    parsed.feed(dom)
    outcomes = [outcome for outcome, _ in parsed.cells]
    assert outcomes == ["failed", "not-reached", "passed", "passed", "not-reached", "passed"]
    links = [href for _, href in parsed.cells]
    assert all(href is not None and href.startswith("#") for href in links)
    assert len(set(links)) == 6
    for href in links:
        assert parsed.sections[href[1:]] == 1  # the anchor is a run's section with its timeline
    assert len(re.findall(r'<rect class="step failed"', dom)) == 3  # the failed check, two not-reached reach steps
    assert "truncateValue × return(2): failed" in dom
    # without a recorder, the steps give each run its process lane, armed window and crash
    assert dom.count('class="lane"') == 6
    assert "afterCommit ×≥1 ✕ crashed it" in dom and "truncateValue ×0" in dom  # 0*return(2): armed, never hit

    screenshot = tmp_path / "report.png"
    chromium(page, f"--screenshot={screenshot}", "--window-size=1200,900")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
