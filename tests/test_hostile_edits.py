"""Hostile races with enable/disable's writes, and hostile leftovers for sweep: whatever lands
between the run's read, its checks and its renames, nothing is lost and nothing half-done; sweep
removes only real directories of this user and reports what it did."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gofail_py.rewriter import fileio, workspace
from gofail_py.errors import ConcurrentEdit
from gofail_py.processes.proctable import start_time
from tests.conftest import tree_digest
from tests.test_concurrent_edit import EDIT, make_tree, on_rename

pytestmark = pytest.mark.hostile
CLI = [sys.executable, "-m", "gofail_py.cli"]


def planned(root: Path) -> list[Path]:
    return [change.path for change in workspace.plan_enable([root / "..."]).changes]


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refused_and_kept(root: Path, before: dict[str, str], changed: Path, monkeypatch: pytest.MonkeyPatch,
                     action: Callable[[], None], when: Path) -> str:
    """Runs enable with ``action`` just before the rename onto ``when``; it must refuse and leave
    every file but ``changed`` as before. Returns the message."""
    on_rename(monkeypatch, when, action)
    with pytest.raises(ConcurrentEdit) as raised:
        workspace.enable([root / "..."])
    after = tree_digest(root)
    key = str(changed.relative_to(root))
    assert {k: v for k, v in after.items() if k != key} == {k: v for k, v in before.items() if k != key}
    return str(raised.value)


def test_a_same_size_edit_with_its_mtime_put_back_is_seen(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "t"
    make_tree(root, 6, per_dir=3)
    before, order = tree_digest(root), planned(root)
    victim = order[-1]
    info = victim.stat()

    def sneaky() -> None:  # same size, same mtime: only the ctime (and the bytes) tell
        data = victim.read_bytes().replace(b"errors.New", b"errors.Nex")
        victim.write_bytes(data)
        os.utime(victim, ns=(info.st_atime_ns, info.st_mtime_ns))

    message = refused_and_kept(root, before, victim, monkeypatch, sneaky, order[-2])
    assert f"{victim}: changed while gofail-py was writing" in message
    assert b"errors.Nex" in victim.read_bytes() and victim.stat().st_mtime_ns == info.st_mtime_ns


def test_a_file_swapped_for_a_fifo_is_refused_without_hanging(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "t"
    make_tree(root, 4, per_dir=2)
    before, order = tree_digest(root), planned(root)
    victim = order[-1]

    def swap() -> None:
        victim.unlink()
        os.mkfifo(victim)

    began = time.monotonic()
    message = refused_and_kept(root, before, victim, monkeypatch, swap, order[-2])
    assert time.monotonic() - began < 60 and f"{victim}: changed" in message
    assert victim.is_fifo()  # left as it was put there


def test_a_file_deleted_meanwhile_is_not_recreated(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "t"
    make_tree(root, 4, per_dir=2)
    before, order = tree_digest(root), planned(root)
    victim = order[-1]
    refused_and_kept(root, before, victim, monkeypatch, victim.unlink, order[-2])
    assert not victim.exists()


def test_a_file_turned_into_a_link_elsewhere_is_refused_and_its_target_untouched(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "t"
    make_tree(root, 4, per_dir=2)
    precious = tmp_path / "precious.go"
    precious.write_text("package precious\n")
    before, order = tree_digest(root), planned(root)
    victim = order[-1]

    def link() -> None:
        victim.unlink()
        victim.symlink_to(precious)

    refused_and_kept(root, before, victim, monkeypatch, link, order[-2])
    assert victim.is_symlink() and precious.read_text() == "package precious\n"


def test_an_editor_save_by_rename_with_the_same_bytes_loses_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # a new inode with the very bytes the run read: nothing can be lost, the run goes on
    root = tmp_path / "t"
    make_tree(root, 4, per_dir=2)
    order = planned(root)
    victim = order[-1]

    def resave() -> None:
        copy = victim.with_name(".save.tmp")
        copy.write_bytes(victim.read_bytes())
        os.replace(copy, victim)

    on_rename(monkeypatch, order[-2], resave)
    workspace.enable([root / "..."])
    assert b"__fp_" in victim.read_bytes()


def test_an_editor_save_by_rename_with_new_bytes_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "t"
    make_tree(root, 4, per_dir=2)
    before, order = tree_digest(root), planned(root)
    victim = order[-1]

    def save() -> None:
        copy = victim.with_name(".save.tmp")
        copy.write_bytes(victim.read_bytes() + EDIT.encode())
        os.replace(copy, victim)

    refused_and_kept(root, before, victim, monkeypatch, save, order[-2])
    assert victim.read_bytes().endswith(EDIT.encode())


def test_a_file_edited_after_the_run_wrote_it_is_left_as_edited_and_said(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # the run is stopped by a later change; one of the files it had written was edited since: the
    # rollback must not put the old bytes over that edit
    root = tmp_path / "t"
    make_tree(root, 4, per_dir=2)
    order = planned(root)
    written, victim = order[-3], order[-1]
    real = fileio._rename

    def rename(temp: str, path: Path) -> None:
        real(temp, path)
        if path == order[-2]:
            with open(written, "a") as file:  # already enabled by the run, now edited
                file.write(EDIT)
            with open(victim, "a") as file:
                file.write(EDIT)

    monkeypatch.setattr(fileio, "_rename", rename)
    with pytest.raises(ConcurrentEdit) as raised:
        workspace.enable([root / "..."])
    assert f"(but {written}, edited since this run wrote it, left as edited)" in str(raised.value)
    assert b"__fp_" in written.read_bytes() and written.read_bytes().endswith(EDIT.encode())
    assert victim.read_bytes().endswith(EDIT.encode()) and b"__fp_" not in victim.read_bytes()


def test_a_binding_planted_by_another_hand_during_the_run_is_not_overwritten(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "t"
    make_tree(root, 4, per_dir=2)
    before, order = tree_digest(root), planned(root)
    binding = [path for path in order if path.name.endswith(".fail.go")][-1]  # bindings go first: not order[0]
    planted = b"// GENERATED BY GOFAIL. DO NOT EDIT.\n\npackage p001\n\nfunc Planted() {}\n"
    on_rename(monkeypatch, order[0], lambda: binding.write_bytes(planted))
    with pytest.raises(ConcurrentEdit):
        workspace.enable([root / "..."])
    assert binding.read_bytes() == planted
    assert {k: v for k, v in tree_digest(root).items() if k != str(binding.relative_to(root))} == before


# --- sweep's leftovers ----------------------------------------------------------------------------


def _dead_token() -> str:
    gone = subprocess.Popen(["sleep", "0"])
    started = start_time(gone.pid)
    gone.wait()
    return f"{gone.pid}.{started}.{os.urandom(4).hex()}"


def _sweep(*args: str, tmp: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run([*CLI, "sweep", *args], env=dict(os.environ, TMPDIR=str(tmp)), capture_output=True,
                          text=True, timeout=120)


def test_a_run_dir_that_is_a_link_to_a_users_folder_is_neither_followed_nor_listed(tmp_path: Path) -> None:
    tmp, home = tmp_path / "tmp", tmp_path / "home"
    tmp.mkdir()
    home.mkdir()
    (home / "thesis.tex").write_text("years of work\n")
    token = _dead_token()
    (tmp / f"gofail-py-run-{token}-x").symlink_to(home)
    listed = _sweep("--run", token, tmp=tmp)
    assert "nothing left behind" in listed.stdout
    stopped = _sweep("--stop", "--run", token, "--json", tmp=tmp)
    assert json.loads(stopped.stdout) == []
    assert (home / "thesis.tex").read_text() == "years of work\n"


@pytest.mark.skipif(os.geteuid() != 0, reason="chown needs root")
def test_another_users_dir_named_like_a_dead_run_is_left_to_them(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    token = _dead_token()
    theirs = tmp / f"gofail-py-run-{token}-x"
    theirs.mkdir()
    (theirs / "notes").write_text("mine\n")
    os.chown(theirs, 65534, 65534)
    stopped = _sweep("--stop", "--run", token, tmp=tmp)
    assert "nothing left behind" in stopped.stdout and (theirs / "notes").exists()


def test_a_link_inside_a_dead_runs_dir_is_removed_not_its_target(tmp_path: Path) -> None:
    tmp = tmp_path / "tmp"
    tmp.mkdir()
    token = _dead_token()
    folder = Path(tempfile.mkdtemp(prefix=f"gofail-py-run-{token}-", dir=tmp))
    outside = tmp_path / "outside"
    outside.mkdir()
    (outside / "keep").write_text("keep\n")
    (folder / "logs").symlink_to(outside)
    stopped = _sweep("--stop", "--run", token, tmp=tmp)
    assert f"-\tremoved run {token}\t{folder}\n" in stopped.stdout
    assert not folder.exists() and (outside / "keep").read_text() == "keep\n"


@pytest.mark.parametrize("how", ["ignores SIGTERM", "is stopped (SIGSTOP)"])
def test_a_leftover_that_resists_is_killed_and_reported_stopped(how: str, tmp_path: Path) -> None:
    token = _dead_token()
    script = "trap '' TERM; while :; do sleep 0.1; done" if how == "ignores SIGTERM" else "sleep 300"
    left = subprocess.Popen(["bash", "-c", script], env={**os.environ, "GOFAIL_PY_RUN": token}, start_new_session=True)
    try:
        time.sleep(0.2)
        if how != "ignores SIGTERM":
            os.kill(left.pid, 19)  # SIGSTOP
        stopped = _sweep("--stop", "--run", token, "--json", tmp=tmp_path)
        statuses = {entry["pid"]: entry["status"] for entry in json.loads(stopped.stdout)}
        assert statuses[left.pid] == "stopped"
        assert left.wait(timeout=10) is not None
    finally:
        if left.poll() is None:
            left.kill()
            left.wait()


def test_a_deep_chain_of_shells_that_inherited_the_token_is_spared_whole(tmp_path: Path) -> None:
    token = _dead_token()
    out = tmp_path / "out.json"
    inner = f"{' '.join(CLI)} sweep --stop --run {token} --json > {out}"
    command = f"bash -c {json.dumps(f'bash -c {json.dumps(inner)}; echo inner=$?')}; echo outer=$?"
    done = subprocess.run(["bash", "-c", command], env=dict(os.environ, GOFAIL_PY_RUN=token, TMPDIR=str(tmp_path)),
                          capture_output=True, text=True, timeout=120)
    assert "inner=0" in done.stdout and "outer=0" in done.stdout, done.stdout + done.stderr
    entries = json.loads(out.read_text())
    assert entries and {entry["status"] for entry in entries} == {"spared"}  # three shells, all ancestors
