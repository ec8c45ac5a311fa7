"""Golden cases of the rewriter, each also checked for its invariants."""

from __future__ import annotations

import pytest

from gofail_py.rewriter.rewrite import binding_file_name, disable_source, enable_source
from tests.support.goprog import TESTDATA
from tests.support.rewrite_check import assert_rewrite, golden_cases

CASES = golden_cases()


@pytest.mark.parametrize("case", CASES)
def test_golden_case(case: str) -> None:
    assert_rewrite(case)


def test_crlf_keeps_line_endings() -> None:
    enabled = (TESTDATA / "rewrite" / "crlf" / "expected.go").read_bytes()
    assert enabled.count(b"\r\n") == enabled.count(b"\n")


def test_markers_in_strings_and_block_comments_are_left_alone() -> None:
    enabled = (TESTDATA / "rewrite" / "raw_string" / "expected.go").read_bytes()
    assert b"\t// gofail: var notAFailpoint struct{}" in enabled
    assert b"/* // gofail: var alsoNot struct{} */" in enabled
    assert b"__fp_real.Acquire()" in enabled


def test_two_headers_in_a_row_are_two_failpoints() -> None:
    binding = (TESTDATA / "rewrite" / "two_headers" / "expected.fail.go").read_bytes()
    assert b'NewFailpoint("first")' in binding and b'NewFailpoint("second")' in binding


def test_test_file_binding_is_a_test_file() -> None:
    assert binding_file_name("store_test.go") == "store.fail_test.go"
    assert binding_file_name("store.go") == "store.fail.go"
    binding = (TESTDATA / "rewrite" / "test_file" / "expected.fail_test.go").read_bytes()
    assert b"package testfile_test\n" in binding


def test_binding_package_comes_from_the_package_clause() -> None:
    binding = (TESTDATA / "rewrite" / "package_main" / "expected.fail.go").read_bytes()
    assert b"\npackage main\n" in binding


@pytest.mark.parametrize(
    "body",
    [b"\t// code()", b"\t//\tnested()", b"\t//  two_spaces()", b"// less()", b"\t//tight()", b"\t// \tspace_tab()",
     b"\t//\t return_tab_space()", b"\t//\t\t  tabs_spaces()"],
)
def test_body_indentation_round_trips(body: bytes) -> None:
    source = b"package p\n\nfunc f() {\n\t// gofail: var X int\n" + body + b"\n}\n"
    assert disable_source(enable_source(source).source).source == source


def test_a_body_deeper_than_its_header_comes_back_at_the_header_like_gofail() -> None:
    """`\t\t// x` and `\t//\t x` enable to the same bytes; real bodies stand at their header's indentation."""
    deeper = b"package p\n\nfunc f() {\n\t// gofail: var X int\n\t\t// deeper()\n}\n"
    assert disable_source(enable_source(deeper).source).source == deeper.replace(b"\t\t// deeper", b"\t//\t deeper")
