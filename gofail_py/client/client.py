"""One gofail runtime HTTP endpoint: the failpoints of one running binary."""

from __future__ import annotations

import builtins
import re
import time
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping
from contextlib import contextmanager
from types import TracebackType
from typing import TYPE_CHECKING, Any

from gofail_py import argcheck
from gofail_py.client import answers, batch
from gofail_py.errors import (
    ClientError,
    EndpointTimeout,
    EndpointUnreachable,
    FailpointDisabled,
    FailpointNotFound,
    InvalidFailpointName,
    NotGofailEndpoint,
    ProcessDied,
    TermSyntaxError,
    UnexpectedResponse,
    WaitTimeout,
)
from gofail_py.names import is_go_identifier
from gofail_py.client.transport import ENV_ENDPOINT, Answer, Dropped, Transport, parse_endpoint

if TYPE_CHECKING:
    import os

    from gofail_py.terms import Terms

    from gofail_py.recording.recorder import Recorder

# The runtime splits a PUT /failpoints body at `;` and `=`: terms holding either go one by one.
# Readiness is probed with GET of a name no program has: the runtime answers it under its lock.
# GET / would not do: runtime v0.2.0 walks its failpoint map for it without the lock, and a GET /
# while packages are still registering failpoints at start-up kills the binary (a fatal
# concurrent map access).
READINESS_PATH = "/__gofail_py_readiness_probe"
DEFAULT_REGISTRATION_GRACE = 30.0  # what scenarios and fixtures give a freshly started binary
_BATCH_UNSAFE = (";", "=")
_RETRY_PAUSE = 0.02
_INT64_MAX = 2**63 - 1
# The runtime's error texts (http.Error bodies): prefix, then the runtime's error.
_LIST_LINE = re.compile(r"[^=\n]+=[^\n]*")


