"""An edit saved to a file while enable or disable runs is never lost: the run refuses, names the
file and leaves every file as it was before it (the edit kept). The real command on a big tree,
and the exact moments (the last check and the rename) hit through fileio's one rename."""

from __future__ import annotations

import hashlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from gofail_py.rewriter import fileio, workspace
from gofail_py.errors import ConcurrentEdit
from tests.conftest import tree_digest
from tests.support.hostile import GOFAIL_PY, SOURCE

EDIT = "\n// saved by the user while gofail-py ran\n"


def make_tree(root: Path, files: int, per_dir: int = 50) -> list[Path]:
    """files Go files of two failpoints each, per_dir to a package; in the order a run takes them."""
    root.mkdir(parents=True)
    (root / "go.mod").write_text("module example.com/m\n\ngo 1.21\n")
    paths = []
    for n in range(files):
        folder = root / f"p{n // per_dir:03d}"
        folder.mkdir(exist_ok=True)
        path = folder / f"f{n % per_dir:03d}.go"
        path.write_text(SOURCE.format(package=folder.name, n=n))
        paths.append(path)
    return paths


def digest_with_edit(before: dict[str, str], root: Path, edited: Path) -> dict[str, str]:
    """What the tree must hold: as before, but the edited file with the edit."""
    expected = dict(before)
    key = str(edited.relative_to(root))
    mode = before[key].split()[1] if key in before else f"{edited.stat().st_mode:o}"  # a file the user created
    expected[key] = hashlib.sha256(edited.read_bytes()).hexdigest() + " " + mode
    assert EDIT.encode() in edited.read_bytes()
    return expected


def on_rename(monkeypatch: pytest.MonkeyPatch, when: Path, action: Callable[[], None]) -> None:
    """Runs action just before the rename onto ``when`` (after that file's last check)."""
    real = fileio._rename

    def rename(temp: str, path: Path) -> None:
        if path == when:
            action()
        real(temp, path)

    monkeypatch.setattr(fileio, "_rename", rename)


def append(path: Path) -> Callable[[], None]:
    def edit() -> None:
        with open(path, "a") as file:  # in place, as most editors save
            file.write(EDIT)
    return edit


@pytest.mark.slow
def test_an_edit_half_a_second_into_enabling_10k_failpoints_is_not_lost(tmp_path: Path) -> None:
    # the reproduction: 10k failpoints, an edit saved 0.5 s after the real command started
    root = tmp_path / "tree"
    files = make_tree(root, 5000)
    before = tree_digest(root)
    edited = files[0]  # read first: long read when the edit comes
    proc = subprocess.Popen([str(GOFAIL_PY), "enable", "-q", "./..."], cwd=root, stderr=subprocess.PIPE, text=True)
    time.sleep(0.5)
    assert proc.poll() is None, "the run ended before the edit: the tree is too small for this machine"
    append(edited)()
    _, stderr = proc.communicate(timeout=600)
    if proc.returncode == 0:
        # on a loaded machine the command may not have read the file yet 0.5 s after it started: then
        # it rewrote the edited text, and the edit must be in what it wrote (the exact race is the
        # deterministic tests' below)
        assert EDIT.encode() in edited.read_bytes(), "the edit was lost"
        assert b"__fp_beforeSave0.Acquire()" in edited.read_bytes(), "the edited file was not enabled"
        return
    assert proc.returncode == 3, stderr
    assert stderr == (f"gofail-py: {edited.relative_to(root)}: changed since gofail-py read it (saved while the run "
                      "worked?); nothing was changed: run the command again\n")
    assert tree_digest(root) == digest_with_edit(before, root, edited)


