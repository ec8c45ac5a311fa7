"""The rewriter's lock folder under another local user (issue 21, item 2): the XDG rules for
XDG_RUNTIME_DIR, a per-user folder in the temp directory that must be ours, private and real,
lock files never followed as links. Every run here sets TMPDIR (a sticky folder of the test's,
as /tmp is) and XDG_RUNTIME_DIR itself: the machine's /tmp is never touched."""

from __future__ import annotations

import hashlib
import os
import subprocess
import time
from pathlib import Path

import pytest

from gofail_py.rewriter import runlock
from tests.conftest import tree_digest
from tests.support.hostile import GOFAIL_PY, go_env, module
from tests.support.otheruser import OTHER, SYSTEM_PYTHON, modes, needs_root, shared_tmp, sticky_dir

pytestmark = [pytest.mark.hostile, needs_root]
__all__ = ["shared_tmp"]

LOCKS = f"gofail-py-locks-{os.geteuid()}"


def _enable(root: Path, tmpdir: Path, runtime: str = "", cwd: Path | None = None, umask: int | None = None,
            **extra: str) -> subprocess.CompletedProcess[str]:
    env = go_env(TMPDIR=str(tmpdir), GOFAIL_PY_LOCK_WAIT="1", **extra)
    env.pop("XDG_RUNTIME_DIR", None)
    if runtime:
        env["XDG_RUNTIME_DIR"] = runtime
    result = subprocess.run([str(GOFAIL_PY), "enable", "-q", str(root)], cwd=cwd or root, env=env, capture_output=True,
                            text=True, timeout=120, preexec_fn=None if umask is None else (lambda: os.umask(umask)))
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _refused(result: subprocess.CompletedProcess[str], root: Path, before: dict[str, str]) -> None:
    assert result.returncode == 2, result.stdout + result.stderr
    assert "lock folder" in result.stderr and "nothing was changed" in result.stderr, result.stderr
    assert tree_digest(root) == before


def _their_folder(path: Path, mode: int = 0o755) -> Path:
    """A folder of the other user's (made as root where it could not write itself, then given)."""
    path.mkdir()
    path.chmod(mode)
    os.chown(path, OTHER, OTHER)
    return path


def _their_link(path: Path, target: Path) -> None:
    path.symlink_to(target)
    os.lchown(path, OTHER, OTHER)


@pytest.mark.parametrize("how", ["theirs", "theirs-world-writable", "ours-world-writable"])
def test_a_lock_folder_that_is_not_ours_alone_is_refused(shared_tmp: Path, how: str) -> None:
    """$TMPDIR/gofail-py-locks-UID made beforehand by another user (or left writable by all) was
    used: root wrote its locks where that user could swap or hold them."""
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    before = tree_digest(root)
    if how == "ours-world-writable":
        (tmpdir / LOCKS).mkdir()
        (tmpdir / LOCKS).chmod(0o777)
    else:
        _their_folder(tmpdir / LOCKS, 0o777 if how == "theirs-world-writable" else 0o755)
    _refused(_enable(root, tmpdir), root, before)
    assert list((tmpdir / LOCKS).iterdir()) == [], "wrote into a folder that is not ours alone"


def test_a_lock_folder_that_is_a_link_is_refused(shared_tmp: Path) -> None:
    """The per-user folder name taken by another user's link to a folder of theirs: followed."""
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    before = tree_digest(root)
    theirs = _their_folder(shared_tmp / "theirs", 0o777)
    _their_link(tmpdir / LOCKS, theirs)
    _refused(_enable(root, tmpdir), root, before)
    assert list(theirs.iterdir()) == []


