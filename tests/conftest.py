"""Shared fixtures: the repository's test data and a way to hash a tree."""

from __future__ import annotations

import hashlib
import re
from pathlib import Path

import pytest

from tests.support.goprog import REPO, TESTDATA


# Suites of their own, run by .ci/run one by one: left out unless the -m expression names them, so
# `pytest` is the default suite and `pytest -m "not slow"` the developer loop.
SEPARATE_SUITES = ("etcd", "hostile", "browser", "explore")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    expression = config.getoption("markexpr") or ""
    unnamed = [m for m in SEPARATE_SUITES if not re.search(rf"\b{m}\b", expression)]
    dropped = [item for item in items if any(item.get_closest_marker(m) for m in unnamed)]
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = [item for item in items if item not in dropped]


def pytest_configure(config: pytest.Config) -> None:
    """The rewriter's cache goes to a folder of this session (inherited by every CLI run), not ~/.cache."""
    import os
    import shutil
    import tempfile

    # Go keeps its build cache under XDG_CACHE_HOME too: pin it first, or every session builds
    # the standard library and the runtime from scratch (20 s for one `go build`)
    if "GOCACHE" not in os.environ:
        import subprocess

        gocache = subprocess.run(["go", "env", "GOCACHE"], capture_output=True, text=True).stdout.strip()
        if gocache:
            os.environ["GOCACHE"] = gocache
    folder = tempfile.mkdtemp(prefix="gofail-py-test-cache-")
    os.environ["XDG_CACHE_HOME"] = folder
    config.add_cleanup(lambda: shutil.rmtree(folder, ignore_errors=True))


def tree_digest(root: Path, modes: bool = True) -> dict[str, str]:
    """Every file under root by relative path, with the sha256 of its bytes (and its mode)."""
    return {
        str(path.relative_to(root)): hashlib.sha256(path.read_bytes()).hexdigest()
        + (f" {path.stat().st_mode:o}" if modes else "")
        for path in sorted(root.rglob("*"))
        if path.is_file() and not path.is_symlink()
    }


@pytest.fixture
def repo() -> Path:
    return REPO


@pytest.fixture
def testdata() -> Path:
    return TESTDATA


@pytest.fixture(scope="session")
def kvserver_binary() -> Path:
    """examples/kvserver enabled by gofail-py and built against the real runtime (cached by content)."""
    from tests.support.gobuild import built

    return built("kvserver", REPO / "examples" / "kvserver", enabled=True)
