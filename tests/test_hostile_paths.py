"""Rewriter commands given a path a user might mistype: a symbolic link to a file that is gone."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytestmark = pytest.mark.hostile


@pytest.mark.parametrize("command", ["list", "enable", "disable"])
def test_a_named_dangling_link_is_no_such_file(tmp_path: Path, command: str) -> None:
    # `list gone.go` says no such file; `list link.go` (link.go -> gone.go) said nothing, exit 0
    (tmp_path / "go.mod").write_text("module example.com/x\n\ngo 1.21\n")
    (tmp_path / "link.go").symlink_to("gone.go")
    result = subprocess.run([sys.executable, "-m", "gofail_py.cli", command, "link.go"], cwd=tmp_path,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 2, result.stdout + result.stderr
    assert "link.go" in result.stderr and "no such file" in result.stderr
    assert (tmp_path / "link.go").is_symlink()