@pytest.mark.slow
def test_an_edit_while_the_real_command_writes_its_temp_files_is_not_lost(tmp_path: Path) -> None:
    # deterministic: the run is stopped (SIGSTOP) once its first temp file exists, the last file
    # it will rename is edited, and the run goes on
    root = tmp_path / "tree"
    files = make_tree(root, 600)
    before = tree_digest(root)
    first_dir, edited = files[0].parent, files[-1]
    proc = subprocess.Popen([str(GOFAIL_PY), "enable", "-q", "./..."], cwd=root, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 120
        while not any(name.endswith(".tmp") and fileio.TEMP_INFIX in name for name in os.listdir(first_dir)):
            assert proc.poll() is None and time.monotonic() < deadline, "no temp file seen"
            time.sleep(0.0005)
        proc.send_signal(signal.SIGSTOP)
        append(edited)()
    finally:
        proc.send_signal(signal.SIGCONT)
    _, stderr = proc.communicate(timeout=600)
    assert proc.returncode == 3 and str(edited.relative_to(root)) in stderr, stderr
    assert tree_digest(root) == digest_with_edit(before, root, edited)


def test_a_write_between_the_last_check_and_the_rename_is_kept_and_the_run_undone(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "tree"
    make_tree(root, 40, per_dir=10)
    before = tree_digest(root)
    order = [change.path for change in workspace.plan_enable([root / "..."]).changes]
    edited = order[-5]  # 75 files renamed before it: every binding and most sources
    assert edited.name.endswith(".go") and not edited.name.endswith(".fail.go")
    on_rename(monkeypatch, edited, append(edited))
    with pytest.raises(ConcurrentEdit) as raised:
        workspace.enable([root / "..."])
    assert str(raised.value) == (f"{edited}: changed while gofail-py was writing (saved while the run worked?); its edit "
                                 "is kept, the 75 file(s) this run had written were put back, nothing was changed: "
                                 "run the command again")
    assert tree_digest(root) == digest_with_edit(before, root, edited)


@pytest.mark.parametrize("position", [499, 749], ids=["a binding created meanwhile", "a source edited"])
def test_a_file_changed_after_hundreds_were_renamed(position: int, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # 1000 changes: 500 new bindings, then 500 sources; the file at `position` is saved after the
    # check of all, just before its own rename; the ones renamed before it are put back
    root = tmp_path / "tree"
    make_tree(root, 500, per_dir=100)
    before = tree_digest(root)
    order = [change.path for change in workspace.plan_enable([root / "..."]).changes]
    assert len(order) == 1000 and order[499].name.endswith(".fail.go") and not order[500].name.endswith(".fail.go")
    on_rename(monkeypatch, order[position - 1], append(order[position]))
    with pytest.raises(ConcurrentEdit) as raised:
        workspace.enable([root / "..."])
    assert f"{order[position]}: changed while gofail-py was writing" in str(raised.value)
    assert f"the {position} file(s) this run had written were put back" in str(raised.value)
    assert tree_digest(root) == digest_with_edit(before, root, order[position])


def test_an_edit_during_disable_is_not_lost(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "tree"
    make_tree(root, 30, per_dir=10)
    workspace.enable([root / "..."])
    enabled = tree_digest(root)
    order = [change.path for change in workspace.plan_disable([root / "..."]).changes]
    edited = order[3]  # a source: disable renames the sources, then deletes the bindings
    on_rename(monkeypatch, order[2], append(edited))
    with pytest.raises(ConcurrentEdit):
        workspace.disable([root / "..."])
    assert tree_digest(root) == digest_with_edit(enabled, root, edited)
    monkeypatch.undo()
    workspace.disable([root / "..."])  # run again: the edit goes through disable
    assert EDIT.encode() in edited.read_bytes() and b"__fp_" not in edited.read_bytes()


def test_a_binding_file_edited_before_disable_deletes_it_is_kept(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    root = tmp_path / "tree"
    make_tree(root, 4, per_dir=10)
    workspace.enable([root / "..."])
    enabled = tree_digest(root)
    order = [change.path for change in workspace.plan_disable([root / "..."]).changes]
    binding = order[-1]
    assert binding.name.endswith(".fail.go")
    on_rename(monkeypatch, order[0], append(binding))
    with pytest.raises(ConcurrentEdit) as raised:
        workspace.disable([root / "..."])
    assert f"{binding}: changed while gofail-py was writing" in str(raised.value)
    assert tree_digest(root) == digest_with_edit(enabled, root, binding)


def test_the_cli_says_which_file_and_exits_3(tmp_path: Path) -> None:
    root = tmp_path / "tree"
    paths = make_tree(root, 2)
    code = ("import sys\nfrom pathlib import Path\nfrom gofail_py.rewriter import fileio\nfrom gofail_py.cli import main\n"
            "real = fileio._rename\n"
            "def rename(temp, path):\n"
            f"    if path.name == 'f000.fail.go':\n"
            f"        Path({str(paths[1])!r}).write_text(Path({str(paths[1])!r}).read_text() + {EDIT!r})\n"
            "    real(temp, path)\n"
            "fileio._rename = rename\n"
            "sys.argv = ['gofail-py', 'enable', './...']\nmain()\n")
    before = tree_digest(root)
    result = subprocess.run([sys.executable, "-c", code], cwd=root, capture_output=True, text=True, timeout=120)
    assert result.returncode == 3 and "Traceback" not in result.stderr
    assert result.stderr.startswith("gofail-py: p000/f001.go: changed while gofail-py was writing"), result.stderr
    assert tree_digest(root) == digest_with_edit(before, root, paths[1])
