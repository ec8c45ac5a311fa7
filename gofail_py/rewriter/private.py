"""Folders and files that must be this user's alone (the cache, the lock folder): opened without
following a link, checked for owner and mode, created with explicit modes whatever the umask.

Another local user must not be able to put anything in them: a folder or file that another user
owns, or that others may write, is never trusted; the callers say so and do without it.
"""

from __future__ import annotations

import errno
import os
import stat

DIR_FLAGS = os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC
READ_FLAGS = os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK  # a FIFO is not waited on
NEW_FILE_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC


def problem(info: os.stat_result, secret: bool = False) -> str | None:
    """Why a folder or file we opened is not ours to trust (None: it is): another owner, or others
    may write it (or, ``secret``, read it)."""
    if info.st_uid != os.geteuid():
        return f"it is not owned by you (owner uid {info.st_uid})"
    loose = info.st_mode & (0o077 if secret else 0o022)
    if loose:
        what = "readable or writable" if secret else "writable"
        return f"it is {what} by other users (mode {stat.S_IMODE(info.st_mode):o})"
    return None


def open_dir(name: str, dir_fd: int | None = None, create: bool = False) -> int:
    """A descriptor of the folder ``name`` (relative to dir_fd if given), never through a link at
    its last component (ELOOP); made 0700 when missing and ``create``. Raises OSError."""
    try:
        return os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    except FileNotFoundError:
        if not create:
            raise
    except NotADirectoryError:  # what O_DIRECTORY gives a link before O_NOFOLLOW would: say which
        if stat.S_ISLNK(os.stat(name, dir_fd=dir_fd, follow_symlinks=False).st_mode):
            raise OSError(errno.ELOOP, "is a symbolic link", name) from None
        raise
    try:
        os.mkdir(name, 0o700, dir_fd=dir_fd)
        made = True
    except FileExistsError:  # made meanwhile by another run
        made = False
    fd = os.open(name, DIR_FLAGS, dir_fd=dir_fd)
    if made:
        os.fchmod(fd, 0o700)  # exactly, whatever the umask took from it
    return fd


def make_parents(path: str) -> None:
    """The missing folders above path, each made 0700 (os.makedirs gives the ones above the last
    the umask's mode: 0777 under umask 000). Raises OSError."""
    missing = []
    parent = os.path.dirname(path)
    while parent and not os.path.lexists(parent):
        missing.append(parent)
        parent = os.path.dirname(parent)
    for folder in reversed(missing):
        try:
            os.mkdir(folder, 0o700)
        except FileExistsError:
            continue
        os.chmod(folder, 0o700)


def foreign_parent(path: str) -> str | None:
    """Why a missing path must not be made: the nearest folder above it that exists belongs to
    another user (root's is fine: root can do anything anyway). Made there, ours would sit in
    their folder (as root: in their home, under `sudo` keeping HOME), and they could swap it."""
    parent = os.path.dirname(path)
    while parent and not os.path.lexists(parent):
        parent = os.path.dirname(parent)
    try:
        owner = os.stat(parent or ".").st_uid
    except OSError:
        return None  # open_dir says what is wrong
    if owner not in (os.geteuid(), 0):
        return f"it would be made in {parent}, which is another user's (owner uid {owner})"
    return None


def checked_dir(path: str, create: bool) -> tuple[int, str | None]:
    """open_dir of an absolute path (its missing parents made 0700 when ``create``, never in
    another user's folder) and what is wrong with it (see problem): -1 and why when something is;
    a link at its last component is one. Raises OSError when it cannot be opened or made."""
    if create and not os.path.lexists(path):
        foreign = foreign_parent(path)
        if foreign is not None:
            return -1, foreign
        make_parents(path)
    try:
        fd = open_dir(path, create=create)
    except OSError as error:
        if error.errno == errno.ELOOP:
            return -1, "it is a symbolic link"
        raise
    wrong = problem(os.fstat(fd))
    if wrong is not None:
        os.close(fd)
        return -1, wrong
    return fd, None


def new_file(name: str, dir_fd: int, data: bytes) -> None:
    """A new file (O_EXCL, never through a link) holding data, mode 0600 whatever the umask;
    removed if it cannot be written whole. Raises OSError (FileExistsError: it exists)."""
    fd = os.open(name, NEW_FILE_FLAGS, 0o600, dir_fd=dir_fd)
    try:
        os.fchmod(fd, 0o600)
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view):]
    except BaseException:
        os.close(fd)
        try:
            os.unlink(name, dir_fd=dir_fd)
        except OSError:
            pass
        raise
    os.close(fd)


def temp_name(name: str) -> str:
    """A name beside ``name`` for a file written whole and then renamed over it."""
    return f".{name}.{os.getpid()}.{os.urandom(4).hex()}.tmp"


def is_regular(info: os.stat_result) -> bool:
    return stat.S_ISREG(info.st_mode)
