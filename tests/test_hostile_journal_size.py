"""Memory bounded by what is reported, not by the input (issue 21, items 9 and 10).

`report` streams its journals (memory: one line, the table and bounded timelines); a line has a
limit; the HTML aggregates past what a browser can show and says so; a `run` step keeps only its
command's output tail. The same journal given twice counts once; a journal cut inside a UTF-8
sequence is treated as one cut anywhere else. Memory is the child process's peak RSS (wait4).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gen_journal import generate

MAX_LINE = 1 << 20  # the documented limit of a journal line (docs/coverage.md; gofail_py.recording.events.MAX_LINE)

pytestmark = pytest.mark.hostile

GOFAIL_PY = Path(sys.executable).with_name("gofail-py")
WINDOW = ('{"event":"window","run":"r1","process":"kv","failpoint":"slowWrite","terms":"panic",'
          '"start":0,"end":1,"hits":3}\n')


# Forks and execs the command, then prints its peak RSS (KB): measured from a fresh, small
# interpreter, since a child forked from pytest itself starts with pytest's pages resident.
_MEASURE = """
import os, sys
pid = os.fork()
if pid == 0:
    os.execv(sys.argv[1], sys.argv[1:])
_, status, usage = os.wait4(pid, 0)
sys.stderr.write(f"\\nPEAK_RSS_KB={usage.ru_maxrss}\\n")
sys.exit(os.waitstatus_to_exitcode(status) & 0xFF)
"""


def rss_of(*args: str, cwd: Path, timeout: float = 600) -> tuple[subprocess.CompletedProcess[str], int]:
    """The command's result and its peak resident memory in MB."""
    done = subprocess.run([sys.executable, "-c", _MEASURE, str(GOFAIL_PY), *args], cwd=cwd, capture_output=True,
                          timeout=timeout)
    stderr, _, peak = done.stderr.decode("utf-8", "replace").rpartition("\nPEAK_RSS_KB=")
    result = subprocess.CompletedProcess(done.args, done.returncode, done.stdout.decode("utf-8", "replace"), stderr.removesuffix("\n") + ("\n" if stderr else ""))
    assert "Traceback" not in result.stdout + result.stderr, result.stderr[-3000:]
    return result, int(peak) // 1024


# --- item 9: report streams, with a line limit and a bounded page ------------------------------


