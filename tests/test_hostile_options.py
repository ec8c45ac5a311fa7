"""Numeric options given as a user might mistype them: NaN, infinity, zero, negative.

Each is bad input (exit 2, one message, no traceback) before anything is sent or run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.goprog import REPO, free_port

pytestmark = pytest.mark.hostile

BAD = ["nan", "inf", "-inf", "1e400"]


def _cli(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize("value", BAD)
@pytest.mark.parametrize("command", [["ls"], ["get", "x"], ["count", "x"], ["unset", "x"], ["set", "x=print"], ["ps"]])
def test_client_timeout_must_be_a_finite_number(tmp_path: Path, command: list[str], value: str) -> None:
    endpoint = [] if command == ["ps"] else ["-e", f"127.0.0.1:{free_port()}"]
    result = _cli(*command, *endpoint, "--timeout", value, cwd=tmp_path)
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert "--timeout" in result.stderr


@pytest.mark.parametrize("value", ["nan", "inf"])
def test_wait_registered_must_be_finite(tmp_path: Path, value: str) -> None:
    result = _cli("set", "-e", f"127.0.0.1:{free_port()}", "--wait-registered", value, "x=print", cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    assert "--wait-registered" in result.stderr


@pytest.mark.parametrize("value", ["nan", "0", "-1", "inf"])
def test_explore_timeout_is_checked_before_anything_runs(tmp_path: Path, value: str) -> None:
    template = tmp_path / "t.gofail"
    template.write_text("log {failpoint} {terms}\n")
    result = _cli("explore", str(template), "--source", str(REPO / "examples" / "kvserver"), "--only", "slowWrite",
                  "--timeout", value, cwd=tmp_path)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "run(s)" not in result.stdout  # nothing ran
    assert "--timeout" in result.stderr
