"""The stat index's directory listings (docs/speed.md): a directory whose signature is unchanged is
not listed again, so every way a directory's names can change must move that signature, and a
signature taken too close to its run (racy) must not be recorded (tests/test_cache.py). (Either
defence alone catches a change made after the recording run, as that moves ctime past it: the
first test fails only if both are gone.)"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gofail_py.rewriter import cache
from gofail_py.rewriter.gofiles import find_go_files
from tests.support.goprog import REPO

pytestmark = pytest.mark.slow

MARKED = "package {p}\n\nfunc F() {{\n\t// gofail: var {name} struct{{}}\n}}\n"
PLAIN = "package {p}\n\nfunc G() {{}}\n"
PAST = time.time_ns() - 3600 * 10**9


def _gofail_py(cwd: Path, home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(home), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _listed(tree: Path, home: Path) -> dict[str, str]:
    """Each failpoint listed, and where."""
    result = _gofail_py(tree, home, "list", "./...")
    assert result.returncode == 0, result.stderr
    return {fields[0]: fields[2] for fields in (line.split("\t") for line in result.stdout.splitlines()) if fields[0]}


def _keep_mtime(directory: Path) -> None:
    """Sets a directory's mtime back to the past: only its ctime tells that it changed."""
    os.utime(directory, ns=(PAST, PAST))


def _trusted_tree(tmp_path: Path) -> tuple[Path, Path]:
    """A tree whose directories and files are old enough to be trusted, and an index of it."""
    tree, home = tmp_path / "tree", tmp_path / "cache"
    for package in "abcde":
        (tree / package).mkdir(parents=True)
        (tree / package / "x.go").write_text(MARKED.format(p=package, name=f"{package}X"))
        (tree / package / "plain.go").write_text(PLAIN.format(p=package))
    (tmp_path / "target.go").write_text(PLAIN.format(p="f"))
    (tree / "f").mkdir()
    (tree / "f" / "link.go").symlink_to(tmp_path / "target.go")  # its target can change: never reused
    for path in [tree, *tree.rglob("*")]:
        os.utime(path, ns=(PAST, PAST), follow_symlinks=False)
    time.sleep(2.2)  # their ctimes out of the racy window of the run that records them
    for _ in range(2):
        assert _listed(tree, home) == {f"{p}X": f"{p}/x.go:4" for p in "abcde"}
    index = cache.Store(home / "gofail-py").load_index("\0".join([str(tree), "./..."]))
    assert len(index.listings) == 7 and all(sig != (0, 0, 0, 0) for sig, *_ in index.listings.values())
    return tree, home


def test_every_name_change_in_a_directory_is_seen_though_its_mtime_is_kept(tmp_path: Path) -> None:
    tree, home = _trusted_tree(tmp_path)
    outside = tmp_path / "outside.go"
    outside.write_text(MARKED.format(p="a", name="outside"))
    (tree / "a" / "new.go").write_text(MARKED.format(p="a", name="added"))  # added
    (tree / "b" / "x.go").unlink()  # removed
    (tree / "c" / "x.go").rename(tree / "c" / "y.go")  # renamed
    (tree / "d" / "sub").mkdir()  # a new package below
    (tree / "d" / "sub" / "z.go").write_text(MARKED.format(p="sub", name="below"))
    for package in "abcd":
        _keep_mtime(tree / package)
    listed = _listed(tree, home)
    assert "added" in listed, "a file added to a listed directory"
    assert "bX" not in listed, "a file removed from a listed directory"
    assert listed.get("cX") == "c/y.go:4", "a file renamed in a listed directory"
    assert "below" in listed, "a directory added to a listed directory"
    assert {"aX", "dX", "eX"} <= listed.keys()
    # the target of a link in an unchanged directory gains markers: the link is refused
    (tmp_path / "target.go").write_text(MARKED.format(p="f", name="behindLink"))
    refused = _gofail_py(tree, home, "list", "./...")
    assert refused.returncode == 2 and "f/link.go: symbolic link to" in refused.stderr, refused.stderr
    # a plain file replaced by a link to a file with markers elsewhere: refused, not skipped
    (tree / "e" / "plain.go").unlink()
    (tree / "e" / "plain.go").symlink_to(outside)
    _keep_mtime(tree / "e")
    refused = _gofail_py(tree, home, "enable", "./...")
    assert refused.returncode == 2 and "e/plain.go: symbolic link to" in refused.stderr, refused.stderr


def test_a_recorded_listing_is_used_while_its_signature_holds(tmp_path: Path) -> None:
    """The rule itself: a listing recorded with the directory's current signature is used as it is
    (what the racy rule and the signature guard); a racy one, recorded as zeros, never is."""
    package = tmp_path / "p"
    package.mkdir()
    (package / "real.go").write_text(PLAIN.format(p="p"))
    info = os.stat(package)
    signature = (info.st_ino, info.st_dev, info.st_mtime_ns, info.st_ctime_ns)
    for recorded, expected in [(signature, "recorded.go"), ((0, 0, 0, 0), "real.go")]:
        listings = {str(package): (recorded, (), ("recorded.go",), 0, cache.NO_SIGNATURE)}
        index = cache.Index(tmp_path / "unused", listings, 0)
        assert find_go_files([package], index).files == [f"{package}/{expected}"]


def test_a_run_that_only_finds_racy_changes_leaves_the_index_as_it_is(tmp_path: Path) -> None:
    """Back-to-back runs (a script that enables and disables in a loop): the directories the last
    run changed are racy, recorded as zeros, so the next run lists them again whether its index
    says zeros or their older signature. A run that finds nothing else new does not rewrite the
    index (12 ms of a warm 50k-file run), and every change is still seen."""
    tree, home = _trusted_tree(tmp_path)
    entry = next((home / "gofail-py").glob("*/s/*"))
    before = entry.stat()
    (tree / "a" / "plain.go").write_text(MARKED.format(p="a", name="racyOne"))  # racy: just now
    assert _listed(tree, home)["racyOne"] == "a/plain.go:4"
    assert _listed(tree, home)["racyOne"] == "a/plain.go:4"
    after = entry.stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns), "the index was rewritten"
    (tree / "a" / "plain.go").write_text(PLAIN.format(p="a"))  # changed again, still racy
    assert "racyOne" not in _listed(tree, home)
    (tree / "g").mkdir()  # a new directory: that is news, recorded
    (tree / "g" / "x.go").write_text(MARKED.format(p="g", name="gX"))
    assert _listed(tree, home)["gX"] == "g/x.go:4"
    assert entry.stat().st_ino != before.st_ino, "a new directory is recorded"


def test_what_the_next_run_can_trust_is_recorded(tmp_path: Path) -> None:
    """The other side of the rule above: a file changed long enough ago gets its new signature
    recorded (the next run then skips it), so the index is written."""
    tree, home = _trusted_tree(tmp_path)
    entry = next((home / "gofail-py").glob("*/s/*"))
    before = entry.stat()
    plain = tree / "a" / "plain.go"
    plain.write_text(PLAIN.format(p="a") + "// edited\n")
    os.utime(plain, ns=(PAST, PAST))
    time.sleep(2.2)  # its ctime out of the racy window
    assert "aX" in _listed(tree, home)
    assert entry.stat().st_ino != before.st_ino, "the index was not rewritten"
    index = cache.Store(home / "gofail-py").load_index("\0".join([str(tree), "./..."]))
    info = os.lstat(plain)
    assert index.signatures()["a/plain.go"] == (info.st_ino, info.st_dev, info.st_size, info.st_mtime_ns, info.st_ctime_ns)
