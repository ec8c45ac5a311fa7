"""Reading a history file: streamed line by line, every line checked; the first problem is a
HistoryError ``FILE:LINE: expected ...`` (exit 2)."""

from __future__ import annotations

import json
import json.scanner
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from typing import IO, TYPE_CHECKING, Any

from gofail_py.errors import HistoryError
from gofail_py.models.operation import Operation
from gofail_py.models import Model, get_model

if TYPE_CHECKING:
    from gofail_py.history.fastlines import Line

FORMAT_VERSION = 1
MAX_LINE = 16 << 20  # one operation's line; a longer one is an error, not a memory blow-up
CHUNK = 1 << 20
# the C scanner json.loads runs, without json.loads' own work around it (a quarter of a line's time)
_SCAN: Callable[[str, int], tuple[Any, int]] = json.scanner.make_scanner(json.JSONDecoder())  # type: ignore[arg-type]
_REQUIRED = frozenset(("id", "client", "op", "input", "call", "return", "output"))
_ALLOWED = _REQUIRED | {"error", "meta"}
_HEADER = frozenset(("gofail_py_history", "model"))


def _top_level_problem(line: dict[str, Any]) -> str | None:
    """What is wrong with an operation line's own fields (the model checks input and output)."""
    keys = line.keys()
    if not (keys >= _REQUIRED and keys <= _ALLOWED):
        missing, unknown = sorted(_REQUIRED - keys), sorted(keys - _ALLOWED)
        what = "; ".join(part for part in (f"missing {', '.join(missing)}" if missing else "",
                                           f"unknown {', '.join(unknown)}" if unknown else "") if part)
        return (f"expected an operation with fields id, client, op, input, call, return, output "
                f"(and optional error, meta): {what}")
    if type(line["id"]) is not int:
        return f"expected id to be an integer, not {json.dumps(line['id'])}"
    if type(line["client"]) is not int or line["client"] < 0:
        return f"expected client to be an integer >= 0, not {json.dumps(line['client'])}"
    if type(line["op"]) is not str:
        return f"expected op to be a string, not {json.dumps(line['op'])}"
    call, ret = line["call"], line["return"]
    if type(call) is not int:
        return f"expected call to be an integer (monotonic nanoseconds), not {json.dumps(call)}"
    if ret is None:
        if line["output"] is not None:
            return "expected output null for an operation with no return (an indeterminate one)"
    elif type(ret) is not int:
        return f"expected return to be an integer (monotonic nanoseconds) or null, not {json.dumps(ret)}"
    elif ret < call:
        return f"expected return >= call: it returned at {ret}, before its call at {call}"
    elif line["output"] is None:
        return "expected an output for an operation that returned (null output goes with a null return)"
    elif "error" in line:
        return "expected no error on an operation that returned (an error goes with a null return and output)"
    error = line.get("error")
    if error is not None and type(error) is not str:
        return f"expected error to be a string, not {json.dumps(error)}"
    meta = line.get("meta")
    if meta is not None and type(meta) is not dict:
        return f"expected meta to be an object, not {json.dumps(meta)}"
    return None


def _text(path: str, number: int, raw: bytes) -> str:
    if len(raw) > MAX_LINE:
        raise HistoryError(path, number, f"expected a line of at most {MAX_LINE} bytes")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise HistoryError(path, number, f"expected UTF-8 text: {error.reason} at byte {error.start}") from None


