"""The partial parse (only the file's head and the top-level declarations holding gofail text) finds
exactly the markers, errors and rewritten bytes the whole-file parse finds."""

from __future__ import annotations

import os
import random
import subprocess
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings

from gofail_py.rewriter import toplevel
from gofail_py.errors import GofailError
from gofail_py.rewriter.markers import find_markers_and_lines, may_hold_markers, parse_for_markers
from gofail_py.rewriter.rewrite import disable_source, enable_source
from tests.support.gogen import files_with_declarations
from tests.support.goprog import TESTDATA
from tests.support.gotools import ETCD_SERVER, ETCD_VERSION, module_dir

BBOLT, BBOLT_VERSION = "go.etcd.io/bbolt", "v1.4.3"


def _outcome(function: Callable[..., object], source: bytes, partial: bool) -> object:
    try:
        return function(source, "f.go", partial=partial)
    except GofailError as error:  # the same error, message and place, or it is a difference
        return (type(error).__name__, str(error))


def assert_same(source: bytes) -> bool:
    """Markers, lines, enable and disable agree between the two parses, on the file and on its
    enabled form. Returns whether the file went the partial way."""
    enabled = _outcome(enable_source, source, partial=False)
    for text in (source, getattr(enabled, "source", source)):
        for function in (find_markers_and_lines, enable_source, disable_source):
            assert _outcome(function, text, True) == _outcome(function, text, False), function.__name__
    return parse_for_markers(source)[1]


def _go_files(root: Path) -> list[bytes]:
    return [path.read_bytes() for path in sorted(root.rglob("*.go")) if may_hold_markers(path.read_bytes())]


def _module(module: str, version: str) -> Path:
    try:
        return module_dir(module, version)
    except (subprocess.CalledProcessError, OSError):
        pytest.skip(f"{module}@{version} cannot be downloaded here")


@pytest.mark.parametrize(("module", "version", "files"), [(ETCD_SERVER, ETCD_VERSION, 15), (BBOLT, BBOLT_VERSION, 4)])
def test_real_modules_parse_partially_and_alike(module: str, version: str, files: int) -> None:
    sources = _go_files(_module(module, version))
    assert len(sources) >= files
    partial = [assert_same(source) for source in sources]
    assert all(partial), "every real file with gofail text takes the partial way"


@pytest.mark.slow
def test_go_sources_with_markers_put_in_anywhere_alike() -> None:
    """Go's own sources (a sample, with the file that once differed): a marker at the top of a
    function body, and markers, labels and bodies put in at random lines (in functions, at top
    level, in literals and comments)."""
    root = Path(subprocess.run(["go", "env", "GOROOT"], capture_output=True, text=True, check=True).stdout.strip()) / "src"
    files = sorted(str(path) for path in root.rglob("*.go") if path.is_file())
    rng = random.Random(14)
    sample = rng.sample(files, min(250, len(files))) + [p for p in files if p.endswith(os.path.join("obj", "fips140.go"))]
    partial = 0
    for path in sample:
        lines = Path(path).read_bytes().split(b"\n")
        bodies = [row for row, line in enumerate(lines) if line.startswith(b"func ") and line.endswith(b"{")]
        if bodies:  # one at the top of a function body, where markers usually are
            lines.insert(rng.choice(bodies) + 1, b"\t// gofail: var first struct{}")
        for _ in range(rng.randint(0, 2)):
            row = rng.randrange(len(lines))
            indent = lines[row][: len(lines[row]) - len(lines[row].lstrip(b"\t"))]
            lines.insert(row, indent + rng.choice([b"// gofail: var fp%d int" % row, b"// gofail: L%d:" % row,
                                                     b"// gofail: var fp%d struct{}\n%s// return" % (row, indent)]))
        partial += assert_same(b"\n".join(lines))
    assert partial > len(sample) // 2


def test_every_testdata_file_alike() -> None:
    sources = _go_files(TESTDATA)
    assert len(sources) > 40
    for source in sources:
        assert_same(source)


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(files_with_declarations())
def test_generated_files_alike(source: bytes) -> None:
    assert_same(source)


FILLER = "func filler() int {\n\treturn 1\n}\n\n"
REAL = "func real() {\n\t// gofail: var realFp int\n\t// _ = realFp\n\t_ = 0\n}\n"


def _file(*declarations: str, head: str = "package p\n\n") -> bytes:
    return (head + "\n".join(declarations)).encode()


def _enabled_names(source: bytes) -> list[str]:
    return [fp.name for fp in find_markers_and_lines(source)[0].failpoints]


def test_a_raw_string_holding_a_func_at_column_0_and_a_marker_is_not_code() -> None:
    decoy = "var raw = `\nfunc hidden() {\n\t// gofail: var hiddenFp int\n}\n\nfunc other() {}\n`\n"
    source = _file(FILLER, decoy, FILLER.replace("filler", "filler2"), REAL)
    assert assert_same(source)
    assert _enabled_names(source) == ["realFp"]
    ranges = toplevel.ranges_to_parse(source, (b"gofail",))
    start = source.index(b"var raw")
    assert ranges is not None and any(a <= start and source.index(b"`\n\nfunc filler2") < b for a, b in ranges)


