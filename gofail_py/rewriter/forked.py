"""A function call run in a forked process while the caller goes on with other work: on a big tree
one half of a loop of system calls runs beside the other (processes, not threads: two threads
contend for the GIL at every call, and measured slower). The child shares the caller's memory as
it was at the fork, hands back its result through a pipe (marshal), and never outlives the call:
the kernel kills it if the caller dies, and `result` or `stop` reaps it. If it cannot be made,
fails or crashes, `result` says so with None and the caller does that half itself."""

from __future__ import annotations

import marshal
import os
import select
import signal
from collections.abc import Callable
from typing import Any

from gofail_py.children import die_with_parent, readable

__all__ = ["die_with_parent", "readable", "pidfd", "wait_for", "end_child", "Forked"]

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


def wait_for(fd: int, pid: int, events: int = select.POLLIN) -> bool:
    """Waits until fd is ready (events: select.POLLIN or POLLOUT) for as long as the child pid
    gets on with its work, however long that is; False once it is stuck (STUCK_AFTER)."""
    poller = select.poll()
    poller.register(fd, events)
    last = _progress(pid)
    while not poller.poll(round(STUCK_AFTER * 1000)):
        now = _progress(pid)
        if now is not None and (now[0] in "Tt" or (now[0] != "R" and last is not None and now[1] == last[1])):
            return False
        last = now
    return True


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

    def result(self) -> Any:
        """The child's result once it is done; None if it failed (the caller does the work)."""
        chunks: list[bytes] = []
        try:
            while True:
                if not wait_for(self._reader, self.pid):  # stopped or hung: its half is done here
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
