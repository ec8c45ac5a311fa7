"""Hostile Go against the partial parse (toplevel.py): whatever the file, the user sees exactly what
the whole-file parse gives (markers, errors and their places, enabled and disabled bytes)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from gofail_py import toplevel
from gofail_py.errors import GofailError
from gofail_py.rewrite import enable_source
from tests.test_partial_parse import assert_same

pytestmark = pytest.mark.hostile  # a suite of its own: .ci/run runs it, `pytest -m hostile`

MARKED_BLOCK = "func() {\n\t// gofail: var inLiteral struct{}\n}\n"


def _is_valid_go(tmp_path: Path, source: bytes) -> bool:
    path = tmp_path / "valid.go"
    path.write_bytes(source)
    gofmt = subprocess.run([shutil.which("gofmt") or "gofmt", "-e", "-l", str(path)], capture_output=True, text=True)
    return gofmt.returncode == 0 and gofmt.stderr == ""


@pytest.mark.parametrize("head", [
    "var s = []chan\n",  # Go puts no semicolon after a keyword: `[]chan func(){...}` is one literal
    "var s = []<-chan\n",
    "var s = []chan // a comment after the keyword\n",
    "var s = []chan /* and a block comment */\n",
])
def test_a_keyword_ending_a_line_continues_the_declaration(tmp_path: Path, head: str) -> None:
    """Valid Go: the marker stands in a composite literal, not a function body, so it is an error,
    the whole parse's; the lexer took the `func` line below `chan` for a new declaration."""
    source = ("package p\n\n" + head + MARKED_BLOCK).encode()
    assert _is_valid_go(tmp_path, source)
    assert_same(source)
    with pytest.raises(GofailError, match=r"f\.go:5:2: failpoint inLiteral is outside a function body"):
        enable_source(source, "f.go")
    ranges = toplevel.ranges_to_parse(source, (b"gofail",))
    assert ranges is None or any(start <= source.index(b"var s") for start, _ in ranges)
