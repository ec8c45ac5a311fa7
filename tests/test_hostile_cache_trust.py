"""The rewriter's cache under another local user (issue 21, item 1): a cache that another user can
write, or that another user owns, is not used, and says so once; entries re-sealed by another
user never reach a source file; the cache is private whatever the umask.

The attacker is real: `nobody`, running the system Python, with exactly the access the
permissions give it (it reads the cache's key when the key is readable to it)."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
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
# owner), `replace` renames a new file over it (the attacker owns that one); with a third
# argument, the forged entries go into that folder instead.
_ATTACKER = r'''
import marshal, os, sys
from hashlib import blake2b
home, how, into = sys.argv[1], sys.argv[2], sys.argv[3] if len(sys.argv) > 3 else ""
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
        if into:  # its own folder, for a way in other than writing into the cache
            with open(os.path.join(into, name), "wb") as f:
                f.write(data)
        elif how == "inplace":
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


def _forge(home: Path, how: str, into: Path | None = None, as_root: bool = False) -> int:
    args = [str(home), how, *([str(into)] if into else [])]
    if as_root:  # a set-up step: what the attacker would have sealed, had it got the key
        return int(subprocess.run([sys.executable, "-c", _ATTACKER, *args], capture_output=True, text=True, check=True).stdout)
    return int(python_as_other(_ATTACKER, *args).stdout)


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


# --- more planted caches (issue 21's second hostile pass) -------------------------------------

def test_no_cache_is_made_in_another_user_s_folder(shared_tmp: Path) -> None:
    """Root with another user's HOME or XDG_CACHE_HOME (`sudo` keeping the environment): the cache
    was made in their folder, where they could swap it; now there is none, and it is said."""
    tree = module(shared_tmp / "tree", files=2)
    theirs = shared_tmp / "their-cache"
    theirs.mkdir()
    os.chown(theirs, OTHER, OTHER)
    expected = _gofail_py(tree, shared_tmp / "c0", "list", "--json", "./...")
    result = _gofail_py(tree, theirs, "list", "--json", "./...")
    assert (result.returncode, result.stdout) == (0, expected.stdout)
    assert "another user's" in result.stderr and result.stderr.count("warning:") == 1, result.stderr
    assert list(theirs.iterdir()) == [], "wrote into another user's folder"


def test_a_replaced_key_and_entries_are_not_trusted_after_the_folder_is_fixed(shared_tmp: Path) -> None:
    """While the cache was writable by all, `nobody` put its own key in and sealed its entries
    with it; the user then took write access away from others (`chmod -R go-w`). The key is
    another user's: replaced; the entries it sealed: made again."""
    tree, home, original, enabled = _warm_cache(shared_tmp)
    subprocess.run(["chmod", "-R", "777", str(home)], check=True)
    python_as_other("import os, sys\nkey = os.path.join(sys.argv[1], 'gofail-py', 'key')\n"
                    "open(key + '.new', 'wb').write(os.urandom(32))\nos.chmod(key + '.new', 0o600)\n"
                    "os.replace(key + '.new', key)\n", str(home))
    assert _forge(home, "inplace") > 0
    subprocess.run(["chmod", "-R", "go-w", str(home)], check=True)
    said = _no_injection(tree, home, original, enabled)
    assert said == "", said
    key = home / "gofail-py" / "key"
    assert (key.stat().st_uid, key.stat().st_mode & 0o777) == (0, 0o600)


