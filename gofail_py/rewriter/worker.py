"""A forked worker that transforms the files with gofail text while the main process keeps reading:
on a cold run over a big tree the parse and render of those files then overlap the reads (wall
time falls, cpu time rises a little). Processes, not threads: two threads contend for the GIL and
made the read loop slower. Only above collect.FILES_FOR_A_WORKER files: a small tree pays nothing.

Protocol: the main process sends (path, source) frames through one pipe; the worker transforms
each (and writes its cache entry), keeps the outcomes, and after the main process closes the pipe
sends them all back at once through another (so neither can block the other on a full pipe).
Anything unexpected in the worker (an exception other than a marker error, a crash, a short
answer) leaves those files to the main process, which transforms them itself and so raises or
reports whatever it is as a run without a worker would.
"""

from __future__ import annotations

import marshal
import os
import select
import signal
import time
from collections import deque
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from gofail_py.rewriter import cache as result_cache
from gofail_py.errors import MarkerError, MarkerErrors
from gofail_py.children import die_with_parent, end_child, pidfd, readable, wait_for

if TYPE_CHECKING:
    from gofail_py.rewriter.rewrite import RewriteResult

_HEAD = 8  # the length of a frame, little-endian
FINISH_WITHIN = 2.0  # seconds the worker may take to write its cache entries after its answers


def _frame(data: bytes) -> bytes:
    return len(data).to_bytes(_HEAD, "little") + data


def _write_all(fd: int, data: bytes) -> None:
    view = memoryview(data)
    while view:
        view = view[os.write(fd, view):]


