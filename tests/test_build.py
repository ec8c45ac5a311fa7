"""Enabled code builds against the real runtime v0.2.0: the example, every golden case, etcd."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from gofail_py.rewriter import workspace
from tests.support.goprog import REPO, TESTDATA, go_env

GO_MOD = "module example.com/golden\n\ngo 1.21\n\nrequire go.etcd.io/gofail v0.2.0\n"


def go(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["go", *args], cwd=cwd, env=go_env(), capture_output=True, text=True)


def test_kvserver_builds_and_vets(tmp_path: Path) -> None:
    module = tmp_path / "kvserver"
    shutil.copytree(REPO / "examples" / "kvserver", module)
    workspace.enable([module], go_get=True)
    for command in (("build", "./..."), ("vet", "./...")):
        done = go(*command, cwd=module)
        assert done.returncode == 0, done.stderr


def test_every_golden_case_compiles(tmp_path: Path) -> None:
    """Each enabled golden file, with its binding, in a module of its own, passes `go vet`."""
    (tmp_path / "go.mod").write_text(GO_MOD)
    for case in sorted(p for p in (TESTDATA / "rewrite").iterdir() if p.is_dir()):
        package = tmp_path / case.name
        package.mkdir()
        for source in case.glob("input*.go"):
            shutil.copy(source, package / source.name.replace("input", case.name))
    workspace.enable([tmp_path / "..."])
    done = go("vet", "./...", cwd=tmp_path)
    # vet only: the golden bodies are fragments; `unreachable code` after a body's return is gofail's footer
    problems = [line for line in done.stderr.splitlines() if line.strip() and "unreachable code" not in line
                and not line.startswith("#")]
    assert problems == [], done.stderr


# etcd's server packages, enabled by gofail-py, are built by examples/etcd/run.sh (tests/test_etcd.py):
# as a main module the server needs its sibling modules laid out beside it, which that script does.
