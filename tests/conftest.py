"""Shared fixtures: the repository's test data and a way to hash a tree."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from tests.support.goprog import REPO, TESTDATA


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
