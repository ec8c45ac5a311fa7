"""`gofail-py explore` against hostile options, as a user runs it (a subprocess).

The template only logs its cell (no Go binary is started): these cases are about the command's
own input and output, not the runs.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.goprog import REPO

pytestmark = pytest.mark.hostile

SOURCE = str(REPO / "examples" / "kvserver")


def _explore(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    template = tmp_path / "t.gofail"
    template.write_text("log {failpoint} {terms}\n")
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", "explore", str(template), "--source", SOURCE,
                           "--only", "slowWrite", *args], cwd=tmp_path, capture_output=True, text=True, timeout=120)


def test_output_that_cannot_be_written_is_an_error_not_a_traceback(tmp_path: Path) -> None:
    full = tmp_path / "m.html"
    full.symlink_to("/dev/full")
    result = _explore(tmp_path, "-o", str(full))
    assert "Traceback" not in result.stderr, result.stderr
    assert result.returncode == 2, result.stderr
    assert "No space left" in result.stderr


@pytest.mark.parametrize("args", [["--terms", "bogus("], ["-o", "/nonexistent-dir/m.html"]])
def test_bad_option_is_not_reported_at_line_0_of_a_file(tmp_path: Path, args: list[str]) -> None:
    # `path:0:0:` sends an editor to a line that does not exist (and -o's file does not exist at all)
    result = _explore(tmp_path, *args)
    assert result.returncode == 2, result.stderr
    assert ":0:0:" not in result.stderr, result.stderr
    assert args[1] in result.stderr


def test_output_onto_the_template_is_refused(tmp_path: Path) -> None:
    result = _explore(tmp_path, "-o", str(tmp_path / "t.gofail"))
    assert result.returncode == 2, result.stdout + result.stderr
    assert "run(s)" not in result.stdout  # refused before anything ran
    assert (tmp_path / "t.gofail").read_text() == "log {failpoint} {terms}\n"