class Worker:
    """One forked worker for one run; every file submitted gets an outcome from `outcomes`."""

    def __init__(self, op: str, transform: Callable[[bytes, str], RewriteResult], store: result_cache.Store | None) -> None:
        self.submitted = 0
        self._pidfd = -1
        # a dead worker's pipe must be an error to write to, not a signal that ends this process
        self._sigpipe = signal.getsignal(signal.SIGPIPE)
        if self._sigpipe == signal.SIG_DFL:
            try:
                signal.signal(signal.SIGPIPE, signal.SIG_IGN)
            except ValueError:  # not the main thread: left as it is
                self._sigpipe = None
        opened: list[int] = []
        try:  # no descriptors or processes left (ulimit -n, a pids limit): the caller does without
            to_worker = os.pipe()
            opened += to_worker
            from_worker = os.pipe()
            opened += from_worker
            guard = die_with_parent()
            self.pid = os.fork()
        except OSError:
            for fd in opened:
                os.close(fd)
            self._restore_sigpipe()
            raise
        if self.pid == 0:  # the worker: never returns
            os.close(to_worker[1])
            os.close(from_worker[0])
            _serve(to_worker[0], from_worker[1], op, transform, store, guard)
        self._pidfd = pidfd(self.pid)
        os.close(to_worker[0])
        os.close(from_worker[1])
        self._to_worker, self._from_worker = to_worker[1], from_worker[0]
        os.set_blocking(self._to_worker, False)  # a stopped worker's full pipe must not block this process
        try:
            import fcntl

            fcntl.fcntl(self._to_worker, fcntl.F_SETPIPE_SZ, 1 << 20)  # fewer stalls of the reader
        except (ImportError, AttributeError, OSError):
            pass

    def submit(self, path: str, source: bytes) -> int:
        """Sends a file; returns its slot (the position of its outcome)."""
        if self._to_worker >= 0:
            try:
                self._send(_frame(marshal.dumps((path, source))))
            except OSError:  # the worker is gone or stuck: its files go to the main process
                self.stop()
        self.submitted += 1
        return self.submitted - 1

    def _send(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            try:
                view = view[os.write(self._to_worker, view):]
            except BlockingIOError:  # the pipe is full: the worker is busy, or stuck
                if not wait_for(self._to_worker, self.pid, select.POLLOUT):
                    raise OSError("the worker is stuck") from None

    def _close_input(self) -> None:
        if self._to_worker >= 0:
            os.close(self._to_worker)
            self._to_worker = -1

    def outcomes(self) -> list[Any]:
        """Per slot: ("ok", result data as cache entries hold it), ("errors", [(path, line,
        column, message)...]) or None (the main process transforms that file itself)."""
        self._close_input()
        answers: list[Any] = []
        chunks: list[bytes] = []
        try:
            # while it gets on with its files, however long; one stopped or hung is killed
            while self._from_worker >= 0 and wait_for(self._from_worker, self.pid):
                chunk = os.read(self._from_worker, 1 << 20)
                if not chunk:
                    break
                chunks.append(chunk)
            answer = b"".join(chunks)
            end = _HEAD + int.from_bytes(answer[:_HEAD], "little")
            if len(answer) < max(end, _HEAD):
                raise EOFError
            data = marshal.loads(answer[_HEAD:end])
            if isinstance(data, list):
                answers = data
        except (OSError, EOFError, ValueError, TypeError):
            self.stop()
        return answers[: self.submitted] + [None] * (self.submitted - len(answers))

    def finish(self) -> None:
        """Waits (at most FINISH_WITHIN seconds) for the worker to write its cache entries, which
        it does after its answers, then reaps it; one that takes longer is killed (the cache only
        misses those entries)."""
        if self.pid > 0 and self._pidfd >= 0:
            readable(self._pidfd, FINISH_WITHIN)  # once the worker has exited
        elif self.pid > 0:  # no pidfd: asked every millisecond
            give_up = time.monotonic() + FINISH_WITHIN
            try:
                while time.monotonic() < give_up:
                    if os.waitpid(self.pid, os.WNOHANG) != (0, 0):
                        self.pid = 0  # exited, and reaped by that waitpid
                        break
                    time.sleep(0.001)
            except ChildProcessError:  # SIGCHLD ignored: the kernel reaped it
                self.pid = 0
        self.stop()

    def stop(self) -> None:
        """Ends the worker (at once if it has not answered) and reaps it: nothing outlives the run."""
        self._close_input()
        if self._from_worker >= 0:
            os.close(self._from_worker)
            self._from_worker = -1
        if self.pid > 0:
            end_child(self.pid, self._pidfd)
            self.pid, self._pidfd = 0, -1
        self._restore_sigpipe()

    def _restore_sigpipe(self) -> None:
        if self._sigpipe == signal.SIG_DFL:
            signal.signal(signal.SIGPIPE, signal.SIG_DFL)
        self._sigpipe = None


def _serve(source_fd: int, answer_fd: int, op: str, transform: Callable[[bytes, str], RewriteResult],
           store: result_cache.Store | None, guard: Callable[[], None]) -> None:
    outcomes: list[Any] = []
    to_remember: deque[tuple[bytes, RewriteResult]] = deque()
    try:
        guard()
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # the main process decides; it kills us if need be
        for path, source in _frames(source_fd, to_remember, store, op):
            try:
                result = transform(source, path)
                if store is not None:
                    to_remember.append((source, result))
                outcomes.append(("ok", result_cache.result_data(result)))
            except MarkerErrors as error:
                outcomes.append(("errors", [(e.path, e.line, e.column, e.message) for e in error.errors]))
            except MarkerError as error:
                outcomes.append(("errors", [(error.path, error.line, error.column, error.message)]))
            except Exception:  # noqa: BLE001 - the main process does this file again and reports it
                outcomes.append(None)
        _write_all(answer_fd, _frame(marshal.dumps(outcomes)))
        os.close(answer_fd)
        if store is not None:
            _remember_rest(store, op, to_remember)
    finally:
        os._exit(0)


def _remember_rest(store: result_cache.Store, op: str, to_remember: deque[tuple[bytes, RewriteResult]]) -> None:
    """The cache entries not written yet, after the answers: the main process goes on meanwhile."""
    while to_remember:
        store.remember(op, *to_remember.popleft())


def _frames(fd: int, to_remember: deque[tuple[bytes, RewriteResult]], store: result_cache.Store | None,
            op: str) -> Iterator[tuple[str, bytes]]:
    """The (path, source) frames the main process sends, until it closes the pipe; while none is
    waiting, the cache entries of files done are written (the worker would be idle otherwise)."""
    buffer, eof = bytearray(), False
    while True:
        if len(buffer) >= _HEAD:
            end = _HEAD + int.from_bytes(buffer[:_HEAD], "little")
            if len(buffer) >= end:
                frame = bytes(buffer[_HEAD:end])
                del buffer[:end]
                yield marshal.loads(frame)
                continue
        if eof:
            return
        if to_remember and store is not None and not readable(fd, 0):
            store.remember(op, *to_remember.popleft())
            continue
        chunk = os.read(fd, 1 << 20)
        if chunk:
            buffer += chunk
        else:
            eof = True


def answer_of(answer: Any, source: bytes) -> RewriteResult | list[MarkerError] | None:
    """What a worker's answer for a file means: its result, its marker errors, or None (do it here)."""
    if answer is None:
        return None
    kind, data = answer
    if kind == "errors":
        return [MarkerError(*error) for error in data]
    try:
        return result_cache.Store.result_from(data, source)
    except (TypeError, ValueError):
        return None
