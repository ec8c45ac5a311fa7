"""Records what a run did to failpoints and processes, as the JSON-lines events of gofail_py.recording.events.

The runtime resets a failpoint's count on every PUT and forgets it on DELETE, so the recorder
reads ``/count`` before every re-set, unset and stop and closes the armed window with those
hits. Hits that happen between that read and the PUT/DELETE (traffic running across a re-set)
are not counted: the figures are exact when nothing hits the failpoint at that moment. A client
records through it when given a journal; gofail_py.recording.view wraps any client.
"""

from __future__ import annotations

import contextlib
import fcntl
import threading
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, Protocol

from gofail_py.errors import (
    ClientError, ConnectionDropped, EndpointTimeout, EndpointUnreachable, JournalError, LockHeld, NotGofailEndpoint,
)
from gofail_py.recording.events import Crash, Event, FailpointWindow, ProcessEvent, RunStarted, Step, to_line
from gofail_py.recording.panics import Panic, attribute, hits_at_panic, panics, parse_panic
from gofail_py.terms import Terms, normalize_terms

if TYPE_CHECKING:  # types only: the rewriter (tree-sitter) is imported when an inventory is read
    from gofail_py.rewriter.gofiles import PathArg
    from gofail_py.rewriter.workspace import LocatedFailpoint


class Client(Protocol):
    """What the recorder asks of a client (gofail_py.client.Client is one). A protocol: the client
    records through this part (``Client(journal=...)``), so this part does not import it."""

    @property
    def endpoint(self) -> str: ...
    def enable(self, name: str, terms: str) -> None: ...
    def enable_many(self, failpoints: Mapping[str, str]) -> None: ...
    def disable(self, name: str, *, strict: bool = False) -> bool: ...
    def count(self, name: str, *, until: float | None = None) -> int: ...
    def active(self) -> list[str]: ...
    def wait_count(self, name: str, at_least: int, timeout: float, interval: float = 0.01) -> int: ...


@dataclass
class _Open:
    """An armed window not closed yet: its terms, start, and the last count anyone read."""

    terms: str
    start: float
    seen: int = 0


def _signal_name(exit_code: int | None) -> str | None:
    if exit_code is None or exit_code >= 0:
        return None
    import signal

    try:
        return signal.Signals(-exit_code).name
    except ValueError:
        return f"signal {-exit_code}"


