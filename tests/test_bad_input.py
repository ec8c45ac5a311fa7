"""Bad input: a clear message, a non-zero exit, and not one byte changed."""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner

from gofail_py.cli import main
from tests.conftest import tree_digest
from tests.support.goprog import TESTDATA

GOOD = (TESTDATA / "rewrite" / "documented" / "input.go").read_bytes()


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A package with one good file to enable, beside which each test puts something bad."""
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "good.go").write_bytes(GOOD)
    monkeypatch.chdir(tmp_path)
    return tmp_path


def enable_fails(tree: Path, *args: str) -> str:
    before = tree_digest(tree)
    result = CliRunner().invoke(main, ["enable", *(args or ("./...",))])
    assert result.exit_code == 2, result.output
    assert tree_digest(tree) == before
    return result.stderr


def test_binary_file_named_go(tree: Path) -> None:
    (tree / "pkg" / "blob.go").write_bytes(b"\x7fELF\x02\x01\x01\x00\x00\x00gofail")
    assert enable_fails(tree) == "gofail-py: pkg/blob.go: binary data in a .go file; not Go source\n"


def test_invalid_utf8(tree: Path) -> None:
    (tree / "pkg" / "latin1.go").write_bytes(b"package documented\n\n// caf\xe9\n")
    assert enable_fails(tree) == "pkg/latin1.go:3:7: invalid UTF-8; Go source must be UTF-8\n"


def test_not_go_at_all(tree: Path) -> None:
    (tree / "pkg" / "notes.go").write_text("These are my notes about gofail.\n")
    assert enable_fails(tree) == "gofail-py: pkg/notes.go: no package clause; not a Go source file\n"


def test_paths_that_do_not_exist(tree: Path) -> None:
    assert "gofail-py: missing/...: no such file or directory" in enable_fails(tree, "pkg", "missing/...")


def test_symlink_pointing_outside_is_not_written_through(tree: Path, tmp_path_factory: pytest.TempPathFactory) -> None:
    outside = tmp_path_factory.mktemp("outside") / "target.go"
    outside.write_bytes(GOOD)
    (tree / "pkg" / "link.go").symlink_to(outside)
    message = enable_fails(tree)
    assert "pkg/link.go: symbolic link to" in message and "does not write through links" in message
    assert outside.read_bytes() == GOOD


@pytest.fixture
def immutable(tree: Path) -> Iterator[Path]:
    """The package directory made immutable: even root cannot create or rename files in it."""
    package = tree / "pkg"
    if shutil.which("chattr") is None or subprocess.run(["chattr", "+i", str(package)], capture_output=True).returncode:
        pytest.skip("chattr +i is not available here, and root ignores permission bits")
    yield package
    subprocess.run(["chattr", "-i", str(package)], check=True)


def test_directory_without_permission_to_write(tree: Path, immutable: Path) -> None:
    message = enable_fails(tree)
    assert message.startswith("gofail-py: pkg: cannot write in this directory")
    assert "nothing was changed" in message


def test_short_flags_and_the_double_dash(tree: Path) -> None:
    """-q is --quiet wherever it stands before `--` (the rewriter's commands give it its long name
    before click parses: gofail_py/cli/rewriter.py); after `--` it is a path like any other."""
    quiet = CliRunner().invoke(main, ["enable", "pkg", "-q"])
    assert quiet.exit_code == 0 and quiet.output == "", quiet.output
    assert CliRunner().invoke(main, ["disable", "-q", "pkg"]).output == ""
    assert enable_fails(tree, "--", "-q") == "gofail-py: -q: no such file or directory\n"
    unknown = CliRunner().invoke(main, ["list", "-q"])  # list has no -q: click's own message
    assert unknown.exit_code == 2 and "No such option '-q'" in unknown.output
