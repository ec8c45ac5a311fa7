"""The rewriter's cache under another local user (issue 21, item 1): a cache that another user can
write, or that another user owns, is not used, and says so once; entries re-sealed by another
user never reach a source file; the cache is private whatever the umask.

The attacker is real: `nobody`, running the system Python, with exactly the access the
permissions give it (it reads the cache's key when the key is readable to it)."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from tests.conftest import tree_digest
from tests.support.hostile import GOFAIL_PY, module
from tests.support.otheruser import OTHER, modes, needs_root, python_as_other, shared_tmp

pytestmark = [pytest.mark.hostile, needs_root]
__all__ = ["shared_tmp"]  # the fixture, imported for these tests

PWNED = b'os.RemoveAll("/") // PWNED'

# The attacker: every rewrite result in the cache gets a line of its own code, and is sealed
# again as the cache seals (format 1: a plain hash anyone can compute; format 2: a keyed hash,
# with the key file if the attacker can read it). `inplace` writes into the entry (it keeps its
# owner), `replace` renames a new file over it (the attacker owns that one).
_ATTACKER = r'''
import marshal, os, sys
from hashlib import blake2b
home, how = sys.argv[1], sys.argv[2]
base = os.path.join(home, "gofail-py")
key = None
try:
    with open(os.path.join(base, "key"), "rb") as f:
        key = f.read()
except OSError:
    pass
forged = 0
for folder, _, names in os.walk(base):
    if os.path.basename(folder) != "r":
        continue
    for name in names:
        path = os.path.join(folder, name)
        with open(path, "rb") as f:
            blob = f.read()
        head = blob.index(b"\n") + 1
        magic = blob[:head]
        size = 16 if magic == b"gofail-py cache 1\n" else 32
        changed, new, markers, binding = marshal.loads(blob[head + size:])
        if not new:
            continue
        payload = marshal.dumps((changed, new + ''' + repr(b"\n" + PWNED + b"\n") + r''', markers, binding))
        if magic == b"gofail-py cache 1\n":
            seal = blake2b(payload, digest_size=16).digest()
        elif key is not None:
            seal = blake2b(b"r/" + name.encode() + b"\0" + payload, key=key, digest_size=32).digest()
        else:
            seal = blob[head:head + size]  # no key: the best it can do is keep the old seal
        data = magic + seal + payload
        if how == "inplace":
            with open(path, "r+b") as f:
                f.truncate(0)
                f.write(data)
        else:
            with open(path + ".new", "wb") as f:
                f.write(data)
            os.replace(path + ".new", path)
        forged += 1
print(forged)
'''


def _gofail_py(cwd: Path, home: Path, *args: str, umask: int | None = None) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(home))
    result = subprocess.run([str(GOFAIL_PY), *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120,
                            preexec_fn=None if umask is None else (lambda: os.umask(umask)))
    assert "Traceback" not in result.stderr, result.stderr
    return result


def _forge(home: Path, how: str) -> int:
    return int(python_as_other(_ATTACKER, str(home), how).stdout)


def _warm_cache(base: Path) -> tuple[Path, Path, dict[str, str], dict[str, str]]:
    """A module, its cache after enable and disable, and the tree's digests disabled and enabled."""
    tree, home = module(base / "tree", files=2), base / "cache"
    original = tree_digest(tree)
    assert _gofail_py(tree, home, "enable", "-q", "./...").returncode == 0
    enabled = tree_digest(tree)
    assert _gofail_py(tree, home, "disable", "-q", "./...").returncode == 0
    return tree, home, original, enabled


def _chown(root: Path, uid: int) -> None:
    for path in [root, *root.rglob("*")]:
        os.lchown(path, uid, uid)


def _no_injection(tree: Path, home: Path, original: dict[str, str], enabled: dict[str, str]) -> str:
    """enable and disable write what they would without a cache; the warnings said, once."""
    result = _gofail_py(tree, home, "enable", "-q", "./...")
    assert result.returncode == 0, result.stderr
    assert all(PWNED not in path.read_bytes() for path in tree.glob("*.go")), "the attacker's code reached the source"
    assert tree_digest(tree) == enabled
    again = _gofail_py(tree, home, "disable", "-q", "./...")
    assert again.returncode == 0 and tree_digest(tree) == original, again.stderr
    return result.stderr + again.stderr


@pytest.mark.parametrize("how", ["inplace", "replace"])
def test_a_cache_others_can_write_is_not_used(shared_tmp: Path, how: str) -> None:
    """chmod -R 777 of the cache, then `nobody` re-seals the entries with its own code: enable
    wrote `os.RemoveAll("/") // PWNED` into the source and disable kept it."""
    tree, home, original, enabled = _warm_cache(shared_tmp)
    subprocess.run(["chmod", "-R", "777", str(home)], check=True)
    assert _forge(home, how) > 0
    said = _no_injection(tree, home, original, enabled)
    assert said.count("warning:") == 2 and said.count("writable by other users") == 2, said  # once a run


@pytest.mark.parametrize("how", ["inplace", "replace"])
def test_a_cache_another_user_owns_is_not_used(shared_tmp: Path, how: str) -> None:
    """The cache chowned to another user (XDG_CACHE_HOME naming theirs: `sudo` keeping the
    caller's environment), who re-seals the entries: nothing of theirs is trusted."""
    tree, home, original, enabled = _warm_cache(shared_tmp)
    _chown(home, OTHER)
    assert _forge(home, how) > 0
    said = _no_injection(tree, home, original, enabled)
    assert said.count("warning:") == 2 and said.count("not owned by you") == 2, said
    assert all(p.stat().st_uid == OTHER for p in home.rglob("*")), "wrote into another user's cache"


def test_under_umask_000_the_cache_is_private(shared_tmp: Path) -> None:
    """umask 000: the cache came out 0777 folders and 0666 files; it must be 0700 and 0600."""
    tree, home = module(shared_tmp / "tree", files=2), shared_tmp / "cache"
    for command in (["enable", "-q"], ["disable", "-q"], ["list"]):
        result = _gofail_py(tree, home, *command, "./...", umask=0)
        assert result.returncode == 0 and not result.stderr, result.stderr
    found = modes(home)
    assert len(found) > 6, found
    for path, mode in found.items():
        want = "0o700" if (home / path).is_dir() else "0o600"
        assert mode == want, (path, mode, found)


def test_a_private_cache_still_serves_warm_runs(shared_tmp: Path) -> None:
    """The checks leave the user's own cache working: a warm run takes its results from it."""
    tree, home, original, enabled = _warm_cache(shared_tmp)
    shutil.rmtree(tree)
    tree = module(shared_tmp / "tree", files=2)
    result = _gofail_py(tree, home, "enable", "-q", "./...")
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert tree_digest(tree) == enabled
