"""Malformed input: `path:line:col: message`, exit code 2, and not one byte changed."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from gofail_py.cli import main
from tests.conftest import tree_digest
from tests.support.goprog import TESTDATA

CASES = sorted(p.name for p in (TESTDATA / "rewrite_errors").iterdir() if p.is_dir())


@pytest.mark.parametrize("case", CASES)
def test_error_case(case: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    shutil.copy(TESTDATA / "rewrite_errors" / case / "input.go", tmp_path / "input.go")
    # a good file beside the bad one: it must not be rewritten either
    shutil.copy(TESTDATA / "rewrite" / "documented" / "input.go", tmp_path / "good.go")
    (tmp_path / "good.go").write_text((tmp_path / "good.go").read_text().replace("package documented", "package bad"))
    monkeypatch.chdir(tmp_path)
    before = tree_digest(tmp_path)
    result = CliRunner().invoke(main, ["enable", "."])
    assert result.exit_code == 2, result.output
    assert result.stderr == (TESTDATA / "rewrite_errors" / case / "expected.err").read_text()
    assert tree_digest(tmp_path) == before


def test_duplicate_across_packages_names_both_places(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for package in ("a", "b"):
        (tmp_path / package).mkdir()
        (tmp_path / package / "x.go").write_text(f"package {package}\n\nfunc F() {{\n\t// gofail: var same struct{{}}\n}}\n")
    monkeypatch.chdir(tmp_path)
    before = tree_digest(tmp_path)
    result = CliRunner().invoke(main, ["enable", "./..."])
    assert result.exit_code == 2
    assert result.stderr == (
        "b/x.go:4:2: failpoint name 'same' is used twice (also at a/x.go:4:2); "
        "the gofail runtime panics at start-up on a duplicate name\n"
    )
    assert tree_digest(tmp_path) == before
