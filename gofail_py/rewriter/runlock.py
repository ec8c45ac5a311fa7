"""One rewrite at a time per module: an advisory lock kept outside the source tree."""

from __future__ import annotations

import fcntl
import os
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

from gofail_py.errors import LockHeld, WorkspaceError

try:  # hashlib's own sha256, without hashlib loading OpenSSL (milliseconds of every run)
    from _sha256 import sha256  # type: ignore[import-not-found,unused-ignore]  # Python 3.11
except ImportError:  # pragma: no cover - 3.12 renamed it
    try:
        from _sha2 import sha256  # type: ignore[import-not-found,no-redef,unused-ignore]
    except ImportError:
        from hashlib import sha256  # type: ignore[assignment,unused-ignore]

WAIT_SECONDS = float(os.environ.get("GOFAIL_PY_LOCK_WAIT", "5"))


def _temp_dir() -> str:
    """tempfile.gettempdir()'s answer in the usual cases, without importing tempfile (random,
    shutil and the compression modules: milliseconds of every run)."""
    for candidate in [os.environ.get(name) for name in ("TMPDIR", "TEMP", "TMP")] + ["/tmp"]:
        if candidate and os.path.isdir(candidate) and os.access(candidate, os.W_OK | os.X_OK):
            return os.path.abspath(candidate)
    import tempfile

    return tempfile.gettempdir()


def lock_dir() -> Path:
    """$XDG_RUNTIME_DIR/gofail-py, else gofail-py-locks-UID in the temp dir: never in the tree."""
    runtime = os.environ.get("XDG_RUNTIME_DIR")
    base = Path(runtime) / "gofail-py" if runtime and Path(runtime).is_dir() else Path(_temp_dir()) / f"gofail-py-locks-{os.getuid()}"
    base.mkdir(mode=0o700, exist_ok=True)
    return base


def lock_path(key: Path) -> Path:
    """The lock file of one module root (or directory outside any module)."""
    digest: str = sha256(os.fsencode(key.resolve())).hexdigest()
    return lock_dir() / (digest[:32] + ".lock")


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
    deadline = time.monotonic() + (WAIT_SECONDS if wait is None else wait)
    held: list[int] = []
    try:
        for key in sorted(set(keys)):
            try:
                fd = os.open(lock_path(key), os.O_RDWR | os.O_CREAT, 0o600)
            except OSError as error:
                raise WorkspaceError(
                    f"{key}: cannot create its lock file ({error.filename}: {error.strerror}); set XDG_RUNTIME_DIR "
                    "or TMPDIR to a writable directory; nothing was changed"
                ) from error
            held.append(fd)
            while True:
                try:
                    fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                    break
                except BlockingIOError:
                    if time.monotonic() >= deadline:
                        raise LockHeld(
                            f"{key}: another gofail-py run is rewriting this module (lock {lock_path(key)}); "
                            "try again when it is done; nothing was changed"
                        ) from None
                    time.sleep(0.05)
        yield
    finally:
        for fd in held:
            os.close(fd)  # closing releases the flock
