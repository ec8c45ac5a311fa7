"""Writing the rewriter's files: atomic replacement keeping mode and owner, checks first, all or nothing."""

from __future__ import annotations

import errno
import os
import stat
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, NoReturn

from gofail_py.errors import WorkspaceError

TEMP_INFIX = ".gofail-py-"
_FULL = (errno.ENOSPC, errno.EDQUOT)


class FileChange(NamedTuple):  # not a dataclass: ~0.5 ms less of every run
    """One file's bytes before and after; None means the file does not exist on that side.

    ``owner_of`` names the file whose owner and group a new file takes (a binding takes its source's).
    """

    path: Path
    old: bytes | None
    new: bytes | None
    owner_of: Path | None = None

    @property
    def kind(self) -> str:
        return "create" if self.old is None else "delete" if self.new is None else "rewrite"


def _open_temp(path: str) -> tuple[str, int]:
    """A new temp file beside path, private until _fill gives it its mode."""
    head, slash, name = path.rpartition("/")
    temp = f"{head}{slash}.{name}{TEMP_INFIX}{os.urandom(6).hex()}.tmp"
    return temp, os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600)


def _fill(temp: str, fd: int, data: bytes, info: os.stat_result | None, owner_of: Path | None, sync: bool) -> None:
    """Writes data to the temp file with the mode and owner in info (the stat of the file it
    replaces; None for a new file: the default mode and, when given, the owner of ``owner_of``).
    One fd throughout (os.write, fchown, fchmod: no file object); closed, or removed on error."""
    try:
        if info is not None:
            mode = info.st_mode & 0o7777
        else:
            umask = os.umask(0)
            os.umask(umask)
            mode = 0o666 & ~umask
            if owner_of is not None:
                try:
                    info = os.stat(owner_of)
                except FileNotFoundError:
                    info = None
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
        if sync:
            os.fsync(fd)
        if info is not None and (info.st_uid, info.st_gid) != (os.geteuid(), os.getegid()):
            os.fchown(fd, info.st_uid, info.st_gid)  # before chmod: chown clears set-id bits
        os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        _unlink_quietly(temp)
        raise
    os.close(fd)


def _unlink_quietly(path: str | Path) -> None:
    try:
        os.unlink(path)
    except FileNotFoundError:
        pass


def write_atomic(path: Path, data: bytes, owner_of: Path | None = None, sync: bool = True) -> None:
    """Writes through a temp file in the same directory and a rename, keeping the file's mode and
    owner (a new file gets the default mode and, when given, the owner of ``owner_of``)."""
    try:
        info: os.stat_result | None = os.stat(path)
    except FileNotFoundError:
        info = None
    temp, fd = _open_temp(os.fspath(path))
    _fill(temp, fd, data, info, owner_of, sync)
    try:
        os.replace(temp, path)
    except BaseException:
        _unlink_quietly(temp)
        raise


def _replaceable(path: Path) -> os.stat_result | None:
    """The stat of a file a change replaces or deletes, after the checks permission bits cannot
    make (root, immutable files, read-only mounts): it opens for writing. A file with more than
    one hard link is refused: replacing it by rename would split it from its twins."""
    try:
        info = os.lstat(path)
    except OSError:
        return None
    if info.st_nlink > 1:
        raise WorkspaceError(
            f"{path}: has {info.st_nlink} hard links; gofail-py replaces files by rename, which would "
            "split it from its other names: make it a single file (or a symbolic link) first; nothing was changed"
        )
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CLOEXEC | os.O_NONBLOCK))
        if stat.S_ISLNK(info.st_mode):  # a link replaced by a file: the mode and owner of its target
            info = os.stat(path)
    except OSError as error:
        raise WorkspaceError(f"{path}: cannot write this file ({error.strerror}); nothing was changed") from error
    return info


