"""Finding the Go files a rewriter run reads, as the go tool would, and reading them safely."""

from __future__ import annotations

import errno
import os
import re
from collections.abc import Iterable, Sequence
from itertools import accumulate
from pathlib import Path

from gofail_py.rewriter import rewrite
from gofail_py.rewriter.cache import HAS_BINDING_NAMES, HAS_GO_MOD, NO_SIGNATURE, RACY, RESCAN, SIGNATURE, Index, Listing
from gofail_py.errors import MarkerError, WorkspaceError
from gofail_py.rewriter.fileio import dir_prefix, is_regular, read_all
from gofail_py.rewriter.markers import MARKER_TEXT, RUNTIME_TEXT, may_hold_markers

PathArg = str | os.PathLike[str]
STALE_TEMP = re.compile(r"^\..+\.gofail-py-[A-Za-z0-9_]+\.tmp$")
_SKIPPED_DIRS = ("vendor", "testdata")
PACKAGE_CLAUSE = re.compile(rb"(?m)^(?:\xef\xbb\xbf)?[ \t]*package[ \t]+\w")
READ_FLAGS = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK


# --- finding files -----------------------------------------------------------------------------


class Found:  # a plain class: a dataclass costs ~0.4 ms of every run to make
    def __init__(self, index: Index | None = None) -> None:
        # Files are path strings, written as pathlib would (`a/b.go`, not `./a/b.go`): on big trees a
        # Path per file costs more than reading it.
        self.files: list[str] = []
        self.links: list[Path] = []
        self.stale: list[Path] = []
        self.names: set[str] = set()  # the .go paths (links included) in binding_dirs
        self.dirs: set[str] = set()  # the directories scanned
        self.binding_dirs: set[str] = set()  # ... that hold a file named like a binding
        self.entered: set[str] = set()  # ... reached from their parent's listing (no links)
        self.module_dirs: set[str] = set()  # ... that hold a go.mod
        self.file_dirs: set[str] = set()  # ... that hold a Go file of `files`
        self.direct: set[str] = set()  # files named on the command line, not listed
        # With the stat index (cache.Index): each scanned directory's listing for the next run (its
        # signature zeroed when racy), the recorded signature of every file of a directory listed
        # again that held no gofail text when last read, and the directories taken from the index
        # (those without binding names): (start, end) of their files in `files`, the packed signatures.
        self.index = index
        self.listings: dict[str, tuple[tuple[int, int, int, int], tuple[str, ...], tuple[str, ...], int]] = {}
        self.known: dict[str, bytes] = {}
        self.reused: dict[str, tuple[int, int, bytes]] = {}


def _reuse(directory: str, prefix: str, listing: Listing, found: Found) -> list[str]:
    """A directory unchanged since the index recorded it: its listing, without scandir."""
    signature, subdirs, names, flags, packed = listing
    found.dirs.add(directory)
    found.listings[directory] = (signature, subdirs, names, flags)
    if names:
        paths = [prefix + name for name in names]
        start = len(found.files)
        found.files += paths
        found.file_dirs.add(directory)
        if not flags & HAS_BINDING_NAMES:
            found.reused[directory] = (start, len(found.files), packed)  # checked in one tight loop
        else:  # a plain file here may own a binding: checked one by one
            found.binding_dirs.add(directory)
            found.names.update(paths)
            _add_known(found, paths, packed)
    if flags & HAS_GO_MOD:
        found.module_dirs.add(directory)
    return [prefix + name for name in subdirs]


def _add_known(found: Found, paths: list[str], packed: bytes) -> None:
    known, size, start = found.known, SIGNATURE.size, 0
    for path in paths:
        recorded = packed[start:start + size]
        if recorded != NO_SIGNATURE:
            known[path] = recorded
        start += size