def test_a_block_comment_spanning_declarations() -> None:
    comment = "/*\nfunc a() {\n\t// gofail: var commentedFp int\n}\n\nfunc b() {\n*/\n"
    source = _file(FILLER, comment, REAL, FILLER.replace("filler", "filler2"))
    assert assert_same(source)
    assert _enabled_names(source) == ["realFp"]


def test_a_failpoint_in_a_func_literal_of_a_top_level_var() -> None:
    literal = "var hook = func() {\n\t// gofail: var inVar struct{}\n}\n"
    source = _file(FILLER, literal, FILLER.replace("filler", "filler2"))
    assert assert_same(source)
    assert _enabled_names(source) == ["inVar"]
    assert b"__fp_inVar.Acquire()" in enable_source(source).source


def test_a_marker_outside_any_function_is_the_same_error() -> None:
    source = _file(FILLER, "// gofail: var topLevel struct{}\n", REAL, FILLER.replace("filler", "filler2"))
    assert assert_same(source)
    with pytest.raises(GofailError, match=r"f\.go:8:1: failpoint topLevel is outside a function body"):
        enable_source(source, "f.go")


def test_crlf_files() -> None:
    source = _file(FILLER, REAL, FILLER.replace("filler", "filler2")).replace(b"\n", b"\r\n")
    assert assert_same(source)
    enabled = enable_source(source).source
    assert enabled.count(b"\r\n") == source.count(b"\r\n") and b"__fp_realFp" in enabled


def test_a_file_with_a_byte_order_mark() -> None:
    source = b"\xef\xbb\xbf" + _file(FILLER, REAL, FILLER.replace("filler", "filler2"))
    assert not assert_same(source), "no package clause at a line start: the whole file is parsed"
    assert b"__fp_realFp" in enable_source(source).source


@pytest.mark.parametrize("unsure", [
    "var open = `\nfunc never() {}\n",  # a raw string that never ends
    "/*\nfunc never() {}\n",  # a block comment that never ends
    "func unbalanced() {\n\tif true {\n}\n",
    'var bad = "unterminated\n',
])
def test_what_the_lexer_is_unsure_of_parses_the_whole_file(unsure: str) -> None:
    source = _file(REAL, FILLER, unsure)
    assert toplevel.ranges_to_parse(source, (b"gofail",)) is None
    assert not assert_same(source)


def test_a_keyword_line_that_continues_a_declaration_is_no_boundary() -> None:
    source = _file(FILLER, "var x =\nfunc() int {\n\t// gofail: var continued int\n\treturn 1\n}()\n", FILLER.replace("filler", "f2"))
    ranges = toplevel.ranges_to_parse(source, (b"gofail",))
    declaration = source.index(b"var x ="), source.index(b"}()\n") + 4
    assert ranges is not None and any(start <= declaration[0] and declaration[1] <= end for start, end in ranges)
    assert assert_same(source)


def test_a_syntax_error_in_a_parsed_declaration_parses_the_whole_file() -> None:
    broken = "func broken() {\n\t// gofail: var brokenFp int\n\tx := := 1\n}\n"
    source = _file(FILLER, broken, FILLER.replace("filler", "filler2"))
    assert toplevel.ranges_to_parse(source, (b"gofail",)) is not None
    assert not assert_same(source), "an ERROR node in the partial tree: the whole file is parsed"


def test_comments_above_the_package_clause() -> None:
    licensed = _file(FILLER, REAL, head="// Copyright: a long licence.\n/* more\nfunc notCode() {}\n*/\npackage p\n\n")
    assert assert_same(licensed)
    ranges = toplevel.ranges_to_parse(licensed, (b"gofail",))
    assert ranges is not None and ranges[0][0] == licensed.index(b"package p"), "a comment without gofail text is not parsed"
    marked = _file(FILLER, REAL, head="// gofail: var beforePackage int\npackage p\n\n")
    assert assert_same(marked)
    with pytest.raises(GofailError, match=r"f\.go:1:1: failpoint beforePackage is outside a function body"):
        enable_source(marked, "f.go")


def test_a_string_that_runs_over_a_line_end_is_unsure() -> None:
    source = _file(FILLER, 'var s = "open\\\nfunc f() {\n\t// gofail: var inString int\n}\n"\n', REAL)
    assert toplevel.ranges_to_parse(source, (b"gofail",)) is None
    assert not assert_same(source)


def test_a_package_line_inside_the_comment_above_the_package_clause() -> None:
    """As in Go's own cmd/internal/obj/fips140.go: a doc comment with a line that starts `package`."""
    source = _file(FILLER, REAL, head="/*\nDoc.\npackage has an init function\n*/\n\npackage p\n\n")
    assert assert_same(source)
    assert find_markers_and_lines(source)[0].package == "p"


def test_a_partial_tree_without_the_package_clause_parses_the_whole_file() -> None:
    source = _file(FILLER, REAL, head="/*\npackage decoy\n*/\nvar x = 1\n/* c */ package p\n\n")
    assert toplevel.ranges_to_parse(source, (b"gofail",)) is not None
    assert not assert_same(source), "no package clause in the parsed ranges: the whole file is parsed"