def stage_changes(changes: Sequence[FileChange]) -> dict[Path, str]:
    """Checks every change and writes every new file whole to a temp file beside it, before any
    file is replaced: a file with hard links or that cannot be written is refused, a temp file
    that cannot be created refuses its directory (a directory that only loses a file gets a
    probe), a full disk stops the run. On any error the temp files are removed: nothing changed."""
    staged: dict[Path, str] = {}
    try:
        for change in changes:
            info = None if change.old is None else _replaceable(change.path)
            if change.new is None:
                continue
            try:
                temp, fd = _open_temp(os.fspath(change.path))  # also the test that the directory takes files
            except OSError as error:
                if error.errno not in _FULL:
                    raise WorkspaceError(
                        f"{change.path.parent}: cannot write in this directory ({error.strerror}); nothing was changed"
                    ) from error
                _full(change, error, staged)
            try:
                _fill(temp, fd, change.new, info, change.owner_of, sync=False)
            except OSError as error:
                _full(change, error, staged)
            staged[change.path] = temp
        has_temp = {path.parent for path in staged}
        for directory in sorted({change.path.parent for change in changes if change.new is None} - has_temp):
            _probe(directory)
    except BaseException:
        discard(staged)
        raise
    return staged


def _full(change: FileChange, error: OSError, staged: dict[Path, str]) -> NoReturn:
    raise WorkspaceError(
        f"{change.path}: cannot write: {error.strerror}; no file had been replaced yet and the "
        f"{len(staged)} temp file(s) this run had written were removed, nothing was changed"
    ) from error


def _probe(directory: Path) -> None:
    """Whether a file can be removed from the directory: a temp file made and removed there."""
    probe = directory / f".gofail-py-probe{TEMP_INFIX}{os.urandom(6).hex()}.tmp"
    try:
        os.close(os.open(probe, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o600))
        os.unlink(probe)
    except OSError as error:
        raise WorkspaceError(f"{directory}: cannot write in this directory ({error.strerror}); nothing was changed") from error


def discard(staged: dict[Path, str]) -> None:
    """Removes the temp files of changes not carried out."""
    for temp in staged.values():
        _unlink_quietly(temp)
    staged.clear()


def _undo(done: list[FileChange]) -> list[str]:
    """Puts back what a failed run wrote, newest first; new files go first as they free space."""
    failures = []
    ordered = [c for c in reversed(done) if c.old is None] + [c for c in reversed(done) if c.old is not None]
    for change in ordered:
        try:
            if change.old is None:
                change.path.unlink(missing_ok=True)
            else:
                write_atomic(change.path, change.old)
        except OSError as error:
            failures.append(f"{change.path} ({error.strerror})")
    return failures


def apply_changes(changes: Sequence[FileChange], staged: dict[Path, str] | None = None) -> None:
    """Writes every change, or none (staged: what stage_changes made of them, if called already).
    Every new file is first written whole to a temp file beside it, then all are renamed in order:
    a full disk stops the run before any file is replaced, and SIGKILL leaves each file old or new
    (stale temp files go at the next run). A failed rename puts back what this run had replaced.
    No fsync, like the Go gofail: safe against the process being killed, not against power loss
    (an fsync per file cost more than the rest of a big run)."""
    if staged is None:
        staged = stage_changes(changes)
    try:
        done: list[FileChange] = []
        for change in changes:
            try:
                if change.new is None:
                    change.path.unlink(missing_ok=True)
                else:
                    os.replace(staged.pop(change.path), change.path)
            except OSError as error:
                failures = _undo(done)
                what = f"{change.path}: cannot write: {error.strerror}"
                if failures:
                    raise WorkspaceError(
                        f"{what}; could not put back {len(failures)} file(s) this run had written: "
                        + ", ".join(failures) + "; free space and run the command again"
                    ) from error
                raise WorkspaceError(f"{what}; the {len(done)} file(s) this run had written were put back, nothing was changed") from error
            done.append(change)
    finally:
        discard(staged)


def dir_prefix(directory: str) -> str:
    """What joins a scanned directory to its names as the scan writes paths (`a/b.go`, not `./a/b.go`)."""
    return "" if directory == "." else directory if directory.endswith("/") else directory + "/"


def read_all(fd: int, expected: int) -> bytes:
    """The rest of an open file in one read when it holds `expected` bytes (as its stat said), in
    more when it grew since."""
    data = os.read(fd, expected + 1)
    if len(data) > expected:
        chunks = [data]
        while chunk := os.read(fd, 1 << 20):
            chunks.append(chunk)
        data = b"".join(chunks)
    return data


def is_regular(path: Path) -> bool:
    """True for a regular file (after following links); FIFOs, devices and sockets are not read."""
    try:
        return stat.S_ISREG(path.stat().st_mode)
    except OSError:
        return False
