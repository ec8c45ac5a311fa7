"""The JSON-lines events of a run's journal: runs, processes, armed windows, crashes, steps.

One event per line, each an object with an ``event`` field naming its kind. Times are seconds
since the run began (``RunStarted.started`` is that moment as Unix time). A line without an
``event`` field is a step record as journals written before this schema hold them.
Documented in docs/coverage.md.
"""

from __future__ import annotations

import json
import os
import stat
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, BinaryIO, ClassVar

from gofail_py.errors import JournalError

MAX_LINE = 1 << 20  # bytes of one journal line, newline excluded: the recorder never writes more (to_line)
_FIELD = 8192  # characters of a field kept in a line that would be longer (6 bytes each at worst, as \\uXXXX)


@dataclass(frozen=True)
class RunStarted:
    """The first line of a run: its id, a name (scenario file, test id), when it began."""

    kind: ClassVar[str] = "run"
    run: str
    name: str = ""
    started: float = 0.0  # Unix time


@dataclass(frozen=True)
class ProcessEvent:
    """A process started, restarted, was stopped by us, or exited on its own."""

    kind: ClassVar[str] = "process"
    run: str
    process: str
    action: str  # start | restart | stop | exit
    time: float
    pid: int | None = None
    exit_code: int | None = None  # stop and exit: the code, negative for a signal (as Python gives it)
    signal: str | None = None  # e.g. "SIGKILL"
    endpoint: str | None = None


@dataclass(frozen=True)
class FailpointWindow:
    """A failpoint armed with terms in one process, from ``start`` to ``end``, and its hits there.

    ``closed_by``: unset | reset (set again) | stop (process stopped) | crash | exit | end (the
    recorder closed). ``exact`` is false when the count could not be read at the end (the process
    died) and ``hits`` is then a lower bound.
    """

    kind: ClassVar[str] = "window"
    run: str
    process: str
    failpoint: str
    terms: str
    start: float
    end: float
    hits: int = 0
    exact: bool = True
    closed_by: str = "unset"


@dataclass(frozen=True)
class Crash:
    """A process killed by a Go panic (or another abnormal exit), attributed to a failpoint or not.

    ``file``/``line`` is the frame that called the failpoint's Acquire (the marker's line);
    ``failpoint`` is None when the crash could not be attributed, and ``reason`` says why.
    """

    kind: ClassVar[str] = "crash"
    run: str
    process: str
    time: float
    failpoint: str | None = None
    file: str | None = None
    line: int | None = None
    message: str = ""  # the panic's first line, e.g. "failpoint panic: {}"
    reason: str = ""  # how it was attributed ("stack") or why not
    pid: int | None = None
    exit_code: int | None = None


@dataclass(frozen=True)
class Step:
    """A scenario step; the fields of the runner's StepRecord, so old journals read the same."""

    kind: ClassVar[str] = "step"
    run: str
    index: str
    statement: str
    location: str = ""
    target: str | None = None
    start: float = 0.0
    end: float = 0.0
    outcome: str = "ok"  # ok | failed | error | interrupted
    sent: Any = None
    answer: Any = None
    message: str = ""
    members: Any = None  # the processes a role word or an alias stood for (a list of names); absent otherwise

    @property
    def passed(self) -> bool:
        return self.outcome == "ok"


Event = RunStarted | ProcessEvent | FailpointWindow | Crash | Step
_KINDS: dict[str, type[Event]] = {cls.kind: cls for cls in (RunStarted, ProcessEvent, FailpointWindow, Crash, Step)}


def to_dict(event: Event) -> dict[str, Any]:
    """The JSON object of an event, ``event`` first (a step's ``members`` only when it has them)."""
    data = {"event": event.kind, **asdict(event)}
    if isinstance(event, Step) and event.members is None:
        del data["members"]
    return data


def to_line(event: Event) -> str:
    """The event's journal line (no newline), at most MAX_LINE bytes: a longer one (a 10 MB
    command line, a huge answer) has its longest texts cut, saying so."""
    data = to_dict(event)
    line = json.dumps(data, default=str)  # ASCII (ensure_ascii): characters are bytes
    if len(line) <= MAX_LINE:
        return line
    for key, value in data.items():
        text = value if isinstance(value, str) else json.dumps(value, default=str)
        if key != "event" and len(text) > _FIELD:
            data[key] = f"{text[:_FIELD]}... [{len(text):,} characters, cut to fit a journal line]"
    return json.dumps(data, default=str)


def from_dict(data: dict[str, Any], default_run: str) -> Event:
    """An event from its JSON object; unknown fields are ignored (a newer writer may add some)."""
    kind = data.get("event", "step")  # no `event`: a step record of a journal before this schema
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event {kind!r}")
    schema = _SCHEMAS[cls]
    values = {}
    for key, value in data.items():
        spec = schema.get(key)
        if spec is None:
            continue
        allowed, annotation = spec
        if allowed is not None:
            # exact types: JSON gives no subclasses, and bool (an int subclass) is no number here
            kind_of = type(value)
            if kind_of not in allowed or (kind_of is float and not -_INF < value < _INF):
                raise ValueError(f"{kind} event: {key} is {_shown(value)}, not {annotation}")
            if (kind_of is int or kind_of is float) and not _in_bounds(key, value):
                raise ValueError(f"{kind} event: {key} is {_shown(value)}, out of range")
        values[key] = value
    values.setdefault("run", default_run)
    try:
        event = cls(**values)
    except TypeError as error:  # a required field missing
        raise ValueError(f"{kind} event: {error}") from None
    if isinstance(event, FailpointWindow) and (event.hits < 0 or event.end < event.start):
        # the recorder's clock is monotonic and counts never go below 0: a hand-made or damaged line
        raise ValueError(f"window event: hits {event.hits} from {event.start} to {event.end} cannot happen")
    return event


