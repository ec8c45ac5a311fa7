"""Writing the rewriter's files: atomic replacement keeping mode and owner, checks first, all or nothing."""

from __future__ import annotations

import errno
import os
import stat
import time
from collections.abc import Sequence
from pathlib import Path
from typing import NamedTuple, NoReturn

from gofail_py.errors import ConcurrentEdit, WorkspaceError

TEMP_INFIX = ".gofail-py-"
_FULL = (errno.ENOSPC, errno.EDQUOT)
_READ = os.O_RDONLY | os.O_CLOEXEC | os.O_NONBLOCK  # never blocks on a FIFO put in place
# a file whose mtime or ctime is this recent may change again without either moving (timestamps
# are coarse: a clock tick, 2 s on FAT): its bytes are compared again before its rename
RACY_NS = 2_000_000_000


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


def _undo(done: list[FileChange]) -> tuple[list[str], list[str]]:
    """Puts back what a failed run wrote, newest first; new files go first as they free space.
    A file edited since this run wrote it is left as it is (putting back the old bytes would lose
    that edit). Returns the files that could not be put back, and those left as edited."""
    failures, edited = [], []
    ordered = [c for c in reversed(done) if c.old is None] + [c for c in reversed(done) if c.old is not None]
    for change in ordered:
        try:
            if _current(change.path) != change.new:
                edited.append(str(change.path))
            elif change.old is None:
                change.path.unlink(missing_ok=True)
            else:
                write_atomic(change.path, change.old)
        except OSError as error:
            failures.append(f"{change.path} ({error.strerror})")
    return failures, edited


def _current(path: Path) -> bytes | None:
    """A file's bytes now; None when there is none (or it is not a regular file)."""
    try:
        fd = os.open(path, _READ)
    except FileNotFoundError:
        return None
    try:
        info = os.fstat(fd)
        return read_all(fd, info.st_size) if stat.S_ISREG(info.st_mode) else None
    finally:
        os.close(fd)


class FileChanged(Exception):
    """A file changed since the run read it; ``now``: its bytes when the run already replaced it
    (written in place between the last check and the rename), to be put back."""

    def __init__(self, path: Path, now: bytes | None = None) -> None:
        super().__init__(path)
        self.path, self.now = path, now


def check_unchanged(changes: Sequence[FileChange]) -> dict[Path, tuple[tuple[int, ...], bool]]:
    """Every file a change replaces or deletes holds the bytes the run read, and every file it
    creates is still absent: checked for all before any is renamed (an edit saved while the run
    worked must not be lost). Returns each file's identity as checked and whether its timestamps
    are too recent to tell a later same-size edit ("racy", as in git: its bytes are compared
    again before its rename). ConcurrentEdit naming every changed file."""
    seen: dict[Path, tuple[tuple[int, ...], bool]] = {}
    changed = []
    racy_from = time.time_ns() - RACY_NS
    for change in changes:
        if change.old is None:
            if os.path.lexists(change.path):
                changed.append(str(change.path))
            continue
        try:
            fd = os.open(change.path, _READ)
        except FileNotFoundError:
            changed.append(str(change.path))
            continue
        except OSError as error:
            raise WorkspaceError(f"{change.path}: cannot read: {error.strerror}; nothing was changed") from error
        try:
            info = os.fstat(fd)
            same = stat.S_ISREG(info.st_mode) and read_all(fd, info.st_size) == change.old
        finally:
            os.close(fd)
        if not same:
            changed.append(str(change.path))
            continue
        seen[change.path] = (_identity(info), info.st_mtime_ns >= racy_from or info.st_ctime_ns >= racy_from)
    if changed:
        raise ConcurrentEdit(
            f"{_names(changed)}: changed since gofail-py read {'it' if len(changed) == 1 else 'them'} (saved while the "
            "run worked?); nothing was changed: run the command again"
        )
    return seen


def _names(paths: list[str]) -> str:
    return ", ".join(paths[:5]) + (f" and {len(paths) - 5} more" if len(paths) > 5 else "")


def _identity(info: os.stat_result) -> tuple[int, ...]:
    return info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns, info.st_ctime_ns


def _rename(temp: str, path: Path) -> None:
    os.replace(temp, path)


