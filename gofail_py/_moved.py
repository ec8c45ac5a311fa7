"""The module paths of 0.1 that moved when the package was laid out in parts (docs/architecture.md).

For one more release each still imports, and gives the module at its new path (the same object:
a test's monkeypatch on one is seen through the other), with a DeprecationWarning that names the
new path. No file stands at an old path: the finder the package's __init__ puts last on
sys.meta_path, asked only for a name no module has, hands such a name to ``find_spec`` here (so
this module is loaded only then). `python -m OLD` runs the new module. The names users give pytest's `-p` for
the two plugins stay, without a warning.
"""

from __future__ import annotations

import sys
import warnings
from importlib import import_module
from types import CodeType, FrameType, ModuleType
from typing import TYPE_CHECKING, Any, cast

if TYPE_CHECKING:
    from importlib.abc import Loader
    from importlib.machinery import ModuleSpec

_PARTS = {
    "rewriter": ("syntax", "toplevel", "markers", "render", "rewrite", "cache", "gofiles", "collect", "worker",
                 "fileio", "gomod", "goproc", "runlock", "modules", "workspace", "cachedir", "private", "buildtags"),
    "recording": ("events", "panics", "outputs"),
    "client": ("transport", "answers", "batch", "cluster"),
    "processes": ("proctable", "procfind"),
    "report": ("coverage", "timeline", "spans"),
}
MOVED = {f"gofail_py.{name}": f"gofail_py.{part}.{name}" for part, names in _PARTS.items() for name in names}
MOVED.update({
    "gofail_py.report_html": "gofail_py.report.html",
    "gofail_py.pytest_coverage": "gofail_py.pytest.coverage",
    # the forked helper is a shared leaf now: the history reader forks too
    "gofail_py.forked": "gofail_py.children",
    "gofail_py.rewriter.forked": "gofail_py.children",
    # gofail_py.client, .recording and .processes are the parts' packages now: each hands on the
    # old module's names itself (see their __init__.py)
})
PLUGINS = {"gofail_py.pytest_plugin": "gofail_py.pytest.plugin", "gofail_py.pytest_explore": "gofail_py.pytest.explore"}
RELEASE = "0.2"  # the release that moved them; the next one drops the old paths


def message(old: str, new: str) -> str:
    return f"{old} moved to {new} in gofail-py {RELEASE}; the old path goes in the next release"


def warn_moved(old: str, new: str, also_past: str = "") -> None:
    """The DeprecationWarning, pointed at the line that imported: past the import machinery, this
    file and ``also_past`` (the file of a package's __getattr__ that hands on old names)."""
    frame: FrameType | None = sys._getframe(1)
    level = 2  # warn() counts frames as this loop does: the import machinery's are not counted
    while frame is not None:
        name = frame.f_code.co_filename
        machinery = "importlib" in name and "_bootstrap" in name
        if not machinery and name not in (__file__, also_past):
            break
        level += not machinery
        frame = frame.f_back
    warnings.warn(message(old, new), DeprecationWarning, stacklevel=level)


def forward(module: ModuleType, old: str, name: str) -> Any:
    """A public name of a module that stood at ``old`` (a package's path now), with the warning."""
    if name not in getattr(module, "__all__", ()):
        raise AttributeError(f"module {old!r} has no attribute {name!r}")
    warn_moved(f"{old}.{name}", f"{module.__name__}.{name}", also_past=sys._getframe(1).f_code.co_filename)
    return getattr(module, name)


def find_spec(name: str) -> ModuleSpec | None:
    """The spec of an old path (its loader: _OldPath), or None for a name that never was one."""
    if name not in MOVED and name not in PLUGINS:
        return None
    from importlib.machinery import ModuleSpec

    return ModuleSpec(name, cast("Loader", _OldPath))


class _OldPath:
    """The loader of an old path: the module is created as a stand-in, then replaced in
    sys.modules by the real one, which the import hands back (the real module's spec untouched)."""

    @staticmethod
    def create_module(spec: ModuleSpec) -> None:
        return None

    @staticmethod
    def exec_module(module: ModuleType) -> None:
        old = module.__name__
        new = MOVED.get(old) or PLUGINS[old]
        if old in MOVED:
            warn_moved(old, new)
        sys.modules[old] = import_module(new)

    @staticmethod
    def get_code(name: str) -> CodeType:
        """For `python -m OLD`: warns (from __main__, so it is shown), then runs the new module as __main__."""
        new = MOVED.get(name) or PLUGINS[name]
        warning = f"warnings.warn({message(name, new)!r}, DeprecationWarning)\n" if name in MOVED else ""
        return compile(f"import runpy, warnings\n{warning}runpy.run_module({new!r}, run_name='__main__', alter_sys=True)\n",
                       f"<{name}>", "exec")
