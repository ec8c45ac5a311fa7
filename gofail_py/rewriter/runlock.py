"""One rewrite at a time per module: an advisory lock kept outside the source tree, in a folder
that is the user's alone (another user could otherwise hold, swap or redirect it)."""

from __future__ import annotations

import errno
import fcntl
import os
import stat
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gofail_py.rewriter import private
from gofail_py.errors import LockHeld, SettingError, WorkspaceError

try:  # hashlib's own sha256, without hashlib loading OpenSSL (milliseconds of every run)
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]  # Python 3.11
except ImportError:  # pragma: no cover - 3.12 renamed it
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]

_LOCK_FLAGS = os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW | os.O_CLOEXEC | os.O_NONBLOCK
WAIT_ENV = "GOFAIL_PY_LOCK_WAIT"
WAIT_SECONDS = 5.0  # the default; at most MAX_WAIT
MAX_WAIT = 3600.0


def wait_seconds() -> float:
    """GOFAIL_PY_LOCK_WAIT, read when a lock is wanted (not at import: `list` never locks, and a
    bad value must be an error of the command that uses it): a decimal number of seconds from 0
    to MAX_WAIT; unset or empty, the default. SettingError (exit 2) otherwise: `nan` waited
    forever, `-1` and `inf` were taken."""
    text = os.environ.get(WAIT_ENV, "")
    if not text:
        return WAIT_SECONDS
    decimal = text.isascii() and text.replace(".", "", 1).isdigit()  # digits, at most one point
    if not decimal or len(text) > 20 or float(text) > MAX_WAIT:
        shown = text if len(text) <= 20 else text[:20] + "..."
        raise SettingError(f"{WAIT_ENV}={shown!r}: expected seconds to wait for another run's lock, a number "
                           f"from 0 to {MAX_WAIT:g} (default {WAIT_SECONDS:g}); nothing was changed")
    return float(text)


def _temp_dir() -> str:
    """tempfile.gettempdir()'s first candidates (without importing tempfile: milliseconds of every
    run), keeping only an absolute folder we may write that is ours or root's (a relative one
    depends on the working directory; another user's is theirs to swap under us: `sudo -E`)."""
    for candidate in [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")]:
        if candidate and os.path.isabs(candidate) and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            if os.stat(candidate).st_uid in (os.geteuid(), 0):
                return os.path.normpath(candidate)
    return "/tmp"


def _runtime_dir() -> str | None:
    """$XDG_RUNTIME_DIR when the XDG rules allow it: absolute, a folder (not a link), ours, mode
    0700 (no access for anyone else); anything else is ignored, as the spec asks."""
    runtime = os.environ.get("XDG_RUNTIME_DIR", "")
    if not os.path.isabs(runtime):
        return None
    try:
        info = os.lstat(runtime)
    except OSError:
        return None
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        return None
    return os.path.normpath(runtime)


def lock_dir_path() -> str:
    """$XDG_RUNTIME_DIR/gofail-py, else gofail-py-locks-EUID in the temp folder: never in the tree."""
    runtime = _runtime_dir()
    return os.path.join(runtime, "gofail-py") if runtime else os.path.join(_temp_dir(), f"gofail-py-locks-{os.geteuid()}")


def _open_lock_dir(key: Path) -> tuple[int, str]:
    """The lock folder, opened (made 0700 if missing) and checked to be ours alone: another
    user's, one others may write, or a link is refused, never written into."""
    path = lock_dir_path()
    try:
        fd, wrong = private.checked_dir(path, create=True)
    except OSError as error:
        raise WorkspaceError(
            f"{key}: cannot create its lock file ({error.filename or path}: {error.strerror}); set XDG_RUNTIME_DIR "
            "or TMPDIR to a writable directory; nothing was changed"
        ) from error
    if wrong is not None:
        raise WorkspaceError(
            f"the lock folder {path} is not used: {wrong}; gofail-py keeps its locks only in a folder of yours that "
            "no one else can write: remove it, or set XDG_RUNTIME_DIR to a folder of yours with mode 0700; nothing was changed"
        )
    return fd, path


def lock_dir() -> Path:
    """The lock folder, made and checked (WorkspaceError when it is not ours alone)."""
    fd, path = _open_lock_dir(Path("."))
    os.close(fd)
    return Path(path)


def lock_name(key: Path) -> str:
    digest: str = sha256(os.fsencode(key.resolve())).hexdigest()
    return digest[:32] + ".lock"


def lock_path(key: Path) -> Path:
    """The lock file of one module root (or directory outside any module)."""
    return lock_dir() / lock_name(key)


def _open_lock(key: Path, folder: int, where: str) -> int:
    """The lock file of key in the lock folder: never through a link (O_NOFOLLOW), never a FIFO
    waited on, ours and regular, 0600 whatever the umask."""
    path = os.path.join(where, lock_name(key))
    try:
        fd = os.open(lock_name(key), _LOCK_FLAGS, 0o600, dir_fd=folder)
    except OSError as error:
        what = "is a symbolic link: remove it" if error.errno == errno.ELOOP else f"cannot be opened ({error.strerror})"
        raise WorkspaceError(f"{key}: its lock file {path} {what}; nothing was changed") from error
    info = os.fstat(fd)
    wrong = "it is not a regular file" if not stat.S_ISREG(info.st_mode) else private.problem(info)
    if wrong is not None:
        os.close(fd)
        raise WorkspaceError(f"{key}: its lock file {path} is not used: {wrong}; remove it; nothing was changed")
    if stat.S_IMODE(info.st_mode) != 0o600:
        os.fchmod(fd, 0o600)
    return fd


def key_for(directory: Path) -> Path:
    """The nearest directory at or above with go.mod, else with go.work, else the directory itself."""
    resolved = directory.resolve()
    for name in ("go.mod", "go.work"):
        for candidate in [resolved, *resolved.parents]:
            if (candidate / name).is_file():
                return candidate
    return resolved


@contextmanager
def hold(keys: Sequence[Path], wait: float | None = None) -> Iterator[None]:
    """Holds the lock of every key (in a fixed order, so two runs cannot deadlock); waits up to
    ``wait`` seconds in all, then raises LockHeld."""
    deadline = time.monotonic() + (wait_seconds() if wait is None else wait)
    held: list[int] = []
    ordered = sorted(set(keys))
    folder, where = _open_lock_dir(ordered[0]) if ordered else (-1, "")
    try:
        for key in ordered:
            fd = _open_lock(key, folder, where)
            held.append(fd)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockHeld(
                            f"{key}: another gofail-py run is rewriting this module (lock {os.path.join(where, lock_name(key))}); "
                            "try again when it is done; nothing was changed"
                        ) from None
                    time.sleep(0.05)
        yield
    finally:
        for fd in held:
            os.close(fd)  # closing releases the flock
        if folder >= 0:
            os.close(folder)