class Recorder:
    """Writes one run's events to ``journal`` (appended; None keeps them in ``events`` only)."""

    def __init__(
        self,
        journal: PathArg | None = None,
        *,
        name: str = "",
        run: str | None = None,
        source: Sequence[PathArg] = (),
        inventory: Sequence[LocatedFailpoint] | None = None,
        exclusive: bool = False,
    ) -> None:
        self.run = run or f"{name or 'run'}@{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:6]}"
        self.inventory = list(inventory) if inventory is not None else (_inventory(source) if source else [])
        self.events: list[Event] = []
        self._open: dict[tuple[str, str], _Open] = {}
        self._lock = threading.RLock()
        self._t0 = time.monotonic()
        self._file: IO[str] | None = None
        self._journal = journal
        self.write_error: str | None = None  # why the journal stopped being written, if it did
        if journal is not None:
            from gofail_py.recording.outputs import open_journal

            path = Path(journal)
            self._file = open_journal(path)  # never through another user's link, never over a file that is not a journal
            if exclusive:
                self._own_journal(path)
        self.emit(RunStarted(self.run, name, started=time.time()))
        if self.write_error is not None:  # refused before anything runs (a full disk, /dev/full)
            raise JournalError(self.write_error)

    def _own_journal(self, path: Path) -> None:
        """``exclusive``: the file is this run's alone (a lock held until close), started afresh;
        a second run on the same file would have truncated the first's events under it."""
        assert self._file is not None
        try:
            fcntl.flock(self._file.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            self._file.close()
            self._file = None
            raise LockHeld(f"the journal {path} is being written by another run; give this run its own --journal") from None
        except OSError:
            pass  # a file system without locks (or a pipe): written as before
        with contextlib.suppress(OSError):  # a pipe or a device cannot be truncated
            self._file.truncate(0)

    def now(self) -> float:
        """Seconds since the run began."""
        return round(time.monotonic() - self._t0, 6)

    def emit(self, event: Event) -> None:
        with self._lock:
            self.events.append(event)
            if self._file is not None:
                try:
                    self._file.write(to_line(event) + "\n")
                    self._file.flush()
                except OSError as error:
                    # no raise here: a run must still stop its processes; close() reports it
                    self.write_error = f"cannot write the journal {self._journal}: {error.strerror or error}"
                    file, self._file = self._file, None
                    with contextlib.suppress(OSError):
                        file.close()

    # --- processes --------------------------------------------------------------------------

    def process_started(self, process: str, pid: int | None = None, endpoint: str | None = None) -> None:
        """A start, or a restart when this process was started before in this run."""
        with self._lock:
            again = any(isinstance(e, ProcessEvent) and e.process == process and e.action in ("start", "restart") for e in self.events)
            self.emit(ProcessEvent(self.run, process, "restart" if again else "start", self.now(), pid=pid, endpoint=endpoint))

    def before_stop(self, process: str, client: Client, closed_by: str = "stop") -> None:
        """Reads the counts of the process's armed windows and closes them: call before stopping it."""
        with self._lock:
            names = [name for (owner, name) in self._open if owner == process]
        answers = True
        for name in names:  # a process that cannot answer is asked once, not once per window
            answers = self._close(process, name, client, closed_by, ask=answers)

    def process_stopped(self, process: str, pid: int | None = None, exit_code: int | None = None) -> None:
        """We stopped it (call ``before_stop`` first, while it still answers)."""
        with self._lock:
            self._close_dead(process, "stop", None, self.now())
            self.emit(ProcessEvent(self.run, process, "stop", self.now(), pid=pid, exit_code=exit_code, signal=_signal_name(exit_code)))

    def process_exited(self, process: str, pid: int | None = None, exit_code: int | None = None, stderr: str = "") -> Crash | None:
        """It ended on its own; a Go panic or an abnormal exit code is recorded as a crash."""
        with self._lock:
            now = self.now()
            self.emit(ProcessEvent(self.run, process, "exit", now, pid=pid, exit_code=exit_code, signal=_signal_name(exit_code)))
            panic = parse_panic(stderr)
            crash = None
            if panic is not None or exit_code not in (0, None):
                crash = self._crash(process, now, panic, pid, exit_code)
                self.emit(crash)
            self._close_dead(process, "crash" if crash is not None else "exit", crash.failpoint if crash else None, now)
            return crash

    def _crash(self, process: str, now: float, panic: Panic | None, pid: int | None, exit_code: int | None) -> Crash:
        if panic is None:
            return Crash(self.run, process, now, reason=f"exit code {exit_code} without a Go panic in stderr", pid=pid, exit_code=exit_code)
        name, how = attribute(panic, self.inventory)
        if name is None and panic.from_failpoint and not self.inventory:
            armed = [fp for (owner, fp), window in self._open.items() if owner == process and panics(window.terms)]
            if len(armed) == 1:
                name, how = armed[0], "the only failpoint armed with a panic term (no inventory to match the stack)"
        return Crash(self.run, process, now, failpoint=name, file=panic.file, line=panic.line,
                     message=panic.message, reason=how, pid=pid, exit_code=exit_code)

    # --- failpoints -------------------------------------------------------------------------

    def set(self, client: Client, name: str, terms: str | Terms, process: str | None = None) -> None:
        """Arms a failpoint: the window already open for it is closed with the hits read first."""
        self.set_many(client, {name: terms}, process)

    def set_many(self, client: Client, failpoints: Mapping[str, str | Terms], process: str | None = None) -> None:
        process = process or client.endpoint
        texts = {name: normalize_terms(terms) for name, terms in failpoints.items()}
        # read before the PUT (it resets the count); close only once the PUT was taken. No lock is
        # held across a request: a set waiting for registration must not hold up other threads.
        with self._lock:
            reading = [name for name in texts if (process, name) in self._open]
        counts = {name: self._read(client, process, name) for name in reading}
        # the runtime arms it once the PUT reaches it, before its answer is back: the window opens
        # when the PUT is sent, and the one it replaces closes only with the answer
        sent = self.now()
        if len(texts) == 1:
            [(name, text)] = texts.items()
            client.enable(name, text)
        else:
            client.enable_many(texts)
        with self._lock:
            now = self.now()
            for name, text in texts.items():
                window = self._open.get((process, name))
                if window is not None:
                    hits, exact = counts.get(name, (window.seen, False))
                    self._finish(process, name, now, hits, "reset", exact)
                self._open[(process, name)] = _Open(text, sent)

    def armed_at_start(self, process: str, failpoints: Mapping[str, str]) -> None:
        """Failpoints a process was just started with (GOFAIL_FAILPOINTS): their windows open now,
        so their hits count as a `set`'s do (a trigger that restarts a member arms them so)."""
        with self._lock:
            now = self.now()
            for name, terms in failpoints.items():
                self._open[(process, name)] = _Open(normalize_terms(terms), now)

    def unset(self, client: Client, name: str, process: str | None = None, *, strict: bool = False) -> bool:
        """Disarms a failpoint, closing its window with the hits read just before.

        As ``Client.disable``: True if it had terms; False (FailpointDisabled with ``strict``) if not."""
        process = process or client.endpoint
        with self._lock:
            armed = (process, name) in self._open
        hits = self._read(client, process, name) if armed else None
        try:
            return client.disable(name, strict=strict)
        finally:
            with self._lock:
                if hits is not None and (process, name) in self._open:
                    self._finish(process, name, self.now(), hits[0], "unset", hits[1])

    def observe(self, process: str, name: str, count: int) -> None:
        """A count someone read: kept as the window's lower bound should the process die."""
        with self._lock:
            window = self._open.get((process, name))
            if window is not None:
                window.seen = max(window.seen, count)

    def step(self, record: Any) -> None:
        """A scenario step: a StepRecord or anything with its fields."""
        fields = {key: getattr(record, key) for key in ("index", "statement", "location", "target", "start", "end", "outcome", "sent", "answer", "message")}
        fields["members"] = getattr(record, "members", None)
        self.emit(Step(self.run, **fields))

    def close(self, clients: Mapping[str, Client] | None = None) -> None:
        """Closes the windows still open (reading counts through ``clients`` by process) and the file."""
        with self._lock:
            still_open = list(self._open)
        for (process, name) in still_open:
            client = (clients or {}).get(process)
            if client is not None:
                self._close(process, name, client, "end")
        with self._lock:
            for (process, name), window in list(self._open.items()):
                self._finish(process, name, self.now(), window.seen, "end", exact=False)
            if self._file is not None:
                file, self._file = self._file, None
                try:
                    file.close()
                except OSError as error:
                    self.write_error = self.write_error or f"cannot write the journal {self._journal}: {error.strerror or error}"
        if self.write_error is not None:
            raise JournalError(self.write_error + " (the events after that are missing from it)")

    # --- windows ------------------------------------------------------------------------------

    def _read(self, client: Client, process: str, name: str) -> tuple[int, bool]:
        """The window's hits and whether they are exact (the runtime answered); asked without the lock."""
        hits, exact, _ = self._ask(client, process, name)
        return hits, exact

    def _ask(self, client: Client, process: str, name: str, ask: bool = True) -> tuple[int, bool, bool]:
        """As _read, plus whether the process answered at all (False: gone, stopped, timed out)."""
        with self._lock:
            window = self._open.get((process, name))
        seen = window.seen if window else 0
        if not ask:
            return seen, False, False
        try:
            count = client.count(name)
        except (EndpointUnreachable, ConnectionDropped, EndpointTimeout, NotGofailEndpoint):
            return seen, False, False
        except ClientError:
            return seen, False, True  # disabled behind our back
        with self._lock:
            if window is None:
                return count, True, True
            window.seen = max(window.seen, count)
            return window.seen, True, True

    def _close(self, process: str, name: str, client: Client, closed_by: str, ask: bool = True) -> bool:
        """Closes one window with its hits read; False when the process did not answer."""
        hits, exact, answered = self._ask(client, process, name, ask)
        with self._lock:
            if (process, name) in self._open:
                self._finish(process, name, self.now(), hits, closed_by, exact)
        return answered

    def _finish(self, process: str, name: str, end: float, hits: int, closed_by: str, exact: bool = True) -> None:
        window = self._open.pop((process, name))
        self.emit(FailpointWindow(self.run, process, name, window.terms, window.start, end, hits, exact, closed_by))

    def _close_dead(self, process: str, closed_by: str, crashed: str | None, now: float) -> None:
        """The process is gone: its windows close with what was seen (plus the panic's own hit).

        They end at the exit's time, so that a report can pair them with the crash."""
        for (owner, name) in list(self._open):
            if owner != process:
                continue
            window = self._open[(owner, name)]
            if name == crashed:
                fixed = hits_at_panic(window.terms)
                if fixed is not None:
                    self._finish(owner, name, now, fixed, closed_by)
                else:
                    self._finish(owner, name, now, window.seen + 1, closed_by, exact=False)
            else:
                self._finish(owner, name, now, window.seen, closed_by, exact=False)


__all__ = ["Client", "Recorder"]


def _inventory(source: Sequence[PathArg]) -> list[LocatedFailpoint]:
    from gofail_py.rewriter.workspace import list_failpoints

    return list_failpoints(source)
