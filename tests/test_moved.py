"""The module paths of 0.1 still import for one release (gofail_py/_moved.py): each gives the module
at its new path, the same object, with a DeprecationWarning that names the new path and points
at the importing line; pytest's `-p` names of the plugins and the names the docs teach need none."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from gofail_py._moved import MOVED, PLUGINS
from tests.support.goprog import REPO

_PROBE = """\
import importlib, json, sys, warnings
old, new = sys.argv[1], sys.argv[2]
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    exec(compile(f"import {old}", "<the importing line>", "exec"))
    module = sys.modules[old]
print(json.dumps({"same": module is importlib.import_module(new), "name": module.__name__,
                  "warnings": [[w.category.__name__, str(w.message), w.filename] for w in caught]}))
"""


def _python(*args: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env or dict(os.environ, PYTHONPATH=str(REPO)),
                          capture_output=True, text=True, timeout=60)


@pytest.mark.parametrize("old", sorted(MOVED))
def test_an_old_path_gives_the_moved_module_with_a_deprecation_warning(old: str) -> None:
    done = _python("-c", _PROBE, old, MOVED[old])
    assert done.returncode == 0, done.stderr
    seen = json.loads(done.stdout)
    assert seen["same"] and seen["name"] == MOVED[old]
    moved = [w for w in seen["warnings"] if w[0] == "DeprecationWarning" and MOVED[old] in w[1]]
    assert len(moved) == 1 and moved[0][2] == "<the importing line>", seen["warnings"]


@pytest.mark.parametrize("old", sorted(PLUGINS))
def test_the_plugins_p_names_import_without_a_warning(old: str) -> None:
    done = _python("-W", "error::DeprecationWarning", "-c", _PROBE, old, PLUGINS[old])
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {"same": True, "name": PLUGINS[old], "warnings": []}


def test_the_names_the_docs_teach_need_no_warning_and_the_supervisor_s_old_names_warn() -> None:
    code = (
        "import warnings\n"
        "warnings.simplefilter('error', DeprecationWarning)\n"
        "from gofail_py.client import DEFAULT_REGISTRATION_GRACE, Client\n"
        "from gofail_py.recording import Recorder, RecordingClient, recording\n"
        "from gofail_py.terms import Terms\n"
        "from gofail_py.processes.supervisor import Supervisor\n"
        "from gofail_py.processes import procfind\n"
        "warnings.simplefilter('always', DeprecationWarning)\n"
        "with warnings.catch_warnings(record=True) as caught:\n"
        "    from gofail_py.processes import Supervisor as Old, free_port\n"
        "assert Old is Supervisor, Old\n"
        "assert {str(w.message).split()[0] for w in caught} == {'gofail_py.processes.Supervisor', 'gofail_py.processes.free_port'}\n"
        "try:\n"
        "    from gofail_py.processes import nothing\n"
        "except ImportError as error:\n"
        "    print('REFUSED', error)\n"
    )
    done = _python("-c", code)
    assert done.returncode == 0 and "REFUSED cannot import name 'nothing'" in done.stdout, done.stderr


@pytest.mark.slow
def test_p_gofail_py_pytest_plugin_still_loads_the_plugin_without_autoload(tmp_path: Path) -> None:
    """A pytest.ini that names the plugins with `-p` (plugin autoload off) keeps working."""
    (tmp_path / "pytest.ini").write_text("[pytest]\naddopts = -p gofail_py.pytest_plugin -p gofail_py.pytest_explore\n")
    (tmp_path / "test_uses.py").write_text(
        "import pytest\n\n"
        "def test_fixture(gofail_process, pytestconfig):\n"
        "    assert callable(gofail_process) and pytestconfig.getoption('gofail_report') is None\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO), PYTEST_DISABLE_PLUGIN_AUTOLOAD="1")
    done = _python("-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::DeprecationWarning",
                   "--markers", cwd=tmp_path, env=env)
    assert "@pytest.mark.gofail_explore" in done.stdout, done.stdout + done.stderr
    done = _python("-m", "pytest", "-q", "-p", "no:cacheprovider", "-W", "error::DeprecationWarning", cwd=tmp_path, env=env)
    assert done.returncode == 0 and "1 passed" in done.stdout, done.stdout + done.stderr


def test_python_m_of_the_old_render_path_still_writes_the_compiled_templates(tmp_path: Path) -> None:
    """`python -m gofail_py.render` (0.1's command after editing a template), in a copy of the package."""
    shutil.copytree(REPO / "gofail_py", tmp_path / "gofail_py", ignore=shutil.ignore_patterns("__pycache__"))
    for folder in ("grammars", "templates"):
        shutil.copytree(REPO / folder, tmp_path / folder)
    compiled = tmp_path / "gofail_py" / "rewriter" / "compiled_templates"
    shutil.rmtree(compiled)
    done = _python("-m", "gofail_py.render", cwd=tmp_path, env=dict(os.environ, PYTHONPATH=str(tmp_path)))
    assert done.returncode == 0, done.stderr
    assert "DeprecationWarning: gofail_py.render moved to gofail_py.rewriter.render" in done.stderr
    assert sorted(p.name for p in compiled.iterdir()) == sorted(
        p.name for p in (REPO / "gofail_py" / "rewriter" / "compiled_templates").iterdir() if p.name != "__pycache__")
