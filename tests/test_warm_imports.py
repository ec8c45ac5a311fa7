"""What a warm rewriter run imports (docs/speed.md): a regression guard on start-up, not a timing.

A warm run (the cache filled by one enable+disable cycle) needs no parser, no templates and none
of the modules that only a rare path uses; each of them costs milliseconds of every run. The run
is the real CLI in its own interpreter, on a real Go module copied from the golden cases."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.support.goprog import REPO, TESTDATA

# imported by nothing a warm enable/disable needs: the parser and templates, OpenSSL (hashlib),
# tempfile (random, shutil, compressors), the HTTP client, go.mod editing, the diff of --dry-run,
# json, subprocess, and dataclasses (each class it makes costs 0.4-0.9 ms to create)
HEAVY = ("tree_sitter", "tree_sitter_go", "jinja2", "requests", "hashlib", "tempfile", "difflib", "json",
         "subprocess", "dataclasses", "gofail_py.rewriter.syntax", "gofail_py.rewriter.goproc")
# our modules a warm enable may load: the CLI, the rewriter's plumbing, the cache
ALLOWED_OURS = {"gofail_py", "gofail_py.cli", "gofail_py.cli.rewriter", "gofail_py.errors", "gofail_py.rewriter", "gofail_py.rewriter.workspace",
                "gofail_py.rewriter.collect", "gofail_py.rewriter.gofiles", "gofail_py.rewriter.fileio", "gofail_py.rewriter.cache", "gofail_py.rewriter.cachedir", "gofail_py.rewriter.private", "gofail_py.rewriter.runlock", "gofail_py.rewriter.modules",
                "gofail_py.rewriter.rewrite", "gofail_py.rewriter.markers", "gofail_py.rewriter.render", "gofail_py.resources", "gofail_py.names",
                "gofail_py.argcheck"}

_PROBE = (
    "import json, sys\n"
    "before = set(sys.modules)\n"
    "from gofail_py.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:], standalone_mode=False)\n"
    "finally:\n"
    "    print('LOADED ' + json.dumps(sorted(set(sys.modules) - before)), file=sys.stderr)\n"
)


def _module(tmp_path: Path) -> Path:
    """A Go module: a package per golden case (failpoints, labels, CRLF, test files) and plain files."""
    root = tmp_path / "mod"
    root.mkdir()
    (root / "go.mod").write_text("module example.com/warm\n\ngo 1.21\n")
    for case in sorted((TESTDATA / "rewrite").iterdir()):
        source = next(case.glob("input*.go"))
        (root / case.name).mkdir()
        shutil.copy(source, root / case.name / ("main" + source.name[len("input"):]))
        (root / case.name / "plain.go").write_text(f"package {case.name}\n\nfunc plain() {{}}\n")
    return root


def _loaded(cwd: Path, cache_home: Path, *args: str) -> set[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home), PYTHONPATH=str(REPO))
    done = subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120)
    assert done.returncode == 0, done.stderr
    line = [text for text in done.stderr.splitlines() if text.startswith("LOADED ")][-1]
    return set(json.loads(line[len("LOADED "):]))


# `-q` too: click tries a short option as a long one first and computes close matches with difflib
# for the error it then catches; the rewriter's commands give their short flags their long names first
@pytest.mark.parametrize("quiet", ["--quiet", "-q", ""])
def test_a_warm_enable_and_disable_import_nothing_they_do_not_use(tmp_path: Path, quiet: str) -> None:
    tree, home = _module(tmp_path), tmp_path / "cache"
    options = [quiet] if quiet else []
    for verb in ("enable", "disable"):  # fills the cache: the next cycle is warm
        _loaded(tree, home, verb, *options, "./...")
    for verb in ("enable", "disable"):
        loaded = _loaded(tree, home, verb, *options, "./...")
        heavy = {name for name in loaded if name in HEAVY or name.split(".")[0] in HEAVY}
        assert not heavy, f"a warm {verb} imported {sorted(heavy)}"
        ours = {name for name in loaded if name.startswith("gofail_py")}
        # go.mod is read by every disable (to undo --go-get) and by enable's note on a missing requirement
        allowed = ALLOWED_OURS if verb == "enable" and quiet else ALLOWED_OURS | {"gofail_py.rewriter.gomod"}
        assert ours <= allowed, f"a warm {verb} imported {sorted(ours - allowed)}"
        assert "gofail_py.cli.rewriter" in ours  # the probe saw a real run


def test_ls_imports_neither_the_rewriter_nor_the_terms_grammar(kvserver_binary: Path, tmp_path: Path) -> None:
    """`gofail-py ls` against a real binary: the terms grammar is only for commands that set terms."""
    from tests.test_client import KV

    kv = KV(kvserver_binary, tmp_path / "data")
    try:
        loaded = _loaded(tmp_path, tmp_path / "cache", "ls", "-e", kv.client.endpoint, "--timeout", "30")
    finally:
        kv.stop()
    unwanted = {"gofail_py.terms", "gofail_py.rewriter.rewrite", "gofail_py.rewriter.workspace", "tree_sitter", "jinja2"}
    assert "gofail_py.client.client" in loaded and not loaded & unwanted, sorted(loaded & unwanted)


@pytest.mark.parametrize("collecting", [True, False])
def test_loading_the_cli_leaves_the_cycle_collector_as_it_found_it(collecting: bool) -> None:
    """The collector is paused while the CLI and a command load (docs/speed.md), never left off:
    a long `run` or `explore` collects as usual; one switched off by the embedding program stays off."""
    probe = (
        "import gc, sys\n"
        f"{'' if collecting else 'gc.disable()'}\n"
        "from gofail_py.cli import main\n"
        "print('AFTER-IMPORT', gc.isenabled())\n"
        "try:\n"
        "    main(['list', '--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "print('AFTER-COMMAND', gc.isenabled(), gc.get_freeze_count(), 'gofail_py.cli.rewriter' in sys.modules)\n"
    )
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", probe], env=env, capture_output=True, text=True, timeout=60, check=True).stdout
    assert f"AFTER-IMPORT {collecting}" in out
    assert f"AFTER-COMMAND {collecting} 0 True" in out, "a library user's objects are never frozen"


_CYCLE_PROBE = """\
import gc, sys, weakref
class Node: pass
node = Node(); node.me = node; alive = weakref.ref(node)  # a cycle of the embedding program's
if sys.argv[1] == "runner":
    from click.testing import CliRunner
    from gofail_py.cli import main
    CliRunner().invoke(main, ["list", "--help"])
