"""go.mod and go.sum around `enable --go-get` / `disable`, with the real go command: later edits
survive, a killed run leaves no go get behind, damaged state is handled, go.work modules are found."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from gofail_py.rewriter.workspace import GO_MOD_STATE
from tests.conftest import tree_digest
from tests.support.hostile import GOFAIL_PY, PROBING, SOURCE, SlowProxy, go, go_children, go_env, gofail_py, module

pytestmark = pytest.mark.hostile  # a suite of its own: .ci/run runs it, `pytest -m hostile`

GO_MOD = "module example.com/m\n\ngo 1.21\n"


@pytest.fixture(autouse=True, scope="module")
def modules_in_the_cache() -> None:
    """The tests' go runs offline (GOPROXY=off): what they need is fetched once here, through the
    proxy. They once relied on an earlier suite having fetched it, and failed on a fresh machine."""
    from tests.support.gotools import module_dir

    module_dir("go.etcd.io/gofail", "v0.2.0")
    module_dir(*PROBING.split("@"))


def sources(root: Path) -> dict[str, str]:
    return {k: v for k, v in tree_digest(root).items() if k.endswith(".go")}


def test_unchanged_go_mod_comes_back_byte_for_byte(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    before = tree_digest(root)
    enabled = gofail_py(root, "enable", "--go-get", ".")
    assert enabled.returncode == 0 and "require go.etcd.io/gofail v0.2.0" in (root / "go.mod").read_text()
    disabled = gofail_py(root, "disable", ".")
    assert disabled.returncode == 0 and "restored" in disabled.stdout
    assert tree_digest(root) == before, "go.mod byte for byte, no go.sum, no state file"


def test_a_dependency_added_after_enable_survives_disable(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    assert gofail_py(root, "enable", "--go-get", ".").returncode == 0
    (root / "probe.go").write_text('package m\n\nimport "github.com/xiang90/probing"\n\nvar _ = probing.NewProber\n')
    go(root, "get", PROBING)
    result = gofail_py(root, "disable", ".")
    assert result.returncode == 0, result.stderr
    assert "changed since enable --go-get: undid only enable's change and kept the rest" in result.stdout
    assert "dropped go.etcd.io/gofail v0.2.0" in result.stdout
    go_mod = (root / "go.mod").read_text()
    assert "github.com/xiang90/probing" in go_mod and "go.etcd.io/gofail" not in go_mod
    assert "github.com/xiang90/probing" in (root / "go.sum").read_text()
    assert not (root / GO_MOD_STATE).exists() and not (root / "f0.fail.go").exists()
    go(root, "build", "./...")
    go(root, "vet", "./...")


def test_a_hand_edit_of_go_mod_survives_and_gofail_lines_leave_go_sum(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    assert gofail_py(root, "enable", "--go-get", ".").returncode == 0
    go_mod = root / "go.mod"
    go_mod.write_text(go_mod.read_text().replace("go 1.21\n", "go 1.21\n\nreplace example.com/other => ../other\n"))
    result = gofail_py(root, "disable", ".")
    assert result.returncode == 0, result.stderr
    assert go_mod.read_text() == GO_MOD + "\nreplace example.com/other => ../other\n"
    assert not (root / "go.sum").exists(), "there was no go.sum before enable, and only gofail's lines were in it"


def test_an_unsafe_undo_exits_1_and_leaves_go_mod_alone(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    assert gofail_py(root, "enable", "--go-get", ".").returncode == 0
    state = root / GO_MOD_STATE
    saved = json.loads(state.read_text())
    saved["go.mod"] = GO_MOD + "\nrequire go.etcd.io/gofail v0.1.0\n"  # as if the module had required an older one
    state.write_text(json.dumps(saved))
    (root / "go.mod").write_text((root / "go.mod").read_text() + "// edited by hand\n")
    go_mod = (root / "go.mod").read_bytes()
    result = gofail_py(root, "disable", ".")
    assert result.returncode == 1
    assert "v0.1.0 before enable and v0.2.0 now" in result.stderr and "go.mod was left as it is" in result.stderr
    assert (root / "go.mod").read_bytes() == go_mod and state.exists()
    assert not (root / "f0.fail.go").exists(), "the sources were disabled all the same"


@pytest.mark.parametrize("damage", ["{not json", "", "[]", '{"go.mod": 5}', '{"go.mod": "x", "go.sum": 3}'])
def test_damaged_state_file(tmp_path: Path, damage: str) -> None:
    root = module(tmp_path / "m")
    plain = sources(root)
    assert gofail_py(root, "enable", "--go-get", ".").returncode == 0
    (root / GO_MOD_STATE).write_text(damage)
    result = gofail_py(root, "disable", ".")
    assert result.returncode == 1
    assert f"{root / GO_MOD_STATE}: damaged (" in result.stderr and "check go.mod and go.sum by hand" in result.stderr
    assert sources(root) == plain
    assert "go.etcd.io/gofail" not in (root / "go.mod").read_text()
    assert not (root / GO_MOD_STATE).exists()
    again = gofail_py(root, "disable", ".")
    assert again.returncode == 0 and again.stderr == ""


def test_no_go_on_path_changes_nothing(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    before = tree_digest(root)
    result = gofail_py(root, "enable", "--go-get", ".", env=dict(go_env(), PATH="/nonexistent"))
    assert result.returncode == 2
    assert result.stderr == "gofail-py: --go-get needs the go command, which is not on PATH; nothing was changed\n"
    assert tree_digest(root) == before


def test_go_work_with_modules_below(tmp_path: Path) -> None:
    (tmp_path / "go.work").write_text("go 1.21\n\nuse (\n\t./a\n\t./b\n)\n")
    module(tmp_path / "a", "module example.com/a\n\ngo 1.21\n", package="a")
    module(tmp_path / "b", "module example.com/b\n\ngo 1.21\n", package="b")
    (tmp_path / "b" / "f0.go").write_text(SOURCE.format(package="b", n=1))
    before = tree_digest(tmp_path)
    result = gofail_py(tmp_path, "enable", "--go-get", "./...")
    assert result.returncode == 0, result.stderr
    for name in ("a", "b"):
        assert "go.etcd.io/gofail v0.2.0" in (tmp_path / name / "go.mod").read_text()
        assert f"required go.etcd.io/gofail v0.2.0 in {tmp_path / name / 'go.mod'}" in result.stdout
    go(tmp_path, "build", "./a/...", "./b/...", GOFLAGS="")  # workspace mode refuses -mod=mod
    assert gofail_py(tmp_path, "disable", "./...").returncode == 0
    assert tree_digest(tmp_path) == before


def test_without_go_get_says_the_build_needs_the_runtime(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    result = gofail_py(root, "enable", ".")
    assert result.returncode == 0
    assert f"note: {root / 'go.mod'} does not require go.etcd.io/gofail: the build will need it" in result.stderr
    assert "go get go.etcd.io/gofail@v0.2.0" in result.stderr


def test_dry_run_go_get_shows_the_go_mod_change_and_writes_nothing(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    before = tree_digest(tmp_path)
    result = gofail_py(root, "enable", "--dry-run", "--go-get", ".")
    assert result.returncode == 0, result.stderr
    assert f"+++ b/{root / 'go.mod'}" in result.stdout and "+require go.etcd.io/gofail v0.2.0" in result.stdout
    assert "+go.etcd.io/gofail v0.2.0 h1:" in result.stdout
    assert tree_digest(tmp_path) == before


@pytest.fixture
def slow_proxy() -> Iterator[SlowProxy]:
    proxy = SlowProxy()
    yield proxy
    proxy.close()


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM])
def test_go_get_dies_with_gofail_py(tmp_path: Path, slow_proxy: SlowProxy, sig: signal.Signals) -> None:
    root = module(tmp_path / "m")
    before = tree_digest(root)
    env = go_env(GOPROXY=slow_proxy.url, GOMODCACHE=str(tmp_path / "modcache"), GOFLAGS="-modcacherw")
    run = subprocess.Popen([str(GOFAIL_PY), "enable", "--go-get", "."], cwd=root, env=env,
                           stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert slow_proxy.asked.wait(60), "go get never asked the proxy"
    run.send_signal(sig)
    _, stderr = run.communicate(timeout=60)
    assert "Traceback" not in stderr
    assert run.returncode == (-signal.SIGKILL if sig == signal.SIGKILL else 128 + signal.SIGTERM)
    deadline = time.monotonic() + 30
    while go_children(root) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert go_children(root) == [], "go get outlived gofail-py"
    if sig == signal.SIGTERM:
        assert tree_digest(root) == before, "a stopped run puts go.mod back and drops its state"
    result = gofail_py(root, "disable", ".", env=env)
    assert result.returncode == 0
    slow_proxy.release.set()  # a go get still alive would now write go.mod
    time.sleep(2)
    assert tree_digest(root) == before


def test_a_go_line_enable_raised_is_put_back_unless_requirements_were_added(tmp_path: Path) -> None:
    old = "module example.com/m\n\ngo 1.20\n"
    edited = old + "\nreplace example.com/other => ../other\n"
    root = module(tmp_path / "m", old)
    assert gofail_py(root, "enable", "--go-get", ".").returncode == 0
    assert "go 1.21" in (root / "go.mod").read_text(), "gofail v0.2.0 needs go 1.21"
    (root / "go.mod").write_text((root / "go.mod").read_text() + "\nreplace example.com/other => ../other\n")
    result = gofail_py(root, "disable", ".")
    assert result.returncode == 0 and "put back `go 1.20`" in result.stdout
    assert (root / "go.mod").read_text() == edited

    assert gofail_py(root, "enable", "--go-get", ".").returncode == 0
    (root / "probe.go").write_text('package m\n\nimport "github.com/xiang90/probing"\n\nvar _ = probing.NewProber\n')
    go(root, "get", PROBING)
    result = gofail_py(root, "disable", ".")
    assert result.returncode == 0 and "kept `go 1.21`" in result.stdout
    go_mod = (root / "go.mod").read_text()
    assert "go 1.21" in go_mod and "probing" in go_mod and "gofail" not in go_mod
    go(root, "build", "./...")


def test_a_hard_linked_go_mod_is_refused_before_go_get(tmp_path: Path) -> None:
    """go get writes go.mod in place, but the undo replaces it by rename, which would leave its
    other name holding the runtime requirement: refused, nothing changed."""
    root = module(tmp_path / "m")
    twin = tmp_path / "twin.mod"
    os.link(root / "go.mod", twin)
    before = tree_digest(root)
    result = gofail_py(root, "enable", "--go-get", ".")
    assert result.returncode == 2, result.stdout + result.stderr
    assert "go.mod: has 2 hard links" in result.stderr and "Traceback" not in result.stderr
    assert tree_digest(root) == before and twin.read_bytes() == (root / "go.mod").read_bytes()


def test_a_go_mod_hard_linked_after_enable_is_not_split_by_disable(tmp_path: Path) -> None:
    root = module(tmp_path / "m")
    assert gofail_py(root, "enable", "--go-get", ".").returncode == 0
    twin = tmp_path / "twin.mod"
    os.link(root / "go.mod", twin)
    result = gofail_py(root, "disable", ".")
    assert result.returncode == 1, result.stdout + result.stderr
    assert "go.mod: has 2 hard links" in result.stderr and "Traceback" not in result.stderr
    assert (root / "go.mod").stat().st_nlink == 2 and twin.read_bytes() == (root / "go.mod").read_bytes()
    assert (root / GO_MOD_STATE).exists(), "the saved state stays for a later disable"
    twin.unlink()
    again = gofail_py(root, "disable", ".")
    assert again.returncode == 0 and "restored" in again.stdout, again.stdout + again.stderr
