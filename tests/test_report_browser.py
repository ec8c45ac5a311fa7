"""The HTML report of a real kvserver run (crash, restart, failing step) opened in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
import time
from html.parser import HTMLParser
from pathlib import Path

import pytest
import requests

from gofail_py.client import Client
from gofail_py.recording import Recorder, RecordingClient
from gofail_py.scenario.journal import StepRecord
from tests.support.goprog import REPO, free_port, start

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(CHROMIUM is None, reason="no chromium on PATH: run scripts/install-browser.sh"),
]


def chromium(page: Path, *args: str) -> tuple[str, list[str]]:
    """Chromium's stdout for the page and the console messages it logged."""
    result = subprocess.run(
        [str(CHROMIUM), "--headless", "--no-sandbox", "--disable-gpu", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=2000", *args, page.as_uri()],
        capture_output=True, text=True, timeout=120,
    )
    return result.stdout, [line for line in result.stderr.splitlines() if ":CONSOLE" in line]


class Shapes(HTMLParser):
    """Counts the SVG's lanes and armed-window bars in the rendered DOM."""

    def __init__(self) -> None:
        super().__init__()
        self.lanes: list[str] = []
        self.windows = 0
        self.failed_steps = 0
        self.svgs = 0
        self.rows = 0

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        classes = (found.get("class") or "").split()
        if tag == "svg":
            self.svgs += 1
        elif tag == "g" and "lane" in classes:
            self.lanes.append(found.get("data-process") or "")
        elif tag == "rect" and "window" in classes:
            self.windows += 1
        elif tag == "rect" and "step" in classes and "failed" in classes:
            self.failed_steps += 1
        elif tag == "tr" and found.get("class") is not None:
            self.rows += 1


def record_run(binary: Path, tmp_path: Path) -> Path:
    """Two kvservers: one with two armed windows, one killed by a panic and restarted; a step fails."""
    journal = tmp_path / "run.jsonl"
    recorder = Recorder(journal, name="browser run", source=[REPO / "examples" / "kvserver"])
    procs: dict[str, tuple[subprocess.Popen[bytes], int, RecordingClient]] = {}

    def launch(name: str) -> None:
        port = free_port()
        proc, endpoint = start(binary, "--listen", f"127.0.0.1:{port}", "--data", str(tmp_path / name))
        recorder.process_started(name, proc.pid, endpoint)
        procs[name] = (proc, port, RecordingClient(Client(endpoint), recorder, name))

    def step(index: int, text: str, message: str = "") -> None:
        begin = recorder.now()
        time.sleep(0.02)
        recorder.step(StepRecord(str(index), text, "t:1", start=begin, end=recorder.now(), outcome="failed" if message else "ok", message=message))

    try:
        launch("kv1")
        launch("kv2")
        step(1, "start kv1, kv2")
        kv1 = procs["kv1"]
        kv1[2].enable("slowWrite", "sleep(5)")
        requests.put(f"http://127.0.0.1:{kv1[1]}/kv/a", data="x", timeout=10)
        kv1[2].enable("slowWrite", "off")  # a re-set: a second window
        kv1[2].disable("slowWrite")
        step(2, "set kv1 slowWrite twice, unset")
        proc, port, client = procs["kv2"]
        client.enable("afterCommit", "panic")
        with pytest.raises(requests.ConnectionError):
            requests.put(f"http://127.0.0.1:{port}/kv/a", data="x", timeout=10)
        recorder.process_exited("kv2", proc.pid, proc.wait(timeout=10), proc.stderr.read().decode() if proc.stderr else "")
        launch("kv2")
        step(3, "get kv2 a --equals x", message='answered 404 "no such key", expected "x"')
        for name, (proc, _, client) in procs.items():
            recorder.before_stop(name, client.client)
            proc.terminate()
            recorder.process_stopped(name, proc.pid, proc.wait(timeout=10))
    finally:
        for proc, _, _ in procs.values():
            if proc.poll() is None:
                proc.kill()
                proc.wait()
        recorder.close()
    return journal


def test_the_report_renders_one_lane_per_process_and_one_bar_per_window(kvserver_binary: Path, tmp_path: Path) -> None:
    journal = record_run(kvserver_binary, tmp_path)
    page = tmp_path / "report.html"
    result = subprocess.run([sys.executable, "-m", "gofail_py.cli", "report", str(journal), "--source",
                             str(REPO / "examples" / "kvserver"), "-o", str(page)], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    html = page.read_text(encoding="utf-8")
    # self-contained: nothing to fetch (the SVG namespace is a name, not a request)
    assert not re.search(r"<link|<img|\bsrc=|url\(|@import", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}

    dom, console = chromium(page, "--dump-dom")
    assert console == []
    shapes = Shapes()
    shapes.feed(dom)
    assert shapes.svgs == 1
    assert shapes.lanes == ["kv1", "kv2"]  # a restart stays in its process's lane
    assert shapes.windows == 3  # slowWrite twice (a re-set), afterCommit once
    assert shapes.failed_steps == 1
    assert shapes.rows == 11  # every failpoint of the source
    assert 'answered 404 "no such key", expected "x"' in dom.replace("&quot;", '"')
    assert "afterCommit ×1 ✕ crashed it" in dom

    screenshot = tmp_path / "report.png"
    chromium(page, f"--screenshot={screenshot}", "--window-size=1200,700")
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_the_table_sorts_in_the_browser(kvserver_binary: Path, tmp_path: Path) -> None:
    journal = record_run(kvserver_binary, tmp_path)
    page = tmp_path / "report.html"
    subprocess.run([sys.executable, "-m", "gofail_py.cli", "report", str(journal), "--source",
                    str(REPO / "examples" / "kvserver"), "-o", str(page)], check=True, capture_output=True, timeout=60)
    # click "failpoint" (ascending by name), then read the first column back from the page
    probe = ('<script>document.querySelectorAll("#coverage th")[0].click();'
             'document.title = Array.from(document.querySelectorAll("#coverage tbody tr")).map(r => r.cells[0].textContent).join(",");</script>')
    page.write_text(page.read_text(encoding="utf-8").replace("</body>", probe + "</body>"), encoding="utf-8")
    dom, console = chromium(page, "--dump-dom")
    assert console == []
    title = re.search(r"<title>(.*?)</title>", dom)
    assert title is not None
    names = title.group(1).split(",")
    assert names == sorted(names, key=str.lower) and len(names) == 11


def test_a_console_error_would_be_seen(tmp_path: Path) -> None:
    page = tmp_path / "broken.html"
    page.write_text("<html><body><script>undefinedFunction();</script></body></html>")
    _, console = chromium(page, "--dump-dom")
    assert any("undefinedFunction" in line for line in console)
