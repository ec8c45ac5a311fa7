"""A process that dies on its own after the last step, before the cleanup stops it, fails the run:
its crash was in the journal while the verdict said PASSED (the cause of a test that failed 1 run
in 6: tests/test_explore.py::test_a_real_server_losing_its_port_is_recognised, issue 21 item 13)."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

import pytest

from gofail_py.scenario import parse_scenario, run_scenario
from gofail_py.scenario.runtime import Runtime
from gofail_py.scenario.targets import Process

TEXT = ("process a: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/a\n"
        "process b: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/b\n"
        "start a\nstart b\nset b slowWrite=sleep(1)\n")


def test_a_death_between_the_end_check_and_the_cleanups_stop_fails_the_run(
        kvserver_binary: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the moment made exact: b is killed (by someone else: the OOM killer, say) while the cleanup
    # stops a, after the end check found both alive
    real_stop = Runtime.stop

    def stop(self: Runtime, proc: Process, kill: bool = False) -> int | None:
        if proc.name == "a":
            other = self.process("b")
            assert other.child is not None and other.alive()
            os.kill(other.child.pid, signal.SIGKILL)
            other.child.popen.wait()
        return real_stop(self, proc, kill)

    monkeypatch.setattr(Runtime, "stop", stop)
    journal = tmp_path / "j.jsonl"
    result = run_scenario(parse_scenario(TEXT, str(tmp_path / "late.gofail")), journal=journal,
                          variables={"kvserver": str(kvserver_binary)})
    assert not result.passed and result.exit_code == 1
    assert result.error is not None and result.error.startswith(
        "process b died unexpectedly (exit code -9) after the last step, before the cleanup stopped it;")
    events = [json.loads(line) for line in journal.read_text().splitlines()]
    assert [e["message"][:30] for e in events if e["event"] == "step" and e["index"] == "end"] == [
        "process b died unexpectedly (e"]
    assert any(e["event"] == "crash" for e in events)  # the journal said so before, too


def test_a_run_whose_processes_live_to_the_cleanup_still_passes(kvserver_binary: Path, tmp_path: Path) -> None:
    result = run_scenario(parse_scenario(TEXT, str(tmp_path / "fine.gofail")), variables={"kvserver": str(kvserver_binary)})
    assert result.passed, result.summary()
