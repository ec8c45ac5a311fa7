"""The pytest plugin's coverage options given as a user might mistype them."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hostile


def _pytest(tmp_path: Path, *options: str) -> subprocess.CompletedProcess[str]:
    (tmp_path / "test_one.py").write_text("def test_ok():\n    pass\n")
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "test_one.py", *options],
                          cwd=tmp_path, capture_output=True, text=True, timeout=120)


@pytest.mark.parametrize("options", [
    ["--gofail-source=/nonexistent-gofail-src"],
    ["--gofail-source=/dev/zero"],
    ["--gofail-source=.", "--gofail-fail-under=nan"],
    ["--gofail-source=.", "--gofail-fail-under=150"],
    ["--gofail-report=/nonexistent-gofail-dir/r.html"],
    ["--gofail-report=."],
], ids=["missing-source", "device-source", "nan", "over-100", "report-dir-missing", "report-is-a-dir"])
def test_bad_option_is_a_usage_error_before_any_test(tmp_path: Path, options: list[str]) -> None:
    result = _pytest(tmp_path, *options)
    output = result.stdout + result.stderr
    assert "INTERNALERROR" not in output and "Traceback" not in output, output
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, output
    assert "passed" not in result.stdout  # no test ran


def test_report_through_a_symlink_keeps_the_link(tmp_path: Path) -> None:
    # the report replaced what the path named: a symlink became a file (and a device node, /dev/full, a file)
    (tmp_path / "site").mkdir()
    target = tmp_path / "site" / "faults.html"
    target.write_text("<title>gofail-py fault coverage</title> an older report")  # only a report is replaced
    (tmp_path / "faults.html").symlink_to(target)
    result = _pytest(tmp_path, "--gofail-report=faults.html")
    assert result.returncode == 0, result.stdout + result.stderr
    assert (tmp_path / "faults.html").is_symlink()
    assert "fault coverage" in target.read_text()