def _parse(path: str, number: int, text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise HistoryError(path, number, f"expected one JSON object: {error.msg} at column {error.colno}") from None
    except ValueError as error:  # an integer of thousands of digits
        raise HistoryError(path, number, f"expected one JSON object: {error}") from None
    except RecursionError:
        raise HistoryError(path, number, "expected one JSON object: it nests too deep") from None


def _open(path: str) -> IO[bytes]:
    """Opened without waiting: a FIFO nobody writes would hold a plain open() forever. Then
    blocking again, so a pipe is read as a file (a read finds the end at once when no writer has it)."""
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    os.set_blocking(fd, True)
    return os.fdopen(fd, "rb")


class HistoryReader:
    """The operations of one history file, read as they are iterated (once). The header, when
    there is one, is read at once: ``model`` is the model the lines are checked against (the one
    given, else the header's, else `kv`); a given model that the header contradicts is an error."""

    def __init__(self, path: str, model: str | Model | None = None, fast: bool = True) -> None:
        """``fast``: lines of the shapes our Recorder writes for the kv model go through
        fastlines.py (the same operations, a fraction of the time); False reads every line with
        the general reader (what the tests compare the fast path with)."""
        self.path = path
        self.fast = fast
        try:
            self._file: IO[bytes] = _open(path)
        except OSError as error:
            raise HistoryError(path, 0, f"cannot read: {error.strerror or error}") from None
        fifo = stat.S_ISFIFO(os.fstat(self._file.fileno()).st_mode)
        self._number = 0
        self._first: bytes | None = None
        self._taken_first: bytes | None = None  # the headerless first line, when rest() took it
        self._pending = b""  # bytes taken by rest() and given back by unread(), read before the file's
        try:
            first = self._file.readline(MAX_LINE + 1)
            if fifo and not first:
                raise HistoryError(path, 0, "a FIFO with no writer: nothing to read (start what writes it first)")
            header = _parse(path, 1, _text(path, 1, first)) if first.strip() else None
            self.header_model: str | None = None
            if isinstance(header, dict) and "gofail_py_history" in header:
                self._header(header)
                self._number = 1
            else:
                self._first = first
            self.model = get_model(model if model is not None else self.header_model or "kv")
            if self.header_model is not None and self.model.name != self.header_model:
                raise HistoryError(path, 1, f"the header says model {self.header_model!r}; it was to be "
                                            f"checked as {self.model.name!r} (give the model it was recorded for)")
        except BaseException:
            self._file.close()
            raise

    def _header(self, header: dict[str, Any]) -> None:
        if header.get("gofail_py_history") != FORMAT_VERSION or not header.keys() <= _HEADER:
            raise HistoryError(self.path, 1, 'expected the header {"gofail_py_history": 1, "model": NAME} '
                                             f"(model optional), not {json.dumps(header)[:200]}")
        name = header.get("model")
        if name is not None and type(name) is not str:
            raise HistoryError(self.path, 1, f"expected the header's model to be a string, not {json.dumps(name)}")
        self.header_model = name

    def close(self) -> None:
        self._file.close()

    @property
    def file(self) -> IO[bytes]:
        return self._file

    def rest(self, most: int = -1) -> tuple[int, bytes]:
        """What is left to read, at once (at most ``most`` bytes of the file, -1: all): (the number of
        the line before it, its bytes)."""
        self._taken_first, self._first = self._first, None
        return self._number, (self._taken_first or b"") + self._file.read(most)

    def unread(self, data: bytes) -> None:
        """Gives back what rest() took: iterating reads it exactly as if it had not been taken (a
        headerless first line on its own, then chunks where the file's reads would have cut them:
        which error of a bad file comes first depends on that)."""
        first = self._taken_first
        if first is not None and data.startswith(first):
            self._first, data = first, data[len(first):]
        self._pending = data

    def _lines(self) -> Iterator[tuple[int, str]]:
        """(line number, text) of every line after the header: the file read in big chunks, each
        decoded at once (one call per chunk, not per line)."""
        number = self._number
        if self._first is not None:
            number += 1
            yield number, _text(self.path, number, self._first)
        rest, pending, self._pending = b"", memoryview(self._pending), b""
        while True:
            if pending:  # what rest() took, in the pieces the file's reads would have given
                chunk, pending = bytes(pending[:CHUNK]), pending[CHUNK:]
                if len(chunk) < CHUNK:
                    chunk += self._file.read(CHUNK - len(chunk))
            else:
                chunk = self._file.read(CHUNK)
            if not chunk:
                break
            chunk = rest + chunk
            cut = chunk.rfind(b"\n") + 1
            if not cut:
                if len(chunk) > MAX_LINE:
                    raise HistoryError(self.path, number + 1, f"expected a line of at most {MAX_LINE} bytes")
                rest = chunk
                continue
            rest = chunk[cut:]
            try:
                lines = chunk[:cut].decode("utf-8").split("\n")
            except UnicodeDecodeError:
                lines = [_text(self.path, number + i + 1, raw) for i, raw in enumerate(chunk[:cut].split(b"\n"))]
            lines.pop()  # after the last newline
            for text in lines:
                number += 1
                if len(text) > MAX_LINE:
                    raise HistoryError(self.path, number, f"expected a line of at most {MAX_LINE} bytes")
                yield number, text
        if rest:
            yield number + 1, _text(self.path, number + 1, rest)

    @property
    def takes_fast_lines(self) -> bool:
        """Whether the lines of our Recorder's kv shapes go through fastlines.py."""
        return self.fast and self.model.name == "kv" and type(self.model).__module__ == "gofail_py.models.kv"

    def __iter__(self) -> Iterator[Operation]:
        try:
            yield from self.operations(self._lines(), {})
        finally:
            self._file.close()

    def operations(self, lines: Iterable[tuple[int, str]], ids: dict[int, int],
                   fast: bool = True) -> Iterator[Operation]:
        """The operations of (line number, text) pairs; ``ids``: id -> its line, of the lines read
        before (shared by the calls on one history); ``fast``: False for lines the fast path has
        already refused (no parser made, no second try)."""
        path, model = self.path, self.model
        validate, known, scan, required, allowed = model.validate, model.operations, _SCAN, _REQUIRED, _ALLOWED
        parse: Callable[[str], Line | None] | None = None
        if fast and self.takes_fast_lines:
            from gofail_py.history.fastlines import line_parser

            parse = line_parser()
        for number, text in lines:
            if parse is not None:
                got = parse(text)
                if got is not None:
                    first = ids.setdefault(got[0], number)
                    if first != number:
                        raise duplicate(path, number, got[0], first)
                    yield Operation(*got, None, path, number)
                    continue
            try:
                line, end = scan(text, 0)
            except (StopIteration, ValueError, RecursionError):  # _parse words what is wrong
                line, end = None, -1
            if end != len(text):  # not one object alone on the line (or spaces, or a blank line)
                if not text.strip():
                    continue
                line = _parse(path, number, text)
            if type(line) is not dict:
                raise HistoryError(path, number, "expected one JSON object (an operation) on the line")
            keys = line.keys()
            problem = None
            # the common case in three comparisons; _top_level_problem says what is wrong
            if not (keys >= required and keys <= allowed and type(line["id"]) is int
                    and type(line["call"]) is int and type(line["return"]) is int
                    and line["return"] >= line["call"] and type(line["client"]) is int and line["client"] >= 0
                    and len(keys) == 7 and line["output"] is not None):
                problem = _top_level_problem(line)
            if problem is None:
                problem = validate(line["op"], line["input"], line["output"])
                if problem is None and known is not None and line["op"] not in known:
                    problem = f"expected an operation of the {model.name} model, not {line['op']!r}"
            if problem is not None:
                raise HistoryError(path, number, problem)
            first = ids.setdefault(line["id"], number)
            if first != number:
                raise duplicate(path, number, line["id"], first)
            yield Operation(line["id"], line["client"], line["op"], line["input"], line["call"], line["return"],
                            line["output"], line.get("error"), line.get("meta"), path, number)


def duplicate(path: str, number: int, id: int, first: int) -> HistoryError:
    return HistoryError(path, number, f"expected a unique id: {id} is also the id on line {first}")


def read_history(path: str, model: str | Model | None = None, fast: bool = True) -> HistoryReader:
    """The operations of a history file, streamed (iterate once); ``.model`` is the model used.
    Operations read from a file may share parts of their inputs and outputs (a get's input, a kvs
    list, an entry): read them, do not change them."""
    return HistoryReader(str(path), model, fast)
