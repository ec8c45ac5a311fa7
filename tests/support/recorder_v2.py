"""The history Recorder as it was before recording was made cheaper for issue 20 (per-thread
buffers, each line formatted in the calling thread when its operation returned), frozen: the
"before" that tests/test_history_writer.py compares the writer's lines with, byte for byte, and the
`v2` variant of benchmarks/traffic_vs_go.py. Not used by gofail_py. It takes the traffic's ``at`` (its own clock readings) and ignores it:
it reads its own clock, as it did."""

from __future__ import annotations

import itertools
import json
import json.encoder
import os
import threading
import time
import weakref
from collections.abc import Callable
from json.encoder import encode_basestring
from types import TracebackType
from typing import Any

from gofail_py.errors import RecorderError
from gofail_py.history.reader import FORMAT_VERSION
from gofail_py.models import Model, get_model

# --- gofail_py/history/lines.py as it was, frozen with it ---

_str: Callable[[str], str] = encode_basestring  # the C escaper of ensure_ascii=False: '"' + escaped + '"'


def _refuse(value: Any) -> Any:
    raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _c_encoder() -> Callable[[Any], str] | None:
    """json's C encoder with compact separators, made once; None when this Python has none (or one
    whose private signature differs: checked on a sample against json.dumps)."""
    try:
        c_make_encoder = getattr(json.encoder, "c_make_encoder", None)
        if c_make_encoder is None:
            return None
        encode = c_make_encoder(None, _refuse, encode_basestring, None, ":", ",", False, False, True)

        def text(value: Any) -> str:
            return "".join(encode(value, 0))

        sample: dict[str, Any] = {"k\"é\n": [1, -2, 1.5, True, None, "\\\x00\u2028\U0001f600", {}]}
        if text(sample) != json.dumps(sample, ensure_ascii=False, separators=(",", ":")):
            return None
        return text
    except Exception:  # noqa: BLE001 - any surprise of a private API: the public encoder instead
        return None


json_text: Callable[[Any], str] = _c_encoder() or json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _kvs(kvs: Any) -> str:
    """A list of kvs: each must have the five keys (fewer: KeyError) and no more (max of the sizes)."""
    if type(kvs) is not list or (kvs and max(map(len, kvs)) != 5):
        raise TypeError("not a list of kvs")
    return ",".join([f'{{"key":{_str(kv["key"])},"value":{_str(kv["value"])},"create_revision":'
                     f'{kv["create_revision"]:d},"mod_revision":{kv["mod_revision"]:d},"version":{kv["version"]:d}}}'
                     for kv in kvs])


def _result(result: Any) -> str:
    if type(result) is not dict:
        raise TypeError("not a txn result")
    size = len(result)
    if not size:
        return "{}"
    if size == 1 and "kvs" in result:
        return f'{{"kvs":[{_kvs(result["kvs"])}]}}'
    if size == 1:
        return f'{{"deleted":{result["deleted"]:d}}}'
    raise KeyError("not a txn result")


def kv_output_text(op: str, output: Any) -> str:
    """The JSON of a `kv` operation's output (any other value: its plain JSON)."""
    try:
        size = len(output) if type(output) is dict else -1
        if op == "put" and size == 1:
            return f'{{"revision":{output["revision"]:d}}}'
        if op == "get" and size == 2:
            return f'{{"revision":{output["revision"]:d},"kvs":[{_kvs(output["kvs"])}]}}'
        if op == "delete" and size == 2:
            return f'{{"revision":{output["revision"]:d},"deleted":{output["deleted"]:d}}}'
        if op == "txn" and size == 3:
            succeeded, results = output["succeeded"], output["results"]
            if type(succeeded) is bool and type(results) is list:
                return (f'{{"revision":{output["revision"]:d},"succeeded":{"true" if succeeded else "false"},'
                        f'"results":[{",".join([_result(result) for result in results])}]}}')
    except (KeyError, TypeError, ValueError):
        pass
    return json_text(output)


def _sub(sub: dict[str, Any]) -> str:
    if type(sub) is not dict:
        raise TypeError("not a txn operation")
    kind, size = sub["op"], len(sub)
    if kind == "put" and size == 3:
        return f'{{"op":"put","key":{_str(sub["key"])},"value":{_str(sub["value"])}}}'
    if (kind == "get" or kind == "delete") and size == 2:
        return f'{{"op":"{kind}","key":{_str(sub["key"])}}}'
    return json_text(sub)


def _compare(compare: dict[str, Any]) -> str:
    if type(compare) is not dict or len(compare) != 3:
        raise KeyError("not a compare")
    target, value = compare["target"], compare["value"]
    if target == "value":
        return f'{{"key":{_str(compare["key"])},"target":"value","value":{_str(value)}}}'
    if target in ("mod_revision", "create_revision", "version"):
        return f'{{"key":{_str(compare["key"])},"target":"{target}","value":{value:d}}}'
    raise KeyError("not a compare")


