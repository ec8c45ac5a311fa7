"""assert_rewrite(case): one golden case of the rewriter checked whole, with a readable diff."""

from __future__ import annotations

import difflib
from pathlib import Path

from gofail_py.rewriter import syntax
from gofail_py.rewriter.rewrite import binding_file_name, binding_source, disable_source, enable_source
from tests.support.goprog import TESTDATA

GOLDEN = TESTDATA / "rewrite"


def golden_cases() -> list[str]:
    return sorted(p.name for p in GOLDEN.iterdir() if p.is_dir())


def _case_files(case: str) -> tuple[Path, Path, Path]:
    folder = GOLDEN / case
    source = next(folder.glob("input*.go"))
    suffix = source.name[len("input"):]
    expected = folder / ("expected" + suffix)
    binding = folder / ("expected" + binding_file_name(source.name)[len("input"):])
    return source, expected, binding


def _same(what: str, got: bytes, want: bytes, want_name: str) -> None:
    if got == want:
        return
    diff = difflib.unified_diff(want.decode(errors="replace").splitlines(keepends=True),
                                got.decode(errors="replace").splitlines(keepends=True),
                                fromfile=want_name, tofile=f"{what} (got)")
    raise AssertionError(f"{what} differs from {want_name}:\n{''.join(diff)}")


def assert_rewrite(case: str) -> None:
    """enable gives the expected bytes and binding; disable gives the input back; enable is
    idempotent; the line count is kept; the enabled code parses. A mismatch shows a unified diff."""
    source, expected, binding = _case_files(case)
    original, enabled = source.read_bytes(), expected.read_bytes()
    result = enable_source(original, str(source))
    _same("enable(input)", result.source, enabled, str(expected))
    _same("binding file", binding_source(result.markers), binding.read_bytes(), str(binding))
    _same("disable(expected)", disable_source(enabled).source, original, str(source))
    _same("enable(expected)", enable_source(enabled).source, enabled, str(expected))
    assert not disable_source(original).changed, f"{case}: disable of the plain input changed it"
    assert enabled.count(b"\n") == original.count(b"\n"), f"{case}: enable changed the line count"
    assert not syntax.parse(enabled).root_node.has_error, f"{case}: the enabled code does not parse"
