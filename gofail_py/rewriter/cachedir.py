"""The rewriter's cache folder on disk, used only while it is the user's alone.

``$XDG_CACHE_HOME/gofail-py`` (gofail_py.rewriter.cache says what its entries hold) is opened once per
process and kept open (every Store of a run shares it), each level without following a link at
it (the folder, the fingerprint folder, ``r/`` and ``s/``, each entry), and checked: a folder or
entry another user owns, or that others may write, is not used, and that is said once (the CLI
prints what ``notices()`` returns; the library prints nothing). What it creates is 0700 (folders)
and 0600 (files) whatever the umask. ``key`` holds 32 random bytes, 0600, that seal every entry:
another user who could write an entry still cannot seal it. A key others could read, or that is
damaged, is replaced (every entry sealed with it is then ignored and made again).
"""

from __future__ import annotations

import errno
import os
import time

from gofail_py.rewriter.fileio import read_all
from gofail_py.rewriter.private import READ_FLAGS, checked_dir, is_regular, new_file, open_dir, problem, temp_name

KEY_SIZE = 32
_KEY = "key"
_UNUSED_FOR = 7 * 86400  # seconds without a write before another version's run removes a folder
ABSENT, UNTRUSTED = -1, -2
_NOTICES: list[str] = []
_SAID: set[str] = set()


def notices() -> list[str]:
    """What was found wrong with the cache since the last call (each said once per process)."""
    said = _NOTICES[:]
    del _NOTICES[:]
    return said


def _say(message: str) -> None:
    if message not in _SAID:
        _SAID.add(message)
        _NOTICES.append(message)


class Folder:
    """The open cache folder of one base path and one fingerprint. Descriptors are opened when
    first needed (a read opens nothing that does not exist; a write creates what is missing)."""

    def __init__(self, base: str, fingerprint: str) -> None:
        self.base, self.fingerprint = base, fingerprint
        self.identity: tuple[int, int] | None = None
        self.fds: dict[str, int] = {}  # by level (see _fd): a descriptor, ABSENT or UNTRUSTED
        self.key: bytes | None = None

    def still_there(self) -> bool:
        """The base path still names the folder held open (one lstat per Store)."""
        if self.identity is None:
            return not self.fds
        try:
            info = os.lstat(self.base)
        except OSError:
            return False
        return (info.st_dev, info.st_ino) == self.identity

    def close(self) -> None:
        for fd in self.fds.values():
            if fd >= 0:
                os.close(fd)
        self.fds, self.identity, self.key = {}, None, None

    def _fd(self, level: str, create: bool) -> int:
        """The descriptor of a level ("": the base, "f": the fingerprint folder, "r", "s"), opened
        and checked on first use (tried again to create it); ABSENT when it is missing or cannot
        be opened (a link, not a folder, read-only: no cache, nothing to say), UNTRUSTED when
        another user owns it or others may write it (said once)."""
        fd = self.fds.get(level)
        if fd is not None and (fd >= 0 or fd == UNTRUSTED or not create):
            return fd
        try:
            if level == "":
                where = self.base
                fd, wrong = checked_dir(self.base, create)
            else:
                parent = self._fd("f" if level in "rs" else "", create)
                if parent < 0:
                    return parent
                name = self.fingerprint if level == "f" else level
                where = os.path.join(self.base, self.fingerprint, *([] if level == "f" else [level]))
                fresh = create and level == "f" and not _exists(name, parent)
                fd = open_dir(name, parent, create)
                wrong = problem(os.fstat(fd))
                if fresh and wrong is None:  # a new version's first run: versions unused for a week go
                    _prune_unused(self.base, self.fingerprint)
        except OSError as error:
            if error.errno != errno.ELOOP:
                self.fds[level] = ABSENT
                return ABSENT
            fd, wrong = -1, "it is a symbolic link"
        if wrong is not None:
            if fd >= 0:
                os.close(fd)
            advice = ("set XDG_CACHE_HOME to a folder of yours" if "would be made" in wrong
                      else "remove it, or make it yours alone (owned by you, writable by no one else)")
            _say(f"the cache {where} is not used: {wrong}; {advice}")
            self.fds[level] = UNTRUSTED
            return UNTRUSTED
        if level == "":
            info = os.fstat(fd)
            self.identity = (info.st_dev, info.st_ino)
        self.fds[level] = fd
        return fd

    def secret(self, create: bool) -> bytes | None:
        """The key that seals the entries (made when missing and ``create``)."""
        if self.key is None:
            base = self._fd("", create)
            if base >= 0:
                self.key = _read_key(base, create)
        return self.key

    def read(self, sub: str, name: str) -> bytes | None:
        """An entry's bytes; None when there is none, or none to be trusted (which is removed)."""
        fd = self._fd(sub, False)
        if fd < 0:
            return None
        try:
            entry = os.open(name, READ_FLAGS, dir_fd=fd)
        except OSError:
            return None
        try:
            info = os.fstat(entry)
            wrong = problem(info)
            if wrong is None and is_regular(info):
                return read_all(entry, info.st_size)
        except OSError:
            return None
        finally:
            os.close(entry)
        if wrong is not None:  # another user's, or writable by others (a FIFO of ours is only damage)
            _say(f"entries in the cache {os.path.join(self.base, self.fingerprint, sub)} are not used: {wrong}")
        self.remove(sub, name)
        return None

    def remove(self, sub: str, name: str) -> None:
        fd = self.fds.get(sub, -1)
        if fd >= 0:
            try:
                os.unlink(name, dir_fd=fd)
            except OSError:
                pass

    def write(self, sub: str, name: str, data: bytes, replace: bool) -> bool:
        """Writes an entry: created once (O_EXCL: a result's content can only be the same) or,
        ``replace``, through a temp file renamed over it. False when the cache cannot be written."""
        fd = self._fd(sub, True)
        if fd < 0:
            return False
        target = temp_name(name) if replace else name
        try:
            new_file(target, fd, data)
            if replace:
                os.replace(target, name, src_dir_fd=fd, dst_dir_fd=fd)
        except FileExistsError:
            return True  # another run wrote it
        except OSError:
            self.remove(sub, target)
            return False  # read-only or full
        return True


