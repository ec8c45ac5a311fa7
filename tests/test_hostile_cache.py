"""Hostile runs against the stat index and the forked worker of big cold runs (docs/speed.md): a
run killed under its worker, a caller's process state the worker must live with (SIGCHLD
ignored, threads the threading module does not know), a cache entry that is not a file, and
trees mutated between runs behind the index's back."""

from __future__ import annotations

import _thread
import os
import resource
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from benchmarks.gen_tree import generate_tree
from gofail_py.rewriter import cache, workspace
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
from gofail_py.rewriter import collect, rewrite
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


def test_the_api_called_from_a_thread_does_not_fork(big_tree: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A library caller's thread (the main thread waiting on it): no worker, the same plan."""
    import threading

    monkeypatch.chdir(big_tree)
    plans: list[workspace.Plan] = []
    del _FORKS[:]
    thread = threading.Thread(target=lambda: plans.append(workspace.plan_enable(["./..."], cache=False)))
    thread.start()
    thread.join(timeout=120)
    assert _FORKS == [] and len(plans) == 1, "forked a worker from a thread"
    assert plans[0].changes == workspace.plan_enable(["./..."], cache=False).changes  # here it may fork


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


def test_a_run_with_few_descriptors_left_does_without_its_worker(big_tree: Path, tmp_path: Path) -> None:
    """ulimit -n so low that the worker's pipes cannot be made (a few descriptors more let the run
    read its files): the run does the work itself, or says cleanly why it cannot; never a traceback."""
    expected = _run(big_tree, tmp_path / "c0", "list", "--json", "--no-cache", "./...")
    assert expected.returncode == 0
    outcomes = {}
    for limit in range(5, 10):
        result = _run(big_tree, tmp_path / f"c{limit}", "list", "--json", "--no-cache", "./...",
                      preexec_fn=lambda limit=limit: resource.setrlimit(resource.RLIMIT_NOFILE, (limit, limit)))
        assert result.returncode in (0, 2), result.stderr[-2000:]
        if result.returncode == 0:
            assert (result.stdout, result.stderr) == (expected.stdout, "")
        outcomes[limit] = result.returncode
    assert 0 in outcomes.values(), outcomes


def _pids_cgroup(tmp_name: str) -> Path | None:
    """A new pids cgroup (v1 hierarchy or v2 with the controller on), None where we cannot make one."""
    for parent in (Path("/sys/fs/cgroup/pids"), Path("/sys/fs/cgroup")):
        if (parent / "cgroup.procs").exists() and (parent == Path("/sys/fs/cgroup/pids") or "pids" in (parent / "cgroup.subtree_control").read_text().split()):
            try:
                group = parent / tmp_name
                group.mkdir()
                return group
            except OSError:
                return None
    return None


def test_a_run_that_cannot_fork_does_without_its_worker(big_tree: Path, tmp_path: Path) -> None:
    """No process left to fork (a container's pids limit, ulimit -u): the run does the work itself."""
    group = _pids_cgroup(f"gofail-py-test-{os.getpid()}")
    if group is None:
        pytest.skip("no pids cgroup can be made here (needs root and the pids controller)")
    try:
        (group / "pids.max").write_text("1")  # this process alone: fork fails with EAGAIN
        expected = _run(big_tree, tmp_path / "c0", "list", "--json", "--no-cache", "./...")
        result = _run(big_tree, tmp_path / "c1", "list", "--json", "--no-cache", "./...",
                      preexec_fn=lambda: (group / "cgroup.procs").write_text(str(os.getpid())))
        assert (result.returncode, result.stdout, result.stderr) == (0, expected.stdout, "")
    finally:
        group.rmdir()


def test_a_run_from_a_deleted_directory_says_so(tmp_path: Path) -> None:
    """The shell's directory deleted under it (a `git checkout` elsewhere, `rm -rf` in another
    terminal): relative paths name nothing, which is said cleanly; absolute paths still work."""
    tree, gone = tmp_path / "tree", tmp_path / "gone"
    generate_tree(tree, 20, failpoint_ratio=0.5)
    expected = _run(tree, tmp_path / "c0", "list", "--json", str(tree) + "/...")
    assert expected.returncode == 0 and '"name"' in expected.stdout
    gone.mkdir()
    deleted = lambda: (os.chdir(gone), os.rmdir(gone))  # noqa: E731 - the child's cwd, then gone
    for args in (["list"], ["list", "--no-cache"], ["enable"], ["disable", "--no-cache"]):
        result = _run(tmp_path, tmp_path / "c1", *args, "./...", preexec_fn=deleted)
        assert result.returncode == 2 and "current directory" in result.stderr, (args, result.stderr)
        gone.mkdir()
    result = _run(tmp_path, tmp_path / "c1", "list", "--json", str(tree) + "/...", preexec_fn=deleted)
    assert (result.returncode, result.stdout, result.stderr) == (0, expected.stdout, "")


def test_a_new_version_of_the_scan_does_not_reuse_the_old_ones_listings(tmp_path: Path) -> None:
    """Two installs of gofail-py sharing ~/.cache (an upgrade, an editable checkout being edited)
    whose scan differs: the newer must not take the older's listings for its own. Here the newer
    enters testdata/, which the older left out."""
    import shutil

    versions = []
    for name in ("old", "new"):
        root = tmp_path / name
        shutil.copytree(REPO / "gofail_py", root / "gofail_py", ignore=shutil.ignore_patterns("__pycache__"))
        for folder in ("grammars", "templates"):
            shutil.copytree(REPO / folder, root / folder)
        versions.append(root)
    gofiles = versions[1] / "gofail_py" / "rewriter" / "gofiles.py"
    text = gofiles.read_text()
    assert '_SKIPPED_DIRS = ("vendor", "testdata")' in text
    gofiles.write_text(text.replace('_SKIPPED_DIRS = ("vendor", "testdata")', '_SKIPPED_DIRS = ("vendor",)'))
    tree = tmp_path / "tree"
    (tree / "a" / "testdata").mkdir(parents=True)
    (tree / "a" / "x.go").write_text("package a\n\nfunc F() {\n\t// gofail: var inA struct{}\n}\n")
    (tree / "a" / "testdata" / "t.go").write_text("package t\n\nfunc T() {\n\t// gofail: var inTestdata struct{}\n}\n")
    past = time.time_ns() - 3600 * 10**9
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, ns=(past, past))
    time.sleep(2.2)  # out of the racy window: the listings are recorded

    def listed(version: Path, *args: str) -> str:
        env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(version))
        result = subprocess.run([sys.executable, "-m", "gofail_py.cli", "list", *args, "./..."], cwd=tree, env=env,
                                capture_output=True, text=True, timeout=120)
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert "inTestdata" not in listed(versions[0]) and "inTestdata" not in listed(versions[0])
    assert "inTestdata" in listed(versions[1], "--no-cache")
    assert listed(versions[1]) == listed(versions[1], "--no-cache")
