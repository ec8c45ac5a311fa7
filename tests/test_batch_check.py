"""enable checks a file's enabled failpoints in one parse; it must accept only what checking each
alone accepts (rewrite._all_enabled_code_valid against the per-failpoint parse)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from gofail_py.rewriter import syntax
from gofail_py.rewriter.rewrite import _all_enabled_code_valid

FRAGMENTS = ["x := 1", "}", "{", "if x {", "func y() {", "}\nfunc z() {", "return", "var v int", ")", "(", "/*", "*/",
             "`", '"', "// c", "package q", "import \"os\"", "type T struct {", "case 1:", "default:", "go f()", ""]


def _alone_is_valid(lines: list[bytes]) -> bool:
    snippet = b"package p\nfunc _() {\n" + b"\n".join(lines) + b"\n}\n"
    return syntax.first_error(syntax.parse(snippet).root_node) is None


@settings(max_examples=400, deadline=None)
@given(st.lists(st.lists(st.sampled_from(FRAGMENTS), min_size=1, max_size=4), min_size=2, max_size=4))
def test_one_parse_accepts_only_what_each_parse_accepts(bodies: list[list[str]]) -> None:
    snippets = [[line.encode() for line in body] for body in bodies]
    if _all_enabled_code_valid(snippets):
        assert all(_alone_is_valid(lines) for lines in snippets)


def test_one_parse_accepts_ordinary_failpoints() -> None:
    snippets = [[b"\tif v, __fpErr := __fp_a.Acquire(); __fpErr == nil { _ = v; __fp_a.Release() }"], [b"\tx := 1", b"\t_ = x"]]
    assert all(_alone_is_valid(lines) for lines in snippets) and _all_enabled_code_valid(snippets)
