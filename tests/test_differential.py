"""gofail-py against the real Go gofail v0.2.0 on the same trees, compared byte for byte."""

from __future__ import annotations

import filecmp
from pathlib import Path

from gofail_py.rewriter import workspace
from tests.conftest import tree_digest
from tests.support.goprog import REPO
from tests.support.gotools import (
    ETCD_SERVER,
    ETCD_VERSION,
    dirs_with_markers,
    module_dir,
    run_go_gofail,
    writable_copy,
)


def _differences(ours: Path, theirs: Path) -> list[str]:
    """Files whose bytes differ (modes aside: gofail v0.2.0 leaves every file it rewrites at 0600)."""
    a, b = tree_digest(ours, modes=False), tree_digest(theirs, modes=False)
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))


def test_etcd_server_module_enable_and_disable_are_byte_identical(tmp_path: Path) -> None:
    original = module_dir(ETCD_SERVER, ETCD_VERSION)
    ours = writable_copy(original, tmp_path / "ours")
    theirs = writable_copy(original, tmp_path / "theirs")
    dirs = dirs_with_markers(theirs)

    plan = workspace.enable([ours / "..."])
    run_go_gofail("enable", theirs, dirs)

    assert len(plan.failpoints) >= 40, "etcd's server module carries 40+ failpoints"
    assert _differences(ours, theirs) == []
    enabled_files = [c.path for c in plan.changes if c.kind == "rewrite"]
    assert len(enabled_files) == len([p for p in theirs.rglob("*.fail.go")])
    # the documented fix: gofail-py keeps file modes, gofail v0.2.0 leaves 0600 behind
    for path in enabled_files:
        relative = path.relative_to(ours)
        assert (original / relative).stat().st_mode & 0o777 | 0o200 == path.stat().st_mode & 0o777
        assert (theirs / relative).stat().st_mode & 0o777 == 0o600

    # our disable on the Go tool's output, and each tool's disable on its own output
    workspace.disable([theirs / "..."])
    assert _differences(theirs, original) == []
    workspace.disable([ours / "..."])
    assert _differences(ours, original) == []


def test_kvserver_differs_only_by_the_documented_package_fix(tmp_path: Path) -> None:
    source = REPO / "examples" / "kvserver"
    ours = writable_copy(source, tmp_path / "ours" / "kvserver")
    theirs = writable_copy(source, tmp_path / "theirs" / "kvserver")
    workspace.enable([ours])
    run_go_gofail("enable", theirs, ["."])
    assert _differences(ours, theirs) == ["store.fail.go"]
    # gofail v0.2.0 names the package after the directory; the file says `package main`
    assert b"\npackage kvserver\n" in (theirs / "store.fail.go").read_bytes()
    ours_binding = (ours / "store.fail.go").read_bytes()
    assert ours_binding == (theirs / "store.fail.go").read_bytes().replace(b"package kvserver", b"package main")
    assert filecmp.cmp(ours / "store.go", theirs / "store.go", shallow=False)


def test_go_gofail_rewrites_markers_in_raw_strings_and_we_do_not(tmp_path: Path) -> None:
    case = REPO / "testdata" / "rewrite" / "raw_string"
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "input.go").write_bytes((case / "input.go").read_bytes())
    run_go_gofail("enable", theirs, ["."])
    go_output = (theirs / "input.go").read_bytes()
    assert b"__fp_notAFailpoint" in go_output, "gofail v0.2.0 rewrites the line inside the raw string"
    assert b"__fp_notAFailpoint" not in (case / "expected.go").read_bytes()


def test_buildmod_differs_only_by_the_documented_fixes(tmp_path: Path) -> None:
    """The build-test module through both tools: same rewrites; bindings differ only as documented."""
    source = REPO / "testdata" / "buildmod"
    ours = writable_copy(source, tmp_path / "ours" / "buildmod")
    theirs = writable_copy(source, tmp_path / "theirs" / "buildmod")
    workspace.enable([ours / "..."])
    run_go_gofail("enable", theirs, ["./cmd/buildmod", "./store"])
    # fix 1: `package main` from the package clause (gofail v0.2.0 writes `package buildmod`);
    # fix 2: the _test.go file gets store.fail_test.go, gofail writes store_test.fail.go;
    # fix 3: the header right below putFail's body starts a failpoint; gofail swallows it as body
    assert _differences(ours, theirs) == [
        "cmd/buildmod/main.fail.go", "store/store.fail.go", "store/store.fail_test.go", "store/store.go",
        "store/store_test.fail.go",
    ]
    assert b"\t\t gofail: var putRename string\n" in (theirs / "store/store.go").read_bytes()
    assert b"__fp_putRename" not in (theirs / "store/store.fail.go").read_bytes()
    for name in ("cmd/buildmod/main.go", "store/store_test.go"):
        assert (ours / name).read_bytes() == (theirs / name).read_bytes(), name
    assert b"\npackage buildmod\n" in (theirs / "cmd/buildmod/main.fail.go").read_bytes()
    assert b"\npackage main\n" in (ours / "cmd/buildmod/main.fail.go").read_bytes()
    workspace.disable([theirs / "..."])
    workspace.disable([ours / "..."])
    assert _differences(ours, source) == [] and _differences(theirs, source) == []


def test_go_gofail_rewrites_markers_in_block_comments_and_we_do_not(tmp_path: Path) -> None:
    case = REPO / "testdata" / "rewrite" / "block_comment"
    theirs = tmp_path / "theirs"
    theirs.mkdir()
    (theirs / "input.go").write_bytes((case / "input.go").read_bytes())
    run_go_gofail("enable", theirs, ["."])
    assert b"__fp_insideBlock" in (theirs / "input.go").read_bytes(), "gofail v0.2.0 rewrites inside /* */"
    assert b"__fp_insideBlock" not in (case / "expected.go").read_bytes()
    # the real failpoint below the comment is written the same by both tools
    assert (theirs / "input.go").read_bytes().splitlines()[6:] == (case / "expected.go").read_bytes().splitlines()[6:]


def test_tab_space_bodies_round_trip_like_the_go_gofail(tmp_path: Path) -> None:
    """`//\t return ...` at the header's indentation: both tools enable alike and both disables restore it."""
    case = REPO / "testdata" / "rewrite" / "tab_space_body"
    ours, theirs = tmp_path / "ours" / "tabspace", tmp_path / "theirs" / "tabspace"
    for folder in (ours, theirs):
        folder.mkdir(parents=True)
        (folder / "input.go").write_bytes((case / "input.go").read_bytes())
    workspace.enable([ours])
    run_go_gofail("enable", theirs, ["."])
    assert (ours / "input.go").read_bytes() == (theirs / "input.go").read_bytes() == (case / "expected.go").read_bytes()
    workspace.disable([theirs])
    run_go_gofail("disable", ours, ["."])
    assert (theirs / "input.go").read_bytes() == (case / "input.go").read_bytes(), "our disable of gofail's output"
    assert (ours / "input.go").read_bytes() == (case / "input.go").read_bytes(), "gofail's disable of ours"
    workspace.enable([ours])
    workspace.disable([ours])
    assert (ours / "input.go").read_bytes() == (case / "input.go").read_bytes()
