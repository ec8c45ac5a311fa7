"""Hostile runs against the speed work of issue 14 (docs/speed.md): the chunked read loop, the warm
runs' forked helper and the cold runs' worker, with real files and real processes."""

from __future__ import annotations

import os
import resource
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchmarks.gen_tree import generate_tree
from tests.support.goprog import REPO

pytestmark = pytest.mark.hostile  # a suite of its own: .ci/run runs it, `pytest -m hostile`

BIG = 5200  # above collect.FILES_FOR_A_WORKER and FILES_TO_SPLIT


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A big tree never touched by a run, and how many of its files hold failpoints."""
    root = tmp_path_factory.mktemp("pristine") / "tree"
    return root, generate_tree(root, BIG, failpoint_ratio=0.05)


@pytest.fixture
def big(pristine: tuple[Path, int], tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(pristine[0], root, symlinks=True)
    return root


def _python(code: str, cwd: Path, home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The Python API in a fresh one-thread process (a caller of the library): it may fork."""
    env = dict(os.environ, XDG_CACHE_HOME=str(home), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _entries(home: Path) -> list[Path]:
    """The result entries of the cache (r/), whatever the fingerprint folder."""
    return [path for path in home.glob("gofail-py/*/r/*") if not path.name.endswith(".tmp")]


# A library caller with many descriptors open (a server, a long test session): the run's pipes and
# pidfd get numbers from the lowest free one, which this sets (argv[1]).
_MANY_DESCRIPTORS = """
import os, resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
from gofail_py import workspace
keep = []
while True:
    fd = os.open(os.devnull, os.O_RDONLY)
    if fd >= int(sys.argv[1]):
        os.close(fd)
        break
    keep.append(fd)
print(len(workspace.enable(["./..."]).failpoints))
"""


@pytest.mark.skipif(resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 2048, reason="the hard limit of descriptors is too low")
@pytest.mark.parametrize("lowest_free", [1020, 1100])
def test_a_caller_with_more_than_1024_descriptors_open(big: Path, pristine: tuple[Path, int], tmp_path: Path,
                                                        lowest_free: int) -> None:
    """select() refuses a descriptor numbered 1024 or more (ValueError). From 1020 only the worker's
    pidfd is above (the run raised from Worker.finish); from 1100 its pipes too (the worker died
    at once: every file was transformed again by the main process, and none of it was cached)."""
    home = tmp_path / "cache"
    result = _python(_MANY_DESCRIPTORS, big, home, str(lowest_free))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stdout.split() == [str(2 * pristine[1])]
    assert len(_entries(home)) == pristine[1]  # the worker wrote an entry per file with failpoints
