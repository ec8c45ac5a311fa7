"""Hostile runs against the speed work of issue 14 (docs/speed.md): the chunked read loop, the warm
runs' forked helper and the cold runs' worker, with real files and real processes."""

from __future__ import annotations

import os
import resource
import shutil
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from benchmarks.gen_tree import generate_tree
from gofail_py.client import Client
from tests.support.goprog import REPO

pytestmark = pytest.mark.hostile  # a suite of its own: .ci/run runs it, `pytest -m hostile`

BIG = 5200  # above collect.FILES_FOR_A_WORKER and FILES_TO_SPLIT


@pytest.fixture(scope="module")
def pristine(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, int]:
    """A big tree never touched by a run, and how many of its files hold failpoints."""
    root = tmp_path_factory.mktemp("pristine") / "tree"
    return root, generate_tree(root, BIG, failpoint_ratio=0.05)


@pytest.fixture
def big(pristine: tuple[Path, int], tmp_path: Path) -> Path:
    root = tmp_path / "tree"
    shutil.copytree(pristine[0], root, symlinks=True)
    return root


def _python(code: str, cwd: Path, home: Path, *args: str, timeout: float = 120) -> subprocess.CompletedProcess[str]:
    """The Python API in a fresh one-thread process (a caller of the library): it may fork."""
    env = dict(os.environ, XDG_CACHE_HOME=str(home), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", code, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)


def _entries(home: Path) -> list[Path]:
    """The result entries of the cache (r/), whatever the fingerprint folder."""
    return [path for path in home.glob("gofail-py/*/r/*") if not path.name.endswith(".tmp")]


# A library caller with many descriptors open (a server, a long test session): the run's pipes and
# pidfd get numbers from the lowest free one, which this sets (argv[1]).
_MANY_DESCRIPTORS = """
import os, resource, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
from gofail_py.rewriter import workspace
keep = []
while True:
    fd = os.open(os.devnull, os.O_RDONLY)
    if fd >= int(sys.argv[1]):
        os.close(fd)
        break
    keep.append(fd)
print(len(workspace.enable(["./..."]).failpoints))
"""


@pytest.mark.skipif(resource.getrlimit(resource.RLIMIT_NOFILE)[1] < 2048, reason="the hard limit of descriptors is too low")
@pytest.mark.parametrize("lowest_free", [1020, 1100])
def test_a_caller_with_more_than_1024_descriptors_open(big: Path, pristine: tuple[Path, int], tmp_path: Path,
                                                        lowest_free: int) -> None:
    """select() refuses a descriptor numbered 1024 or more (ValueError). From 1020 only the worker's
    pidfd is above (the run raised from Worker.finish); from 1100 its pipes too (the worker died
    at once: every file was transformed again by the main process, and none of it was cached)."""
    home = tmp_path / "cache"
    result = _python(_MANY_DESCRIPTORS, big, home, str(lowest_free))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-3000:]
    assert result.stdout.split() == [str(2 * pristine[1])]
    assert len(_entries(home)) == pristine[1]  # the worker wrote an entry per file with failpoints


def _children(pid: int) -> list[int]:
    found: list[int] = []
    try:
        for task in Path(f"/proc/{pid}/task").iterdir():
            found += [int(child) for child in (task / "children").read_text().split()]
    except OSError:  # the run ended meanwhile
        pass
    return found