def _exists(name: str, dir_fd: int) -> bool:
    try:
        os.stat(name, dir_fd=dir_fd, follow_symlinks=False)
        return True
    except OSError:
        return False


def _read_key(base: int, create: bool) -> bytes | None:
    """The key file's bytes when it is ours, 0600 and whole; else a new key (when ``create``)."""
    try:
        fd = os.open(_KEY, READ_FLAGS, dir_fd=base)
    except FileNotFoundError:
        fd = -1
    except OSError:  # a link, or unreadable: replaced below
        fd = -2
    if fd >= 0:
        try:
            info = os.fstat(fd)
            if is_regular(info) and problem(info, secret=True) is None and info.st_size == KEY_SIZE:
                key = read_all(fd, KEY_SIZE)
                if len(key) == KEY_SIZE:
                    return key
        finally:
            os.close(fd)
    if not create:
        return None
    key, temp = os.urandom(KEY_SIZE), temp_name(_KEY)
    try:
        new_file(temp, base, key)
        if fd == -1:
            try:  # link, not rename: of two first runs, the one that comes second reads the first's key
                os.link(temp, _KEY, src_dir_fd=base, dst_dir_fd=base)
            except FileExistsError:
                return _read_key(base, False)
        else:  # another user's, readable by others, damaged: every entry it sealed is made again
            os.replace(temp, _KEY, src_dir_fd=base, dst_dir_fd=base)
        return key
    except OSError:
        return None
    finally:
        try:
            os.unlink(temp, dir_fd=base)
        except OSError:
            pass


_FOLDERS: dict[tuple[str, str], Folder] = {}
_KEEP_OPEN = 4  # folders a process keeps open (a program calling the library with one cache after another)


def folder(base: str, fingerprint: str) -> Folder:
    """The process's open folder for base, opened again when the path names another folder now;
    the least recently used beyond _KEEP_OPEN are closed (their descriptors given back)."""
    found = _FOLDERS.pop((base, fingerprint), None)
    if found is None:
        found = Folder(base, fingerprint)
    elif not found.still_there():
        found.close()
    _FOLDERS[base, fingerprint] = found  # last: the most recently used
    while len(_FOLDERS) > _KEEP_OPEN:
        _FOLDERS.pop(next(iter(_FOLDERS))).close()
    return found


def _prune_unused(base: str, keep: str) -> None:
    """Removes the fingerprint folders beside keep that no run wrote to for _UNUSED_FOR (an entry
    written, an index replaced: the folder, r/ or s/ moves its mtime); nothing else is touched."""
    import shutil

    cutoff = time.time() - _UNUSED_FOR
    try:
        siblings = list(os.scandir(base))
    except OSError:
        return
    for sibling in siblings:
        if sibling.name == keep or len(sibling.name) != len(keep) or not all(c in "0123456789abcdef" for c in sibling.name):
            continue
        try:
            if sibling.is_dir(follow_symlinks=False) and _last_write(sibling.path) < cutoff:
                shutil.rmtree(sibling.path, ignore_errors=True)
        except OSError:
            continue


def _last_write(folder: str) -> float:
    times = [os.lstat(folder).st_mtime]
    for sub in ("r", "s"):
        try:
            times.append(os.lstat(os.path.join(folder, sub)).st_mtime)
        except FileNotFoundError:
            pass
    return max(times)

