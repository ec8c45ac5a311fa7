"""Shared fixtures: the repository's test data and a way to hash a tree."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support.goprog import REPO, TESTDATA


def pytest_configure(config: pytest.Config) -> None:
    """The rewriter's cache goes to a folder of this session (inherited by every CLI run), not ~/.cache."""
    import os
    import shutil
    import tempfile

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
def kvserver_binary(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """examples/kvserver enabled by gofail-py and built against the real runtime, once a session."""
    from tests.support.goprog import build_enabled

    return build_enabled(REPO / "examples" / "kvserver", tmp_path_factory.mktemp("kvserver"), "kvserver")
