"""Which Go module each directory of a rewriter run lies in: the keys of the run's locks, and the
modules whose go.mod the --go-get steps read (found once per directory, shared across a run)."""

from __future__ import annotations

import os
import stat
from collections.abc import Callable, Sequence
from pathlib import Path

from gofail_py.rewriter import runlock
from gofail_py.rewriter.gofiles import Found, PathArg, is_dir


def arg_keys(paths: Sequence[PathArg]) -> list[Path]:
    """The module (or go.work, or directory) each path argument lies in."""
    keys = []
    for arg in paths or ["."]:
        text = os.fspath(arg)
        base = Path(text[: -len("...")] or ".") if text == "..." or text.endswith("/...") else Path(text)
        directory = base if is_dir(base) else base.parent
        if directory.exists():
            keys.append(runlock.key_for(directory))
    return keys


def lock_keys(paths: Sequence[PathArg], found: Found) -> list[Path]:
    """What a run locks: the places its arguments lie in, and the module of every file it may
    touch (so `./...` over a go.work and `./a/...` in one of its modules exclude each other).
    The scan is taken before the lock; what another run can change in it meanwhile (its temp
    files, bindings it deletes) the run copes with; every file is read under the lock."""
    keys = arg_keys(paths)
    roots: dict[str, Path | None] = {}
    module_root = shared_roots()

    def root_of(directory: str) -> Path | None:  # module_root, from the scan's listings where it has them
        if directory not in roots:
            if directory in found.module_dirs:
                roots[directory] = Path(directory).resolve()
            elif directory in found.entered:  # a real subdirectory of its parent: no link to resolve
                head = directory.rpartition("/")[0]
                roots[directory] = root_of(head or ("/" if directory.startswith("/") else "."))
            else:
                roots[directory] = module_root(directory)
        return roots[directory]

    for directory in sorted(found.file_dirs):
        root = root_of(directory)
        if root is not None:
            keys.append(root)
    return list(dict.fromkeys(keys))


def shared_roots() -> Callable[[str | Path], Path | None]:
    """gomod.module_root, with the realpath and the walk up shared between the directories a run
    asks about (hundreds on a big tree: an lstat and a go.mod stat per level each, otherwise);
    strings inside, as pathlib costs more here than the system calls."""
    reals: dict[str, str] = {}
    roots: dict[str, Path | None] = {}

    def real(directory: str) -> str:  # os.path.realpath, one lstat per directory not seen before
        if directory not in reals:
            parent, _, name = directory.rpartition("/")
            try:
                plain = bool(parent) and name not in ("", ".", "..") and not stat.S_ISLNK(os.lstat(directory).st_mode)
            except OSError:
                plain = False
            reals[directory] = os.path.join(real(parent), name) if plain else os.path.realpath(directory)
        return reals[directory]

    def walk(directory: str) -> Path | None:
        if directory not in roots:
            parent = os.path.dirname(directory)
            roots[directory] = (Path(directory) if os.path.isfile(os.path.join(directory, "go.mod"))
                                else None if parent == directory else walk(parent))
        return roots[directory]

    return lambda directory: walk(real(os.fspath(directory)))
