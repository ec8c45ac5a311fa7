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
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any, ClassVar

from gofail_py.errors import JournalError


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

    @property
    def passed(self) -> bool:
        return self.outcome == "ok"


Event = RunStarted | ProcessEvent | FailpointWindow | Crash | Step
_KINDS: dict[str, type[Event]] = {cls.kind: cls for cls in (RunStarted, ProcessEvent, FailpointWindow, Crash, Step)}


def to_dict(event: Event) -> dict[str, Any]:
    """The JSON object of an event, ``event`` first."""
    return {"event": event.kind, **asdict(event)}


def to_line(event: Event) -> str:
    return json.dumps(to_dict(event), default=str)


def from_dict(data: dict[str, Any], default_run: str) -> Event:
    """An event from its JSON object; unknown fields are ignored (a newer writer may add some)."""
    kind = data.get("event", "step")  # no `event`: a step record of a journal before this schema
    cls = _KINDS.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise ValueError(f"unknown event {kind!r}")
    types = {f.name: str(f.type) for f in fields(cls)}
    values = {key: value for key, value in data.items() if key in types}
    values.setdefault("run", default_run)
    for key, value in values.items():
        if not _fits(value, types[key]):
            raise ValueError(f"{kind} event: {key} is {json.dumps(value)}, not {types[key]}")
    try:
        event = cls(**values)
    except TypeError as error:  # a required field missing
        raise ValueError(f"{kind} event: {error}") from None
    if isinstance(event, FailpointWindow) and (event.hits < 0 or event.end < event.start):
        # the recorder's clock is monotonic and counts never go below 0: a hand-made or damaged line
        raise ValueError(f"window event: hits {event.hits} from {event.start} to {event.end} cannot happen")
    return event


def _fits(value: Any, annotation: str) -> bool:
    """Whether a JSON value has the field's type ("float", "int | None", "Any"...)."""
    for name in annotation.split(" | "):
        if name == "Any" or (name == "None" and value is None) or (name == "bool" and isinstance(value, bool)):
            return True
        if isinstance(value, bool):
            continue
        if (name == "str" and isinstance(value, str)) or (name == "int" and isinstance(value, int)):
            return True
        if name == "float" and isinstance(value, (int, float)) and value == value and abs(value) != float("inf"):
            return True
    return False


def read_journal(path: str | Path, on_incomplete: Callable[[str], None] | None = None) -> Iterator[Event]:
    """The events of a journal file; JournalError (exit 2) names the file and line of a bad one.

    Events without a ``run`` (old journals) belong to a run named after the file.
    """
    path = Path(path)
    try:
        text = _read_text(path)
    except (OSError, UnicodeDecodeError) as error:
        raise JournalError(f"{path}: cannot read journal: {getattr(error, 'strerror', None) or error}") from None
    lines = text.split("\n")  # the part after the last newline: a line still being written (or cut by a kill)
    for number, line in enumerate(lines, 1):
        if not line.strip():
            continue
        last = number == len(lines)
        try:
            data = json.loads(line)
            if not isinstance(data, dict):
                raise ValueError("not a JSON object")
            yield from_dict(data, default_run=str(path))
        except RecursionError:  # json's decoder recurses once per nesting level
            raise JournalError(f"{path}:{number}: not a journal event: nested too deeply") from None
        except ValueError as error:
            if last and isinstance(error, json.JSONDecodeError):
                if on_incomplete is not None:
                    on_incomplete(f"{path}:{number}: incomplete last line skipped (a run still writing, or killed mid-write)")
                return
            raise JournalError(f"{path}:{number}: not a journal event: {error}") from None


def _read_text(path: Path) -> str:
    """A journal's text; a device or socket is refused (/dev/zero would be read forever), a pipe
    is read (`report <(zcat j.jsonl.gz)`)."""
    with open(path, "rb") as handle:
        mode = os.fstat(handle.fileno()).st_mode
        if not (stat.S_ISREG(mode) or stat.S_ISFIFO(mode)):
            raise JournalError(f"{path}: not a journal file (a device or socket)")
        return handle.read().decode("utf-8")


__all__ = ["Crash", "Event", "FailpointWindow", "ProcessEvent", "RunStarted", "Step", "read_journal", "to_dict", "to_line"]
