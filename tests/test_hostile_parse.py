"""Hostile Go against the partial parse (toplevel.py): whatever the file, the user sees exactly what
the whole-file parse gives (markers, errors and their places, enabled and disabled bytes)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from gofail_py.rewriter import syntax, toplevel
from gofail_py.errors import GofailError
from gofail_py.rewriter.markers import find_markers, find_markers_and_lines, parse_for_markers
from gofail_py.rewriter.rewrite import enable_source
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


@pytest.mark.parametrize("head", ["var s = []\n", "var s = map[string]\n", "var s = []func()\n",
                                  "var s = [2]func(a, b int)\n", "var s = [][]\n"])
def test_a_line_tree_sitter_reads_on_past_is_no_boundary(tmp_path: Path, head: str) -> None:
    """Go ends these lines (`]`, `)`) and rejects the file; tree-sitter reads on into the `func`
    line below without an error, as one composite literal: the whole parse's answer is the error."""
    source = ("package p\n\n" + head + MARKED_BLOCK).encode()
    assert not _is_valid_go(tmp_path, source)
    assert not syntax.parse(source).root_node.has_error
    assert_same(source)
    with pytest.raises(GofailError, match=r"f\.go:5:2: failpoint inLiteral is outside a function body"):
        enable_source(source, "f.go")


# Text the lexer reads as code when a tested span ends inside a raw string: every start of a
# comment or literal in it must be taken in one match, open or not. A start that does not match
# is tried again at the next byte, each try reading to the line's (or the span's) end: quadratic
# (a 48 KB file of `/*` lines took 2.7 s, a 80 KB line of `"\` 17 s; the whole parse takes 2 ms).
PATHOLOGICAL_LINES = ['"\\' * 2000, '"' + '\\"' * 2000, "/*\n" * 2000, "'\\" * 2000, '"abc\\', "`", "/*/"]


@pytest.mark.parametrize("text", PATHOLOGICAL_LINES, ids=range(len(PATHOLOGICAL_LINES)))
def test_every_literal_start_is_one_match_open_or_not(text: str) -> None:
    code = text.encode()
    for position in range(len(code)):
        if code[position:position + 1] in (b'"', b"'", b"`") or code.startswith(b"/*", position):
            assert toplevel._LITERALS.match(code, position) is not None, position


@pytest.mark.parametrize("text", PATHOLOGICAL_LINES, ids=range(len(PATHOLOGICAL_LINES)))
def test_a_megabyte_raw_string_of_open_literals_and_keyword_lines(text: str) -> None:
    """The spans tested as declarations end inside the raw string (its `func` lines stand next to
    gofail text): the lexer reads its lines as code, linearly, and is unsure."""
    chunk = text.replace("`", "'") + "\nfunc inRaw() {\n// gofail: var notAMarker int\n"
    raw = chunk * (1_000_000 // len(chunk))
    source = ("package p\n\nfunc real() {\n\t// gofail: var realFp int\n}\n\nvar s = `" + raw + "`\n").encode()
    assert toplevel.ranges_to_parse(source, (b"gofail",)) is None
    assert_same(source)
    assert [fp.name for fp in enable_source(source).markers.failpoints] == ["realFp"]


@pytest.mark.parametrize("broken", [
    "func : `\n` `\n`\n",  # the whole parse's error recovery swallows the marked function below
    "var m = []x\n",  # tree-sitter reads on into `func() {` with an error: the whole parse rejects it
    "func A() {\n\tx := )(\n}\n",
])
def test_invalid_go_outside_the_marked_declarations_reads_as_if_it_were_not_there(broken: str) -> None:
    """Not the whole parse's answer (docs/speed.md says so): a declaration without gofail text is
    not parsed, so a syntax error in it cannot throw the marked ones off as it may the whole parse.
    The markers and errors are those of the file with that declaration blanked out."""
    marked = "func marked() {\n\t// gofail: var X struct{}\n\t// _ = 1\n\t_ = 0\n}\n"
    source = ("package p\n\n" + broken + marked).encode()
    blanked = ("package p\n\n" + "\n" * broken.count("\n") + marked).encode()
    assert parse_for_markers(source)[1], "the partial way"
    assert find_markers(source, "f.go") == find_markers_and_lines(blanked, "f.go", partial=False)[0]
    assert [(fp.name, fp.line) for fp in find_markers(source).failpoints] == [("X", broken.count("\n") + 4)]


_TOKENS = ("func", "var", "chan", "map", "(", ")", "{", "}", "[", "]", "x", "1", "=", ",", ".", "*", '"s"', "'c'",
           "`r`", "/* c */", "// c", "struct", "interface", "type", "const", "return", ":", ";", "<-", "\n", "\n",
           "\nfunc", "\nvar", "\ntype", "`\n`", "/*\n*/", "int", "any")
_MARKED = ("func() {\n\t// gofail: var fp struct{}\n}\n", "func marked() {\n\t// gofail: var fp int\n\t// _ = fp\n}\n",
           "{\n\t// gofail: L:\n\tfor {\n\t\tbreak L\n\t}\n}\n", "// gofail: var top int\n")


# `var v = ` and the start of a type or expression, left open or not at the line's end
_HEADS = st.tuples(st.sampled_from(("var v = ", "var v ", "type T ", "const c = ")),
                   st.lists(st.sampled_from(("[]", "chan", "<-chan", "map[string]", "func()", "*", "x", "1", "struct{}",
                                             "interface{}", "(x)", "[2]", "T[int]")), min_size=1, max_size=3).map("".join),
                   st.sampled_from(("", " // c", " /* c */"))).map("".join)


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.one_of(st.lists(st.sampled_from(_TOKENS), min_size=1, max_size=10).map(" ".join),
                          _HEADS, _HEADS, st.sampled_from(_MARKED), st.sampled_from(_MARKED)), min_size=2, max_size=5))
def test_token_soup_differs_only_where_the_whole_parse_has_an_error(parts: list[str]) -> None:
    """Declarations of random tokens around marked ones: where tree-sitter reads the whole file
    without an error, the partial parse gives exactly its answer."""
    source = ("package p\n\n" + "\n".join(part.replace("\n ", "\n") for part in parts) + "\n").encode()
    if syntax.parse(source).root_node.has_error:
        return  # the documented difference (see above): a syntax error the partial parse does not see
    assert_same(source)
