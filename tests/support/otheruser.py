"""Another local user for the hostile tests: `nobody` (uid 65534), played by this root process.

The tests that need one are skipped when the suite does not run as root (it cannot act as
another user then); in CI containers and on this project's machines it does.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

OTHER = 65534  # nobody
# the attacker's scripts use the system Python (stdlib only): the test's own may live in a home
# the other user cannot enter
SYSTEM_PYTHON = next((p for p in ("/usr/bin/python3", "/usr/local/bin/python3") if os.access(p, os.X_OK)), "")
needs_root = pytest.mark.skipif(os.geteuid() != 0, reason="acting as another user needs root")


def as_other(argv: list[str], **kwargs: object) -> subprocess.CompletedProcess[str]:
    """Runs argv as the other user (no supplementary groups); raises if it fails."""
    return subprocess.run(argv, user=OTHER, group=OTHER, extra_groups=[], capture_output=True, text=True,  # type: ignore[call-overload, no-any-return]
                          timeout=60, check=True, **kwargs)


def python_as_other(code: str, *args: str) -> subprocess.CompletedProcess[str]:
    if not SYSTEM_PYTHON:
        pytest.skip("no system python3 the other user can run")
    return as_other([SYSTEM_PYTHON, "-I", "-c", code, *args])


@pytest.fixture
def shared_tmp() -> Iterator[Path]:
    """A folder in /tmp the other user can enter (pytest's tmp_path is in a 0700 folder of root's)."""
    folder = Path(tempfile.mkdtemp(prefix="gofail-py-hostile-", dir="/tmp"))
    folder.chmod(0o755)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def sticky_dir(parent: Path) -> Path:
    """A world-writable sticky folder, as /tmp is."""
    folder = parent / "sticky"
    folder.mkdir()
    folder.chmod(0o1777)
    return folder


def modes(root: Path) -> dict[str, str]:
    """Every path under root (root too) with its permission bits, in octal."""
    return {str(p.relative_to(root)): oct(p.lstat().st_mode & 0o7777) for p in [root, *sorted(root.rglob("*"))]}
