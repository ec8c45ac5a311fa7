"""The rewriter's rows of the speed table: etcd's server module and a 50k-file tree, cold and warm,
each paired with its anchor (the Go gofail v0.2.0, `cat` of every file, the import floors).

cold: the cache is emptied before each timed run; warm: the cache holds the tree's previous
enable+disable cycle (the daily loop). Outputs are checked byte for byte against the Go gofail.
"""

from __future__ import annotations

import os
import shlex
import shutil
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

from benchmarks.gen_tree import generate_tree
from benchmarks.harness import Step, describe, paired, same_tree
from tests.support.gotools import ETCD_SERVER, ETCD_VERSION, dirs_with_markers, gofail_binary, module_dir, writable_copy

PYTHON = sys.executable
_SCRIPT = Path(sys.executable).parent / "gofail-py"
# GOFAIL_PY_BENCH_CMD measures another build the same way, e.g. the commit before a change:
#   git archive OLD gofail_py grammars templates | tar -x -C /tmp/old
#   GOFAIL_PY_BENCH_CMD="env PYTHONPATH=/tmp/old python -m gofail_py.cli" python3 benchmarks/run_all.py
GOFAIL_PY = (
    shlex.split(os.environ["GOFAIL_PY_BENCH_CMD"]) if os.environ.get("GOFAIL_PY_BENCH_CMD")
    else [str(_SCRIPT)] if _SCRIPT.exists() else [shutil.which("gofail-py") or "gofail-py"]
)
IMPORT_FLOOR = [PYTHON, "-c", "import click, jinja2, tree_sitter, tree_sitter_go"]
CLICK_FLOOR = [PYTHON, "-c", "import click"]


def python_env(cache_home: Path) -> dict[str, str]:
    """As a user runs it: bytecode cached (a wheel install compiles it), the cache in cache_home."""
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    env["XDG_CACHE_HOME"] = str(cache_home)
    return env


def compile_package(env: dict[str, str]) -> None:
    code = "import compileall, os, gofail_py; compileall.compile_dir(os.path.dirname(gofail_py.__file__), quiet=1)"
    subprocess.run([PYTHON, "-c", code], env=env, check=True)


def _quiet(argv: list[str], cwd: Path, env: dict[str, str] | None = None) -> None:
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)


class Trees:
    """Our tree and the Go tool's tree, the commands that reset them, and the steps to time."""

    def __init__(self, ours: Path, theirs: Path, go_dirs: list[str], our_args: list[str], cache_home: Path) -> None:
        self.ours, self.theirs, self.go_dirs, self.our_args = ours, theirs, go_dirs, our_args
        self.cache_home = cache_home
        self.env = python_env(cache_home)
        self.gofail = str(gofail_binary())

    def clear_cache(self) -> None:
        shutil.rmtree(self.cache_home / "gofail-py", ignore_errors=True)

    def ours_cmd(self, verb: str) -> list[str]:
        return [*GOFAIL_PY, verb, "-q", *self.our_args]

    def go_cmd(self, verb: str) -> list[str]:
        return [self.gofail, verb, *self.go_dirs]

    def ours_to(self, verb: str) -> Callable[[], None]:
        return lambda: _quiet(self.ours_cmd(verb), self.ours, self.env)

    def go_to(self, verb: str) -> Callable[[], None]:
        return lambda: _quiet(self.go_cmd(verb), self.theirs)

    def enable_cold(self, what: str) -> Step:
        def setup() -> None:
            self.ours_to("disable")()
            self.clear_cache()

        return Step(f"gofail-py enable {what}, cold", self.ours_cmd("enable"), self.ours, self.env, setup)

    def enable_warm(self, what: str) -> Step:
        return Step(f"gofail-py enable {what}, warm", self.ours_cmd("enable"), self.ours, self.env, self.ours_to("disable"))

    def go_enable(self, what: str) -> Step:
        return Step(f"Go gofail enable {what}", self.go_cmd("enable"), self.theirs, None, self.go_to("disable"))

    def cycle(self, cold: bool) -> Step:
        script = " && ".join(" ".join(self.ours_cmd(verb)) for verb in ("enable", "disable"))
        return Step(f"gofail-py enable+disable, {'cold' if cold else 'warm'}", ["sh", "-c", script], self.ours, self.env,
                    self.clear_cache if cold else None)

    def go_cycle(self) -> Step:
        script = " && ".join(" ".join(self.go_cmd(verb)) for verb in ("enable", "disable"))
        return Step("Go gofail enable+disable", ["sh", "-c", script], self.theirs)

    def identical(self) -> bool:
        """Enabled and then disabled by both tools, the trees are byte for byte the same."""
        same = True
        for verb in ("enable", "disable"):
            self.ours_to(verb)()
            self.go_to(verb)()
            differ = same_tree(self.ours, self.theirs)
            if differ:
                print(f"  DIFFERENT after {verb}: {differ[:5]}")
                same = False
        return same


