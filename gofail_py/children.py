"""Child processes of ours, forked or started: the guard each runs first, so that none outlives
the gofail-py process that made it; the wait on a descriptor that works at any fd number and
notices a stuck child; and `Forked`, a function call run in a forked process while the caller
goes on with other work (one half of a big tree's system calls, the second half of a big
history's lines), its result handed back through a pipe (marshal). A Forked child never outlives
the call: the kernel kills it if the caller dies, and `result` or `stop` reaps it. If it cannot be
made, fails, crashes or is stuck, `result` says so with None and the caller does that half itself.

A shared leaf: it imports nothing of the package."""

from __future__ import annotations

import marshal
import os
import select
import signal
import sys
import time

from collections.abc import Callable
from typing import Any

_PR_SET_PDEATHSIG = 1
_LIBC: list[Any] = []  # the C library, loaded once, in the parent


def libc() -> Any:
    """The C library (for prctl), loaded once; None off Linux or without ctypes."""
    if not _LIBC:
        try:
            import ctypes

            _LIBC.append(ctypes.CDLL(None, use_errno=True) if sys.platform.startswith("linux") else None)
        except (ImportError, OSError):  # a Python without ctypes: no such guard
            _LIBC.append(None)
    return _LIBC[0]


def die_with_parent(death_signal: int = signal.SIGKILL) -> Callable[[], None]:
    """Made in the parent, before it forks; run first in the child (after fork, or between fork
    and exec: it only calls prctl, the library was loaded here): ``death_signal`` from the kernel
    when this process dies, even by SIGKILL (Linux). Where the parent died before it was asked
    for, the child ends at once rather than run on as an orphan."""
    parent, loaded = os.getpid(), libc()

    def guard() -> None:
        if loaded is not None:
            loaded.prctl(_PR_SET_PDEATHSIG, death_signal, 0, 0, 0)
        if os.getppid() != parent:
            os._exit(1)

    return guard


def readable(fd: int, timeout: float) -> bool:
    """Whether fd is readable (or at its end) within timeout seconds. poll, not select: select
    refuses a descriptor numbered 1024 or more, which a caller with many files open hands out."""
    poller = select.poll()
    poller.register(fd, select.POLLIN)
    return bool(poller.poll(max(0, round(timeout * 1000))))


def pidfd(pid: int) -> int:
    """A pidfd of a child (Linux 5.3+), -1 where there is none."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


# A child that neither runs nor uses cpu time for this long is stuck: stopped (SIGSTOP, a
# debugger) or blocked (a write to a hung file system). Its caller then does its work itself.
STUCK_AFTER = 2.0


def _progress(pid: int) -> tuple[str, int] | None:
    """A child's state letter and cpu ticks (utime + stime) from /proc; None where there is none."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as stat:
            fields = stat.read().rsplit(b")", 1)[1].split()
        return fields[0].decode(), int(fields[11]) + int(fields[12])
    except (OSError, IndexError, ValueError):
        return None


def wait_for(fd: int, pid: int, events: int = select.POLLIN, deadline: float | None = None) -> bool:
    """Waits until fd is ready (events: select.POLLIN or POLLOUT) for as long as the child pid
    gets on with its work, however long that is; False once it is stuck (STUCK_AFTER), or at
    ``deadline`` (time.monotonic()) when one is given."""
    poller = select.poll()
    poller.register(fd, events)
    last = _progress(pid)
    while not poller.poll(round(_wait(deadline) * 1000)):
        if deadline is not None and time.monotonic() >= deadline:
            return False
        now = _progress(pid)
        if now is not None and (now[0] in "Tt" or (now[0] != "R" and last is not None and now[1] == last[1])):
            return False
        last = now
    return True


def _wait(deadline: float | None) -> float:
    """Seconds to poll before looking at the child again: STUCK_AFTER, or less to the deadline."""
    return STUCK_AFTER if deadline is None else max(0.0, min(STUCK_AFTER, deadline - time.monotonic()))


def end_child(pid: int, fd: int) -> None:
    """Kills a child (by its pidfd where there is one: a child reaped by the kernel frees its pid
    for reuse) and reaps it."""
    try:
        if fd >= 0:
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except ProcessLookupError:
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:  # SIGCHLD ignored (inherited through exec), or a caller's handler reaped it
        pass
    if fd >= 0:
        os.close(fd)


class Forked:
    """func(*args) in a forked child (its result: something marshal takes, never None); the caller
    takes it with `result` (None if the child could not give one) or drops it with `stop`. Raises OSError if no child can be made (no
    process or descriptor left): the caller then does the work itself."""

    def __init__(self, func: Callable[..., Any], *args: Any) -> None:
        reader, writer = os.pipe()
        guard = die_with_parent()
        try:
            self.pid = os.fork()
        except OSError:
            os.close(reader)
            os.close(writer)
            raise
        if self.pid == 0:  # the child: never returns
            os.close(reader)
            _serve(writer, guard, func, args)
        os.close(writer)
        self._reader = reader
        self._pidfd = pidfd(self.pid)

    def result(self, deadline: float | None = None) -> Any:
        """The child's result once it is done; None if it failed, was stuck or the ``deadline``
        (time.monotonic()) came first (the caller does the work, or gives up)."""
        chunks: list[bytes] = []
        try:
            while True:
                if not wait_for(self._reader, self.pid, deadline=deadline):  # stopped or hung: its half is done here
                    chunks = []
                    break
                chunk = os.read(self._reader, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
        except OSError:
            chunks = []
        finally:
            self.stop()
        try:
            return marshal.loads(b"".join(chunks)) if chunks else None
        except (EOFError, ValueError, TypeError):  # cut short: the child died while writing
            return None

    def stop(self) -> None:
        """Ends the child (at once if it is not done) and reaps it."""
        if self._reader >= 0:
            os.close(self._reader)
            self._reader = -1
        if self.pid > 0:
            end_child(self.pid, self._pidfd)
            self.pid, self._pidfd = 0, -1


def _serve(writer: int, guard: Callable[[], None], func: Callable[..., Any], args: tuple[Any, ...]) -> None:
    try:
        guard()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the caller decides; it kills us if need be
        view = memoryview(marshal.dumps(func(*args)))
        while view:
            view = view[os.write(writer, view):]
    finally:
        os._exit(0)