def _alive(pid: int) -> bool:
    """Running or stopped (a zombie is dead: it may wait for a reaper that a container never runs)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except (FileNotFoundError, IndexError):
        return False


def test_a_worker_stopped_before_its_answers_does_not_hang_the_run(big: Path, tmp_path: Path) -> None:
    """SIGSTOP of the cold run's worker (a debugger, a job-control slip, a cache write stuck on a
    hung file system: the worker writes cache entries while the main process reads) at whatever
    point before it answers: the run notices, kills it and transforms its files itself, with the
    same results as a run without a cache; it used to wait for the answers forever."""
    home = tmp_path / "cache"
    expected = subprocess.run([str(Path(sys.executable).with_name("gofail-py")), "list", "--json", "--no-cache", "./..."],
                              cwd=big, capture_output=True, text=True, timeout=120, check=True).stdout
    stopped = None
    for _ in range(5):  # the worker lives from the first file with gofail text to the end of the read
        shutil.rmtree(home, ignore_errors=True)
        run = subprocess.Popen([str(Path(sys.executable).with_name("gofail-py")), "list", "--json", "./..."], cwd=big,
                               env=dict(os.environ, XDG_CACHE_HOME=str(home)), stdout=subprocess.PIPE,
                               stderr=subprocess.PIPE, text=True)
        try:
            while run.poll() is None and stopped is None:
                for child in _children(run.pid):
                    os.kill(child, signal.SIGSTOP)
                    stopped = child
            out, err = run.communicate(timeout=60)  # a hang ends the test here
        finally:
            run.kill()
            run.wait()
        if stopped is not None:
            break
    assert stopped is not None, "the worker was never seen"
    assert run.returncode == 0 and "Traceback" not in err, err[-3000:]
    assert out == expected
    assert not _alive(stopped), "the stopped worker outlived its run"


def _stop_self() -> dict[str, list[str]]:
    os.kill(os.getpid(), signal.SIGSTOP)
    return {}


def test_a_stopped_warm_helper_leaves_its_half_to_the_caller() -> None:
    """The warm runs' helper stopped (SIGSTOP) before it hands back its half: `result` says it has
    none (the caller checks that half itself) and the helper is killed and reaped; it used to be
    waited for forever."""
    from gofail_py.children import Forked

    helper = Forked(_stop_self)
    pid = helper.pid
    assert helper.result() is None
    assert not _alive(pid) and pid not in _children(os.getpid())


KVSERVER_FAILPOINTS = ["afterCommit", "beforeCommit", "flakyDisk", "readOnly", "slowWrite", "truncateValue", "writeError"]


@contextmanager
def _armed_at_start(kvserver_binary: Path, tmp_path: Path) -> Iterator[tuple[subprocess.Popen[bytes], Client, dict[str, str]]]:
    """A kvserver whose GOFAIL_FAILPOINTS arms all its failpoints, and a client that knows it."""
    from tests.support.goprog import free_port, start

    env = {"GOFAIL_FAILPOINTS": ";".join(f"{name}=return(1)" for name in KVSERVER_FAILPOINTS)}
    proc, endpoint = start(kvserver_binary, "--listen", f"127.0.0.1:{free_port()}", "--data", str(tmp_path / "d"), env=env)
    try:
        client = Client(endpoint, registration_grace=60)
        client.mark_started(env=env)
        yield proc, client, env
        assert proc.poll() is None
    finally:
        proc.kill()
        proc.communicate()


def test_disable_all_waits_once_for_every_name_armed_at_start_that_is_off(kvserver_binary: Path, tmp_path: Path) -> None:
    """Inside the registration window, a name GOFAIL_FAILPOINTS armed that reads as off is asked
    again for up to batch.ENV_ARMING_WAIT (the runtime's gap between registering and arming). Here
    another client turned them all off: the wait was once per name, one after the other (7 names,
    7 s); it is one, shared. (A bound with a margin of 2x against the 7 s, not a measurement.)"""
    import time

    from gofail_py.client import batch

    with _armed_at_start(kvserver_binary, tmp_path) as (_, client, _env):
        other = Client(client.endpoint, registration_grace=60)
        for name in KVSERVER_FAILPOINTS:
            assert other.disable(name, wait_registered=10)
        began = time.monotonic()
        assert client.disable_all() == []
        assert time.monotonic() - began < len(KVSERVER_FAILPOINTS) * batch.ENV_ARMING_WAIT / 2


def test_names_this_client_disabled_are_not_asked_again(kvserver_binary: Path, tmp_path: Path) -> None:
    """The gap between registering and arming is no reason to ask again about a name this client
    disabled itself (a test that disables its armed-at-start failpoints, then the plugin's
    disable_all at teardown): each is asked once."""
    with _armed_at_start(kvserver_binary, tmp_path) as (_, client, _env):
        for name in KVSERVER_FAILPOINTS:
            assert client.disable(name, wait_registered=10)
        asked: list[str] = []
        get = client.get

        def counted(name: str, *args: object, **kwargs: object) -> object:
            asked.append(name)
            return get(name, *args, **kwargs)  # type: ignore[arg-type]

        client.get = counted  # type: ignore[method-assign]
        assert client.disable_all() == []
        assert sorted(asked) == sorted(KVSERVER_FAILPOINTS)
        client.enable(KVSERVER_FAILPOINTS[0], "return(2)")  # set again: active, found and disabled
        assert client.disable_all() == [KVSERVER_FAILPOINTS[0]]


def _cli(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    result = subprocess.run([str(Path(sys.executable).with_name("gofail-py")), *args], cwd=cwd, capture_output=True,
                            text=True, timeout=120, env=dict(os.environ, XDG_CACHE_HOME=str(home)))
    assert "Traceback" not in result.stderr, result.stderr[-3000:]
    return result


def _edit_in_place(path: Path, n: int) -> None:
    """A plain file gets a failpoint, its size, mtime and directory unchanged (only its ctime moves)."""
    before = path.stat()
    data = path.read_bytes()
    line = b'\t\t\treturn 0, fmt.Errorf("item %d is negative: %d", i, item)'
    marker = f"\t\t\t// gofail: var edited{n} struct{{}}".encode()
    assert line in data and len(marker) <= len(line)
    path.write_bytes(data.replace(line, marker.ljust(len(line)), 1))
    os.utime(path, ns=(before.st_atime_ns, before.st_mtime_ns))
    assert path.stat().st_size == before.st_size and path.stat().st_mtime_ns == before.st_mtime_ns


def test_same_size_edits_in_both_halves_of_a_warm_run_are_seen(big: Path, tmp_path: Path) -> None:
    """Over 5,000 files a warm run's forked helper checks half of the directories against the
    stat index: files edited in place in both halves (mtime put back, as `touch -d` does) are
    caught by their ctime, and list --json is the same cold, warm and without the cache."""
    import time

    home = tmp_path / "cache"
    past = time.time_ns() - 3600 * 10**9
    for path in [big, *big.rglob("*")]:
        os.utime(path, ns=(past, past))
    time.sleep(2.2)  # the index records only signatures older than 2 s (git's racy rule)
    cold = _cli(big, home, "list", "--json", "./...")
    assert cold.returncode == 0 and _cli(big, home, "list", "--json", "./...").stdout == cold.stdout
    plain = sorted((path for path in big.rglob("*.go") if b"gofail" not in path.read_bytes()), key=str)
    edited = [plain[3], plain[len(plain) // 3], plain[-len(plain) // 3], plain[-3]]  # both halves
    for n, path in enumerate(edited):
        _edit_in_place(path, n)
    warm = _cli(big, home, "list", "--json", "./...")
    assert warm.returncode == 0
    assert warm.stdout == _cli(big, home, "list", "--json", "--no-cache", "./...").stdout != cold.stdout
    assert [f"edited{n}" in warm.stdout for n in range(4)] == [True] * 4
    assert _cli(big, home, "list", "--json", "./...").stdout == warm.stdout


# A warm run whose helper is busy (a slow file system): it tells the test its pid, then waits.
_BUSY_HELPER = """
import os, sys, time
from gofail_py.rewriter import collect, workspace
workspace.list_failpoints(["./..."])  # the index, for the warm run below
main, ready, original = os.getpid(), sys.argv[1], collect._changed_files
def changed_files(files, reused):
    if os.getpid() != main:
        with open(ready + ".tmp", "w") as f:
            f.write(str(os.getpid()))
        os.rename(ready + ".tmp", ready)
        time.sleep(600)
    return original(files, reused)
collect._changed_files = changed_files
workspace.list_failpoints(["./..."])
"""


def test_a_warm_helper_dies_with_its_run(big: Path, tmp_path: Path) -> None:
    """The run SIGKILLed while its warm helper works: the kernel kills the helper (no orphan)."""
    import time

    ready = tmp_path / "helper.pid"
    time.sleep(2.2)  # the copy's ctimes are not recorded by the index before that (git's racy rule)
    env = dict(os.environ, XDG_CACHE_HOME=str(tmp_path / "cache"), PYTHONPATH=str(REPO))
    run = subprocess.Popen([sys.executable, "-c", _BUSY_HELPER, str(ready)], cwd=big, env=env)
    try:
        give_up = time.monotonic() + 60
        while not ready.exists() and run.poll() is None and time.monotonic() < give_up:
            time.sleep(0.01)
        helper = int(ready.read_text())
        assert _alive(helper)
        run.kill()
        run.wait()
        give_up = time.monotonic() + 10
        while _alive(helper) and time.monotonic() < give_up:
            time.sleep(0.01)
        assert not _alive(helper), "the helper outlived its run"
    finally:
        run.kill()
        run.wait()
