"""The rewriter's cache, through the real CLI in its own process: warm runs write the same bytes as
cold ones without tree-sitter or Jinja2, a changed byte is never served from the cache, and a
broken, read-only or full cache is no cache, never an error."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from gofail_py.rewriter import cache, render
from gofail_py.rewriter.markers import MARKER_TEXT, RUNTIME_TEXT
from tests.conftest import tree_digest
from tests.support.goprog import REPO, TESTDATA

# real processes and Go builds for seconds a test: in the default suite, not the `-m "not slow"` loop
pytestmark = pytest.mark.slow

# Runs the CLI and reports which of the heavy modules it imported (hashlib loads OpenSSL, tempfile
# imports random, shutil and the compressors, requests comes with the HTTP client: no rewriter
# command needs them).
_PROBE = (
    "import sys\n"
    "from gofail_py.cli import main\n"
    "try:\n"
    "    main(sys.argv[1:], standalone_mode=False)\n"
    "finally:\n"
    "    print('IMPORTED', sorted(m for m in ('tree_sitter', 'jinja2', 'requests', 'hashlib', 'tempfile') if m in sys.modules), file=sys.stderr)\n"
)


def _run(cwd: Path, cache_home: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-c", _PROBE, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _gofail_py(cwd: Path, cache_home: Path | str, *args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ, XDG_CACHE_HOME=str(cache_home), PYTHONPATH=str(REPO))
    return subprocess.run([sys.executable, "-m", "gofail_py.cli", *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=120)


def _tree(tmp_path: Path, name: str = "tree") -> Path:
    """A module with every golden case as a package, and plain files beside them."""
    root = tmp_path / name
    for case in sorted((TESTDATA / "rewrite").iterdir()):
        source = next(case.glob("input*.go"))
        (root / case.name).mkdir(parents=True)
        shutil.copy(source, root / case.name / ("main" + source.name[len("input"):]))
        (root / case.name / "plain.go").write_text(f"package {case.name}\n\nfunc plain() {{\n\t// {'x' * 30}\n}}\n")
    return root


def test_warm_runs_write_what_cold_runs_write_without_heavy_imports(tmp_path: Path) -> None:
    cold, warm = _tree(tmp_path, "cold"), _tree(tmp_path, "warm")
    home = tmp_path / "cache"
    original = tree_digest(warm)
    for _ in range(2):  # the first cycle fills the cache, the second is served by it
        enabled = _run(warm, home, "enable", "-q", "./...")
        assert enabled.returncode == 0, enabled.stderr
        assert _gofail_py(cold, home, "enable", "-q", "--no-cache", "./...").returncode == 0
        assert tree_digest(warm) == tree_digest(cold)
        disabled = _run(warm, home, "disable", "-q", "./...")
        assert disabled.returncode == 0, disabled.stderr
        assert _gofail_py(cold, home, "disable", "-q", "--no-cache", "./...").returncode == 0
        assert tree_digest(warm) == tree_digest(cold) == original
    assert "IMPORTED []" in enabled.stderr and "IMPORTED []" in disabled.stderr
    for _ in range(2):
        listed = _run(warm, home, "list", "./...")
    assert "IMPORTED []" in listed.stderr and "\tenabled" not in listed.stdout and "\tdisabled" in listed.stdout
    checked = _run(warm, home, "enable", "--check", "./...")  # shares list's entries
    assert checked.returncode == 0 and "IMPORTED []" in checked.stderr, checked.stderr


def test_no_cache_writes_no_cache(tmp_path: Path) -> None:
    tree, home = _tree(tmp_path), tmp_path / "cache"
    assert _gofail_py(tree, home, "enable", "-q", "--no-cache", "./...").returncode == 0
    assert _gofail_py(tree, home, "list", "--no-cache", "./...").returncode == 0
    assert not home.exists()


def test_a_changed_byte_is_never_served_from_the_cache(tmp_path: Path) -> None:
    tree, home = _tree(tmp_path), tmp_path / "cache"
    main = tree / "documented" / "main.go"
    for _ in range(2):
        assert _run(tree, home, "enable", "-q", "./...").returncode == 0
        assert _run(tree, home, "disable", "-q", "./...").returncode == 0
    text = main.read_bytes()
    name = text.split(b"// gofail: var ")[1].split()[0]
    stat = main.stat()
    # same size, same mtime: only the bytes tell
    main.write_bytes(text.replace(b"// gofail: var " + name, b"// gofail: var " + name[:-1] + b"Z", 1))
    os.utime(main, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    result = _run(tree, home, "enable", "./...")
    assert result.returncode == 0, result.stderr
    binding = (tree / "documented" / "main.fail.go").read_bytes()
    assert b'NewFailpoint("' + name[:-1] + b'Z")' in binding


def test_a_plain_file_that_gains_a_marker_is_read_again(tmp_path: Path) -> None:
    tree, home = _tree(tmp_path), tmp_path / "cache"
    plain = tree / "documented" / "plain.go"
    past = time.time_ns() - 3600 * 10**9
    for path in tree.rglob("*.go"):
        os.utime(path, ns=(past, past))
    time.sleep(2.2)  # out of the racy window, so the index is trusted (its ctime is now)
    for _ in range(2):
        assert _run(tree, home, "enable", "-q", "./...").returncode == 0
        assert _run(tree, home, "disable", "-q", "./...").returncode == 0
    text = plain.read_text().replace("// " + "x" * 30, "// gofail: var gained struct{}   ")
    size, inode = plain.stat().st_size, plain.stat().st_ino
    plain.write_text(text)
    os.utime(plain, ns=(past, past))  # the same size, inode and mtime: only ctime moves
    assert (plain.stat().st_size, plain.stat().st_ino) == (size, inode)
    assert _run(tree, home, "enable", "-q", "./...").returncode == 0
    assert (tree / "documented" / "plain.fail.go").exists()
    assert b"__fp_gained.Acquire()" in plain.read_bytes()


def test_a_run_records_no_racy_signature(tmp_path: Path) -> None:
    """Files and directories changed less than 2 s before a run are not recorded (git's racy rule:
    a change within the timestamp granularity may not move them); the next run takes them again."""
    tree, home = _tree(tmp_path), tmp_path / "cache"
    assert _run(tree, home, "list", "./...").returncode == 0
    index = cache.Store(home / "gofail-py").load_index("\0".join([str(tree), "./..."]))
    assert index.listings and index.signatures() == {}
    assert all(signature == (0, 0, 0, 0) for signature, *_ in index.listings.values())


def _damage(home: Path, how: str) -> int:
    damaged = 0
    for entry in home.rglob("*"):
        if entry.is_file():
            data = entry.read_bytes()
            if how == "truncate":
                entry.write_bytes(data[: len(data) // 2])
            elif how == "flip":
                entry.write_bytes(data[:-1] + bytes([data[-1] ^ 1]))
            else:
                entry.write_bytes(b"\x00garbage")
            damaged += 1
    return damaged


@pytest.mark.parametrize("how", ["truncate", "flip", "garbage"])
def test_a_corrupt_entry_is_ignored(tmp_path: Path, how: str) -> None:
    tree, home = _tree(tmp_path), tmp_path / "cache"
    original = tree_digest(tree)
    assert _run(tree, home, "enable", "-q", "./...").returncode == 0
    enabled = tree_digest(tree)
    assert _run(tree, home, "disable", "-q", "./...").returncode == 0
    assert _damage(home, how) > 0
    result = _run(tree, home, "enable", "-q", "./...")
    assert result.returncode == 0 and result.stderr.startswith("IMPORTED"), result.stderr
    assert tree_digest(tree) == enabled
    assert _run(tree, home, "disable", "-q", "./...").returncode == 0
    assert tree_digest(tree) == original


@pytest.mark.parametrize("where", ["a file", "/proc/self"])
def test_an_unwritable_cache_is_no_cache(tmp_path: Path, where: str) -> None:
    tree = _tree(tmp_path)
    home: Path | str = where
    if where == "a file":
        home = tmp_path / "not-a-dir"
        home.write_text("")
    original = tree_digest(tree)
    for command in ("enable", "list", "disable"):
        result = _gofail_py(tree, home, command, "./...")
        assert result.returncode == 0 and not result.stderr, result.stderr
    assert tree_digest(tree) == original


def test_a_full_cache_is_no_cache(tmp_path: Path) -> None:
    """A real full file system: a small tmpfs in a private mount namespace, filled up."""
    if shutil.which("unshare") is None or subprocess.run(["unshare", "-m", "true"], capture_output=True).returncode != 0:
        pytest.skip("needs unshare -m (a private mount namespace)")
    tree, full = _tree(tmp_path), tmp_path / "full"
    full.mkdir()
    original = tree_digest(tree)
    script = (
        f"mount -t tmpfs -o size=64k tmpfs {full} && (cat /dev/zero > {full}/fill 2>/dev/null; true) && "
        f"{sys.executable} -m gofail_py.cli enable ./... && {sys.executable} -m gofail_py.cli disable ./... && "
        f"{sys.executable} -m gofail_py.cli enable -q ./... && {sys.executable} -m gofail_py.cli disable -q ./..."
    )
    env = dict(os.environ, XDG_CACHE_HOME=str(full), PYTHONPATH=str(REPO))
    result = subprocess.run(["unshare", "-m", "sh", "-c", script], cwd=tree, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 0 and not result.stderr, result.stderr
    assert "enabled" in result.stdout and "disabled" in result.stdout
    assert tree_digest(tree) == original


def test_disable_finds_what_the_templates_write() -> None:
    """The quick test for gofail text and the templates agree (issue 11: one source)."""
    assert MARKER_TEXT in render.marker_prefix() and MARKER_TEXT in render.label_enabled()
    opening = render.failpoint_open(b"", "x", "int", "y")
    assert RUNTIME_TEXT + b"x" in opening and render.footer_needle("x") in render.failpoint_close("x", "int")
    assert render.footer_needle("x") == b"; goto __nomockx;"


def test_a_racy_index_is_recorded_again_until_trusted(tmp_path: Path) -> None:
    """Files written just before a run are racy; a later run records them again, so the index
    comes to be used (a run that found them unchanged but racy must not keep the old record)."""
    tree, home = _tree(tmp_path), tmp_path / "cache"
    assert _run(tree, home, "list", "./...").returncode == 0  # records while racy
    time.sleep(2.2)
    for _ in range(2):
        assert _run(tree, home, "list", "./...").returncode == 0
    index = cache.Store(home / "gofail-py").load_index("\0".join([str(tree), "./..."]))
    plain = {str(path.relative_to(tree)) for path in tree.rglob("plain.go")}
    assert plain and index.signatures().keys() == plain
    assert index.listings and all(signature != (0, 0, 0, 0) for signature, *_ in index.listings.values())


def test_compiled_templates_are_current_and_used(tmp_path: Path) -> None:
    """gofail_py/rewriter/compiled_templates is what `python -m gofail_py.rewriter.render` makes from templates/ now."""
    import jinja2

    render.compile_ahead(tmp_path / "fresh")
    committed = {p.name: p.read_bytes() for p in render.COMPILED_DIR.iterdir() if p.is_file()}
    fresh = {p.name: p.read_bytes() for p in (tmp_path / "fresh").iterdir()}
    assert committed == fresh, "templates/ changed: run `python -m gofail_py.rewriter.render` and commit the result"
    assert isinstance(render._environment().loader, jinja2.ModuleLoader)


def test_compiled_templates_say_they_are_generated_and_their_tracebacks_stay_right() -> None:
    """The folder and each module say they are generated, from which template, by which command;
    the header moves the lines down, and the map of template lines to them (debug_info) with them."""
    import jinja2

    folder = render.COMPILED_DIR
    assert "Generated: do not edit" in (folder / "README.md").read_text()
    env = render._new_environment()
    names = env.list_templates(filter_func=render._compiled)
    assert names and sorted(p.name for p in folder.glob("tmpl_*.py")) == sorted(map(jinja2.ModuleLoader.get_module_filename, names))
    for name in names:
        lines = (folder / jinja2.ModuleLoader.get_module_filename(name)).read_text().splitlines()
        assert lines[0] == (f"# Code generated by `python -m gofail_py.rewriter.render` from templates/{name} "
                            f"(Jinja2 {jinja2.__version__}). DO NOT EDIT."), lines[0]
        assert env.loader is not None
        source, filename, _ = env.loader.get_source(env, name)
        raw = env.compile(source, name, filename, raw=True, defer_init=True).splitlines()
        shift = len(lines) - len(raw)
        mapped = dict(pair.split("=") for pair in lines[-1].removeprefix("debug_info = '").rstrip("'").split("&") if pair)
        for python_line in mapped.values():
            assert lines[int(python_line) - 1] == raw[int(python_line) - shift - 1]


def test_a_new_fingerprint_folder_prunes_the_ones_unused_for_a_week(tmp_path: Path) -> None:
    """Every upgrade (and every edit of an editable install) starts a new folder: the folders of
    other versions unused for 7 days go when a new one is made; anything else is left alone."""
    tree = _tree(tmp_path)
    home = tmp_path / "cache"
    ours = home / "gofail-py"
    week_ago = time.time() - 8 * 86400
    for name in ("0123456789abcdef01234567", "89abcdef0123456789abcdef"):
        for sub in ("r", "s"):
            (ours / name / sub).mkdir(parents=True)
            (ours / name / sub / "entry").write_bytes(b"old")
    recent = ours / "fedcba9876543210fedcba98"
    (recent / "r").mkdir(parents=True)
    stranger = ours / "not-a-fingerprint"
    stranger.mkdir()
    (ours / "notes.txt").write_text("mine")
    for name in ("0123456789abcdef01234567", "89abcdef0123456789abcdef"):
        for path in (ours / name / "r" / "entry", ours / name / "s" / "entry", ours / name / "r", ours / name / "s", ours / name):
            os.utime(path, (week_ago, week_ago))
    os.utime(stranger, (week_ago, week_ago))
    result = _gofail_py(tree, home, "list", "./...")
    assert result.returncode == 0, result.stderr
    left = sorted(p.name for p in ours.iterdir())
    assert left == sorted([cache.fingerprint(), recent.name, stranger.name, "notes.txt", "key"]), left  # key: the seal's
    again = _gofail_py(tree, home, "list", "./...")
    assert again.returncode == 0 and sorted(p.name for p in ours.iterdir()) == left


def test_a_process_keeps_few_cache_folders_open(tmp_path: Path) -> None:
    """A program calling the library with one cache after another (a test session) does not keep
    a descriptor of every one of them: the least recently used are closed."""
    from gofail_py.rewriter.rewrite import enable_source

    source = b"package p\n\nfunc F() {\n\t// gofail: var x struct{}\n}\n"
    for n in range(10):
        store = cache.Store(tmp_path / str(n) / "gofail-py")
        store.rewrite("enable_source", enable_source, source, "x.go")
        assert store.cached("enable_source", source) is not None

    def held() -> list[str]:
        links = [os.readlink(f"/proc/self/fd/{fd}") for fd in os.listdir("/proc/self/fd") if os.path.exists(f"/proc/self/fd/{fd}")]
        return [link for link in links if link.startswith(str(tmp_path))]

    assert 0 < len(held()) <= 4 * 4, held()  # at most 4 folders, 4 levels each
    assert cache.Store(tmp_path / "0" / "gofail-py").cached("enable_source", source) is not None  # opened again
