"""The cache of Go helper builds: keyed by content, built once, never half a binary."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support import gobuild


def test_key_follows_the_content(tmp_path: Path) -> None:
    (tmp_path / "main.go").write_text("package main\n")
    first = gobuild.tree_key([tmp_path])
    assert gobuild.tree_key([tmp_path]) == first
    (tmp_path / "main.go").write_text("package main // changed\n")
    assert gobuild.tree_key([tmp_path]) != first
    assert gobuild.tree_key([tmp_path], "enabled") != gobuild.tree_key([tmp_path])


def test_built_once_then_taken_from_the_cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GOFAIL_PY_TEST_CACHE", str(tmp_path / "cache"))
    builds: list[Path] = []

    def build(workdir: Path, output: Path) -> None:
        builds.append(output)
        output.write_bytes(b"binary")

    first = gobuild.cached_binary("helper", "k1", build)
    assert gobuild.cached_binary("helper", "k1", build) == first and len(builds) == 1
    assert first.read_bytes() == b"binary"

    def failing(workdir: Path, output: Path) -> None:
        output.write_bytes(b"half")
        raise RuntimeError("go build failed")

    with pytest.raises(RuntimeError):
        gobuild.cached_binary("helper", "k2", failing)
    assert sorted(p.name for p in (tmp_path / "cache").iterdir()) == ["helper-k1"], "a failed build leaves nothing"