def _record(rows: dict[str, object], key: str, row: dict[str, object]) -> None:
    rows[key] = row
    print(f"- {key}\n{describe(row)}")


def bench_etcd(work: Path, runs: int, rows: dict[str, object]) -> None:
    print(f"\n== etcd server {ETCD_VERSION}: enable, cold and warm")
    original = module_dir(ETCD_SERVER, ETCD_VERSION)
    ours, theirs = writable_copy(original, work / "ours"), writable_copy(original, work / "theirs")
    all_dirs = sorted({"./" + str(p.parent.relative_to(theirs)) for p in theirs.rglob("*.go")})
    whole = Trees(ours, theirs, all_dirs, ["./..."], work / "cache")
    compile_package(whole.env)
    floor_import = Step("import floor", IMPORT_FLOOR, ours, whole.env)
    floor_click = Step("click floor", CLICK_FLOOR, ours, whole.env)
    _record(rows, "etcd_whole_enable_cold_vs_import_floor", paired(whole.enable_cold("./..."), floor_import, runs))
    _record(rows, "etcd_whole_enable_cold_vs_go", paired(whole.enable_cold("./..."), whole.go_enable(f"({len(all_dirs)} dirs)"), runs))
    _record(rows, "etcd_whole_enable_warm_vs_click_floor", paired(whole.enable_warm("./..."), floor_click, runs))
    _record(rows, "etcd_whole_enable_warm_vs_go", paired(whole.enable_warm("./..."), whole.go_enable(f"({len(all_dirs)} dirs)"), runs))
    rows["etcd_whole_identical_to_go"] = whole.identical()
    failpoint_dirs = dirs_with_markers(theirs)
    dirs = Trees(ours, theirs, failpoint_dirs, failpoint_dirs, work / "cache")
    _record(rows, f"etcd_{len(failpoint_dirs)}_failpoint_dirs_cycle_cold_vs_go", paired(dirs.cycle(cold=True), dirs.go_cycle(), runs))
    _record(rows, f"etcd_{len(failpoint_dirs)}_failpoint_dirs_cycle_warm_vs_go", paired(dirs.cycle(cold=False), dirs.go_cycle(), runs))
    rows["etcd_failpoint_dirs_identical_to_go"] = dirs.identical()
    print(f"  byte-identical to the Go gofail: whole tree {rows['etcd_whole_identical_to_go']}, "
          f"failpoint dirs {rows['etcd_failpoint_dirs_identical_to_go']}")


def bench_big_tree(work: Path, files: int, runs: int, rows: dict[str, object]) -> None:
    print(f"\n== synthetic tree of {files} files (1% with failpoints): enable, cold and warm")
    ours = work / "ours"
    generate_tree(ours, files, failpoint_ratio=0.01)
    theirs = work / "theirs"
    shutil.copytree(ours, theirs)
    go_dirs = sorted({"./" + str(p.parent.relative_to(theirs)) for p in theirs.rglob("*.go")})
    listing = work / "files.txt"
    listing.write_text("\n".join(str(p) for p in ours.rglob("*.go")) + "\n")
    tree = Trees(ours, theirs, go_dirs, ["./..."], work / "cache")
    compile_package(tree.env)
    cat = Step("cat of every file", ["sh", "-c", f"xargs cat < {listing} > /dev/null"], ours)
    what = f"({files} files)"
    _record(rows, "tree_enable_cold_vs_go", paired(tree.enable_cold(what), tree.go_enable(what), runs))
    _record(rows, "tree_enable_cold_vs_cat", paired(tree.enable_cold(what), cat, runs))
    _record(rows, "tree_enable_warm_vs_go", paired(tree.enable_warm(what), tree.go_enable(what), runs))
    rows["tree_identical_to_go"] = tree.identical()
    print(f"  byte-identical to the Go gofail: {rows['tree_identical_to_go']}")
    shutil.rmtree(work)
