"""The history Recorder as it was before the per-thread buffers (commit 7cf4dca), frozen: the
reference the new writer's files are compared with (tests/test_history_writer.py) and the `v1`
variant of benchmarks/traffic_vs_go.py. One lock for every thread, one json encode per field.
Not used by gofail_py. It takes the traffic's ``at`` (its own clock readings) and ignores it:
it reads its own clock, as it did."""
from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import IO, Any

from gofail_py.errors import RecorderError
from gofail_py.history.reader import FORMAT_VERSION
from gofail_py.models import Model, get_model

CLOSED_OPEN = "recorder closed before it returned"


# one encoder for every line: json.dumps with options makes a new one each call (~4 us a line)
_json: Callable[[Any], str] = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


class Call:
    """An operation that was called and has not returned yet (what ``Recorder.call`` gives back)."""

    __slots__ = ("id", "client", "op", "input", "call", "meta", "_input_text", "done")

    def __init__(self, id: int, client: int, op: str, input: Any, call: int, meta: Any, input_text: str) -> None:
        self.id, self.client, self.op, self.input, self.call, self.meta = id, client, op, input, call, meta
        self._input_text = input_text  # taken at call(): a later change to the caller's dict is not recorded
        self.done = False

    def line(self, ret: int | None, output_text: str, error: str | None) -> str:
        text = (f'{{"id":{self.id},"client":{self.client},"op":{_json(self.op)},"input":{self._input_text},'
                f'"call":{self.call},"return":{"null" if ret is None else ret},"output":{output_text}')
        if error is not None:
            text += f',"error":{_json(error)}'
        if self.meta is not None:
            text += f',"meta":{_json(self.meta)}'
        return text + "}\n"


class RecorderV1:
    """``with Recorder("h.jsonl", model="kv") as rec: op = rec.call(client=3, op="put", input={...});
    rec.returned(op, {"revision": 5})`` or ``rec.lost(op, "timeout after 0.5s")``."""

    def __init__(self, path: str | os.PathLike[str], model: str | Model = "kv",
                 clock: Callable[[], int] = time.monotonic_ns, trusted: bool = False) -> None:
        """``trusted``: the caller builds every input and output in the model's shapes itself (the
        traffic's etcd target does), so they are not checked again one by one (a third of what
        recording an operation costs); a reader still checks every line."""
        self.path = os.fspath(path)
        self.model = get_model(model)
        self._trusted = trusted
        self._clock = clock
        self._lock = threading.Lock()
        self._open: dict[int, Call] = {}  # client -> its call in flight
        self._next_id = 0
        self._closed = False
        head, slash, name = self.path.rpartition("/")
        self._temp = f"{head}{slash}.{name}.{os.urandom(6).hex()}.recording"
        try:
            fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise RecorderError(f"cannot record to {self.path}: {error.strerror or error}") from None
        self._file: IO[str] = os.fdopen(fd, "w", encoding="utf-8", newline="\n")
        self._file.write(_json({"gofail_py_history": FORMAT_VERSION, "model": self.model.name}) + "\n")

    def call(self, client: int, op: str, input: Any, meta: dict[str, Any] | None = None, at: int | None = None) -> Call:
        """Records that ``client`` calls ``op`` now (just before sending it)."""
        now = self._clock()
        problem = None if self._trusted else self.model.validate(op, input, None)
        if problem is not None:
            raise RecorderError(f"{op}: {problem}")
        if type(client) is not int or client < 0:
            raise RecorderError(f"client must be an integer >= 0, not {client!r}")
        text = _json(input)
        with self._lock:
            self._check_open()
            if client in self._open:
                raise RecorderError(f"client {client} already has an operation in flight (id {self._open[client].id}): "
                                    "one client makes one call at a time")
            handle = Call(self._next_id, client, op, input, now, meta, text)
            self._next_id += 1
            self._open[client] = handle
            return handle

    def returned(self, call: Call, output: Any, at: int | None = None) -> None:
        """Records ``call``'s answer (just after it came)."""
        now = self._clock()
        problem = None if self._trusted else self.model.validate(call.op, call.input, output)
        if problem is not None:
            raise RecorderError(f"{call.op} (id {call.id}): {problem}")
        self._finish(call, max(now, call.call), _json(output), None)

    def lost(self, call: Call, error: str) -> None:
        """Records that ``call`` got no answer (timeout, connection lost): it may or may not have
        taken effect, and it stays open to the end of the history."""
        self._finish(call, None, "null", str(error))

    def _finish(self, call: Call, ret: int | None, output_text: str, error: str | None) -> None:
        with self._lock:
            self._check_open()
            if call.done or self._open.get(call.client) is not call:
                raise RecorderError(f"operation {call.id} is not in flight (it was already returned or lost)")
            call.done = True
            del self._open[call.client]
            self._file.write(call.line(ret, output_text, error))

    def _check_open(self) -> None:
        if self._closed:
            raise RecorderError(f"the recorder of {self.path} is closed")

    def close(self) -> None:
        """Writes every call still in flight as indeterminate, syncs the file and puts it at its path."""
        with self._lock:
            if self._closed:
                return
            self._closed = True
            try:
                for call in sorted(self._open.values(), key=lambda c: c.id):
                    call.done = True
                    self._file.write(call.line(None, "null", CLOSED_OPEN))
                self._open.clear()
                self._file.flush()
                os.fsync(self._file.fileno())
                self._file.close()
                os.replace(self._temp, self.path)
            except OSError as error:
                self._file.close()
                raise RecorderError(f"cannot write {self.path}: {error.strerror or error} "
                                    f"(what was recorded is in {self._temp})") from None
            directory = os.open(os.path.dirname(self.path) or ".", os.O_RDONLY | os.O_CLOEXEC)
            try:
                os.fsync(directory)
            finally:
                os.close(directory)

    def __enter__(self) -> RecorderV1:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()