def test_a_readable_key_is_replaced(shared_tmp: Path) -> None:
    """A key others could read (a `chmod -R a+rX` of the cache, a backup restored 0644) may have
    been read: `nobody` reads it and seals its entries with it. A new key seals from then on: the
    forged entries, however they get into the cache later (a copy, a restore), are not used."""
    tree, home, original, enabled = _warm_cache(shared_tmp)
    subprocess.run(["chmod", "-R", "a+rX", str(home)], check=True)
    key = home / "gofail-py" / "key"
    old = key.read_bytes()
    loot = shared_tmp / "loot"
    loot.mkdir()
    os.chown(loot, OTHER, OTHER)
    assert _forge(home, "replace", into=loot) > 0
    assert _gofail_py(tree, home, "list", "./...").returncode == 0  # the run that finds the key readable
    assert key.read_bytes() != old and key.stat().st_mode & 0o777 == 0o600
    from gofail_py.rewriter import cache

    for entry in loot.iterdir():
        shutil.copy(entry, home / "gofail-py" / cache.fingerprint() / "r" / entry.name)
    assert _no_injection(tree, home, original, enabled) == ""


@pytest.mark.parametrize("level", ["fingerprint", "r"])
def test_a_link_inside_the_cache_is_not_followed(shared_tmp: Path, level: str) -> None:
    """A folder of the cache replaced by a link to another user's folder of entries sealed with
    the real key (left from a time others could write the cache): not followed, and said."""
    tree, home, original, enabled = _warm_cache(shared_tmp)
    from gofail_py.rewriter import cache

    folder = home / "gofail-py" / cache.fingerprint()
    planted = shared_tmp / "planted"
    (planted / "r").mkdir(parents=True)
    assert _forge(home, "replace", into=planted / "r", as_root=True) > 0
    _chown(planted, OTHER)
    victim = folder if level == "fingerprint" else folder / "r"
    shutil.rmtree(victim)
    victim.symlink_to(planted if level == "fingerprint" else planted / "r")
    said = _no_injection(tree, home, original, enabled)
    assert "symbolic link" in said and said.count("warning:") == 2, said  # once a run


def test_an_entry_moved_to_another_source_s_key_is_not_used(tmp_path: Path) -> None:
    """An entry sealed for one source, copied over the entry of another (same user, same key):
    each seal covers its own name, so the copy is not taken for the other file's result."""
    tree, home, original, enabled = _warm_cache(tmp_path)
    from gofail_py.rewriter import cache

    entries = sorted((home / "gofail-py" / cache.fingerprint() / "r").iterdir())
    assert len(entries) >= 4
    first = entries[0].read_bytes()
    for entry in entries[1:]:
        entry.write_bytes(first)
    assert _no_injection(tree, home, original, enabled) == ""


def test_a_fifo_or_link_as_the_key_is_replaced_never_followed(shared_tmp: Path) -> None:
    """The key file made a FIFO (never waited on) or a link to another user's file (never
    written through: the link itself is replaced)."""
    tree, home, original, enabled = _warm_cache(shared_tmp)
    key = home / "gofail-py" / "key"
    key.unlink()
    os.mkfifo(key)
    assert _no_injection(tree, home, original, enabled) == ""
    assert key.is_file() and not key.is_symlink()
    theirs = shared_tmp / "their-file"
    theirs.write_bytes(b"x" * 32)
    os.chown(theirs, OTHER, OTHER)
    key.unlink()
    key.symlink_to(theirs)
    assert _no_injection(tree, home, original, enabled) == ""
    assert theirs.read_bytes() == b"x" * 32 and key.is_file() and not key.is_symlink()


def test_the_library_collects_the_warning_and_prints_nothing(shared_tmp: Path, capfd: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    """In a program that calls the rewriter, the warning is the caller's to show (once, however
    many runs and Stores saw it); nothing is printed."""
    from gofail_py.rewriter import cachedir, workspace

    tree, home, original, enabled = _warm_cache(shared_tmp)
    subprocess.run(["chmod", "-R", "777", str(home)], check=True)
    monkeypatch.setenv("XDG_CACHE_HOME", str(home))
    monkeypatch.chdir(tree)
    cachedir.notices()
    for _ in range(2):
        workspace.plan_enable(["./..."])
        workspace.list_failpoints(["./..."])
    said = cachedir.notices()
    assert len(said) == 1 and "writable by other users" in said[0], said
    assert capfd.readouterr() == ("", "")
