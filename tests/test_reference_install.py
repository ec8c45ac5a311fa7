"""The reference Go gofail is installed into the tests' cache, never into the user's Go bin dir,
and found there whatever GOBIN says (issue 21, item 12: with GOBIN set, 7 tests failed and
scripts/test.sh wrote into $(go env GOPATH)/bin)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.goprog import REPO, go_env

REFERENCE_TESTS = ["tests/test_differential.py", "tests/test_workspace.py::test_go_gofail_enabled_trees_are_recognised"]


@pytest.mark.slow
def test_the_reference_tests_pass_with_gobin_set_and_write_no_go_bin_dir(tmp_path: Path) -> None:
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    gobin, gopath = tmp_path / "gobin", tmp_path / "gopath"
    gobin.mkdir()
    env = {**go_env(), "GOBIN": str(gobin), "GOPATH": str(gopath), "GOMODCACHE": gomodcache,
           "GOFAIL_PY_TEST_CACHE": str(tmp_path / "test-cache")}  # an empty cache: the reference is installed anew
    done = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:randomly", "-m", "not etcd", *REFERENCE_TESTS],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0 and "7 passed" in done.stdout, done.stdout[-3000:] + done.stderr[-2000:]
    assert list(gobin.iterdir()) == [], "written into GOBIN"
    assert not (gopath / "bin").exists(), "written into $(go env GOPATH)/bin"
    assert len(list((tmp_path / "test-cache").glob("gofail-*/gofail"))) == 1


def test_scripts_test_sh_installs_the_reference_into_the_test_cache(tmp_path: Path) -> None:
    # the step of scripts/test.sh (its pip step is left out: reinstalling this venv would disturb
    # the tests running beside this one)
    assert "\ninstall_reference\n" in (REPO / "scripts" / "test.sh").read_text()
    gomodcache = subprocess.run(["go", "env", "GOMODCACHE"], capture_output=True, text=True, check=True).stdout.strip()
    gobin, gopath = tmp_path / "gobin", tmp_path / "gopath"
    gobin.mkdir()
    env = {**go_env(), "GOBIN": str(gobin), "GOPATH": str(gopath), "GOMODCACHE": gomodcache,
           "GOFAIL_PY_TEST_CACHE": str(tmp_path / "test-cache"), "PATH": f"{Path(sys.executable).parent}:{os.environ['PATH']}"}
    done = subprocess.run(["bash", "-c", "set -euo pipefail; began=$SECONDS; . scripts/progress.sh; install_reference"],
                          cwd=REPO, env=env, capture_output=True, text=True, timeout=1200)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    [installed] = (tmp_path / "test-cache").glob("gofail-*/gofail")
    assert f"   {installed}\n" in done.stdout
    assert list(gobin.iterdir()) == [] and not (gopath / "bin").exists()
    version = subprocess.run([str(installed), "--help"], capture_output=True, text=True)
    assert "enable" in version.stdout + version.stderr
