"""The HTML picture of a checked history (`gofail-py check -o`), read back from the page itself."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

from benchmarks.history_gen import Spec, write
from gofail_py.check import check
from gofail_py.check.picture import history_fragment, render_picture
from gofail_py.check.picture_layout import LEFT, MAX_BARS, WIDTH, layout
from gofail_py.history import read_history
from tests.support.goprog import REPO


class Page(HTMLParser):
    """Each SVG of the page: its lanes, its operations' bars (classes, title, label), its density cells."""

    def __init__(self) -> None:
        super().__init__()
        self.svgs: list[dict[str, list[dict[str, str]]]] = []
        self.holder: dict[str, str] | None = None  # the bar or cell whose <title> and <text> come next
        self.holder_tag = ""
        self.inside = ""  # "title" or "label" while in one of the holder's
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = {k: v or "" for k, v in attrs}
        classes = found.get("class", "").split()
        if tag == "svg":
            self.svgs.append({"lanes": [], "ops": [], "cells": []})
        elif tag == "g" and "hlane" in classes:
            self.svgs[-1]["lanes"].append(found)
        elif (tag == "g" and "op" in classes) or (tag == "rect" and "density" in classes):
            self.holder, self.holder_tag = {"class": found["class"], "title": "", "label": ""}, tag
            self.svgs[-1]["ops" if tag == "g" else "cells"].append(self.holder)
        elif tag in ("title", "text") and self.holder is not None:
            self.inside = "title" if tag == "title" else "label"

    def handle_endtag(self, tag: str) -> None:
        if tag in ("title", "text"):
            self.inside = ""
        elif tag == self.holder_tag:
            self.holder, self.holder_tag = None, ""

    def handle_data(self, data: str) -> None:
        self.text.append(data)
        if self.holder is not None and self.inside:
            self.holder[self.inside] += data


def read_page(path: Path) -> Page:
    page = Page()
    page.feed(path.read_text(encoding="utf-8"))
    return page


