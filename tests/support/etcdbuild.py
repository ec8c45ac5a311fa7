"""etcd's server, enabled by gofail-py and built as examples/etcd/run.sh does it, once per content.

The etcd suite's tests share it: ``etcd_build()`` gives the binary and the enabled server tree
(for `--source`), kept in the test cache (tests/support/gobuild.py) under a key of the etcd
version, the Go version and the rewriter's code.
"""

from __future__ import annotations

import json
import os
import shutil
import stat
import subprocess
from dataclasses import dataclass
from pathlib import Path

from tests.support.gobuild import cached_binary, tree_key
from tests.support.goprog import REPO, go_env

VERSION = os.environ.get("ETCD_VERSION", "v3.6.16")
# server/go.mod replaces these modules with ../api, ../pkg...: they must stand beside it
MODULES = {"server": "go.etcd.io/etcd/server/v3", "api": "go.etcd.io/etcd/api/v3", "pkg": "go.etcd.io/etcd/pkg/v3",
           "client/pkg": "go.etcd.io/etcd/client/pkg/v3", "client/v3": "go.etcd.io/etcd/client/v3"}


@dataclass(frozen=True)
class EtcdBuild:
    binary: Path
    server: Path  # the enabled server module: `--source {server}/...`


def _module_dir(module: str) -> Path:
    done = subprocess.run(["go", "mod", "download", "-json", f"{module}@{VERSION}"], capture_output=True, text=True,
                          env=go_env(), check=True, timeout=600)
    return Path(json.loads(done.stdout)["Dir"])


def _writable(root: Path) -> None:
    for path in [root, *root.rglob("*")]:
        if not path.is_symlink():
            path.chmod(path.stat().st_mode | stat.S_IWUSR)


def etcd_build() -> EtcdBuild:
    def build(workdir: Path, output: Path) -> None:
        from gofail_py.rewriter import workspace

        tree = output.parent / "src"  # kept beside the binary: the cache keeps the staging folder but `work`
        for place, module in MODULES.items():
            (tree / place).parent.mkdir(parents=True, exist_ok=True)
            shutil.copytree(_module_dir(module), tree / place)
        _writable(tree)
        workspace.enable([tree / "server" / "..."], go_get=True)
        done = subprocess.run(["go", "build", "-o", str(output), "."], cwd=tree / "server", env=go_env(),
                              capture_output=True, text=True, timeout=1800)
        if done.returncode != 0:
            raise RuntimeError(f"go build of etcd {VERSION} failed:\n{done.stdout}{done.stderr}")

    roots = [REPO / "gofail_py" / "rewriter", REPO / "templates", REPO / "grammars"]
    binary = cached_binary("etcd", tree_key(roots, VERSION, "etcd"), build)
    return EtcdBuild(binary, binary.parent / "src" / "server")
