"""The forked helper (gofail_py/children.py) that checks half of a big tree against the stat index on
warm runs: what it finds is what the main process would find, a helper that fails or cannot be
made leaves its half to the main process, and no helper outlives its call."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from gofail_py import children as forked
from gofail_py.rewriter import collect, workspace
from gofail_py.rewriter.collect import FILES_TO_SPLIT
from tests.support.procs import children

pytestmark = pytest.mark.slow

PLAIN = "package p{d}\n\nfunc F{n}() {{}}\n"
MARKED = "package p{d}\n\nfunc F{n}() {{\n\t// gofail: var fp{d}x{n} struct{{}}\n}}\n"
PAST = time.time_ns() - 3600 * 10**9
DIRS, PER_DIR = 40, 10


@pytest.fixture(autouse=True)
def _no_helper_left() -> Iterator[None]:
    before = children()
    yield
    assert children() <= before, "a helper outlived its call"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Old enough to be recorded whole by the first run (git's racy rule), then recorded."""
    root = tmp_path / "tree"
    for d in range(DIRS):
        (root / f"d{d:02d}").mkdir(parents=True)
        for n in range(PER_DIR):
            (root / f"d{d:02d}" / f"f{n}.go").write_text(PLAIN.format(d=d, n=n))
    for path in [root, *root.rglob("*")]:
        os.utime(path, ns=(PAST, PAST))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.chdir(root)
    time.sleep(2.2)
    assert workspace.list_failpoints(["./..."]) == []
    return root


@pytest.fixture
def helpers(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The helpers made, by pid; every tree here splits. Under pytest-xdist the guard
    (collect._may_fork) rules the fork out, as the test process runs more threads: it is allowed
    here (the child only makes system calls and exits)."""
    made: list[int] = []
    original = forked.Forked.__init__

    def counting(self: forked.Forked, *args: Any) -> None:
        original(self, *args)  # never returns in the child
        made.append(self.pid)

    monkeypatch.setattr(collect, "_may_fork", lambda: True)
    monkeypatch.setattr(collect, "FILES_TO_SPLIT", 1)
    monkeypatch.setattr(forked.Forked, "__init__", counting)
    return made


def _edit_in_place(path: Path, text: str) -> None:
    """A new content with the directory's signature unchanged: the directory is taken from the
    index and only the file's own signature tells."""
    with open(path, "r+") as file:
        file.write(text)


def _listed() -> list[str]:
    return [located.failpoint.name for located in workspace.list_failpoints(["./..."])]


def test_files_changed_in_either_half_are_read_again(tree: Path, helpers: list[int]) -> None:
    _edit_in_place(tree / "d00" / "f3.go", MARKED.format(d=0, n=3))  # the main process's half
    _edit_in_place(tree / f"d{DIRS - 1}" / "f7.go", MARKED.format(d=DIRS - 1, n=7))  # the helper's
    os.unlink(tree / f"d{DIRS - 2}" / "f1.go")  # gone: the read skips it
    assert _listed() == ["fp0x3", f"fp{DIRS - 1}x7"]
    assert len(helpers) == 1 and helpers[0] > 0


def test_the_same_without_a_helper(tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    made: list[object] = []
    monkeypatch.setattr(forked.Forked, "__init__", lambda *args: made.append(args))
    _edit_in_place(tree / f"d{DIRS - 1}" / "f7.go", MARKED.format(d=DIRS - 1, n=7))
    assert _listed() == [f"fp{DIRS - 1}x7"]
    assert FILES_TO_SPLIT > DIRS * PER_DIR and not made  # this tree is too small to split


def test_a_failing_helper_leaves_its_half_to_the_main_process(tree: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    main = os.getpid()
    original = collect._changed_files

    def failing_in_the_child(*args: Any) -> Any:
        if os.getpid() != main:
            raise RuntimeError("the helper fails")
        return original(*args)

    monkeypatch.setattr(collect, "_changed_files", failing_in_the_child)
    _edit_in_place(tree / f"d{DIRS - 1}" / "f7.go", MARKED.format(d=DIRS - 1, n=7))
    assert _listed() == [f"fp{DIRS - 1}x7"]
    assert len(helpers) == 1


def test_a_helper_killed_midway_leaves_its_half_to_the_main_process(tree: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    main = os.getpid()
    original = collect._changed_files

    def killed_in_the_child(*args: Any) -> Any:
        if os.getpid() != main:
            os.kill(os.getpid(), 9)
        return original(*args)

    monkeypatch.setattr(collect, "_changed_files", killed_in_the_child)
    _edit_in_place(tree / "d39" / "f0.go", MARKED.format(d=39, n=0))
    assert _listed() == ["fp39x0"]
    assert len(helpers) == 1


def test_no_process_left_to_fork(tree: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    def no_fork() -> int:
        raise BlockingIOError(11, "Resource temporarily unavailable")

    monkeypatch.setattr(os, "fork", no_fork)
    _edit_in_place(tree / "d39" / "f0.go", MARKED.format(d=39, n=0))
    assert _listed() == ["fp39x0"]
    assert not helpers


def test_a_helper_is_stopped_when_the_caller_is_interrupted(tmp_path: Path) -> None:
    """An exception in the caller (Ctrl-C) while the helper works: it is killed and reaped."""
    helper = forked.Forked(time.sleep, 30)
    pid = helper.pid
    started = time.monotonic()
    helper.stop()
    assert time.monotonic() - started < 5
    assert not Path(f"/proc/{pid}").exists() or "Z" not in Path(f"/proc/{pid}/stat").read_text().split()[2]


def test_a_helper_returns_what_the_function_returns() -> None:
    helper = forked.Forked(sorted, ["b", "a"])
    assert helper.result() == ["a", "b"]


def test_the_helper_takes_about_half_the_files() -> None:
    def reused(sizes: list[int]) -> list[tuple[str, tuple[int, int, bytes]]]:
        out, start = [], 0
        for k, size in enumerate(sizes):
            out.append((f"d{k}", (start, start + size, b"")))
            start += size
        return out

    assert collect._half_by_files(reused([10] * 40)) == 20
    assert collect._half_by_files(reused([1, 1, 1, 97])) == 4
    assert collect._half_by_files(reused([97, 1, 1, 1])) == 1
    assert collect._half_by_files(reused([])) == 0


def test_no_helper_when_few_files_come_from_the_index(tree: Path, helpers: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """What counts is the files to check against the index, not the files of the tree: here the
    directories a run lists again (their signature moved) hold most of them."""
    monkeypatch.setattr(collect, "FILES_TO_SPLIT", PER_DIR * 5)
    for d in range(DIRS - 4):  # a name added and removed: the directory's signature moves
        (tree / f"d{d:02d}" / "new.tmp").touch()
        (tree / f"d{d:02d}" / "new.tmp").unlink()
    assert _listed() == []
    assert not helpers
    assert _listed() == [] and not helpers  # the directories listed again are racy: again no helper