def run_check(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", "check", *args], capture_output=True, text=True, timeout=120)


def assert_self_contained(html: str) -> None:
    assert not re.search(r"<link|<img|<script|\bsrc=|url\(|@import", html)
    assert set(re.findall(r"https?://[^\s\"'<>]+", html)) == {"http://www.w3.org/2000/svg"}


def test_a_violation_is_drawn_with_its_prefix_numbered_and_the_unplaced_marked(tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    write(Spec(300, stale_read=True, seed=3), history)
    page_path = tmp_path / "report.html"
    done = run_check(str(history), "--json", "-o", str(page_path))
    assert done.returncode == 1, done.stderr
    result = json.loads(done.stdout)
    violation = result["violation"]
    html = page_path.read_text(encoding="utf-8")
    assert_self_contained(html)
    page = read_page(page_path)
    detail, overview = page.svgs
    assert [lane["data-client"] for lane in overview["lanes"]] == [str(n) for n in range(10)]
    assert len(overview["ops"]) == 300  # every operation, one bar each
    assert sum("lost" in op["class"] for op in overview["ops"]) == result["indeterminate"]
    # the unplaced, marked ✕ in both drawings, with their input and output on hover
    for svg in (detail, overview):
        unplaced = [op for op in svg["ops"] if "unplaced" in op["class"]]
        assert len(unplaced) == len(violation["unplaced"])
        for bar, item in zip(sorted(unplaced, key=lambda b: b["title"]), sorted(violation["unplaced"], key=lambda i: str(i["line"]))):
            assert f":{item['line']} " in bar["title"]
            assert json.dumps(item["input"], separators=(",", ":")) in bar["title"]
            assert json.dumps(item["output"], separators=(",", ":")) in bar["title"]
            assert "could not be placed next" in bar["title"]
    # the prefix: one bar per operation of it; its last ones numbered in order up to its length
    length = len(violation["prefix"])
    assert sum("prefix" in op["class"] for op in overview["ops"]) == length
    numbers = sorted(int(op["label"]) for op in detail["ops"] if "tail" in op["class"] and op["label"])
    assert numbers and numbers[-1] == length and len(numbers) >= 20
    titles = {int(m[1]) for op in detail["ops"] for m in [re.search(r"linearized #(\d+) of", op["title"])] if m}
    assert set(range(length - 39, length + 1)) <= titles
    # the list under "Why not" names the same operations as the JSON, in the same order
    ordered = re.findall(r"<ol class=\"prefix\" id=\"prefix\" start=\"(\d+)\">(.*?)</ol>", html, re.S)
    assert ordered and int(ordered[0][0]) == length - 39
    lines = [int(m) for m in re.findall(r"h\.jsonl:(\d+) ", ordered[0][1])]
    assert lines == [ref["line"] for ref in violation["prefix"][-40:]]


def test_a_linearizable_history_has_no_explanation_and_a_lost_operation_is_open_to_the_edge(tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    lines = [{"gofail_py_history": 1, "model": "kv"},
             {"id": 1, "client": 0, "op": "put", "input": {"key": "k", "value": "a"}, "call": 1_000, "return": 2_000, "output": {"revision": 2}},
             {"id": 2, "client": 1, "op": "put", "input": {"key": "k", "value": "b"}, "call": 1_500, "return": None, "output": None, "error": "timeout after 1s"},
             {"id": 3, "client": 0, "op": "get", "input": {"key": "k"}, "call": 3_000, "return": 4_000,
              "output": {"revision": 2, "kvs": [{"key": "k", "value": "a", "create_revision": 2, "mod_revision": 2, "version": 1}]}}]
    history.write_text("".join(json.dumps(line) + "\n" for line in lines))
    page_path = tmp_path / "report.html"
    done = run_check(str(history), "-o", str(page_path))
    assert done.returncode == 0, done.stderr
    page = read_page(page_path)
    assert len(page.svgs) == 1 and "Why not" not in "".join(page.text)
    ops = read_history(str(history))
    view = layout(list(ops), None, 500, 5_000)
    lost = [bar for bar in view.bars if bar.open]
    assert len(lost) == 1 and lost[0].x + lost[0].w == LEFT + WIDTH
    assert "no answer (timeout after 1s)" in lost[0].title
    answered = {bar.title.split("  ")[2]: bar for bar in view.bars if not bar.open}
    assert answered['put {"key":"k","value":"a"} -> {"revision":2}'].x == LEFT + WIDTH * 500 / 4_500


def test_text_from_the_history_is_escaped(tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    hostile = '</title><script>alert(1)</script>"\'&<b>'
    lines = [{"id": 1, "client": 0, "op": "put", "input": {"key": hostile, "value": hostile}, "call": 10, "return": 20, "output": {"revision": 2}},
             {"id": 2, "client": 1, "op": "get", "input": {"key": hostile}, "call": 30, "return": 40, "output": {"revision": 1, "kvs": []}}]
    history.write_text("".join(json.dumps(line) + "\n" for line in lines))
    page_path = tmp_path / "report.html"
    assert run_check(str(history), "-o", str(page_path)).returncode == 1
    html = page_path.read_text(encoding="utf-8")
    assert_self_contained(html)
    page = read_page(page_path)
    as_json = json.dumps(hostile, ensure_ascii=False)[1:-1]  # the title shows the input as JSON
    assert any(as_json in op["title"] for svg in page.svgs for op in svg["ops"])  # as text, not markup


def test_past_the_bars_a_browser_can_take_the_lanes_show_density_and_say_so(tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    write(Spec(MAX_BARS + 500, seed=4, lost=0.004), history)
    result = check(str(history))
    assert result.verdict == "linearizable"
    html = render_picture(result)
    page = Page()
    page.feed(html)
    (overview,) = page.svgs
    assert overview["cells"] and sum(int(re.search(r": (\d+) operation", c["title"])[1]) for c in overview["cells"]) == MAX_BARS + 500  # type: ignore[index]
    assert {op["class"].split()[-1] for op in overview["ops"]} == {"lost"}  # only those are still bars
    assert f"{MAX_BARS + 500:,} operations in this range: more than the {MAX_BARS:,} drawn one by one" in html
    assert 'class="history-view dense"' in html


def test_a_fragment_draws_only_its_time_range_on_the_timelines_scale(tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    ops = write(Spec(200, seed=5, lost=0), history)
    read = list(read_history(str(history)))
    start, end = ops[100].call, ops[120].call
    inside = [op for op in read if op.call <= end and op.ret is not None and op.ret >= start]
    fragment = str(history_fragment(read, None, start, end, origin=ops[0].call))
    assert fragment.startswith("<figure") and fragment.rstrip().endswith("</figure>")
    page = Page()
    page.feed(fragment)
    assert len(page.svgs[0]["ops"]) == len(inside)
    assert 'width="1070"' in fragment  # LEFT + WIDTH + 20, as the failpoint timeline's SVG


def test_the_picture_never_overwrites_a_history_it_read(tmp_path: Path) -> None:
    history = tmp_path / "h.jsonl"
    write(Spec(50, seed=6), history)
    before = history.read_bytes()
    done = run_check(str(history), "-o", str(history))
    assert done.returncode == 2
    assert "Traceback" not in done.stderr and "is the history" in done.stderr
    assert history.read_bytes() == before


@pytest.mark.slow
def test_the_docs_picture_commands_run_as_written(tmp_path: Path) -> None:
    """docs/check.md's section on the picture: its sh block, in a temporary folder."""
    section = (REPO / "docs" / "check.md").read_text(encoding="utf-8").split("## The picture", 1)[1]
    block = re.search(r"^```sh\n(.*?)^```", section, re.S | re.M)
    assert block is not None
    script = block[1].replace("python ", f"{sys.executable} ").replace("gofail-py ", f"{sys.executable} -m gofail_py.cli ")
    done = subprocess.run(["bash", "-c", "set -uo pipefail\n" + script], cwd=tmp_path, capture_output=True, text=True,
                          timeout=300, env={"PYTHONPATH": str(REPO), "PATH": "/usr/bin:/bin"})
    assert (tmp_path / "report.html").exists(), done.stdout + done.stderr
    assert "not linearizable" in done.stdout


def test_past_a_hundred_clients_a_lane_holds_several_and_says_so(tmp_path: Path) -> None:
    """A history where every operation has a client of its own (valid: none has two open at once)
    would make a page thousands of lanes tall."""
    history = tmp_path / "h.jsonl"
    lines = [{"id": n, "client": n, "op": "put", "input": {"key": "k", "value": f"v{n}"}, "call": 10 * n,
              "return": 10 * n + 5, "output": {"revision": n + 2}} for n in range(250)]
    history.write_text("".join(json.dumps(line) + "\n" for line in lines))
    result = check(str(history))
    assert result.verdict == "linearizable"
    page = Page()
    page.feed(render_picture(result))
    (overview,) = page.svgs
    assert len(overview["lanes"]) == 84 and len(overview["ops"]) == 250  # 3 clients a lane
    assert "250 clients: more than 100 lanes, so a lane holds 3 clients" in "".join(page.text)
    assert "clients 0–2" in page.text and "clients 249–249" not in page.text