def test_a_lock_file_that_is_a_link_is_not_followed(shared_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A lock file replaced by a link (while the folder was open to others): root created a file
    at the link's target."""
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    assert _enable(root, tmpdir).returncode == 0
    before = tree_digest(root)
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    lock = runlock.lock_path(root)
    assert lock.parent == tmpdir / LOCKS and lock.exists()
    target = shared_tmp / "created-by-root"
    lock.unlink()
    lock.symlink_to(target)
    result = _enable(root, tmpdir)
    assert result.returncode == 2 and "symbolic link" in result.stderr, result.stderr
    assert not target.exists() and tree_digest(root) == before


def test_another_user_holding_a_lock_cannot_block_us(shared_tmp: Path) -> None:
    """Another user made the folder, and holds the lock file of our module forever: every enable
    exited 3. That folder is now refused (with the way out), and in a folder of ours nothing of
    theirs can be held."""
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    before = tree_digest(root)
    _their_folder(tmpdir / LOCKS, 0o777)
    lock = tmpdir / LOCKS / (hashlib.sha256(os.fsencode(root.resolve())).hexdigest()[:32] + ".lock")  # runlock's name
    holder = subprocess.Popen([SYSTEM_PYTHON, "-I", "-c", "import fcntl, sys, time\nf = open(sys.argv[1], 'w')\n"
                               "fcntl.flock(f, fcntl.LOCK_EX)\nprint('held', flush=True)\ntime.sleep(120)\n", str(lock)],
                              user=OTHER, group=OTHER, extra_groups=[], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        result = _enable(root, tmpdir)
        assert result.returncode != 3, "another user's lock blocked the run"
        _refused(result, root, before)
        assert "XDG_RUNTIME_DIR" in result.stderr
        ours = shared_tmp / "run"
        ours.mkdir(mode=0o700)
        assert _enable(root, tmpdir, runtime=str(ours)).returncode == 0, "the way out the message gives"
    finally:
        holder.kill()
        holder.wait()


def test_a_relative_xdg_runtime_dir_is_ignored(shared_tmp: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """XDG_RUNTIME_DIR=run put the lock inside the Go tree, and two runs on one module from two
    working directories did not exclude each other."""
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    elsewhere = shared_tmp / "elsewhere"
    for cwd in (root, elsewhere):  # a `run` folder in each working directory (private, as XDG asks)
        (cwd / "run").mkdir(mode=0o700, parents=True)
    monkeypatch.chdir(elsewhere)
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.setenv("XDG_RUNTIME_DIR", "run")
    before = tree_digest(root)
    with runlock.hold([root]):
        result = _enable(root, tmpdir, runtime="run")
    assert result.returncode == 3, "a run from another directory did not wait for the lock"
    assert tree_digest(root) == before
    assert _enable(root, tmpdir, runtime="run").returncode == 0
    assert list((root / "run").iterdir()) == [], "the lock went into the Go tree"
    assert list((elsewhere / "run").iterdir()) == []


def test_an_xdg_runtime_dir_of_another_user_is_not_written_into(shared_tmp: Path) -> None:
    """`sudo -E`: root with the caller's XDG_RUNTIME_DIR (theirs, 0700) wrote its locks into it."""
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    theirs = _their_folder(shared_tmp / "run-1000", 0o700)
    assert _enable(root, tmpdir, runtime=str(theirs)).returncode == 0
    assert list(theirs.iterdir()) == [] and (tmpdir / LOCKS).is_dir()


# --- more (issue 21's second hostile pass) ------------------------------------------------------

@pytest.mark.parametrize("how", ["mode-0755", "link-of-another-user", "missing"])
def test_an_xdg_runtime_dir_that_breaks_the_rules_is_ignored(shared_tmp: Path, how: str) -> None:
    """XDG: the folder must be the user's with mode 0700; a link another user can point
    elsewhere, or a folder others can enter, is not used (the temp folder is)."""
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    runtime = shared_tmp / "run"
    if how == "mode-0755":
        runtime.mkdir(mode=0o755)
        runtime.chmod(0o755)
    elif how == "link-of-another-user":
        (shared_tmp / "mine").mkdir(mode=0o700)
        _their_link(runtime, shared_tmp / "mine")
    assert _enable(root, tmpdir, runtime=str(runtime)).returncode == 0
    assert (tmpdir / LOCKS).is_dir()
    for folder in (runtime, shared_tmp / "mine"):
        assert not folder.exists() or list(folder.iterdir()) == [], "used a runtime folder the rules exclude"


def test_a_link_as_the_folder_inside_xdg_runtime_dir_is_refused(shared_tmp: Path) -> None:
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    before = tree_digest(root)
    runtime = shared_tmp / "run"
    runtime.mkdir(mode=0o700)
    theirs = _their_folder(shared_tmp / "theirs", 0o777)
    (runtime / "gofail-py").symlink_to(theirs)
    _refused(_enable(root, tmpdir, runtime=str(runtime)), root, before)
    assert list(theirs.iterdir()) == []


@pytest.mark.parametrize("how", ["fifo", "theirs"])
def test_a_lock_file_that_is_not_ours_is_refused(shared_tmp: Path, monkeypatch: pytest.MonkeyPatch, how: str) -> None:
    """A FIFO (never waited on) or another user's file in the place of a lock file."""
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    assert _enable(root, tmpdir).returncode == 0
    monkeypatch.setenv("TMPDIR", str(tmpdir))
    monkeypatch.delenv("XDG_RUNTIME_DIR", raising=False)
    lock = runlock.lock_path(root)
    lock.unlink()
    if how == "fifo":
        os.mkfifo(lock, 0o600)
    else:
        lock.write_text("")
        os.chown(lock, OTHER, OTHER)
    began = time.monotonic()
    result = _enable(root, tmpdir)
    assert result.returncode == 2 and str(lock) in result.stderr, result.stderr
    assert time.monotonic() - began < 60


@pytest.mark.parametrize("variable", ["relative", "theirs"])
def test_a_temp_folder_that_is_relative_or_another_user_s_is_passed_over(shared_tmp: Path, variable: str) -> None:
    """TMPDIR=tmp (the lock in the working directory, the Go tree) or TMPDIR naming another
    user's folder (`sudo -E`): the next candidate (TEMP here) is used."""
    root, fallback = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    theirs = _their_folder(shared_tmp / "their-tmp", 0o1777)
    tmpdir = "tmp" if variable == "relative" else str(theirs)
    if variable == "relative":
        (root / "tmp").mkdir()
        (root / "tmp").chmod(0o1777)
    result = _enable(root, Path(tmpdir), TEMP=str(fallback))
    assert result.returncode == 0, result.stderr
    assert (fallback / LOCKS).is_dir()
    assert list(theirs.iterdir()) == [] and list((root / "tmp").iterdir() if variable == "relative" else []) == []


def test_under_umask_000_the_lock_folder_and_files_are_private(shared_tmp: Path) -> None:
    root, tmpdir = module(shared_tmp / "m"), sticky_dir(shared_tmp)
    assert _enable(root, tmpdir, umask=0).returncode == 0
    found = modes(tmpdir / LOCKS)
    assert found.pop(".") == "0o700" and found and set(found.values()) == {"0o600"}, found
