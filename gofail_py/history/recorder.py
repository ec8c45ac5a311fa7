"""Recording a history while clients run: one Recorder shared by any number of threads.

Each completed operation becomes one line. What an operation costs its caller is kept small (its
times, an id, a note of the client's latest call, a record added to a list all threads share);
the lines are made in batches at each write, which is cheaper than one at a time between a
client's requests (history_lines, lines.py). When FLUSH_LINES records wait or FLUSH_AFTER seconds
passed since the last write, the thread that added the last one writes every waiting record's
line, in call (id) order, whole lines in one write. So a long run does not grow in memory, and a
run killed midway leaves a file of whole lines that reads back as far as it went. The file appears
at its path only when the recorder closes (written beside it, then renamed: a reader never sees
half a history, and an earlier history at that path stays whole until the new one is complete);
a recorder dropped without close() still writes out what waited, beside the path. Times come from
one monotonic clock: the call time before the request is sent, the return time after the answer
came, so each operation's interval holds its real one (wider is always safe for the check, never
narrower).

A checked recorder (the default) checks each call, input and output when it is made (the model,
one call at a time per client, a call ended once) and makes its line then, so a mistake is an
error to its caller. A ``trusted`` one is for a caller that makes none (the traffic): it checks
nothing and leaves the text to the write. Which calls are still in flight is then known at the
write, from what ended: every call is noted as its client's latest, and the writes keep each
client's latest id that ended, so close() writes the latest calls that did not end as
indeterminate, whichever way a return and close() interleave (a record taken by close() is
written, one added after it is not, and its call is written as indeterminate)."""

from __future__ import annotations

import itertools
import os
import threading
import time
import weakref
from collections.abc import Callable
from types import TracebackType
from typing import Any

from gofail_py.errors import RecorderError
from gofail_py.history.lines import Record, _str, history_lines, json_text, kv_input_text, kv_output_text
from gofail_py.history.reader import FORMAT_VERSION
from gofail_py.models import Model, get_model

CLOSED_OPEN = "recorder closed before it returned"
# records waiting that make the thread that added the last one write them all. Few enough that what
# they hold (a trusted caller's inputs and outputs) stays below the garbage collector's first
# threshold (700 containers): 256 made the collector run, a full collection included, costing a
# traffic client as much as the rest of recording
FLUSH_LINES = 64
FLUSH_AFTER = 0.2  # seconds since the last write that make the next record's thread write, the same


class Call(tuple[int, int, str, Any, int, Any, "str | None"]):
    """An operation that was called and has not returned yet (what ``Recorder.call`` gives back):
    a tuple (made without a Python __init__: it is made once per operation), read by name."""

    __slots__ = ()

    @property
    def id(self) -> int:
        return self[0]

    @property
    def client(self) -> int:
        return self[1]

    @property
    def op(self) -> str:
        return self[2]

    @property
    def input(self) -> Any:
        return self[3]

    @property
    def call(self) -> int:
        return self[4]

    @property
    def meta(self) -> Any:
        return self[5]

    def line(self, ret: int | None, output_text: str, error: str | None) -> str:
        """Its line, with its input's text made at call() (a checked recorder's)."""
        text = (f'{{"id":{self[0]},"client":{self[1]},"op":{_str(self[2]) if type(self[2]) is str else json_text(self[2])},'
                f'"input":{self[6]},"call":{self[4]},"return":{"null" if ret is None else ret},"output":{output_text}')
        if error is not None:
            text += f',"error":{json_text(error)}'
        if self[5] is not None:
            text += f',"meta":{json_text(self[5])}'
        return text + "}\n"


_new_call: Callable[[type[Call], tuple[Any, ...]], Call] = tuple.__new__


