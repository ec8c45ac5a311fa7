"""The read loop checks files in chunks (gofail_py/rewriter/collect.py): the content checks and the search for
gofail text run once over a chunk's bytes joined. Whatever the chunk boundaries, every file must
come out as if checked alone: the same failpoints in the same order, the same errors in file order,
and only files without gofail text recorded as plain in the stat index."""

from __future__ import annotations

import os
import sys
import time
from pathlib import Path

import pytest
from click.testing import CliRunner

from gofail_py.rewriter import cache, rewrite, workspace
from gofail_py.cli import main
from gofail_py.rewriter.collect import _CHUNK
from tests.conftest import tree_digest

PLAIN = "package p\n\n// F{n} has no failpoint.\nfunc F{n}() {{}}\n{pad}"
MARKED = "package p\n\nfunc F{n}() {{\n\t// gofail: var fp{n} struct{{}}\n}}\n{pad}"
PAST = time.time_ns() - 3600 * 10**9
# around the chunk boundaries: first and last of a chunk, and the file after
MARKED_AT = sorted({0, 1, _CHUNK - 1, _CHUNK, _CHUNK + 1, 2 * _CHUNK - 1, 2 * _CHUNK, 2 * _CHUNK + 37})
COUNT = 2 * _CHUNK + 40


def _name(n: int) -> str:
    return f"f{n:04d}.go"  # sorted as read


def _tree(root: Path, contents: dict[int, bytes] | None = None) -> Path:
    package = root / "p"
    package.mkdir(parents=True)
    for n in range(COUNT):
        text = (MARKED if n in MARKED_AT else PLAIN).format(n=n, pad=PAD).encode()
        (package / _name(n)).write_bytes((contents or {}).get(n, text))
    return package


def _old(root: Path) -> None:
    """Everything old enough for the index to record (git's racy rule)."""
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(PAST, PAST))
    time.sleep(2.2)


@pytest.fixture(autouse=True, params=["small", "big"])
def padded(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> None:
    """Small files are checked in their bytes joined, files of 4 KB and more one by one."""
    pad = "" if request.param == "small" else "// " + "x" * 5000 + "\n"
    monkeypatch.setattr(sys.modules[__name__], "PAD", pad)


PAD = ""


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(tmp_path)
    return tmp_path / "cache"


def test_failpoints_at_chunk_boundaries_are_found_in_order(tmp_path: Path, home: Path) -> None:
    package = _tree(tmp_path / "t")
    listed = workspace.list_failpoints(["./..."])
    assert [(fp.failpoint.name, fp.path.name) for fp in listed] == [(f"fp{n}", _name(n)) for n in MARKED_AT]
    plan = workspace.enable(["./..."])
    assert len(plan.failpoints) == len(MARKED_AT)
    for n in range(COUNT):  # each file as the rewriter makes it alone
        original = (MARKED if n in MARKED_AT else PLAIN).format(n=n, pad=PAD).encode()
        expected = rewrite.enable_source(original, _name(n))
        assert (package / _name(n)).read_bytes() == expected.source


def test_gofail_text_at_the_very_edges_of_files(tmp_path: Path, home: Path) -> None:
    """Text at a file's first and last byte, and a file ending in half of it followed by a file
    starting with the other half: only the first two hold it (the join puts a newline between)."""
    contents = {
        3: b"package p // gofail",  # ends a file
        4: b"package p\n\nfunc F4() {\n\t// gofail: var fp4 struct{}\n}\n// __fp_",  # __fp_ last
        10: b"package p\n// gof",  # half of it, then the next file's first bytes
        11: b"ail\npackage p\n",
    }
    package = _tree(tmp_path / "t", contents)
    CliRunner().invoke(main, ["disable", "./..."])  # sees `__fp_` in f0004.go: parses it, nothing enabled
    result = CliRunner().invoke(main, ["list", "./..."])
    assert result.exit_code == 0, result.output
    names = [line.split("\t")[0] for line in result.stdout.splitlines()]
    assert names == [f"fp{n}" for n in sorted({*MARKED_AT, 4})]
    assert (package / _name(11)).read_bytes() == contents[11]


def test_bad_files_are_reported_in_file_order_and_nothing_changes(tmp_path: Path, home: Path) -> None:
    """A chunk with a bad file: each file checked alone, every error reported, in file order."""
    contents = {
        5: b"package p\n\n// caf\xe9\n",  # invalid UTF-8 in a file without gofail text
        _CHUNK + 2: b"package p\n\n// caf\xe9 gofail\n",
        2 * _CHUNK + 3: b"package p\n\n// caf\xc3\xa9: valid UTF-8, not ASCII\n",
    }
    _tree(tmp_path / "t", contents)
    before = tree_digest(tmp_path / "t")
    result = CliRunner().invoke(main, ["enable", "./..."])
    assert result.exit_code == 2, result.output
    assert result.stderr.splitlines() == [f"t/p/{_name(5)}:3:7: invalid UTF-8; Go source must be UTF-8",
                                          f"t/p/{_name(_CHUNK + 2)}:3:7: invalid UTF-8; Go source must be UTF-8"]
    assert tree_digest(tmp_path / "t") == before


def test_binary_and_not_go_files_anywhere_in_a_chunk(tmp_path: Path, home: Path) -> None:
    for bad, message in ((b"\x7fELF\x02\x00\x00", "binary data in a .go file; not Go source"),
                         (b"just notes\n", "no package clause; not a Go source file")):
        root = tmp_path / message[:6]
        _tree(root, {_CHUNK + 5: bad})
        os.chdir(root)
        result = CliRunner().invoke(main, ["enable", "./..."])
        assert result.exit_code == 2, result.output
        assert result.stderr == f"gofail-py: p/{_name(_CHUNK + 5)}: {message}\n"


def test_only_files_without_gofail_text_are_recorded_plain(tmp_path: Path, home: Path) -> None:
    tree = tmp_path / "t"
    _tree(tree, {7: b"package p\n\n// mentions __fp_ only\n"})
    _old(tree)
    os.chdir(tree)
    assert CliRunner().invoke(main, ["list", "./..."]).exit_code == 0
    index = cache.Store(home / "gofail-py").load_index("\0".join([str(tree), "./..."]))
    recorded = {Path(path).name for path in index.signatures()}
    assert recorded == {_name(n) for n in range(COUNT)} - {_name(n) for n in MARKED_AT} - {_name(7)}
