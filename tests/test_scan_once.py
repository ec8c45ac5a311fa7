"""enable and disable scan the tree once, before taking the module locks (docs/speed.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from gofail_py.rewriter import modules, workspace
from gofail_py.rewriter.gofiles import find_go_files
from gofail_py.rewriter.gomod import module_root

MARKED = "package {p}\n\nfunc F() {{\n\t// gofail: var {p}Fp struct{{}}\n}}\n"


def _tree(root: Path) -> None:
    for rel, module in [("a", True), ("a/b", False), ("a/b/c", True), ("d", False), ("d/e", True), ("d/e/f", False)]:
        folder = root / rel
        folder.mkdir(parents=True)
        name = rel.replace("/", "")
        (folder / "x.go").write_text(MARKED.format(p=name))
        if module:
            (folder / "go.mod").write_text(f"module example.com/{name}\n\ngo 1.21\n")
    (root / "linked").symlink_to(root / "a" / "b", target_is_directory=True)
    (root / "d" / "e" / "f" / "go.mod").symlink_to(root / "a" / "go.mod")  # a go.mod that is a link counts


def test_lock_keys_from_the_scan_are_the_module_roots_of_every_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    for paths in (["./..."], ["a/..."], ["linked/..."], ["linked"], ["d/e/f/x.go", "a/b"], [str(tmp_path) + "/..."], ["d/..."]):
        found = find_go_files(paths)
        expected = modules.arg_keys(paths) + [module_root(Path(p).parent) for p in found.files]
        keys = modules.lock_keys(paths, found)
        assert len(keys) == len(set(keys)) and set(keys) == {k for k in expected if k is not None}, paths


def test_a_file_gone_between_scan_and_read_is_skipped(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    _tree(tmp_path)
    monkeypatch.chdir(tmp_path)
    found = find_go_files(["./..."])
    (tmp_path / "d" / "x.go").unlink()  # as a binding another run deleted after this run's scan
    plan = workspace.plan_enable(["./..."], cache=False, found=found)
    assert sorted(str(fp.path) for fp in plan.failpoints) == ["a/b/c/x.go", "a/b/x.go", "a/x.go", "d/e/f/x.go", "d/e/x.go"]
