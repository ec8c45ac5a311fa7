"""A forked worker that reads the second part of a big cold run's files while the main process
reads the first: the read loop (open, fstat, read, close and the checks of every file, then the
parse and render of those with gofail text) is the run's bottleneck, and halving it per process
uses both cores (wall time falls, cpu time rises a little). Processes, not threads: two threads
contend for the GIL and made the read loop slower. Only above FILES_FOR_A_WORKER files: a small
tree pays nothing.

Protocol: the worker runs its job (collect's read loop over its files, with its own transforms
and cache writes) and, once done, sends what it made as one marshal frame through a pipe; the
main process reads it after its own part, so neither can block the other on a full pipe.
Anything unexpected in the worker (an exception other than a marker or workspace error, a crash,
a short or malformed answer) leaves its files to the main process, which reads them itself and so
raises or reports whatever it is as a run without a worker would.
"""

from __future__ import annotations

import marshal
import os
import signal
import sys
from collections.abc import Callable
from typing import Any, BinaryIO

FILES_FOR_A_WORKER = 5000
_HEAD = 8  # the length of a frame, little-endian
_PR_SET_PDEATHSIG = 1


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(_HEAD, "little") + data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


def _read_exactly(reader: BinaryIO, size: int) -> bytes:
    data = reader.read(size)
    if len(data) != size:
        raise EOFError
    return data


class Worker:
    """One forked worker for one run: it runs job() (whose value marshal can write) and `answer`
    returns that value, or None if the worker could not give it."""

    def __init__(self, job: Callable[[], Any]) -> None:
        self._pidfd = -1
        self._from_worker = -1
        from_worker = os.pipe()  # OSError (no descriptors or processes left): the caller does without
        parent = os.getpid()
        try:
            self.pid = os.fork()
        except OSError:
            for fd in from_worker:
                os.close(fd)
            raise
        if self.pid == 0:  # the worker: never returns
            os.close(from_worker[0])
            _serve(from_worker[1], job, parent)
        self._pidfd = _pidfd(self.pid)
        os.close(from_worker[1])
        self._from_worker = from_worker[0]

    def answer(self) -> Any:
        """What job() returned in the worker; None if it died, failed or answered garbage."""
        data = None
        try:
            with os.fdopen(self._from_worker, "rb") as reader:
                self._from_worker = -1
                data = marshal.loads(_read_exactly(reader, int.from_bytes(_read_exactly(reader, _HEAD), "little")))
        except (OSError, EOFError, ValueError, TypeError, MemoryError):
            data = None
        finally:
            self.stop()
        return data

    def stop(self) -> None:
        """Ends the worker (at once if it has not answered) and reaps it: nothing outlives the run."""
        if self._from_worker >= 0:
            os.close(self._from_worker)
            self._from_worker = -1
        if self.pid > 0:
            try:  # by pidfd where there is one: a worker reaped by the kernel frees its pid for reuse
                if self._pidfd >= 0:
                    signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)
                else:
                    os.kill(self.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            try:
                os.waitpid(self.pid, 0)
            except ChildProcessError:  # SIGCHLD ignored (inherited through exec), or a caller's handler reaped it
                pass
            if self._pidfd >= 0:
                os.close(self._pidfd)
                self._pidfd = -1
            self.pid = 0


def _pidfd(pid: int) -> int:
    """A pidfd of the worker (Linux 5.3+), -1 where there is none."""
    try:
        return os.pidfd_open(pid)
    except (AttributeError, OSError):
        return -1


def _die_with(parent: int) -> None:
    """In the worker: SIGKILL from the kernel when the main process dies, even by SIGKILL or an
    unhandled SIGTERM; else an orphan would finish its part (and hold the run's module lock)."""
    if sys.platform.startswith("linux"):
        try:
            import ctypes

            ctypes.CDLL(None, use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        except (ImportError, OSError, AttributeError):  # a Python without ctypes: no such guard
            pass
    if os.getppid() != parent:  # it died before the prctl took effect
        os._exit(0)


def _serve(answer_fd: int, job: Callable[[], Any], parent: int) -> None:
    try:
        _die_with(parent)
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides; it kills us if need be
        signal.signal(signal.SIGPIPE, signal.SIG_DFL)  # the main process gone or done with us: just end
        _write_all(answer_fd, _frame(marshal.dumps(job())))
    finally:  # an exception (not a marker or workspace error) is left to the main process: no answer
        os._exit(0)