def _schema(cls: type[Event]) -> dict[str, tuple[frozenset[type] | None, str]]:
    """Each field's JSON types (None: any), from its annotation ("float", "int | None", "Any"...)."""
    out: dict[str, tuple[frozenset[type] | None, str]] = {}
    for item in fields(cls):
        names = str(item.type).split(" | ")
        allowed = None if "Any" in names else frozenset(t for name in names for t in _JSON_TYPES[name])
        out[item.name] = (allowed, str(item.type))
    return out


_INF = float("inf")
_JSON_TYPES: dict[str, tuple[type, ...]] = {"str": (str,), "int": (int,), "float": (int, float), "bool": (bool,), "None": (type(None),)}
_SCHEMAS = {cls: _schema(cls) for cls in _KINDS.values()}


# Bounds of the numbers a journal holds: times are seconds since the run began (a monotonic clock,
# never negative; a run of 30 years is no run), counts and ids are Go or C ints. Bounded, a sum
# of hits over any number of windows stays far below Python's 4,300-digit int-str limit.
_INT64 = 2**63
_BOUNDS = {"time": (0, 1e9), "start": (0, 1e9), "end": (0, 1e9), "started": (0, 1e11), "hits": (0, _INT64 - 1)}


def _in_bounds(key: str, value: float) -> bool:
    low, high = _BOUNDS.get(key, (-_INT64, _INT64 - 1))
    return low <= value <= high


def _shown(value: Any) -> str:
    text = json.dumps(value) if not isinstance(value, int) or abs(value) < 10**40 else f"a number of about {int(value.bit_length() * 0.30103) + 1} digits"
    return text if len(text) <= 60 else text[:60] + "..."


def read_journal(path: str | Path, on_incomplete: Callable[[str], None] | None = None) -> Iterator[Event]:
    """The events of a journal file, read line by line (memory: one line, at most MAX_LINE
    bytes); JournalError (exit 2) names the file and line of a bad one.

    The part after the last newline is a line still being written, or cut by a kill: when it is
    not a whole event (cut inside a JSON value or inside a UTF-8 sequence alike), it is skipped
    with a warning to ``on_incomplete``. Events without a ``run`` (old journals) belong to a run
    named after the file.
    """
    path = Path(path)
    try:
        handle = _open(path)
    except OSError as error:
        raise JournalError(f"{path}: cannot read journal: {error.strerror or error}") from None
    with handle:
        yield from _events(handle, path, on_incomplete)


def read_journals(paths: Iterable[str | Path], on_warning: Callable[[str], None] | None = None) -> Iterator[Event]:
    """The events of several journals, one after the other. A file given twice (the same path
    again, or a symbolic or hard link to it: the same device and inode) is read once, with a
    warning: counted twice, every figure of the report would double."""
    seen: dict[tuple[int, int], str] = {}
    for path in paths:
        try:
            handle = _open(Path(path))
        except OSError as error:
            raise JournalError(f"{path}: cannot read journal: {error.strerror or error}") from None
        with handle:
            info = os.fstat(handle.fileno())
            key = (info.st_dev, info.st_ino)
            if key in seen:
                if on_warning is not None:
                    on_warning(f"{path}: the same file as {seen[key]}, counted once")
                continue
            seen[key] = str(path)
            yield from _events(handle, Path(path), on_warning)


def _open(path: Path) -> BinaryIO:
    """A journal opened for reading; a device or socket is refused (/dev/zero would be read
    forever), a pipe is read (`report <(zcat j.jsonl.gz)`)."""
    handle = open(path, "rb")
    mode = os.fstat(handle.fileno()).st_mode
    if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
        handle.close()
        raise JournalError(f"{path}: not a journal file (a device or socket)")
    return handle


def _events(handle: BinaryIO, path: Path, on_incomplete: Callable[[str], None] | None) -> Iterator[Event]:
    number = 0
    while True:
        try:
            raw = handle.readline(MAX_LINE + 1)
        except OSError as error:
            raise JournalError(f"{path}: cannot read journal: {error.strerror or error}") from None
        if not raw:
            return
        number += 1
        last = not raw.endswith(b"\n")
        if last and len(raw) > MAX_LINE:
            raise JournalError(f"{path}:{number}: a line longer than {MAX_LINE:,} bytes (the most a journal line holds): "
                               "not a journal written by gofail-py")
        try:
            line = raw.decode("utf-8")
            if not line.strip():
                continue
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            event = from_dict(data, default_run=str(path))
        except RecursionError:  # json's decoder recurses once per nesting level
            raise JournalError(f"{path}:{number}: not a journal event: nested too deeply") from None
        except ValueError as error:  # UnicodeDecodeError and JSONDecodeError are ValueErrors
            if last and isinstance(error, (json.JSONDecodeError, UnicodeDecodeError)):
                if on_incomplete is not None:
                    on_incomplete(f"{path}:{number}: incomplete last line skipped (a run still writing, or killed mid-write)")
                return
            what = "not UTF-8" if isinstance(error, UnicodeDecodeError) else f"not a journal event: {error}"
            raise JournalError(f"{path}:{number}: {what}") from None
        yield event


__all__ = ["MAX_LINE", "Crash", "Event", "FailpointWindow", "ProcessEvent", "RunStarted", "Step", "read_journal", "read_journals",
           "to_dict", "to_line"]