def _scan_dir(directory: str, found: Found) -> list[str]:
    """Adds a directory's Go files; returns its subdirectories that `...` would enter. With the
    index, a directory whose signature is unchanged (and not racy) is taken from it."""
    prefix = dir_prefix(directory)
    index, old, signature = found.index, None, RACY
    try:
        if index is not None:
            info = os.stat(directory)  # before the listing: a change during it moves the signature
            signature = (info.st_ino, info.st_dev, info.st_mtime_ns, info.st_ctime_ns)
            old = index.listings.get(directory)
            if old is not None and old[0] == signature and not old[3] & RESCAN:
                return _reuse(directory, prefix, old, found)  # a racy signature was not recorded
            if info.st_mtime_ns >= index.cutoff or info.st_ctime_ns >= index.cutoff:
                signature = RACY  # listed again next run
        go, rest = [], []
        with os.scandir(directory) as scan:
            for entry in scan:  # runs once per file of the tree: the common case first, no Path
                name = entry.name
                if name.endswith(".go") and name[0] not in "._" and entry.is_file(follow_symlinks=False):
                    go.append(name)  # from the directory listing: no extra stat
                else:
                    rest.append(entry)
    except OSError as error:
        raise WorkspaceError(f"{directory}: cannot read directory: {error.strerror}") from error
    found.dirs.add(directory)
    go.sort()
    subdirs, others, flags = [], [], 0
    for entry in sorted(rest, key=lambda e: e.name):  # directories and what is not a plain Go file: few
        name = entry.name
        if entry.is_dir(follow_symlinks=False):
            if not name.startswith((".", "_")) and name not in _SKIPPED_DIRS:
                subdirs.append(name)
        elif name.startswith((".", "_")):  # the go tool ignores such files
            if STALE_TEMP.match(name):
                found.stale.append(Path(prefix + name))
                flags |= RESCAN
        elif name == "go.mod":
            if entry.is_file():  # follows a link, as gomod.module_root does
                found.module_dirs.add(directory)
                flags |= HAS_GO_MOD
            if not entry.is_file(follow_symlinks=False):
                flags |= RESCAN
        elif name.endswith(".go"):  # a link, or not a regular file
            others.append(name)
            flags |= RESCAN
    paths = [prefix + name for name in go]
    found.files += paths
    if paths:
        found.file_dirs.add(directory)
    listed = "/".join(go + others) + "/"  # one search for binding names, not a test per name
    if ".fail.go/" in listed or ".fail_test.go/" in listed:
        found.binding_dirs.add(directory)
        found.names.update(paths, [prefix + name for name in others])
        flags |= HAS_BINDING_NAMES
    for name in others:
        _add_file(prefix + name, found)
    if index is not None:
        found.listings[directory] = (signature, tuple(subdirs), tuple(go), flags)
        if old is not None and old[4]:  # a changed directory: its unchanged files keep their signatures
            size, packed = SIGNATURE.size, old[4]
            position = {name: start for start, name in enumerate(old[2])}
            for name, path in zip(go, paths):
                start = position.get(name, -1) * size
                if start >= 0 and packed[start:start + size] != NO_SIGNATURE:
                    found.known[path] = packed[start:start + size]
    return [prefix + name for name in subdirs]


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
        directory = path.rpartition("/")[0]
        found.file_dirs.add(directory or ("/" if path.startswith("/") else "."))


def is_dir(path: Path) -> bool:
    try:
        return path.is_dir()
    except OSError:
        return False


def find_go_files(paths: Sequence[PathArg], index: Index | None = None) -> Found:
    """The Go files named by files, package directories and `DIR/...` patterns (as `go` reads
    them); index: the stat index of this command line (cache.Store.load_index), if used."""
    from gofail_py import argcheck

    argcheck.many(paths, "paths", "['./pkg', './...']", paths=True)
    found = Found(index=index)
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
            found.direct.add(str(path))
            _add_file(str(path), found)
    if len(paths) > 1:
        unique = list(dict.fromkeys(found.files))
        if len(unique) < len(found.files):  # a directory listed twice: its positions move
            for start, stop, packed in found.reused.values():
                _add_known(found, found.files[start:stop], packed)
            found.reused.clear()
        found.files = unique
    return found


# --- reading and checking ----------------------------------------------------------------------


def _read_whole(path: PathArg, size: int | None = None, stat_out: list[os.stat_result] | None = None) -> bytes:
    """A file's bytes: one open, one read of its size if known (else 64 KiB), no file object.
    O_NONBLOCK: a FIFO put in place after the scan reads as empty instead of blocking. stat_out
    gets the open file's stat, taken before the read (cheaper than a stat of the path)."""
    fd = os.open(path, READ_FLAGS)
    try:
        if stat_out is not None:
            stat_out.append(os.fstat(fd))
            size = stat_out[-1].st_size
        return read_all(fd, (1 << 16) - 1 if size is None else size)
    finally:
        os.close(fd)


def is_utf8(data: bytes) -> bool:
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def is_text(data: bytes) -> bool:
    """No NUL byte, and UTF-8 (read_source's checks, which say what is wrong)."""
    return b"\0" not in data and (data.isascii() or is_utf8(data))


def is_plain(data: bytes) -> bool:
    """Text (above) without gofail text (markers.may_hold_markers)."""
    return is_text(data) and MARKER_TEXT not in data and RUNTIME_TEXT not in data


def held_in_joined(datas: list[bytes]) -> Iterable[int]:
    """The positions of the files that fail a check or hold gofail text, found in their bytes joined."""
    joined = b"\n".join(datas)
    if b"\0" in joined or not joined.isascii() and not all(data.isascii() or is_utf8(data) for data in datas):
        return range(len(datas))  # each checked on its own (a UTF-8 check of the whole would decode it all)
    from bisect import bisect_right  # here: a warm run with no such chunk imports nothing for it

    held = set()
    ends = None
    for text in (MARKER_TEXT, RUNTIME_TEXT):
        where = joined.find(text)
        while where >= 0:
            if ends is None:  # where each file ends in `joined`, its newline included
                ends = list(accumulate(map((1).__add__, map(len, datas))))
            k = bisect_right(ends, where)
            held.add(k)
            where = joined.find(text, ends[k])
    return held


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
    if data.strip() and not PACKAGE_CLAUSE.search(data):
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
    prefix = dir_prefix(directory)
    return any(prefix + candidate in found.names for candidate in (rewrite.binding_file_name(name), name.split(".go")[0] + ".fail.go"))
