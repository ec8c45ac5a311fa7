"""`gofail-py report` against hostile journals and output paths, run as a user runs it (a subprocess).

Each case is bounded: a hang fails the test instead of blocking the suite.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

pytestmark = pytest.mark.hostile

WINDOW = ('{"event":"window","run":"r1","process":"kv","failpoint":"slowWrite","terms":"panic",'
          '"start":0,"end":1,"hits":3}\n')


def _report(*args: str, cwd: Path, timeout: float = 60) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", "report", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout)


def _no_traceback(result: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in result.stderr, result.stderr


def test_deeply_nested_line_is_bad_input_not_a_traceback(tmp_path: Path) -> None:
    journal = tmp_path / "deep.jsonl"
    journal.write_text(WINDOW + "[" * 100_000 + "]" * 100_000 + "\n")
    result = _report(str(journal), cwd=tmp_path)
    _no_traceback(result)
    assert result.returncode == 2, result.stderr
    assert "deep.jsonl:2:" in result.stderr


@pytest.mark.parametrize("field, value", [("hits", -3), ("start", 5)])
def test_impossible_window_is_bad_input(tmp_path: Path, field: str, value: int) -> None:
    # negative hits, or a window that ends before it starts, are no figures to report
    journal = tmp_path / "bad.jsonl"
    journal.write_text(WINDOW.replace(f'"{field}":{3 if field == "hits" else 0}', f'"{field}":{value}'))
    assert str(value) in journal.read_text()
    result = _report(str(journal), cwd=tmp_path)
    _no_traceback(result)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "bad.jsonl:1:" in result.stderr


def test_device_as_journal_is_refused_not_read_forever(tmp_path: Path) -> None:
    result = _report("/dev/zero", cwd=tmp_path, timeout=30)
    _no_traceback(result)
    assert result.returncode == 2
    assert "/dev/zero" in result.stderr


def test_journal_from_a_pipe_is_read(tmp_path: Path) -> None:
    # `gofail-py report <(zcat j.jsonl.gz)` hands over a pipe: read it like a file
    read_fd, write_fd = os.pipe()
    writer = threading.Thread(target=lambda: (os.write(write_fd, WINDOW.encode()), os.close(write_fd)))
    writer.start()
    try:
        result = subprocess.run([sys.executable, "-m", "gofail_py.cli", "report", f"/dev/fd/{read_fd}"],
                                cwd=tmp_path, capture_output=True, text=True, timeout=60, pass_fds=(read_fd,))
    finally:
        writer.join()
        os.close(read_fd)
    assert result.returncode == 0, result.stderr
    assert "slowWrite" in result.stdout


def test_output_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text(WINDOW)
    (tmp_path / "site").mkdir()
    target = tmp_path / "site" / "coverage.html"
    target.write_text("<title>gofail-py fault coverage</title> an older report")  # only a report is replaced
    link = tmp_path / "report.html"
    link.symlink_to(target)
    result = _report(str(journal), "-o", str(link), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert link.is_symlink(), "the user's symbolic link was replaced by a file"
    assert "slowWrite" in target.read_text()


def test_output_to_a_fifo_writes_into_it(tmp_path: Path) -> None:
    # `-o /dev/stdout` or a FIFO: the report goes into it; the node itself is never replaced
    journal = tmp_path / "j.jsonl"
    journal.write_text(WINDOW)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    received: list[bytes] = []

    def read() -> None:
        fd = os.open(fifo, os.O_RDONLY)
        with os.fdopen(fd, "rb") as pipe:
            received.append(pipe.read())

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    try:
        result = _report(str(journal), "-o", str(fifo), cwd=tmp_path, timeout=30)
    finally:
        if reader.is_alive():  # unblock our reader if the report never opened the FIFO
            os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        reader.join(10)
    assert result.returncode == 0, result.stderr
    assert fifo.is_fifo(), "the FIFO was replaced by a regular file"
    assert received and b"slowWrite" in received[0]


def test_output_onto_a_journal_is_refused(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text(WINDOW)
    (tmp_path / "link.html").symlink_to(journal)
    for output in ("j.jsonl", "link.html"):
        result = _report("j.jsonl", "-o", output, cwd=tmp_path)
        _no_traceback(result)
        assert result.returncode == 2, result.stderr
        assert journal.read_text() == WINDOW, "the journal was overwritten by the report"


def test_control_characters_in_a_journal_do_not_forge_rows(tmp_path: Path) -> None:
    journal = tmp_path / "j.jsonl"
    journal.write_text(WINDOW.replace('"slowWrite"', '"slowWrite\\nforged  -  9  9  9  kv"')
                       .replace('"kv"', '"kv\\u001b[2J"'))
    journal.write_text(journal.read_text() + '{"event":"crash","run":"r1","process":"kv","time":1,'
                       '"message":"boom\\nforged crash line","reason":"x\\u001b[31m"}\n')
    result = _report(str(journal), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert not any(line.startswith("forged") for line in result.stdout.splitlines()), result.stdout
    assert "\x1b" not in result.stdout
    assert "slowWrite\\nforged" in result.stdout


def test_a_journal_cut_mid_line_is_reported_with_a_warning(tmp_path: Path) -> None:
    # a run killed by SIGKILL mid-write, or one still writing: its complete lines still count
    journal = tmp_path / "cut.jsonl"
    journal.write_text(WINDOW + WINDOW[: len(WINDOW) // 2])
    result = _report(str(journal), cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    assert "slowWrite" in result.stdout
    assert "cut.jsonl:2:" in result.stderr and "incomplete" in result.stderr


def test_a_bad_line_in_the_middle_is_still_refused(tmp_path: Path) -> None:
    journal = tmp_path / "mid.jsonl"
    journal.write_text(WINDOW[: len(WINDOW) // 2] + "\n" + WINDOW)
    result = _report(str(journal), cwd=tmp_path)
    assert result.returncode == 2, result.stdout
    assert "mid.jsonl:1:" in result.stderr


@pytest.mark.parametrize("planted", ["fifo", "tty"])
def test_a_history_path_in_a_journal_is_never_waited_on(tmp_path: Path, planted: str) -> None:
    # a `traffic` step's record names its history, and `report -o` draws it: a journal from
    # elsewhere naming a FIFO (or a terminal) must not hang the report on reading it
    if planted == "fifo":
        target = tmp_path / "history.fifo"
        os.mkfifo(target)
    else:
        target = Path("/dev/tty")
        if not target.exists():
            pytest.skip("no /dev/tty here")
    journal = tmp_path / "j.jsonl"
    journal.write_text(
        '{"event": "run", "run": "r1", "name": "x", "time": 0.0}\n'
        '{"event": "step", "run": "r1", "index": "1", "statement": "traffic kvserver 127.0.0.1:1", "start": 0.0, '
        f'"end": 0.1, "outcome": "ok", "answer": {{"history": "{target}", "clock_ns": 5}}}}\n')
    result = _report(str(journal), "-o", str(tmp_path / "out.html"), cwd=tmp_path, timeout=30)
    _no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert "not a history file: not drawn" in (tmp_path / "out.html").read_text()


def test_a_history_path_with_a_nul_in_a_journal_is_not_a_traceback(tmp_path: Path) -> None:
    # JSON can carry "\u0000"; no file name holds one (open() raises ValueError, not OSError)
    journal = tmp_path / "j.jsonl"
    journal.write_text(
        '{"event": "run", "run": "r1", "name": "x", "time": 0.0}\n'
        '{"event": "step", "run": "r1", "index": "1", "statement": "traffic kvserver 127.0.0.1:1", "start": 0.0, '
        f'"end": 0.1, "outcome": "ok", "answer": {{"history": "{tmp_path}/h\\u0000.jsonl", "clock_ns": 5}}}}\n')
    result = _report(str(journal), "-o", str(tmp_path / "out.html"), cwd=tmp_path, timeout=30)
    _no_traceback(result)
    assert result.returncode == 0, result.stderr
    assert 'class="history-note"' in (tmp_path / "out.html").read_text()
