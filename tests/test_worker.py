"""The forked worker of big cold runs (gofail_py/rewriter/worker.py): what it hands back is what the main
process would have made, in the same order (results, failpoints, every marker error), anything
it cannot do the main process does, and it never outlives the run."""

from __future__ import annotations

import os
import signal
from collections.abc import Iterator
from typing import Any
from pathlib import Path

import pytest

from gofail_py.rewriter import collect, rewrite, workspace
from gofail_py.errors import MarkerErrors
from benchmarks.gen_tree import generate_tree
from tests.support.procs import children

pytestmark = pytest.mark.slow

BROKEN = "package p{n}\n\nfunc F() {{\n\t// gofail: var bad{n} int\n\t// return ((\n}}\n"


@pytest.fixture(autouse=True)
def _no_worker_left() -> Iterator[None]:
    before = children()
    yield
    assert children() <= before, "a worker outlived its run"


@pytest.fixture
def tree(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "tree"
    generate_tree(root, 600, failpoint_ratio=0.05)
    monkeypatch.chdir(root)
    return root


@pytest.fixture
def forks(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """The workers made, by pid. Under pytest-xdist the test process runs more threads and the
    guard (collect._may_fork) rules the fork out, so every test here would pass without a worker:
    the fork is allowed here (the child only transforms and exits; CPython resets its import lock
    in it), and the tests check that one was made. test_the_worker_takes_the_files_with_gofail_text
    checks the real guard, in a one-thread process."""
    from gofail_py.rewriter import worker

    made: list[int] = []
    original = worker.Worker.__init__

    def counting(self: worker.Worker, *args: Any, **kwargs: Any) -> None:
        original(self, *args, **kwargs)  # never returns in the worker itself
        made.append(self.pid)

    monkeypatch.setattr(collect, "_may_fork", lambda: True)
    monkeypatch.setattr(worker.Worker, "__init__", counting)
    return made


def _plan(worker: bool, monkeypatch: pytest.MonkeyPatch) -> workspace.Plan:
    monkeypatch.setattr(collect, "FILES_FOR_A_WORKER", 1 if worker else 10**9)
    return workspace.plan_enable(["./..."], cache=False)


def test_the_worker_hands_back_what_the_main_process_makes(tree: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    alone = _plan(False, monkeypatch)
    assert not forks
    helped = _plan(True, monkeypatch)
    assert len(forks) == 1 and forks[0] > 0
    assert helped.changes == alone.changes and len(helped.changes) > 40
    assert helped.failpoints == alone.failpoints


def test_marker_errors_come_back_in_file_order(tree: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    for n in (3, 1, 2):
        (tree / f"broken{n}").mkdir()
        (tree / f"broken{n}" / "b.go").write_text(BROKEN.format(n=n))
    (tree / "broken2" / "utf8.go").write_bytes(b"package p\n\n// \xff\n")  # found by the main process
    messages = []
    for worker in (False, True):
        with pytest.raises(MarkerErrors) as caught:
            _plan(worker, monkeypatch)
        messages.append(str(caught.value))
    assert len(forks) == 1
    assert messages[0] == messages[1] and messages[0].count("\n") == 3, messages


def test_what_the_worker_cannot_do_the_main_process_does(tree: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """An exception other than a marker error is raised as without a worker: by the main process,
    which transforms that file itself."""
    calls = []  # in this process only: the worker's calls stay in its own memory
    failing = min(str(p.relative_to(tree)) for p in tree.rglob("*.go") if b"gofail" in p.read_bytes())

    def enable_source(source: bytes, path: str) -> rewrite.RewriteResult:
        calls.append((os.getpid(), path))
        if path == failing:
            raise RuntimeError(f"cannot do {path}")
        return rewrite.enable_source(source, path)

    monkeypatch.setattr(collect, "FILES_FOR_A_WORKER", 1)
    with pytest.raises(RuntimeError, match="cannot do"):
        collect.collect(["./..."], enable_source, use_cache=False)
    assert len(forks) == 1
    assert calls == [(os.getpid(), failing)], "the worker did every other file; the main process that one"


_COUNTED = """
import os, sys
from gofail_py.rewriter import collect, rewrite
main, calls, original = os.getpid(), [], rewrite.enable_source
def enable_source(source, path):
    if os.getpid() == main:
        calls.append(path)
    return original(source, path)
collect.FILES_FOR_A_WORKER = int(sys.argv[1])
collect.collect(["./..."], enable_source, use_cache=False)
print(len(calls))
"""


def test_the_worker_takes_the_files_with_gofail_text(tree: Path) -> None:
    """In a process with one thread: pytest-xdist's have more, so under -n the guard rules the fork
    out and the other tests here see the main process do everything (as it must, there)."""
    import subprocess
    import sys

    marked = [p for p in tree.rglob("*.go") if b"gofail" in p.read_bytes()]
    counts = [int(subprocess.run([sys.executable, "-c", _COUNTED, str(limit)], cwd=tree, check=True,
                                 capture_output=True, text=True).stdout) for limit in (10**9, 1)]
    assert counts == [len(marked), 0], (counts, len(marked))


def test_a_worker_that_dies_leaves_its_files_to_the_main_process(tree: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    main, original = os.getpid(), rewrite.enable_source
    expected = workspace.plan_enable(["./..."], cache=False).changes

    def enable_source(source: bytes, path: str) -> rewrite.RewriteResult:  # kills the worker at its first file
        if os.getpid() != main:
            os.kill(os.getpid(), signal.SIGKILL)
        return original(source, path)

    monkeypatch.setattr(collect, "FILES_FOR_A_WORKER", 1)
    monkeypatch.setattr(rewrite, "enable_source", enable_source)
    assert workspace.plan_enable(["./..."], cache=False).changes == expected
    assert len(forks) == 1


def test_a_dead_worker_is_no_sigpipe_for_a_process_that_takes_the_default(tree: Path, forks: list[int], monkeypatch: pytest.MonkeyPatch) -> None:
    """A caller may have SIGPIPE at its default (end the process): writing to a dead worker's pipe
    must still be an error the run handles, and the caller's setting comes back after the run."""
    from gofail_py.rewriter import worker

    expected = workspace.plan_enable(["./..."], cache=False).changes
    monkeypatch.setattr(collect, "FILES_FOR_A_WORKER", 1)
    monkeypatch.setattr(worker, "_serve", lambda *args: os._exit(1))  # a worker that dies at once
    previous = signal.signal(signal.SIGPIPE, signal.SIG_DFL)
    try:
        assert workspace.plan_enable(["./..."], cache=False).changes == expected
        assert signal.getsignal(signal.SIGPIPE) == signal.SIG_DFL
        assert len(forks) == 1
    finally:
        signal.signal(signal.SIGPIPE, previous)


def _entries(cache_home: Path) -> list[Path]:
    return [p for p in cache_home.glob("gofail-py/*/r/*") if p.is_file()]


def test_the_worker_writes_its_cache_entries_before_the_run_ends(tree: Path, tmp_path: Path, forks: list[int],
                                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    """It writes them after its answers, while the main process goes on: the run waits for them."""
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(collect, "FILES_FOR_A_WORKER", 1)
    marked = [p for p in tree.rglob("*.go") if b"gofail" in p.read_bytes()]
    workspace.plan_enable(["./..."])
    assert len(forks) == 1
    assert len(_entries(tmp_path / "cache")) == len(marked) > 20


def test_a_worker_stuck_in_its_cache_writes_is_killed(tree: Path, tmp_path: Path, forks: list[int],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    """Stopped (SIGSTOP) after its answers: the run waits worker.FINISH_WITHIN, then kills and
    reaps it; the results are all there."""
    import time

    from gofail_py.rewriter import worker

    def stopped(*args: Any) -> None:
        os.kill(os.getpid(), signal.SIGSTOP)

    expected = workspace.plan_enable(["./..."], cache=False).changes  # too small a tree for a worker
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    monkeypatch.setattr(collect, "FILES_FOR_A_WORKER", 1)
    monkeypatch.setattr(worker, "FINISH_WITHIN", 0.5)
    monkeypatch.setattr(worker, "_remember_rest", stopped)
    began = time.monotonic()
    assert workspace.plan_enable(["./..."]).changes == expected
    assert time.monotonic() - began < 10
    assert len(forks) == 1