def _carry_out(change: FileChange, temp: str | None, seen: tuple[tuple[int, ...], bool] | None) -> None:
    """Renames the change's temp file over its file (or deletes it) if the file is still as
    check_unchanged saw it; FileChanged if not. The file stays open across the rename: a write
    into it after this check lands in the replaced file, which this then sees (FileChanged with
    its bytes, as nothing else holds them any more)."""
    path = change.path
    if seen is None:  # a new file: still absent (an lstat: a link(2) instead of the rename costs twice its time)
        if os.path.lexists(path):
            raise FileChanged(path)
        assert temp is not None
        _rename(temp, path)
        return
    try:
        fd = os.open(path, _READ)
    except FileNotFoundError:
        raise FileChanged(path) from None
    try:
        before = os.fstat(fd)
        identity, racy = seen
        if _identity(before) != identity or racy:
            if not stat.S_ISREG(before.st_mode) or read_all(fd, before.st_size) != change.old:
                raise FileChanged(path)
        if temp is None:
            path.unlink()
        else:
            _rename(temp, path)
        after = os.fstat(fd)  # its ctime moved with its link count: size and mtime tell a write
        if (after.st_size, after.st_mtime_ns) != (before.st_size, before.st_mtime_ns) or racy:
            os.lseek(fd, 0, os.SEEK_SET)
            now = read_all(fd, after.st_size)
            if now != change.old:
                raise FileChanged(path, now)
    finally:
        os.close(fd)


def apply_changes(changes: Sequence[FileChange], staged: dict[Path, str] | None = None) -> None:
    """Writes every change, or none (staged: what stage_changes made of them, if called already).
    Every new file is first written whole to a temp file beside it, then all are renamed in order:
    a full disk stops the run before any file is replaced, and SIGKILL leaves each file old or new
    (stale temp files go at the next run). Each file is checked to hold what the run read, all of
    them before the first rename and each again just before its own: a file edited meanwhile stops
    the run (ConcurrentEdit), and what the run had replaced is put back, as after a failed rename.
    No fsync, like the Go gofail: safe against the process being killed, not against power loss
    (an fsync per file cost more than the rest of a big run)."""
    if staged is None:
        staged = stage_changes(changes)
    try:
        seen = check_unchanged(changes)
        done: list[FileChange] = []
        for change in changes:
            try:
                _carry_out(change, staged.get(change.path), seen.get(change.path))
                staged.pop(change.path, None)  # renamed: no longer a temp file to remove
            except FileChanged as late:
                _late_change(late, change, done)
            except OSError as error:
                failures, edited = _undo(done)
                what = f"{change.path}: cannot write: {error.strerror}"
                if failures:
                    raise WorkspaceError(
                        f"{what}; could not put back {len(failures)} file(s) this run had written: "
                        + ", ".join(failures) + "; free space and run the command again"
                    ) from error
                raise WorkspaceError(f"{what}; the {len(done) - len(edited)} file(s) this run had written were put back, "
                                     f"nothing was changed{_left_as_edited(edited)}") from error
            done.append(change)
    finally:
        discard(staged)


def _late_change(late: FileChanged, change: FileChange, done: list[FileChange]) -> NoReturn:
    """A file changed after the first check: its edit is kept (put back if the rename had already
    gone through), the run's other files are put back; ConcurrentEdit."""
    problems = []
    if late.now is not None:
        try:
            write_atomic(change.path, late.now)
        except OSError as error:
            problems.append(f"{change.path} ({error.strerror}; its edit is lost)")
    failures, edited = _undo(done)
    problems += failures
    if problems:
        raise ConcurrentEdit(f"{change.path}: changed while gofail-py was writing; could not put back "
                             f"{len(problems)} file(s): {', '.join(problems)}")
    raise ConcurrentEdit(
        f"{change.path}: changed while gofail-py was writing (saved while the run worked?); its edit is kept, "
        f"the {len(done) - len(edited)} file(s) this run had written were put back, nothing was changed"
        f"{_left_as_edited(edited)}: run the command again"
    )


def _left_as_edited(edited: list[str]) -> str:
    return f" (but {_names(edited)}, edited since this run wrote {'it' if len(edited) == 1 else 'them'}, left as edited)" if edited else ""


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
