"""Where a journal or an HTML report that a user named is written, found out before anything runs.

A path is followed through links only where they are ours or root's: a link another user owns
could point anywhere (in /tmp: at any file of ours) and be changed between a check and a write,
so it refuses the path; so does a file another user owns in a folder others may write (a FIFO or
a "journal" planted in /tmp). An existing file is replaced (or appended to) only when it is empty
or of its kind: a journal whose first line is a journal event, a report with gofail-py's title;
`--journal main.go` is refused. Every refusal is bad input: exit 2, nothing written.
"""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from typing import IO

from gofail_py.errors import GofailError, JournalError, WorkspaceError

JOURNAL, REPORT = "journal", "report"
_REPORT_MARK = b"<title>gofail-py "  # the title of every report gofail-py writes (coverage, explore)
_HEAD = 1 << 20  # bytes of an existing file read to tell whether it is a journal (its first line)
_MAX_LINKS = 40  # as the kernel's limit: a loop of links is refused, not followed forever


def _refuse(kind: str, message: str) -> GofailError:
    return JournalError(message) if kind == JOURNAL else WorkspaceError(message)


def _trusted_owner(info: os.stat_result) -> bool:
    return info.st_uid in (os.geteuid(), 0)


def resolve(path: str | os.PathLike[str], kind: str = REPORT) -> str:
    """The real path of ``path``, following only links that are ours or root's; the kernel's own
    links under /proc (`/dev/stdout` ends at /proc/PID/fd/1) are left for it to follow. A missing
    part ends the walk: the rest is to be made."""
    shown = os.fspath(path)
    pending = os.path.abspath(shown).split("/")
    current, hops = "/", 0
    while pending:
        name = pending.pop(0)
        if name in ("", "."):
            continue
        if name == "..":
            current = os.path.dirname(current)
            continue
        candidate = os.path.join(current, name)
        try:
            info = os.lstat(candidate)
        except OSError:
            return os.path.join(candidate, *pending)
        if not stat.S_ISLNK(info.st_mode):
            current = candidate
            continue
        if not _trusted_owner(info):
            raise _refuse(kind, f"{shown}: {candidate} is a symbolic link owned by another user (uid {info.st_uid}); "
                                "gofail-py never follows another user's link (it could point at any file of yours): "
                                "give a path without it; nothing was written")
        if candidate.startswith("/proc/") and os.path.dirname(candidate).endswith("/fd"):
            return os.path.join(candidate, *pending)  # an open file of a process: the kernel follows it
        hops += 1
        if hops > _MAX_LINKS:
            raise _refuse(kind, f"{shown}: too many levels of symbolic links; nothing was written")
        target = os.readlink(candidate)
        pending = target.split("/") + pending
        if target.startswith("/"):
            current = "/"
    return current


def _shared_folder(folder: str) -> bool:
    """A folder others than its owner may write (/tmp): what is in it may be theirs."""
    try:
        return bool(os.stat(folder).st_mode & 0o022)
    except OSError:
        return False


def target(path: str | os.PathLike[str], kind: str, not_these: Sequence[str | os.PathLike[str]] = ()
           ) -> tuple[str, os.stat_result | None]:
    """Where ``path`` leads and what is there now (None: nothing yet), after every check; raises
    JournalError (a journal) or WorkspaceError (a report), both exit 2. ``not_these``: files the
    output must not be (the journals a report is made from)."""
    shown = os.fspath(path)
    real = resolve(path, kind)
    try:
        info = os.lstat(real)
    except OSError:
        return real, None
    for other in not_these:
        if os.path.exists(other) and os.path.samefile(real, other):
            raise _refuse(kind, f"{shown}: is the journal {os.fspath(other)}; the {kind} would overwrite it")
    if stat.S_ISLNK(info.st_mode):  # a process's open file (/dev/stdout): written into, as it is
        return real, info
    if not _trusted_owner(info) and _shared_folder(os.path.dirname(real)):
        raise _refuse(kind, f"{shown}: is another user's (uid {info.st_uid}) in {os.path.dirname(real)}, a folder others "
                            "may write; gofail-py never writes into another user's file there; give another path; "
                            "nothing was written")
    if stat.S_ISFIFO(info.st_mode) or stat.S_ISCHR(info.st_mode):
        return real, info  # `-o /dev/stdout`, a FIFO of ours: written into
    if not stat.S_ISREG(info.st_mode):
        raise _refuse(kind, f"{shown}: is not a regular file; nothing was written")
    if info.st_size and not _of_kind(real, kind):
        what = "a journal (its first line is not a journal event)" if kind == JOURNAL else "a report (no gofail-py report title)"
        raise _refuse(kind, f"{shown}: exists and is not {what}; gofail-py replaces only an empty file or its own "
                            f"{kind}s: give another path, or remove it first; nothing was written")
    return real, info


