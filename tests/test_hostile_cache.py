"""Hostile runs against the stat index and the forked worker of big cold runs (docs/speed.md): a
run killed under its worker, a caller's process state the worker must live with (SIGCHLD
ignored, threads the threading module does not know), a cache entry that is not a file, and
trees mutated between runs behind the index's back."""

from __future__ import annotations

import _thread
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.gen_tree import generate_tree
from gofail_py import cache, workspace
from tests.support.goprog import REPO
from tests.support.hostile import GOFAIL_PY

pytestmark = pytest.mark.hostile  # a suite of its own: .ci/run runs it, `pytest -m hostile`

BIG = 5200  # above collect.FILES_FOR_A_WORKER: a cold run forks its worker


@pytest.fixture(scope="module")
def big_tree(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("big") / "tree"
    generate_tree(root, BIG, failpoint_ratio=0.05)
    return root


def _run(cwd: Path, home: Path, *args: str, timeout: float = 120, **popen: object) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(home))
    result = subprocess.run([str(GOFAIL_PY), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, **popen)  # type: ignore[call-overload]
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result  # type: ignore[no-any-return]


def _alive(pid: int) -> bool:
    """Running (a zombie is dead: it may wait for a reaper that a container never runs)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


# A run whose worker is busy with a file for as long as it takes (a huge file, a slow disk):
# here it tells the test its pid and then waits; the main process is meanwhile waiting for it.
_BUSY_RUN = """
import os, sys, time
from gofail_py import collect, rewrite
main, ready = os.getpid(), sys.argv[1]
def enable_source(source, path):
    if os.getpid() != main:
        with open(ready + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(ready + ".tmp", ready)
        time.sleep(600)
    return rewrite.enable_source(source, path)
collect.FILES_FOR_A_WORKER = 1
collect.collect(["./..."], enable_source, use_cache=False)
"""


@pytest.mark.parametrize("how", [signal.SIGKILL, signal.SIGTERM])
def test_a_worker_dies_with_its_run(tmp_path: Path, how: signal.Signals) -> None:
    """A run killed (SIGKILL, or SIGTERM: a CI job cancelled, `timeout`) while its worker is busy:
    the worker must not live on as an orphan (it holds the run's module lock, among others)."""
    tree = tmp_path / "tree"
    generate_tree(tree, 40, failpoint_ratio=0.5)
    ready = tmp_path / "worker.pid"
    env = dict(os.environ, PYTHONPATH=str(REPO), XDG_CACHE_HOME=str(tmp_path / "cache"))
    run = subprocess.Popen([sys.executable, "-c", _BUSY_RUN, str(ready)], cwd=tree, env=env)
    worker = 0
    try:
        deadline = time.monotonic() + 60
        while not ready.exists():
            assert run.poll() is None and time.monotonic() < deadline, "the worker never started"
            time.sleep(0.02)
        worker = int(ready.read_text())
        assert _alive(worker)
        run.send_signal(how)
        run.wait(timeout=30)
        deadline = time.monotonic() + 15  # a deadline, not a timing: left alone it waits 600 s
        while _alive(worker) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert not _alive(worker), "the worker outlived its run"
    finally:
        run.kill()
        run.wait()
        if worker and _alive(worker):
            os.kill(worker, signal.SIGKILL)


def test_a_run_started_with_sigchld_ignored_reaps_its_worker(big_tree: Path, tmp_path: Path) -> None:
    """SIGCHLD ignored is inherited through exec (a parent that ignores it, some supervisors do):
    the kernel then reaps the worker itself, and waiting for it must not be a crash."""
    expected = _run(big_tree, tmp_path / "c0", "list", "--json", "--no-cache", "./...")
    assert expected.returncode == 0 and expected.stdout.count('"name"') > 100
    for args in (["--no-cache"], []):  # both fork: the cache does not hold these files yet
        result = _run(big_tree, tmp_path / "c1", "list", "--json", *args, "./...",
                      preexec_fn=lambda: signal.signal(signal.SIGCHLD, signal.SIG_IGN))
        assert (result.returncode, result.stdout, result.stderr) == (0, expected.stdout, ""), args


@pytest.fixture
def foreign_thread() -> Iterator[None]:
    """A thread the threading module does not count (started with _thread, as a C extension's
    own threads are: grpc's, say)."""
    release, started = _thread.allocate_lock(), _thread.allocate_lock()
    release.acquire()
    started.acquire()

    def wait() -> None:
        started.release()
        release.acquire()

    _thread.start_new_thread(wait, ())
    started.acquire()
    try:
        yield
    finally:
        release.release()


_FORKS: list[int] = []
os.register_at_fork(before=lambda: _FORKS.append(os.getpid()))


def test_no_fork_while_a_thread_unknown_to_threading_runs(big_tree: Path, foreign_thread: None, monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    assert threading.active_count() == 1  # what the worker's guard looked at
    monkeypatch.chdir(big_tree)
    del _FORKS[:]
    plan = workspace.plan_enable(["./..."], cache=False)
    assert len(plan.changes) > 100
    assert _FORKS == [], "forked a worker while another thread ran"


@pytest.mark.parametrize("entry", ["s", "r"])
def test_a_fifo_in_the_cache_is_no_cache(tmp_path: Path, entry: str) -> None:
    """A cache entry that is not a regular file (a FIFO) is read as no entry, never waited on."""
    tree, home = tmp_path / "tree", tmp_path / "cache"
    generate_tree(tree, 30, failpoint_ratio=0.3)
    first = _run(tree, home, "list", "--json", "./...")
    assert first.returncode == 0, first.stderr
    entries = sorted((home / "gofail-py" / cache.fingerprint() / entry).iterdir())
    assert entries
    for path in entries:
        path.unlink()
        os.mkfifo(path)
    again = _run(tree, home, "list", "--json", "./...", timeout=30)
    assert (again.returncode, again.stdout, again.stderr) == (0, first.stdout, "")
    third = _run(tree, home, "list", "--json", "./...", timeout=30)  # and the cache works again
    assert (third.returncode, third.stdout, third.stderr) == (0, first.stdout, "")
