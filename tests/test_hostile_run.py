"""`gofail-py run` against hostile journal and report paths, as a user runs it (a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.procs import communicate_or_dump

pytestmark = pytest.mark.hostile


def _scenario(tmp_path: Path, kvserver: Path) -> Path:
    scenario = tmp_path / "s.gofail"
    scenario.write_text(f"process kv: {kvserver} --listen 127.0.0.1:{{port}} --data {{tmp}}/kv\n"
                        "start kv\nset kv slowWrite=print\nunset kv slowWrite\n")
    return scenario


def _run(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", "run", *args], cwd=cwd,
                          capture_output=True, text=True, timeout=120)


def test_journal_on_a_full_disk_is_refused_before_the_run(kvserver_binary: Path, tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, kvserver_binary)
    full = tmp_path / "j.jsonl"
    full.symlink_to("/dev/full")  # every write fails with ENOSPC
    result = _run(str(scenario), "--journal", str(full), cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert "cannot write the journal" in result.stderr and "No space left" in result.stderr
    assert "start kv" not in result.stdout  # nothing ran


def test_report_onto_the_journal_is_refused(kvserver_binary: Path, tmp_path: Path) -> None:
    scenario = _scenario(tmp_path, kvserver_binary)
    journal = tmp_path / "j.jsonl"
    journal.write_text('{"event":"run","run":"earlier","name":"x","started":1}\n')
    (tmp_path / "r.html").symlink_to(journal)
    for report in ("j.jsonl", "r.html"):
        result = _run(str(scenario), "--journal", "j.jsonl", "--report", report, cwd=tmp_path)
        assert "Traceback" not in result.stderr, result.stderr
        assert result.returncode == 2, result.stdout + result.stderr
        assert journal.read_text().startswith('{"event":"run"'), "the journal was overwritten by the HTML report"


def test_two_runs_sharing_a_journal_the_second_is_refused(kvserver_binary: Path, tmp_path: Path) -> None:
    # the second run used to truncate the journal under the first: the first's start was lost
    long = tmp_path / "long.gofail"
    long.write_text(f"process kv: {kvserver_binary} --listen 127.0.0.1:{{port}} --data {{tmp}}/kv\n"
                    "start kv\nset kv slowWrite=print\nrun sleep 60\n")
    # -X faulthandler: if it ever hangs after SIGTERM, SIGABRT makes it print where every thread is
    first = subprocess.Popen([sys.executable, "-X", "faulthandler", "-m", "gofail_py.cli", "run", str(long),
                              "--journal", "j.jsonl"],
                             cwd=tmp_path, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert first.stdout is not None
        for line in first.stdout:  # the first run is under way once it has set its failpoint
            if "set kv slowWrite" in line:
                break
        second = _run(str(_scenario(tmp_path, kvserver_binary)), "--journal", "j.jsonl", cwd=tmp_path)
        assert "Traceback" not in second.stderr, second.stderr
        assert second.returncode == 3, second.stdout + second.stderr
        assert "j.jsonl" in second.stderr and "another run" in second.stderr
        assert '"event": "run"' in (tmp_path / "j.jsonl").read_text().splitlines()[0]
    finally:
        first.terminate()
        communicate_or_dump(first, 60, "the first run, after SIGTERM,")
    lines = (tmp_path / "j.jsonl").read_text().splitlines()
    assert '"event": "run"' in lines[0] and len([line for line in lines if '"event": "run"' in line]) == 1


def test_wait_within_bounds_a_silent_endpoint(tmp_path: Path) -> None:
    # `wait ... within 1s` on an endpoint that accepts and never answers took the client's 5 s
    import json
    import socket

    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(16)
    try:
        scenario = tmp_path / "w.gofail"
        scenario.write_text(f"endpoint r: 127.0.0.1:{listener.getsockname()[1]}\n"
                            "wait r slowWrite count >= 1 within 1s\n")
        result = _run(str(scenario), "--journal", "j.jsonl", cwd=tmp_path)
    finally:
        listener.close()
    assert result.returncode == 3, result.stdout + result.stderr
    assert "within 1 s" in result.stdout, result.stdout
    steps = [json.loads(line) for line in (tmp_path / "j.jsonl").read_text().splitlines()]
    wait = next(s for s in steps if s.get("event") == "step" and s["statement"].startswith("wait"))
    assert wait["end"] - wait["start"] < 4.0, wait  # 1 s and the last read's second; the client's timeout is 5 s


@pytest.mark.parametrize("option", ["--journal", "--report"])
def test_journal_or_report_onto_the_scenario_file_is_refused(tmp_path: Path, option: str) -> None:
    # `run s.gofail --journal s.gofail` truncated the user's scenario to start the journal
    scenario = tmp_path / "s.gofail"
    text = "log hello\n"
    scenario.write_text(text)
    result = _run("s.gofail", option, "./s.gofail", cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stdout + result.stderr
    assert scenario.read_text() == text, "the scenario file was overwritten"