def kv_input_text(op: str, input: Any) -> str:
    """The JSON of a `kv` operation's input (any other value: its plain JSON)."""
    try:
        size = len(input) if type(input) is dict else -1
        if op == "put" and size == 2:
            return f'{{"key":{_str(input["key"])},"value":{_str(input["value"])}}}'
        if (op == "get" or op == "delete") and size == 1:
            return f'{{"key":{_str(input["key"])}}}'
        if op == "txn" and size == 3:
            compare, success, failure = input["compare"], input["success"], input["failure"]
            if type(compare) is list and type(success) is list and type(failure) is list:
                return (f'{{"compare":[{",".join([_compare(c) for c in compare])}],'
                        f'"success":[{",".join([_sub(s) for s in success])}],'
                        f'"failure":[{",".join([_sub(s) for s in failure])}]}}')
    except (KeyError, TypeError, ValueError):
        pass
    return json_text(input)


# --- gofail_py/history/recorder.py as it was ---

CLOSED_OPEN = "recorder closed before it returned"
FLUSH_LINES = 64  # a thread's buffered lines that make it write out every thread's
FLUSH_AFTER = 0.2  # seconds: a thread's oldest buffered line older than this, the same


class Call:
    """An operation that was called and has not returned yet (what ``Recorder.call`` gives back)."""

    __slots__ = ("id", "client", "op", "input", "call", "meta", "_head")

    def __init__(self, id: int, client: int, op: str, input: Any, call: int, meta: Any, input_text: str) -> None:
        self.id, self.client, self.op, self.input, self.call, self.meta = id, client, op, input, call, meta
        # the line up to its return, made at call(): a later change to the caller's dict is not recorded
        self._head = (f'{{"id":{id},"client":{client},"op":{_str(op) if type(op) is str else json_text(op)},"input":{input_text},'
                      f'"call":{call},"return":')

    def line(self, ret: int | None, output_text: str, error: str | None) -> str:
        text = f'{self._head}{"null" if ret is None else ret},"output":{output_text}'
        if error is not None:
            text += f',"error":{json_text(error)}'
        if self.meta is not None:
            text += f',"meta":{json_text(self.meta)}'
        return text + "}\n"


class _Buffer:
    """One thread's lines not yet written, as (id, line); ``lock`` is taken by its thread and by a flush."""

    __slots__ = ("lock", "lines", "since", "closed")

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.lines: list[tuple[int, str]] = []
        self.since = 0  # the clock when its oldest line was put in
        self.closed = False