@pytest.fixture(scope="module")
def big_journal(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("big") / "j.jsonl"
    generate(path, 40, 8)  # 40 MB, 8 runs of ~19,000 events each (main held ~220 MB for it, 420 MB with -o)
    return path


@pytest.mark.slow
def test_report_memory_is_bounded_by_the_report_not_the_journal(big_journal: Path, tmp_path: Path) -> None:
    result, peak = rss_of("report", str(big_journal), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "fp0" in result.stdout
    assert peak < 100, f"report held {peak} MB for a {big_journal.stat().st_size // 1_000_000} MB journal"


@pytest.mark.slow
def test_the_html_of_a_big_journal_is_aggregated_and_says_so(big_journal: Path, tmp_path: Path) -> None:
    page = tmp_path / "r.html"
    result, peak = rss_of("report", str(big_journal), "-o", str(page), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    html = page.read_text()
    assert "Aggregated:" in html and html.count("<rect") < 80_000, html.count("<rect")
    assert page.stat().st_size < 15_000_000, page.stat().st_size
    assert peak < 200, f"report -o held {peak} MB"


def test_a_journal_of_nul_bytes_is_refused_at_its_line_without_reading_it_whole(tmp_path: Path) -> None:
    journal = tmp_path / "nul.jsonl"
    with open(journal, "wb") as out:
        out.write(WINDOW.encode())
        for _ in range(50):
            out.write(b"\0" * 1_000_000)  # 50 MB of NULs, no newline: one line (main held twice its size)
    result, peak = rss_of("report", str(journal), cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert f"{journal}:2: a line longer than 1,048,576 bytes" in result.stderr, result.stderr
    assert peak < 60, peak


def test_the_line_limit_is_exact(tmp_path: Path) -> None:
    from gofail_py.recording import events

    assert getattr(events, "MAX_LINE", None) == MAX_LINE
    line = WINDOW.rstrip("\n")
    longest = line[:-1] + " " * (MAX_LINE - len(line)) + "}"  # JSON allows blanks: exactly MAX_LINE bytes
    journal = tmp_path / "j.jsonl"
    journal.write_text(longest + "\n")
    result, _ = rss_of("report", str(journal), cwd=tmp_path)
    assert result.returncode == 0 and "slowWrite" in result.stdout, result.stderr
    journal.write_text(WINDOW + longest[:-1] + " }\n")
    result, _ = rss_of("report", str(journal), cwd=tmp_path)
    assert result.returncode == 2 and f"{journal}:2: a line longer than" in result.stderr, result.stderr


def test_the_recorder_never_writes_a_line_report_refuses(tmp_path: Path) -> None:
    from gofail_py.recording import Recorder
    from gofail_py.scenario.journal import StepRecord

    journal = tmp_path / "j.jsonl"
    recorder = Recorder(journal, name="big answers")
    recorder.step(StepRecord("1", "run x " + "a" * 3_000_000, "s:1", answer={"stdout": "\u202e" * 2_000_000}, message="m" * 2_000_000))
    recorder.close()
    lines = journal.read_bytes().split(b"\n")
    assert max(len(line) for line in lines) <= MAX_LINE
    assert b"cut to fit a journal line" in journal.read_bytes()
    result, _ = rss_of("report", str(journal), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr


def test_a_run_step_keeps_only_the_tail_of_its_output(tmp_path: Path) -> None:
    scenario = tmp_path / "s.gofail"
    # 200 MB on stdout, 50 MB on stderr (main held 620 MB for 300 MB)
    scenario.write_text(f"process p: {sys.executable} -c pass\n"
                        "run sh -c 'head -c 200000000 /dev/zero | tr \"\\\\0\" x; head -c 50000000 /dev/zero | tr \"\\\\0\" y >&2; echo END'\n")
    journal = tmp_path / "j.jsonl"
    result, peak = rss_of("run", str(scenario), "--journal", str(journal), cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr
    assert peak < 120, f"the run held {peak} MB for 250 MB of output"
    step = next(json.loads(line) for line in journal.read_text().splitlines() if '"event": "step"' in line or '"event":"step"' in line)
    answer = step["answer"]
    assert answer["stdout"].endswith("xxxEND\n") and len(answer["stdout"]) == 2000, answer["stdout"][-50:]
    assert answer["stdout_bytes"] == 200_000_004 and answer["stderr_bytes"] == 50_000_000
    assert set(answer["stderr"]) == {"y"}


# --- item 10: once per file, and a cut UTF-8 sequence is a cut line ----------------------------


def test_the_same_journal_twice_counts_once(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text(WINDOW)
    (tmp_path / "link.jsonl").symlink_to(journal)
    os.link(journal, tmp_path / "hard.jsonl")
    for args in (["j.jsonl", "j.jsonl"], ["j.jsonl", "link.jsonl"], ["hard.jsonl", "./j.jsonl", "link.jsonl"]):
        result, _ = rss_of("report", *args, "--json", cwd=tmp_path)
        assert result.returncode == 0, result.stderr
        data = json.loads(result.stdout)
        assert (data["failpoints"][0]["armed"], data["failpoints"][0]["hits"]) == (1, 3), (args, data)
        assert "counted once" in result.stderr, result.stderr


def test_two_different_journals_both_count(tmp_path: Path) -> None:
    (tmp_path / "a.jsonl").write_text(WINDOW)
    (tmp_path / "b.jsonl").write_text(WINDOW)
    result, _ = rss_of("report", "a.jsonl", "b.jsonl", "--json", cwd=tmp_path)
    assert json.loads(result.stdout)["failpoints"][0]["armed"] == 2 and "counted once" not in result.stderr


@pytest.mark.parametrize("cut", [1, 2, 3], ids=["1-of-4", "2-of-4", "3-of-4"])
def test_a_journal_cut_inside_a_utf8_sequence_drops_its_last_line_with_a_warning(tmp_path: Path, cut: int) -> None:
    journal = tmp_path / "cut.jsonl"
    whole = WINDOW.replace("slowWrite", "slowWrite") + WINDOW.replace('"panic"', '"return(`\U0001f4a5`)"').replace("r1", "r2")
    data = whole.encode()
    at = data.rindex("\U0001f4a5".encode()) + cut  # inside the 4-byte sequence of the last line
    journal.write_bytes(data[:at])
    result, _ = rss_of("report", str(journal), "--json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["failpoints"][0]["armed"] == 1
    assert f"{journal}:2: incomplete last line skipped" in result.stderr, result.stderr


def test_bad_utf8_before_the_last_line_is_still_refused(tmp_path: Path) -> None:
    journal = tmp_path / "bad.jsonl"
    journal.write_bytes(WINDOW.encode()[:-10] + b"\xff\xfe" + b'"}\n' + WINDOW.encode())
    result, _ = rss_of("report", str(journal), cwd=tmp_path)
    assert result.returncode == 2 and f"{journal}:1: not UTF-8" in result.stderr, result.stderr