else:
    import gofail_py.cli
del node
gc.collect()
print("COLLECTED", alive() is None, gc.get_freeze_count())
"""


@pytest.mark.parametrize("how", ["import", "runner"])
def test_a_library_user_s_cycles_are_still_collected(how: str) -> None:
    """gc.freeze() is the program's alone: in a process that imports the CLI (a test's CliRunner, a
    tool of its own), it would make every object alive then permanent: cycles among them dropped
    later are never collected (tracebacks, frames, a test session's objects)."""
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = subprocess.run([sys.executable, "-c", _CYCLE_PROBE, how], env=env, capture_output=True, text=True,
                         timeout=60, check=True).stdout
    assert "COLLECTED True 0" in out


def test_the_program_itself_freezes_what_it_loaded(tmp_path: Path) -> None:
    """`gofail-py` (its console script) and `python -m gofail_py.cli` still freeze what they loaded
    (docs/speed.md): a sitecustomize reports the freeze count at exit."""
    (tmp_path / "sitecustomize.py").write_text(
        "import atexit, gc, sys\natexit.register(lambda: print('FROZEN', gc.get_freeze_count() > 0, file=sys.stderr))\n")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([str(tmp_path), str(REPO)]))
    script = Path(sys.executable).parent / "gofail-py"
    for argv in ([sys.executable, "-m", "gofail_py.cli", "list", "--help"], [str(script), "list", "--help"]):
        done = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=60)
        assert done.returncode == 0 and "FROZEN True" in done.stderr, (argv, done.stderr)