class _File:
    """The temporary file and the records waiting for it: what a write needs, apart from the
    Recorder so that a finalizer can write out a recorder dropped without close()."""

    def __init__(self, fd: int, kv: bool) -> None:
        self.fd = fd
        self.kv = kv
        self.lock = threading.Lock()  # a write, close
        # ended operations not written yet, in the order they ended: threads append (one atomic
        # list call each), a write takes the first n (a copy and a del, each atomic)
        self.waiting: list[Record] = []
        self.ended: dict[int, int] = {}  # client -> its latest call id that ended and was taken (under lock)
        self.error: OSError | None = None  # the first write that failed: close() reports it

    def take(self) -> list[Record]:
        """Every waiting record, in id order (under ``lock``); notes which calls ended."""
        waiting = self.waiting
        records = waiting[:]
        del waiting[:len(records)]
        records.sort()  # by id: ids are unique, so no further field is compared
        ended = self.ended
        for _, call, _, _ in records:
            if call is not None:
                ended[call[1]] = call[0]
        return records

    def write(self, records: list[Record]) -> None:
        """Their lines in one write (under ``lock``); after a failed write nothing more is written."""
        if not records or self.error is not None:
            return
        text = "".join(history_lines(records, self.kv))
        try:
            data = memoryview(text.encode("utf-8"))
        except UnicodeEncodeError:  # a trusted caller's lone surrogate: JSON's own escape of it (\udc80)
            data = memoryview(text.encode("utf-8", "backslashreplace"))
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError as error:
            self.error = error
            raise

    def flush_at_exit(self) -> None:
        """A recorder dropped without close(): its waiting records go to the temporary file."""
        if not self.lock.acquire(timeout=5.0):  # a thread stopped at exit while it held it
            return
        try:
            if self.fd < 0:
                return
            try:
                self.write(self.take())
            except OSError:
                pass
            os.close(self.fd)
            self.fd = -1
        finally:
            self.lock.release()


def _encodable(text: str) -> bool:
    """Whether ``text`` is valid UTF-8 once encoded (a lone surrogate is not)."""
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


