"""Go helper programs built once and kept, keyed by the hash of everything that goes into them.

A binary lives in ~/.cache/gofail-py-tests/NAME-KEY/NAME (or $GOFAIL_PY_TEST_CACHE). The key
hashes the program's source, the rewriter's code when the program is built enabled, and the Go
version, so a change to any of them builds anew; a build goes to a temporary directory renamed
into place, so an interrupted build or two sessions building at once never leave half a binary.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable, Iterable
from functools import cache
from pathlib import Path

from tests.support.goprog import REPO, go_env

STALE_AFTER = 7 * 24 * 3600


def cache_root() -> Path:
    # not $XDG_CACHE_HOME: a test session may point that at a folder of its own for gofail-py's cache
    return Path(os.environ.get("GOFAIL_PY_TEST_CACHE") or Path.home() / ".cache" / "gofail-py-tests")


@cache
def go_version() -> str:
    return subprocess.run(["go", "env", "GOVERSION"], capture_output=True, text=True, check=True, env=go_env()).stdout.strip()


def tree_key(roots: Iterable[Path], *extra: str) -> str:
    """A hash of every file under the roots (path and bytes), the Go version and the extras."""
    digest = hashlib.sha256()
    for part in (go_version(), *extra):
        digest.update(part.encode() + b"\0")
    for root in roots:
        for path in sorted(p for p in root.rglob("*") if p.is_file() and "__pycache__" not in p.parts):
            digest.update(str(path.relative_to(root)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:20]


def cached_binary(name: str, key: str, build: Callable[[Path, Path], None]) -> Path:
    """The binary NAME for KEY; build(workdir, output) makes it when the cache does not hold it."""
    root = cache_root()
    final = root / f"{name}-{key}"
    binary = final / name
    if binary.exists():
        os.utime(final)  # in use: not stale
        return binary
    root.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=f".{name}-", dir=root))
    try:
        build(staging / "work", staging / name)
        shutil.rmtree(staging / "work", ignore_errors=True)
        try:
            staging.rename(final)
        except OSError:  # another session put the same build there first: it is as good as ours
            if not binary.exists():
                raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    # builds of this helper unused for a week; not younger ones: another checkout may be using them now
    for stale in root.glob(f"{name}-*"):
        if stale != final and stale.is_dir() and time.time() - stale.stat().st_mtime > STALE_AFTER:
            shutil.rmtree(stale, ignore_errors=True)
    return binary


def built(name: str, module_src: Path, package: str = ".", enabled: bool = False) -> Path:
    """A Go module's program, built once per content (enabled with gofail-py first if asked)."""
    roots = [module_src] + ([REPO / "gofail_py", REPO / "templates", REPO / "grammars"] if enabled else [])

    def build(workdir: Path, output: Path) -> None:
        from gofail_py.rewriter import workspace

        module = workdir / module_src.name
        shutil.copytree(module_src, module)  # a copy: the build may touch go.mod/go.sum
        if enabled:
            workspace.enable([module / "..."], go_get=True)
        done = subprocess.run(["go", "build", "-o", str(output), package], cwd=module, env=go_env(),
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"go build of {module_src} failed:\n{done.stdout}{done.stderr}")

    return cached_binary(name, tree_key(roots, package, str(enabled)), build)
