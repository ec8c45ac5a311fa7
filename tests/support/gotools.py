"""The real Go gofail v0.2.0 and etcd's server module, fetched once through the Go toolchain."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import stat
import subprocess
from functools import cache
from pathlib import Path

from tests.support.goprog import go_env

GOFAIL_VERSION = "v0.2.0"
ETCD_SERVER = "go.etcd.io/etcd/server/v3"
ETCD_VERSION = os.environ.get("GOFAIL_PY_ETCD_VERSION", "v3.6.16")


@cache
def gofail_binary() -> Path:
    """The Go gofail v0.2.0, built once into the test cache (tests/support/gobuild.py) by `go install`
    with GOBIN set to a folder of its own: never into the user's Go bin dir (GOBIN or GOPATH/bin),
    where it would replace a gofail of theirs, and found where it was put whatever GOBIN says."""
    from tests.support.gobuild import cached_binary, go_version

    def build(workdir: Path, output: Path) -> None:
        workdir.mkdir(parents=True)
        env = dict(go_env(), GOFLAGS="", GOBIN=str(workdir))  # GOFLAGS: -mod=mod is refused by `go install X@v`
        done = subprocess.run(["go", "install", f"go.etcd.io/gofail@{GOFAIL_VERSION}"], cwd=workdir, env=env,
                              capture_output=True, text=True)
        if done.returncode != 0:
            raise RuntimeError(f"go install go.etcd.io/gofail@{GOFAIL_VERSION} failed:\n{done.stdout}{done.stderr}")
        (workdir / "gofail").rename(output)

    key = hashlib.sha256(f"{go_version()}\0{GOFAIL_VERSION}".encode()).hexdigest()[:20]
    return cached_binary("gofail", key, build)


@cache
def module_dir(module: str, version: str) -> Path:
    """A module's source in the module cache (read-only), downloaded if needed."""
    out = subprocess.run(["go", "mod", "download", "-json", f"{module}@{version}"], env=go_env(),
                         capture_output=True, text=True, check=True).stdout
    return Path(json.loads(out)["Dir"])


def writable_copy(source: Path, destination: Path) -> Path:
    """Copies a tree out of the module cache and makes it writable."""
    shutil.copytree(source, destination, symlinks=True)
    for path in [destination, *destination.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)
    return destination


def dirs_with_markers(root: Path, needle: str = "// gofail:") -> list[str]:
    """The package directories under root that hold a marker: what the Go gofail must be given."""
    found = sorted({str(p.parent.relative_to(root)) for p in root.rglob("*.go") if needle in p.read_text(errors="replace")})
    return ["./" + d if d != "." else "." for d in found]


def run_go_gofail(command: str, root: Path, dirs: list[str]) -> None:
    subprocess.run([str(gofail_binary()), command, *dirs], cwd=root, check=True, capture_output=True)
