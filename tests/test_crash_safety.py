"""SIGKILL `gofail-py enable` at random moments: every file stays whole, and disable recovers all."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gofail_py.rewriter import workspace
from tests.conftest import tree_digest
from tests.support.hostile import SOURCE

TRIALS = int(os.environ.get("GOFAIL_PY_CRASH_TRIALS", "50"))
PADDING = "\n// ." * 200  # so that each write takes a little time


def _file(n: int) -> str:
    """The hostile suite's source, padded."""
    return SOURCE.format(package=f"p{n}", n=n).replace(
        'import "errors"\n', 'import "errors"\n\n// padding so that each write takes a little time' + PADDING + "\n", 1)


def make_tree(root: Path, files: int = 200) -> None:
    for n in range(files):
        folder = root / f"p{n}"
        folder.mkdir(parents=True)
        (folder / "save.go").write_text(_file(n))


@pytest.mark.slow
def test_killed_enable_leaves_whole_files_and_disable_recovers(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    make_tree(root)
    original = tree_digest(root)
    # the complete enabled form of every file, from an enable that ran to its end
    workspace.enable([root / "..."])
    enabled = tree_digest(root)
    workspace.disable([root / "..."])
    assert tree_digest(root) == original

    began = time.monotonic()
    subprocess.run([sys.executable, "-m", "gofail_py.cli", "enable", "-q", "./..."], cwd=root, check=True)
    full_run = time.monotonic() - began
    workspace.disable([root / "..."])

    rng = random.Random(1234)
    plain = {name: digest.split()[0] for name, digest in original.items()}
    whole = {name: digest.split()[0] for name, digest in enabled.items()}
    midway = 0
    for _ in range(TRIALS):
        proc = subprocess.Popen([sys.executable, "-m", "gofail_py.cli", "enable", "-q", "./..."], cwd=root)
        time.sleep(rng.uniform(0.0, full_run))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        after_kill = tree_digest(root, modes=False)
        staged = any(".gofail-py-" in name for name in after_kill)  # killed while writing temp files
        now = {name: digest for name, digest in after_kill.items() if ".gofail-py-" not in name}
        for name, digest in now.items():
            assert digest in (plain.get(name), whole.get(name)), f"{name} is neither its original nor its enabled form"
        rewritten = sum(1 for name in plain if now[name] != plain[name])
        # mid-write: some files renamed into place but not all, or temp files staged and none yet
        midway += 0 < rewritten < len(plain) or staged
        workspace.disable([root / "..."])
        assert tree_digest(root) == original, "disable restores the original tree exactly"
        assert not [p for p in root.rglob("*") if ".gofail-py-" in p.name], "no temp file survives the next run"
    assert midway > 0, "no kill landed mid-write: the tree is too small to test anything"