def _of_kind(real: str, kind: str) -> bool:
    try:
        fd = os.open(real, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC)
        try:
            head = os.read(fd, _HEAD if kind == JOURNAL else 4096)
        finally:
            os.close(fd)
    except OSError:
        return True  # unreadable here: the write says what is wrong
    return is_journal(head) if kind == JOURNAL else _REPORT_MARK in head


def is_journal(head: bytes) -> bool:
    """Whether the start of a file is a journal's: its first line that is not blank a journal event
    (a first line still being written must at least begin as the recorder writes one)."""
    import json

    from gofail_py.recording.events import from_dict

    text = head.lstrip()
    if not text:
        return True
    line, newline, _ = text.partition(b"\n")
    if not newline:
        return len(head) < _HEAD and line.startswith(b'{"event": ')
    try:
        data = json.loads(line)
        if not isinstance(data, dict):
            return False
        from_dict(data, "")
    except (ValueError, RecursionError):
        return False
    return True


def open_journal(path: str | os.PathLike[str]) -> IO[str]:
    """The journal file, opened to append (the recorder truncates it itself when it owns it):
    checked (target), its missing folders made, never opened through a link, and refused if what
    was checked changed before it was opened."""
    shown = os.fspath(path)
    for _ in range(2):  # once again if a file appeared between the check and the open
        real, info = target(path, JOURNAL)
        flags = os.O_WRONLY | os.O_APPEND | os.O_CREAT | os.O_CLOEXEC
        if info is None:
            flags |= os.O_EXCL | os.O_NOFOLLOW
        elif not stat.S_ISLNK(info.st_mode):
            flags |= os.O_NOFOLLOW
        try:
            os.makedirs(os.path.dirname(real), exist_ok=True)
            fd = os.open(real, flags, 0o666)
        except FileExistsError:
            continue
        except OSError as error:
            raise JournalError(f"cannot write the journal {shown}: {error.strerror or error}") from None
        opened = os.fstat(fd)
        moved = info is not None and not stat.S_ISLNK(info.st_mode) and (opened.st_dev, opened.st_ino) != (info.st_dev, info.st_ino)
        try:  # a folder on the way made a link meanwhile (one O_NOFOLLOW does not see) moves the path
            moved = moved or resolve(path, JOURNAL) != real
        except JournalError:
            moved = True
        if moved:  # (an empty file this open made is left: removing it through their link could remove another)
            os.close(fd)
            raise JournalError(f"{shown}: was replaced while it was being opened; nothing was written")
        return os.fdopen(fd, "a", encoding="utf-8")
    raise JournalError(f"{shown}: appeared while it was being made; nothing was written")


def write_report(path: str | os.PathLike[str], data: bytes, journals: Sequence[str | os.PathLike[str]] = ()) -> None:
    """Writes the HTML where ``path`` leads (target): atomically (a temp file beside it, renamed
    over it: a link that appeared meanwhile is replaced, never followed), or into a FIFO or device
    (`-o /dev/stdout`: a rename would replace the node itself)."""
    from pathlib import Path

    from gofail_py.rewriter.fileio import write_atomic

    shown = os.fspath(path)
    real, info = target(path, REPORT, journals)
    try:
        if info is not None and not stat.S_ISREG(info.st_mode):
            with open(real, "wb") as out:
                out.write(data)
        else:
            write_atomic(Path(real), data)
    except OSError as error:
        raise WorkspaceError(f"{shown}: cannot write the report: {error.strerror or error}") from None


__all__ = ["JOURNAL", "REPORT", "is_journal", "open_journal", "resolve", "target", "write_report"]
