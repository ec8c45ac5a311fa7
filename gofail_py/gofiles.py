"""Finding the Go files a rewriter run reads, as the go tool would, and reading them safely."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gofail_py.errors import MarkerError, WorkspaceError
from gofail_py.fileio import is_regular
from gofail_py.markers import may_hold_markers

PathArg = str | os.PathLike[str]
STALE_TEMP = re.compile(r"^\..+\.gofail-py-[A-Za-z0-9_]+\.tmp$")
_SKIPPED_DIRS = ("vendor", "testdata")
_PACKAGE_CLAUSE = re.compile(rb"(?m)^(?:\xef\xbb\xbf)?[ \t]*package[ \t]+\w")


# --- finding files -----------------------------------------------------------------------------


@dataclass
class _Found:
    files: list[Path] = field(default_factory=list)
    links: list[Path] = field(default_factory=list)
    stale: list[Path] = field(default_factory=list)


def _is_go_source_name(name: str) -> bool:
    return name.endswith(".go") and not name.startswith((".", "_"))


def _scan_dir(directory: Path, found: _Found) -> list[Path]:
    """Adds a directory's Go files; returns its subdirectories that `...` would enter."""
    subdirs = []
    try:
        entries = sorted(os.scandir(directory), key=lambda e: e.name)
    except OSError as error:
        raise WorkspaceError(f"{directory}: cannot read directory: {error.strerror}") from error
    for entry in entries:
        path = directory / entry.name
        if entry.is_dir(follow_symlinks=False):
            if not entry.name.startswith((".", "_")) and entry.name not in _SKIPPED_DIRS:
                subdirs.append(path)
        elif STALE_TEMP.match(entry.name):
            found.stale.append(path)
        elif _is_go_source_name(entry.name):
            if entry.is_file(follow_symlinks=False):  # from the directory listing: no extra stat
                found.files.append(path)
            else:
                _add_file(path, found)
    return subdirs


def _add_file(path: Path, found: _Found) -> None:
    """Sorts a .go name into files and links; anything but a regular file is refused (a FIFO
    would block the read forever)."""
    if path.is_symlink():
        try:
            path.resolve(strict=True)
        except RuntimeError as error:  # Python < 3.13 reports a loop this way
            raise WorkspaceError(f"{path}: symbolic link loop; not a Go file") from error
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise WorkspaceError(f"{path}: symbolic link loop; not a Go file") from error
            return  # a dangling link holds nothing to rewrite
        if not is_regular(path):
            raise WorkspaceError(f"{path}: symbolic link to something that is not a regular file; not a Go file")
        found.links.append(path)
    elif not is_regular(path):
        raise WorkspaceError(f"{path}: not a regular file (a FIFO, socket or device); gofail-py reads only regular .go files")
    else:
        found.files.append(path)


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def find_go_files(paths: Sequence[PathArg]) -> _Found:
    """The Go files named by files, package directories and `DIR/...` patterns (as `go` reads them)."""
    found = _Found()
    for arg in paths or ["."]:
        text = os.fspath(arg)
        recursive = text == "..." or text.endswith("/...")
        path = Path(text[: -len("...")] or ".") if recursive else Path(text)
        try:
            exists = path.exists() or path.is_symlink()
        except OSError:  # a symbolic link loop on Python >= 3.13
            exists = True
        if not exists:
            raise WorkspaceError(f"{text}: no such file or directory")
        if is_dir(path):
            pending = [path]
            while pending:
                subdirs = _scan_dir(pending.pop(), found)
                if recursive:
                    pending.extend(reversed(subdirs))
        elif path.suffix != ".go":
            raise WorkspaceError(f"{text}: not a Go file (expected a .go file, a directory or DIR/...)")
        else:
            if path.is_symlink():  # named on the command line: a dangling link is a bad path
                try:
                    os.stat(path)
                except FileNotFoundError:
                    raise WorkspaceError(f"{text}: no such file (a symbolic link to {os.readlink(path)})") from None
                except OSError:
                    pass  # a loop: _add_file says so
            _add_file(path, found)
    found.files = list(dict.fromkeys(found.files))
    return found


# --- reading and checking ----------------------------------------------------------------------


def read_source(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise WorkspaceError(f"{path}: cannot read: {error.strerror}") from error
    if b"\0" in data:
        raise WorkspaceError(f"{path}: binary data in a .go file; not Go source")
    try:
        data.decode("utf-8")
    except UnicodeDecodeError as error:
        line = data.count(b"\n", 0, error.start) + 1
        column = error.start - (data.rfind(b"\n", 0, error.start) + 1) + 1
        raise MarkerError(str(path), line, column, "invalid UTF-8; Go source must be UTF-8") from error
    if data.strip() and not _PACKAGE_CLAUSE.search(data):
        raise WorkspaceError(f"{path}: no package clause; not a Go source file")
    return data


def check_links(found: _Found) -> None:
    """A link to a file elsewhere is never written through: refuse it when it holds markers."""
    if not found.links:
        return
    real_files = {f.resolve() for f in found.files}
    for link in found.links:
        target = link.resolve()
        if target in real_files or not target.exists():
            continue
        if may_hold_markers(target.read_bytes()):
            raise WorkspaceError(
                f"{link}: symbolic link to {target}, which holds gofail markers; gofail-py does not "
                "write through links: give the target's own directory instead"
            )