class Recorder:
    """``with Recorder("h.jsonl", model="kv") as rec: op = rec.call(client=3, op="put", input={...});
    rec.returned(op, {"revision": 5})`` or ``rec.lost(op, "timeout after 0.5s")``."""

    def __init__(self, path: str | os.PathLike[str], model: str | Model = "kv",
                 clock: Callable[[], int] = time.monotonic_ns, trusted: bool = False) -> None:
        """``trusted``: the caller builds every input and output in the model's shapes itself (the
        traffic's etcd target does), with no lone surrogate in its strings, and changes none of
        them once handed over: they are neither checked one by one nor turned into text until they
        are written (a reader still checks every line). A value JSON cannot write is then written as
        an operation without an answer, and a lone surrogate as JSON's escape of it."""
        self.path = os.fspath(path)
        self.model = get_model(model)
        self._trusted = trusted
        self._clock = clock
        kv = self.model.name == "kv" and type(self.model).__module__ == "gofail_py.models.kv"
        self._input_text: Callable[[str, Any], str] = kv_input_text if kv else _plain
        self._output_text: Callable[[str, Any], str] = kv_output_text if kv else _plain
        # client -> its call in flight (checked) or its latest call (trusted); each change one atomic dict call
        self._open: dict[int, Call] = {}
        self._ids = itertools.count()
        self._flush_after = int(FLUSH_AFTER * 1e9)
        self._due = 0  # the clock after which the next record's thread writes
        self._closed = False
        self._claims: dict[int, str] = {}  # call id -> "call" or "close": a call() and close() that meet
        head, slash, name = self.path.rpartition("/")
        self._temp = f"{head}{slash}.{name}.{os.urandom(6).hex()}.recording"
        try:
            fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise RecorderError(f"cannot record to {self.path}: {error.strerror or error}") from None
        self._file = _File(fd, kv)
        self._waiting = self._file.waiting
        self._lock = threading.Lock()  # a checked recorder's returned() and lost(), and close()
        header = json_text({"gofail_py_history": FORMAT_VERSION, "model": self.model.name}) + "\n"
        try:
            self._file.write([(-1, None, None, header)])
        except OSError as error:
            os.close(fd)
            raise RecorderError(f"cannot record to {self.path}: {error.strerror or error}") from None
        self._finalizer = weakref.finalize(self, self._file.flush_at_exit)

    def call(self, client: int, op: str, input: Any, meta: dict[str, Any] | None = None, at: int | None = None) -> Call:
        """Records that ``client`` calls ``op`` now (just before sending it); ``at``: the caller's
        own reading of the recorder's clock, taken just now (a caller that times its calls anyway)."""
        now = self._clock() if at is None else at
        if self._trusted:
            if type(client) is not int or client < 0:
                raise RecorderError(f"client must be an integer >= 0, not {client!r}")
            handle = _new_call(Call, (next(self._ids), client, op, input, now, meta, None))
            self._open[client] = handle
            if self._closed:
                self._closed_meanwhile(handle)
            return handle
        problem = self.model.validate(op, input, None)
        if problem is not None:
            raise RecorderError(f"{op}: {problem}")
        if type(client) is not int or client < 0:
            raise RecorderError(f"client must be an integer >= 0, not {client!r}")
        text = self._input_text(op, input)  # now: a later change to the caller's dict is not recorded
        if not text.isascii() and not _encodable(text):
            raise RecorderError(f"{op}: its input holds a lone surrogate, which UTF-8 cannot encode")
        handle = _new_call(Call, (next(self._ids), client, op, input, now, meta, text))
        other = self._open.setdefault(client, handle)
        if other is not handle:
            raise RecorderError(f"client {client} already has an operation in flight (id {other[0]}): "
                                "one client makes one call at a time")
        if self._closed:
            self._closed_meanwhile(handle)
        return handle

    def _closed_meanwhile(self, handle: Call) -> None:
        """close() came first or in between: whoever claims the call first decides. This call():
        it is not in the history, and it raises. close(): close() wrote it as indeterminate, and
        the caller has its call (whose end will raise)."""
        if self._claims.setdefault(handle[0], "call") == "call":
            raise RecorderError(f"the recorder of {self.path} is closed")

    def returned(self, call: Call, output: Any, at: int | None = None) -> None:
        """Records ``call``'s answer (just after it came; ``at`` as for call())."""
        now = self._clock() if at is None else at
        if self._closed:
            raise RecorderError(f"the recorder of {self.path} is closed")
        if self._trusted:
            waiting = self._waiting
            waiting.append((call[0], call, now, output))
            if len(waiting) >= FLUSH_LINES or now >= self._due:
                self._flush(now)
            return
        problem = self.model.validate(call[2], call[3], output)
        if problem is not None:
            raise RecorderError(f"{call[2]} (id {call[0]}): {problem}")
        line = call.line(now if now > call[4] else call[4], self._output_text(call[2], output), None)
        if not line.isascii() and not _encodable(line):
            raise RecorderError(f"{call[2]} (id {call[0]}): its output holds a lone surrogate, which UTF-8 cannot encode")
        self._checked_end(call, line, now)

    def lost(self, call: Call, error: str) -> None:
        """Records that ``call`` got no answer (timeout, connection lost): it may or may not have
        taken effect, and it stays open to the end of the history."""
        if self._closed:
            raise RecorderError(f"the recorder of {self.path} is closed")
        error = str(error)
        if not error.isascii() and not _encodable(error):
            error = error.encode("utf-8", "replace").decode("utf-8")
        now = call[4]  # its call time stands for now: no clock read for a rare line
        if self._trusted:
            self._waiting.append((call[0], call, None, error))
            if len(self._waiting) >= FLUSH_LINES:
                self._flush(now)
            return
        self._checked_end(call, call.line(None, "null", error), now)

    def _checked_end(self, call: Call, line: str, now: int) -> None:
        """A checked recorder's end of a call: it must be in flight (under the lock close() takes)."""
        client, open_, waiting = call[1], self._open, self._waiting
        with self._lock:
            if self._closed:
                raise RecorderError(f"the recorder of {self.path} is closed")
            if open_.get(client) is not call or open_.pop(client, None) is not call:
                raise RecorderError(f"operation {call[0]} is not in flight (it was already returned or lost)")
            waiting.append((call[0], None, None, line))
        if len(waiting) >= FLUSH_LINES or now >= self._due:
            self._flush(now)

    def _flush(self, now: int) -> None:
        """Writes every waiting record; a write already under way in another thread does it."""
        file = self._file
        if not file.lock.acquire(blocking=False):
            return
        try:
            self._due = now + self._flush_after
            if not self._closed:
                file.write(file.take())
        finally:
            file.lock.release()

    def close(self) -> None:
        """Writes every call still in flight as indeterminate, syncs the file and puts it at its path."""
        file = self._file
        with file.lock:
            with self._lock:
                if self._closed:
                    return
                self._closed = True  # a checked recorder adds no record from here on; a trusted one's are not taken
                # each client's call now: one registered later sees _closed (taken before a record of
                # this one can be: a client's next call would replace it here)
                latest = list(self._open.values())
            records = file.take()
            ended = file.ended
            for call in sorted(latest, key=lambda call: call[0]):
                # a checked recorder's calls there are in flight; a trusted one's, unless they ended
                if ended.get(call[1], -1) < call[0] and self._claims.setdefault(call[0], "close") == "close":
                    records.append((call[0], call, None, CLOSED_OPEN))
            records.sort()
            self._finalizer.detach()
            try:
                file.write(records)
                if file.error is not None:
                    raise file.error
                os.fsync(file.fd)
                os.close(file.fd)
                file.fd = -1
                os.replace(self._temp, self.path)
            except OSError as error:
                if file.fd >= 0:
                    os.close(file.fd)
                    file.fd = -1
                raise RecorderError(f"cannot write {self.path}: {error.strerror or error} "
                                    f"(what was recorded is in {self._temp})") from None
            directory = os.open(os.path.dirname(self.path) or ".", os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _plain(op: str, value: Any) -> str:
    return json_text(value)
