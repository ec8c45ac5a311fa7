"""Finding the Go files a rewriter run reads, as the go tool would, and reading them safely."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Sequence
from pathlib import Path

from gofail_py import rewrite
from gofail_py.errors import MarkerError, WorkspaceError
from gofail_py.fileio import is_regular
from gofail_py.markers import may_hold_markers

PathArg = str | os.PathLike[str]
STALE_TEMP = re.compile(r"^\..+\.gofail-py-[A-Za-z0-9_]+\.tmp$")
_SKIPPED_DIRS = ("vendor", "testdata")
_PACKAGE_CLAUSE = re.compile(rb"(?m)^(?:\xef\xbb\xbf)?[ \t]*package[ \t]+\w")


# --- finding files -----------------------------------------------------------------------------


class Found:  # a plain class: a dataclass costs ~0.4 ms of every run to make
    def __init__(self) -> None:
        # Files are path strings, written as pathlib would (`a/b.go`, not `./a/b.go`): on big trees a
        # Path per file costs more than reading it.
        self.files: list[str] = []
        self.links: list[Path] = []
        self.stale: list[Path] = []
        self.entries: dict[str, os.DirEntry[str]] = {}  # files met in a scan, for their stat
        self.names: set[str] = set()  # every .go path met in a scan, links included
        self.dirs: set[str] = set()  # the directories scanned
        self.binding_dirs: set[str] = set()  # ... that hold a file named like a binding
        self.entered: set[str] = set()  # ... reached from their parent's listing (no links)
        self.module_dirs: set[str] = set()  # ... that hold a go.mod


def _scan_dir(directory: str, found: Found) -> list[str]:
    """Adds a directory's Go files; returns its subdirectories that `...` would enter."""
    subdirs = []
    try:
        with os.scandir(directory) as scan:
            entries = sorted(scan, key=lambda e: e.name)
    except OSError as error:
        raise WorkspaceError(f"{directory}: cannot read directory: {error.strerror}") from error
    found.dirs.add(directory)
    prefix = "" if directory == "." else directory if directory.endswith("/") else directory + "/"
    for entry in entries:  # runs once per file of the tree: names tested inline, no Path
        name = entry.name
        path = prefix + name
        if entry.is_dir(follow_symlinks=False):
            if not name.startswith((".", "_")) and name not in _SKIPPED_DIRS:
                subdirs.append(path)
        elif name.startswith((".", "_")):  # the go tool ignores such files
            if STALE_TEMP.match(name):
                found.stale.append(Path(path))
        elif name == "go.mod":
            if entry.is_file():  # follows a link, as gomod.module_root does
                found.module_dirs.add(directory)
        elif name.endswith(".go"):
            found.names.add(path)
            if name.endswith((".fail.go", ".fail_test.go")):
                found.binding_dirs.add(directory)
            if entry.is_file(follow_symlinks=False):  # from the directory listing: no extra stat
                found.files.append(path)
                found.entries[path] = entry
            else:
                _add_file(path, found)
    return subdirs


def _add_file(path: str, found: Found) -> None:
    """Sorts a .go name into files and links; anything but a regular file is refused (a FIFO
    would block the read forever)."""
    located = Path(path)
    if located.is_symlink():
        try:
            located.resolve(strict=True)
        except RuntimeError as error:  # Python < 3.13 reports a loop this way
            raise WorkspaceError(f"{path}: symbolic link loop; not a Go file") from error
        except OSError as error:
            if error.errno == errno.ELOOP:
                raise WorkspaceError(f"{path}: symbolic link loop; not a Go file") from error
            return  # a dangling link holds nothing to rewrite
        if not is_regular(located):
            raise WorkspaceError(f"{path}: symbolic link to something that is not a regular file; not a Go file")
        found.links.append(located)
    elif not is_regular(located):
        raise WorkspaceError(f"{path}: not a regular file (a FIFO, socket or device); gofail-py reads only regular .go files")
    else:
        found.files.append(path)


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def find_go_files(paths: Sequence[PathArg]) -> Found:
    """The Go files named by files, package directories and `DIR/...` patterns (as `go` reads them)."""
    from gofail_py import argcheck

    argcheck.many(paths, "paths", "['./pkg', './...']", paths=True)
    found = Found()
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
            pending = [str(path)]
            while pending:
                subdirs = _scan_dir(pending.pop(), found)
                if recursive:
                    pending.extend(reversed(subdirs))
                    found.entered.update(subdirs)
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
            _add_file(str(path), found)
    found.files = list(dict.fromkeys(found.files))
    return found


# --- reading and checking ----------------------------------------------------------------------


def _read_whole(path: PathArg, size: int | None = None, stat_out: list[os.stat_result] | None = None) -> bytes:
    """A file's bytes: one open, one read of its size if known (else 64 KiB), no file object.
    O_NONBLOCK: a FIFO put in place after the scan reads as empty instead of blocking. stat_out
    gets the open file's stat, taken before the read (cheaper than a stat of the path)."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK)
    try:
        if stat_out is not None:
            stat_out.append(os.fstat(fd))
            size = stat_out[-1].st_size
        first = 1 << 16 if size is None else size + 1
        data = os.read(fd, first)
        if len(data) == first:
            chunks = [data]
            while chunk := os.read(fd, 1 << 20):
                chunks.append(chunk)
            data = b"".join(chunks)
        return data
    finally:
        os.close(fd)


def read_source(path: PathArg, size: int | None = None, stat_out: list[os.stat_result] | None = None) -> bytes:
    """A .go file's bytes, checked to be Go source; size (from the scan's stat) sizes the read."""
    try:
        data = _read_whole(path, size, stat_out)
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


def check_links(found: Found) -> None:
    """A link to a file elsewhere is never written through: refuse it when it holds markers."""
    if not found.links:
        return
    real_files = {Path(f).resolve() for f in found.files}
    for link in found.links:
        target = link.resolve()
        if target in real_files or not target.exists():
            continue
        if may_hold_markers(target.read_bytes()):
            raise WorkspaceError(
                f"{link}: symbolic link to {target}, which holds gofail markers; gofail-py does not "
                "write through links: give the target's own directory instead"
            )




def may_have_binding(found: Found, path: str) -> bool:
    """Whether a binding file of this file may exist; the scan of its directory tells, if any."""
    directory, _, name = path.rpartition("/")
    directory = directory or "."
    if directory not in found.dirs:
        return True
    if directory not in found.binding_dirs:
        return False
    prefix = "" if directory == "." else directory + "/"
    return any(prefix + candidate in found.names for candidate in (rewrite.binding_file_name(name), name.split(".go")[0] + ".fail.go"))