class _File:
    """The temporary file and every thread's buffer: what a flush needs, apart from the Recorder so
    that a finalizer can flush a recorder dropped without close()."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.lock = threading.Lock()  # buffers' registration, a flush, close
        self.buffers: list[_Buffer] = []
        self.error: OSError | None = None  # the first write that failed: close() reports it

    def take(self, close: bool) -> list[tuple[int, str]]:
        """Every buffered line, in id order (under ``lock``)."""
        lines: list[tuple[int, str]] = []
        for buffer in self.buffers:
            with buffer.lock:
                lines += buffer.lines
                buffer.lines = []
                buffer.closed = buffer.closed or close
        lines.sort()
        return lines

    def write(self, lines: list[tuple[int, str]]) -> None:
        """Whole lines in one write (under ``lock``); after a failed write nothing more is written."""
        if not lines or self.error is not None:
            return
        data = memoryview("".join([line for _, line in lines]).encode("utf-8"))
        try:
            while data:
                data = data[os.write(self.fd, data):]
        except OSError as error:
            self.error = error
            raise

    def flush_at_exit(self) -> None:
        """A recorder dropped without close(): its buffered lines go to the temporary file."""
        if not self.lock.acquire(timeout=5.0):  # a thread stopped at exit while it held it
            return
        try:
            if self.fd < 0:
                return
            try:
                self.write(self.take(close=True))
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


class RecorderV2:
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
        kv = self.model.name == "kv" and type(self.model).__module__ == "gofail_py.models.kv"
        self._input_text: Callable[[str, Any], str] = kv_input_text if kv else _plain
        self._output_text: Callable[[str, Any], str] = kv_output_text if kv else _plain
        self._open: dict[int, Call] = {}  # client -> its call in flight (each change one atomic dict call)
        self._ids = itertools.count()
        self._local = threading.local()  # .buffer: this thread's _Buffer
        self._flush_after = int(FLUSH_AFTER * 1e9)
        self._closed = False
        head, slash, name = self.path.rpartition("/")
        self._temp = f"{head}{slash}.{name}.{os.urandom(6).hex()}.recording"
        try:
            fd = os.open(self._temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o644)
        except OSError as error:
            raise RecorderError(f"cannot record to {self.path}: {error.strerror or error}") from None
        self._file = _File(fd)
        try:
            self._file.write([(-1, json_text({"gofail_py_history": FORMAT_VERSION, "model": self.model.name}) + "\n")])
        except OSError as error:
            os.close(fd)
            raise RecorderError(f"cannot record to {self.path}: {error.strerror or error}") from None
        self._finalizer = weakref.finalize(self, self._file.flush_at_exit)

    def call(self, client: int, op: str, input: Any, meta: dict[str, Any] | None = None, at: int | None = None) -> Call:
        """Records that ``client`` calls ``op`` now (just before sending it)."""
        now = self._clock()
        problem = None if self._trusted else self.model.validate(op, input, None)
        if problem is not None:
            raise RecorderError(f"{op}: {problem}")
        if type(client) is not int or client < 0:
            raise RecorderError(f"client must be an integer >= 0, not {client!r}")
        text = self._input_text(op, input)
        if not text.isascii() and not _encodable(text):
            raise RecorderError(f"{op}: its input holds a lone surrogate, which UTF-8 cannot encode")
        self._check_open()
        handle = Call(next(self._ids), client, op, input, now, meta, text)
        other = self._open.setdefault(client, handle)
        if other is not handle:
            raise RecorderError(f"client {client} already has an operation in flight (id {other.id}): "
                                "one client makes one call at a time")
        if self._closed:  # close() came in between: it wrote this call as indeterminate, or it is dropped here
            if self._open.get(client) is handle:
                self._open.pop(client, None)
            self._check_open()
        return handle

    def returned(self, call: Call, output: Any, at: int | None = None) -> None:
        """Records ``call``'s answer (just after it came)."""
        now = self._clock()
        if not self._trusted:
            problem = self.model.validate(call.op, call.input, output)
            if problem is not None:
                raise RecorderError(f"{call.op} (id {call.id}): {problem}")
        ret = now if now > call.call else call.call
        if call.meta is None:  # the common line in one f-string (what call.line() gives)
            line = f'{call._head}{ret},"output":{self._output_text(call.op, output)}}}\n'
        else:
            line = call.line(ret, self._output_text(call.op, output), None)
        if not line.isascii() and not _encodable(line):
            raise RecorderError(f"{call.op} (id {call.id}): its output holds a lone surrogate, which UTF-8 cannot encode")
        self._finish(call, line, now)

    def lost(self, call: Call, error: str) -> None:
        """Records that ``call`` got no answer (timeout, connection lost): it may or may not have
        taken effect, and it stays open to the end of the history."""
        error = str(error)
        line = call.line(None, "null", error)
        if not _encodable(line):
            line = call.line(None, "null", error.encode("utf-8", "replace").decode("utf-8"))
        self._finish(call, line, call.call)  # its call time stands for now: no clock read for a rare line

    def _finish(self, call: Call, line: str, now: int) -> None:
        buffer: _Buffer | None = getattr(self._local, "buffer", None)
        if buffer is None:
            buffer = self._new_buffer()
        client, open_ = call.client, self._open
        with buffer.lock:
            if buffer.closed:
                raise RecorderError(f"the recorder of {self.path} is closed")
            if open_.get(client) is not call or open_.pop(client, None) is not call:
                raise RecorderError(f"operation {call.id} is not in flight (it was already returned or lost)")
            lines = buffer.lines
            if not lines:
                buffer.since = now
            lines.append((call.id, line))
            full = len(lines) >= FLUSH_LINES or now - buffer.since >= self._flush_after
        if full:
            self._flush()

    def _new_buffer(self) -> _Buffer:
        buffer = _Buffer()
        with self._file.lock:
            self._check_open()
            self._file.buffers.append(buffer)
        self._local.buffer = buffer
        return buffer

    def _flush(self) -> None:
        """Writes every thread's buffered lines; a flush already under way in another thread does it."""
        file = self._file
        if not file.lock.acquire(blocking=False):
            return
        try:
            if not self._closed:
                file.write(file.take(close=False))
        finally:
            file.lock.release()

    def _check_open(self) -> None:
        if self._closed:
            raise RecorderError(f"the recorder of {self.path} is closed")

    def close(self) -> None:
        """Writes every call still in flight as indeterminate, syncs the file and puts it at its path."""
        file = self._file
        with file.lock:
            if self._closed:
                return
            self._closed = True
            lines = file.take(close=True)  # no thread can add a line from here on
            for client, call in sorted(list(self._open.items()), key=lambda item: item[1].id):
                if self._open.pop(client, None) is call:  # a call() that raced close() may have taken its own
                    lines.append((call.id, call.line(None, "null", CLOSED_OPEN)))
            lines.sort()
            self._finalizer.detach()
            try:
                file.write(lines)
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

    def __enter__(self) -> RecorderV2:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, tb: TracebackType | None) -> None:
        self.close()


def _plain(op: str, value: Any) -> str:
    return json_text(value)