class Client:
    """The failpoints of one running binary: ``Client("127.0.0.1:22381").enable("x", "panic")``.

    ``timeout`` bounds every call as a whole (connect, send, read). A program's failpoints
    register during its package init, after its endpoint already answers: a name not registered
    yet is asked again until ``started_at + registration_grace`` (``started_at`` is a
    ``time.monotonic()`` value, by default when the client was made; ``registration_grace`` 0 asks
    once). ``trust_env=True`` honours proxy variables (off by default: no environment or netrc
    reading per request).

    ``journal=PATH`` (or a ``gofail_py.recording.recorder.Recorder``) records every enable, disable and
    count as fault-coverage events, as process ``process`` (default: the endpoint): see
    docs/coverage.md. ``close()`` ends the recording with the open windows' counts.
    """

    def __init__(self, endpoint: str | None = None, *, timeout: float = 5.0, registration_grace: float = 0.0,
                 started_at: float | None = None, trust_env: bool = False,
                 journal: str | os.PathLike[str] | Recorder | None = None, process: str | None = None,
                 inventory: Collection[str] | None = None, on_wait: Callable[[str], None] | None = None) -> None:
        given = None  # a Recorder given as the journal
        if journal is not None:
            from gofail_py.recording.recorder import Recorder  # the recording part only where a journal is given

            given = journal if isinstance(journal, Recorder) else None
        self.endpoint = parse_endpoint(argcheck.client(endpoint, timeout, registration_grace, started_at,
                                                       journal if given is None else None, process, inventory, on_wait))
        # told once per call, a few seconds into a wait for a name to register, what it waits for
        self.on_wait = on_wait
        # the failpoint names of the program's source, when known: a name it lacks is asked once
        self.inventory = frozenset(inventory) if inventory is not None else None
        self.armed: set[str] = set()  # names set through this client (disable_all in the window)
        self.disarmed: set[str] = set()  # names this client turned off since the start (and not set since)
        self.env_failpoints: builtins.list[str] = []  # names the process got in GOFAIL_FAILPOINTS
        self.timeout = timeout
        self.registration_grace = registration_grace
        self.started_at = time.monotonic() if started_at is None else started_at
        self._transport = Transport(self.endpoint, trust_env=trust_env)
        self.recorder: Recorder | None = None
        self.process = process or self.endpoint
        if journal is not None:
            from gofail_py.recording.recorder import Recorder

            self._owns_recorder = given is None
            self.recorder = journal if isinstance(journal, Recorder) else Recorder(journal, name=self.process)
            # the recorder talks to the runtime through a client that does not record
            self.unrecorded = Client(self.endpoint, timeout=timeout, registration_grace=registration_grace,
                                     started_at=self.started_at, trust_env=trust_env, inventory=inventory, on_wait=on_wait)
            self.unrecorded.armed = self.armed  # one record of what was set, whichever object set it
            self.unrecorded.disarmed = self.disarmed

    def __repr__(self) -> str:
        return f"Client({self.endpoint!r})"

    def mark_started(self, at: float | None = None, env: Mapping[str, str] | None = None) -> None:
        """The binary (re)started at ``at`` (time.monotonic(), default now): its grace window begins.
        ``env``: its environment, for the failpoints GOFAIL_FAILPOINTS armed at its start."""
        self.started_at = time.monotonic() if at is None else at
        self.armed.clear()
        self.disarmed.clear()
        self.env_failpoints = batch.env_failpoints(env or {})
        if self.recorder is not None:
            self.unrecorded.started_at = self.started_at
            self.unrecorded.env_failpoints = self.env_failpoints

    def registering(self) -> bool:
        """True inside the registration grace window (GET / could kill the binary then)."""
        return time.monotonic() < self.started_at + self.registration_grace

    # --- sending and reading -----------------------------------------------------------------

    def _path(self, name: str, suffix: str = "") -> str:
        argcheck.text(name, "the failpoint name")
        if not is_go_identifier(name):
            raise InvalidFailpointName(f"{name!r} is not a failpoint name (a Go identifier)")
        return f"/{name}{suffix}"

    def _deadline(self, timeout: float | None = None) -> float:
        return time.monotonic() + (self.timeout if timeout is None else timeout)

    def _request(self, method: str, path: str, body: Any = None, deadline: float | None = None) -> Answer:
        """One request; a connection dropped before a complete answer is tried once more, afresh."""
        deadline = self._deadline() if deadline is None else deadline
        try:
            return self._transport.request(method, path, body, deadline)
        except Dropped as dropped:
            message = str(dropped)
        # A kept-alive connection can be stale (the process restarted); a panic kills the process.
        self._transport.close()
        try:
            return self._transport.request(method, path, body, deadline)
        except EndpointUnreachable:
            raise ProcessDied(f"{message}, and the process is gone (expected after a panic action)") from None
        except Dropped:
            why = "; the runtime's handler does that when it panics on malformed terms" if method == "PUT" else ""
            raise Dropped(f"{message} (twice{why})") from None

    def _raise_for(self, answer: Answer, name: str | None, *expected: int) -> str:
        return answers.raise_for(answer, self.endpoint, name, *expected)

    def _named(self, method: str, name: str, suffix: str, body: Any, expected: int,
               wait_registered: float | None, until: float | None = None) -> str:
        """A request about one failpoint, asked again while it may still be registering; ``until``
        (a monotonic time) ends the whole call, whatever the timeout and the window."""
        path = self._path(name, suffix)
        argcheck.seconds(wait_registered, "wait_registered", optional=True)
        now = time.monotonic()
        window_end = self._window_end(now, wait_registered, (name,))
        if until is not None:
            window_end = min(window_end, until)
        deadline = batch.call_deadline(self, now, window_end, until)
        waiting = batch.Waiting(self, (name,), window_end)
        while True:
            try:
                # each request gets the timeout; the window only lets the call ask again
                bound = min(self._deadline(), deadline, until if until is not None else deadline)
                text = self._raise_for(self._request(method, path, body, bound), name, expected)
                if method == "PUT":
                    self.armed.add(name)
                    self.disarmed.discard(name)
                elif method == "DELETE":
                    self.disarmed.add(name)
                return text
            except FailpointNotFound:
                if time.monotonic() + _RETRY_PAUSE < window_end:
                    waiting.tick()
                    time.sleep(_RETRY_PAUSE)
                    continue
                raise FailpointNotFound(batch.not_found_message(self, name, window_end > now, deadline)) from None

    def _window_end(self, now: float, wait_registered: float | None, names: Iterable[str]) -> float:
        """Until when a missing name is asked again: never for one the source inventory lacks."""
        if self.inventory is not None and any(name not in self.inventory for name in names):
            return now
        return now + wait_registered if wait_registered is not None else self.started_at + self.registration_grace

    # --- the API ------------------------------------------------------------------------------

    def list(self) -> dict[str, str]:
        """Every registered failpoint, sorted, with its terms ("" when off). Not while the binary starts."""
        return self._list_before(self._deadline())

    def _list_before(self, deadline: float) -> dict[str, str]:
        answer = self._request("GET", "/", None, deadline)
        text = self._raise_for(answer, None, 200)
        lines = text.split("\n")
        if not text.endswith("\n") or not all(_LIST_LINE.fullmatch(line) for line in lines[:-1] if line):
            raise answers.not_gofail(answer, self.endpoint)
        failpoints = {}
        for line in lines:
            if line:
                name, _, terms = line.partition("=")
                failpoints[name] = terms
        return failpoints

    def get(self, name: str, *, wait_registered: float | None = None) -> str:
        """The terms a failpoint is set to; "" when it is off, as ``list()`` and `gofail-py get` say
        (FailpointNotFound for a name the program does not have)."""
        try:
            text = self._named("GET", name, "", None, 200, wait_registered)
        except FailpointDisabled:
            return ""
        if not text.endswith("\n"):
            raise NotGofailEndpoint(f"{self.endpoint} is not a gofail endpoint: terms {text[:40]!r} without a newline")
        return text.removesuffix("\n")

    def count(self, name: str, *, wait_registered: float | None = None, until: float | None = None) -> int:
        """How often its terms fired since they were last set; FailpointDisabled when it has none.
        ``until``: a time.monotonic() value by which the call ends (a caller's own deadline)."""
        value = self._parse_count(self._named("GET", name, "/count", None, 200, wait_registered, until))
        if self.recorder is not None:
            self.recorder.observe(self.process, name, value)
        return value

    def _parse_count(self, text: str) -> int:
        # the runtime's count is a Go int: at most 19 digits (int() of 4,300 and more raised ValueError)
        if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) > _INT64_MAX:
            shown = f"{text[:40]!r}" + (f" ({len(text)} characters)" if len(text) > 40 else "")
            raise NotGofailEndpoint(f"{self.endpoint} is not a gofail endpoint: a count of {shown}")
        return int(text)

    def _terms(self, name: str, terms: str | Terms, raw: bool) -> str:
        from gofail_py.terms import normalize_terms  # the terms grammar (~3 ms to import) only where terms are set

        try:
            return normalize_terms(terms, raw=raw)
        except TermSyntaxError as error:
            raise TermSyntaxError(error.text, error.column, error.message, name) from None

    def enable(self, name: str, terms: str | Terms, *, raw: bool = False, wait_registered: float | None = None) -> None:
        """Sets a failpoint's terms (checked first; `sleep(1s)` is sent as `sleep("1s")`).

        ``raw=True`` sends the text unchecked, as the runtime reads it (`sleep(1s` sleeps 1 ms).
        ``wait_registered`` seconds: ask again while the name is not registered (default: the
        client's grace window). Recording (``journal=``), the terms are always checked.
        """
        if self.recorder is not None:
            self.recorder.set(self.unrecorded, name, terms, self.process)
            return
        self._named("PUT", name, "", self._terms(name, terms, raw), 204, wait_registered)

    def enable_many(self, failpoints: Mapping[str, str | Terms], *, raw: bool = False,
                    wait_registered: float | None = None) -> None:
        """Sets several failpoints in one request (one per failpoint when terms hold `;` or `=`).

        All or nothing: when the runtime refuses an entry (an unknown name, terms it cannot
        parse), the entries it had already set are put back as they were (docs/client.md) and
        the error names the refused entry.
        """
        if self.recorder is not None:
            self.recorder.set_many(self.unrecorded, failpoints, self.process)
            return
        bodies = {self._path(name)[1:]: self._terms(name, terms, raw) for name, terms in failpoints.items()}
        now = time.monotonic()
        window_end = self._window_end(now, wait_registered, bodies)
        deadline = batch.call_deadline(self, now, window_end)
        before = batch.snapshot(self, bodies, self._deadline())
        try:
            if any(char in body for body in bodies.values() for char in _BATCH_UNSAFE):
                for name, body in bodies.items():
                    self.enable(name, body, raw=True, wait_registered=wait_registered)
                return
            batch.send(self, bodies, before, window_end, deadline)
        except (FailpointNotFound, UnexpectedResponse) as refused:
            restored = batch.roll_back(self, before, self._deadline())
            if isinstance(refused, FailpointNotFound):
                missing = [name for name, terms in before.items() if terms is batch.NOT_REGISTERED] or [*bodies]
                refused = FailpointNotFound("; ".join(batch.not_found_message(self, name, window_end > now, deadline)
                                                      for name in missing))
            raise type(refused)(batch.refused_message(refused, restored, len(bodies))) from None

    def disable(self, name: str, *, strict: bool = False, wait_registered: float | None = None) -> bool:
        """Clears a failpoint's terms; True if it had some. ``strict=True``: FailpointDisabled if it had none."""
        if self.recorder is not None:
            return self.recorder.unset(self.unrecorded, name, self.process, strict=strict)
        try:
            self._named("DELETE", name, "", None, 204, wait_registered)
            return True
        except FailpointDisabled:
            self.disarmed.add(name)
            if strict:
                raise
            return False

    def disable_all(self) -> builtins.list[str]:
        """Disables every active failpoint; returns their names. Inside the registration window
        (GET / could kill the binary) only those set through this client or armed by
        GOFAIL_FAILPOINTS at start, by name (docs/client.md)."""
        active = self.active()
        for name in active:
            self.disable(name)
        return active

    def active(self) -> builtins.list[str]:
        """The failpoints that have terms: by GET /, or by name inside the registration window."""
        if not self.registering():
            return [name for name, terms in self.list().items() if terms]
        return batch.active_by_name(self, sorted({*self.armed, *self.env_failpoints}))

    @contextmanager
    def failpoint(self, name: str, terms: str | Terms) -> Iterator[Client]:
        """Enables a failpoint for the body of a ``with``; disables it on the way out, always."""
        self.enable(name, terms)
        try:
            yield self
        finally:
            try:
                self.disable(name)
            except (ProcessDied, EndpointUnreachable):
                pass  # the process is gone (a panic action does that)

    def wait_count(self, name: str, at_least: int, timeout: float, interval: float = 0.01) -> int:
        """Polls the count until it reaches ``at_least``; WaitTimeout after ``timeout`` s in all."""
        deadline = time.monotonic() + argcheck.count_wait(at_least, timeout)
        count = 0
        while True:
            try:
                count = self._count_before(name, deadline)
            except EndpointTimeout:
                raise WaitTimeout(f"failpoint {name} at {self.endpoint}: no count within {timeout:g} s "
                                  f"(the endpoint is slow to answer)") from None
            if count >= at_least:
                if self.recorder is not None:
                    self.recorder.observe(self.process, name, count)
                return count
            if time.monotonic() + interval >= deadline:
                raise WaitTimeout(f"failpoint {name} at {self.endpoint} fired {count} time(s), not {at_least}, "
                                  f"within {timeout:g} s")
            time.sleep(interval)

    def _count_before(self, name: str, deadline: float) -> int:
        return self._parse_count(self._raise_for(self._request("GET", self._path(name, "/count"), None, deadline), name, 200))

    def _probe(self, deadline: float) -> None:
        """Returns when a gofail runtime answers; ClientError otherwise (never GET /)."""
        answer = self._request("GET", READINESS_PATH, None, deadline)
        if not answers.is_not_found(answer):
            raise answers.not_gofail(answer, self.endpoint)

    def available(self) -> bool:
        """True when a gofail runtime answers (safe to ask while the binary is still starting)."""
        try:
            self._probe(self._deadline())
            return True
        except ClientError:
            return False

    def ready(self, timeout: float) -> float:
        """Waits until a gofail runtime answers; returns the seconds waited. EndpointUnreachable when
        nothing answered within ``timeout`` s in all; NotGofailEndpoint at once when something else does."""
        began = time.monotonic()
        deadline = began + timeout
        while True:
            try:
                self._probe(min(deadline, self._deadline()))
                return time.monotonic() - began
            except NotGofailEndpoint:
                raise
            except ClientError as error:
                if time.monotonic() + _RETRY_PAUSE >= deadline:
                    raise EndpointUnreachable(f"no gofail runtime answered at {self.endpoint} within {timeout:g} s "
                                              f"({error})") from None
            time.sleep(_RETRY_PAUSE)

    def close(self) -> None:
        """Closes the connection; recording, also the open windows (their counts read first)."""
        if self.recorder is not None:
            if self._owns_recorder:
                self.recorder.close({self.process: self.unrecorded})
            else:
                self.recorder.before_stop(self.process, self.unrecorded, closed_by="end")
            self.unrecorded.close()
        self._transport.close()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.close()


__all__ = ["DEFAULT_REGISTRATION_GRACE", "ENV_ENDPOINT", "Client", "parse_endpoint"]
