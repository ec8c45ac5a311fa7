"""Hostile file systems and concurrent runs against the real gofail-py command: one clear message,
the documented exit code, and nothing lost (tree hashes)."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from gofail_py.rewriter import runlock
from tests.conftest import tree_digest
from tests.support.hostile import GOFAIL_PY, SOURCE, go_env, gofail_py, module

pytestmark = pytest.mark.hostile  # a suite of its own: .ci/run runs it, `pytest -m hostile`

NOBODY = 65534


def test_fifo_named_go_is_refused_not_read(tmp_path: Path) -> None:
    module(tmp_path / "fifo")
    os.mkfifo(tmp_path / "fifo" / "x.go")
    before = tree_digest(tmp_path)
    result = gofail_py(tmp_path, "enable", "./fifo/", timeout=30)
    assert result.returncode == 2
    assert result.stderr == "gofail-py: fifo/x.go: not a regular file (a FIFO, socket or device); gofail-py reads only regular .go files\n"
    assert tree_digest(tmp_path) == before


def test_symlink_loop_is_a_clear_error(tmp_path: Path) -> None:
    module(tmp_path / "p")
    (tmp_path / "p" / "loop.go").symlink_to("loop.go")
    before = tree_digest(tmp_path)
    for args in (["enable", "./p/"], ["enable", "p/loop.go"], ["disable", "./..."]):
        result = gofail_py(tmp_path, *args)
        assert result.returncode == 2, args
        assert result.stderr == "gofail-py: p/loop.go: symbolic link loop; not a Go file\n"
    assert tree_digest(tmp_path) == before


def test_hard_linked_file_is_refused_before_anything_is_written(tmp_path: Path) -> None:
    module(tmp_path / "p", files=3)
    os.link(tmp_path / "p" / "f1.go", tmp_path / "twin.go.txt")
    before = tree_digest(tmp_path)
    result = gofail_py(tmp_path, "enable", "./...")
    assert result.returncode == 2
    assert result.stderr.startswith("gofail-py: p/f1.go: has 2 hard links;") and "nothing was changed" in result.stderr
    assert tree_digest(tmp_path) == before
    assert (tmp_path / "p" / "f1.go").stat().st_ino == (tmp_path / "twin.go.txt").stat().st_ino


@pytest.mark.skipif(os.geteuid() != 0, reason="changing a file's owner needs root")
def test_owner_and_group_are_kept_and_bindings_get_their_sources_owner(tmp_path: Path) -> None:
    source = module(tmp_path / "p") / "f0.go"
    original = source.read_bytes()
    os.chown(source, NOBODY, NOBODY)
    source.chmod(0o640)
    assert gofail_py(tmp_path, "enable", "./...").returncode == 0
    binding = tmp_path / "p" / "f0.fail.go"
    for path in (source, binding):
        assert (path.stat().st_uid, path.stat().st_gid) == (NOBODY, NOBODY), path
    assert source.stat().st_mode & 0o777 == 0o640
    assert gofail_py(tmp_path, "disable", "./...").returncode == 0
    assert (source.stat().st_uid, source.stat().st_gid, source.stat().st_mode & 0o777) == (NOBODY, NOBODY, 0o640)
    assert source.read_bytes() == original and not binding.exists()


@pytest.fixture
def tiny_disk(tmp_path: Path) -> Iterator[Path]:
    """A 3 MiB tmpfs."""
    mount = tmp_path / "disk"
    mount.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "size=3m", "tmpfs", str(mount)], capture_output=True).returncode:
        pytest.skip("cannot mount a tmpfs here (needs root and mount rights)")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=True)


def _many_failpoints(package: str, count: int = 100) -> str:
    lines = [f"package {package}", "", "func F() {"]
    for k in range(count):
        lines += [f"\t// gofail: var {package}fp{k} struct{{}}", f"\t_ = {k}"]
    return "\n".join([*lines, "}", ""])


def test_disk_full_midway_leaves_every_file_as_it_was(tiny_disk: Path) -> None:
    root = tiny_disk / "tree"
    for n in range(30):
        folder = root / f"p{n}"
        folder.mkdir(parents=True)
        (folder / "save.go").write_text(_many_failpoints(f"p{n}"))
    before = tree_digest(root)

    def free() -> int:
        info = os.statvfs(tiny_disk)
        return info.f_bavail * info.f_frsize

    # measure what a whole run takes, then leave room for the bindings and about half the sources
    start = free()
    assert gofail_py(root, "enable", "./...").returncode == 0
    whole = start - free()
    bindings = sum(p.stat().st_blocks * 512 for p in root.rglob("*.fail.go"))
    assert gofail_py(root, "disable", "./...").returncode == 0
    assert tree_digest(root) == before
    filler = tiny_disk / "filler"
    filler.write_bytes(b"\0" * (free() - bindings - (whole - bindings) // 2))

    result = gofail_py(root, "enable", "./...")
    assert result.returncode == 2, result.stderr
    assert "No space left on device" in result.stderr and "no file had been replaced yet" in result.stderr
    assert "nothing was changed" in result.stderr
    # every new file is staged before any is renamed: the disk fills while staging, nothing replaced
    staged = int(result.stderr.split("; no file had been replaced yet and the ")[1].split(" temp file")[0])
    assert staged > 30, "the disk filled up among the sources, after all 30 bindings"
    assert result.stderr.count("\n") == 1
    assert tree_digest(root) == before, "all or nothing: no binding, no rewritten source, no temp file"
    filler.unlink()
    assert gofail_py(root, "enable", "./...").returncode == 0
    assert gofail_py(root, "disable", "./...").returncode == 0
    assert tree_digest(root) == before


def test_a_held_lock_makes_the_second_run_wait_then_exit_3(tmp_path: Path) -> None:
    root = module(tmp_path / "m", files=2)
    before = tree_digest(tmp_path)
    with runlock.hold([root]):
        result = gofail_py(root, "enable", "./...", env=go_env(GOFAIL_PY_LOCK_WAIT="1"))
    assert result.returncode == 3
    assert "another gofail-py run is rewriting this module" in result.stderr and "nothing was changed" in result.stderr
    assert tree_digest(tmp_path) == before
    assert gofail_py(root, "enable", "./...").returncode == 0, "the lock is free again"


def test_concurrent_enable_and_disable_never_leave_a_half_enabled_tree(tmp_path: Path) -> None:
    root = module(tmp_path / "m", files=60)
    lock_file = runlock.lock_path(root)
    assert tmp_path not in lock_file.parents, "the lock lives outside the tree"
    # without the lock about one round in three ends half enabled (measured on this tree)
    for _ in range(20):
        runs = [subprocess.Popen([str(GOFAIL_PY), verb, "-q", "./..."], cwd=root,
                                 env=go_env(), stderr=subprocess.PIPE, text=True) for verb in ("enable", "disable")]
        codes = [(run.wait(timeout=120), run.stderr.read() if run.stderr else "") for run in runs]
        for code, stderr in codes:
            assert code in (0, 3) and "Traceback" not in stderr, stderr
        for n in range(60):
            enabled = b"__fp_" in (root / f"f{n}.go").read_bytes()
            assert enabled == (root / f"f{n}.fail.go").exists(), f"f{n}.go enabled={enabled} but its binding disagrees"
    assert not [p for p in tmp_path.rglob("*") if "lock" in p.name or ".gofail-py-" in p.name]


def test_messages_count_failpoints_files_and_files_scanned(tmp_path: Path) -> None:
    root = module(tmp_path / "m", files=3)
    for n in range(5):
        (root / f"plain{n}.go").write_text("package m\n")
    first = gofail_py(root, "enable", "./...", env=go_env())
    assert first.stdout == "enabled 6 failpoints in 3 files: 3 files rewritten, 3 binding files written (8 files scanned)\n"
    again = gofail_py(root, "enable", "./...")
    assert again.stdout == "nothing to enable: 6 failpoints in 3 files (11 files scanned) already enabled\n"
    last = gofail_py(root, "disable", "./...")
    assert last.stdout == "disabled 6 failpoints in 3 files: 3 files rewritten, 3 binding files removed (11 files scanned)\n"


@pytest.mark.parametrize("command", ["enable", "disable", "list"])
def test_help_has_real_examples_and_points_to_the_docs(tmp_path: Path, command: str) -> None:
    text = gofail_py(tmp_path, command, "--help").stdout
    assert "Examples:" in text and f"gofail-py {command} ./..." in text
    assert "docs/rewriter.md" in text.replace("\n  ", " ")


def test_tab_space_body_round_trips_through_the_command(tmp_path: Path, testdata: Path) -> None:
    case = testdata / "rewrite" / "tab_space_body"
    folder = tmp_path / "p"
    folder.mkdir()
    (folder / "input.go").write_bytes((case / "input.go").read_bytes())
    assert gofail_py(tmp_path, "enable", "p").returncode == 0
    assert (folder / "input.go").read_bytes() == (case / "expected.go").read_bytes()
    assert gofail_py(tmp_path, "disable", "p").returncode == 0
    assert (folder / "input.go").read_bytes() == (case / "input.go").read_bytes()


def test_a_lock_directory_that_cannot_be_made_is_a_message(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    before = tree_digest(tmp_path)
    # a runtime folder the XDG rules accept (ours, 0500) where not even root may mkdir
    result = gofail_py(root, "enable", ".", env=go_env(XDG_RUNTIME_DIR="/proc/self/fd"))
    assert result.returncode == 2 and "cannot create its lock file" in result.stderr
    assert tree_digest(tmp_path) == before
