"""testdata/buildmod enabled by gofail-py builds, vets, tests and fires against the real runtime v0.2.0."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from gofail_py.cli import main
from tests.conftest import tree_digest
from tests.support.goprog import TESTDATA, go_env

FAILPOINTS = {"putFail", "putRename", "afterPut", "sumStopAt", "getSlow", "testHook", "mainCount"}


def go(*args: str, cwd: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["go", *args], cwd=cwd, env=env or go_env(), capture_output=True, text=True, timeout=600)


def test_buildmod_enabled_builds_vets_tests_and_fires(tmp_path: Path) -> None:
    module = tmp_path / "buildmod"
    shutil.copytree(TESTDATA / "buildmod", module)
    before = tree_digest(module)
    assert go("build", "./...", cwd=module).returncode == 0, "the plain module builds too"

    result = CliRunner().invoke(main, ["enable", str(module / "...")])
    assert result.exit_code == 0, result.output
    bindings = sorted(str(p.relative_to(module)) for p in module.rglob("*.fail*.go"))
    # the _test.go file gets a binding that is itself a test file (a documented fix over gofail v0.2.0)
    assert bindings == ["cmd/buildmod/main.fail.go", "store/store.fail.go", "store/store.fail_test.go"]
    assert b"\npackage main\n" in (module / "cmd/buildmod/main.fail.go").read_bytes()
    names = {line.split('"')[1] for p in module.rglob("*.fail*.go") for line in p.read_text().splitlines()
             if "runtime.NewFailpoint(" in line}
    assert names == FAILPOINTS

    for step in (["build", "./..."], ["vet", "./..."], ["test", "-count=1", "./..."]):
        done = go(*step, cwd=module)
        assert done.returncode == 0, f"go {' '.join(step)}: {done.stdout}{done.stderr}"

    # the enabled bodies run for real: an int drives a loop, a bool returns an error
    binary = tmp_path / "prog"
    assert go("build", "-o", str(binary), "./cmd/buildmod", cwd=module).returncode == 0
    env = go_env() | {"GOFAIL_FAILPOINTS": 'mainCount=return(2);putFail=return(true);sumStopAt=return(1)'}
    run = subprocess.run([str(binary)], env=env, capture_output=True, text=True, timeout=60)
    assert run.stdout == "tick 0\ntick 1\nput failed\n0\n", run.stdout + run.stderr
    plain = subprocess.run([str(binary)], env=go_env(), capture_output=True, text=True, timeout=60)
    assert plain.stdout == "3\n"

    result = CliRunner().invoke(main, ["disable", str(module / "...")])
    assert result.exit_code == 0, result.output
    assert tree_digest(module) == before
