"""The one exception tree of gofail-py; the CLI maps each branch to an exit code."""

from __future__ import annotations


class GofailError(Exception):
    """Base of every error gofail-py raises on purpose."""

    exit_code: int = 1


class LocatedError(GofailError):
    """A problem at a place in a file: rendered as ``path:line:col: message`` (bad input, exit 2)."""

    exit_code = 2

    # plain classes, not dataclasses: every run imports this module, and a dataclass costs ~0.5 ms to make
    def __init__(self, path: str, line: int, column: int, message: str) -> None:
        super().__init__(path, line, column, message)
        self.path = path
        self.line = line  # 1-based
        self.column = column  # 1-based, in characters
        self.message = message

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.path!r}, {self.line!r}, {self.column!r}, {self.message!r})"

    def __str__(self) -> str:
        if self.line <= 0:  # about the file as a whole (or its --var values): no line to jump to
            return f"{self.path}: {self.message}"
        return f"{self.path}:{self.line}:{self.column}: {self.message}"


# --- the rewriter -------------------------------------------------------------------------


class MarkerError(LocatedError):
    """A problem at a place in a Go source file."""


class MarkerErrors(GofailError):
    """Several marker problems found in one run; nothing was written."""

    exit_code = 2

    def __init__(self, errors: list[MarkerError]) -> None:
        self.errors = errors
        super().__init__("\n".join(str(e) for e in errors))


class WorkspaceError(GofailError):
    """A path that cannot be read or written as asked (missing, not Go, not writable...)."""

    exit_code = 2


class GoToolError(GofailError):
    """The go command failed (for --go-get)."""

    exit_code = 2


class ConcurrentEdit(WorkspaceError):
    """A file changed while enable or disable worked (an edit saved meanwhile); nothing was
    changed (what the run had written is put back): running it again is the remedy, as for a lock."""

    exit_code = 3


class GoModUndoError(GofailError):
    """disable could not safely undo what `enable --go-get` did to go.mod; go.mod is left as it is."""

    exit_code = 1


class LockHeld(GofailError):
    """Another gofail-py run holds the module's rewrite lock."""

    exit_code = 3


class SettingError(GofailError):
    """An environment setting gofail-py cannot use (``GOFAIL_PY_LOCK_WAIT=abc``): bad input."""

    exit_code = 2


# --- terms and the client -------------------------------------------------------------------


class TermSyntaxError(GofailError):
    """A failpoint terms string the runtime would refuse; ``column`` is 1-based."""

    def __init__(self, text: str, column: int, message: str, name: str | None = None) -> None:
        super().__init__(text, column, message, name)
        self.text = text
        self.column = column
        self.message = message
        self.name = name  # the failpoint the terms were meant for, when known

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.text!r}, {self.column!r}, {self.message!r}, name={self.name!r})"

    def __str__(self) -> str:
        from gofail_py.terminal import visible  # terms may hold a newline or an escape: shown, not obeyed

        caret = " " * len(visible(self.text[: self.column - 1])) + "^"
        where = f" for {self.name}" if self.name else ""
        return f"bad terms{where} at column {self.column}: {self.message}\n  {visible(self.text)}\n  {caret}"


class ClientError(GofailError):
    """Talking to a gofail HTTP endpoint failed."""


class InvalidFailpointName(ClientError):
    """A failpoint name that is not a Go identifier (it would not be safe in a URL either)."""


class FailpointNotFound(ClientError):
    """The binary has no failpoint of that name."""


class FailpointDisabled(ClientError):
    """The failpoint exists but has no terms set, so it has no value or count."""


class EndpointUnreachable(ClientError):
    """Nothing answers at the endpoint."""

    exit_code = 3


class ConnectionDropped(ClientError):
    """The endpoint closed the connection before a complete answer, and still answers."""

    exit_code = 3


class ProcessDied(ConnectionDropped):
    """The connection was cut while a request was in flight and the process is gone (a ``panic`` does that)."""

    exit_code = 3


class NotGofailEndpoint(ClientError):
    """Something answers at the endpoint, but not as the gofail runtime does."""

    exit_code = 3


class EndpointTimeout(ClientError):
    """The endpoint did not answer in time."""

    exit_code = 3


class UnexpectedResponse(ClientError):
    """The endpoint answered with a status the gofail runtime does not use for this request."""


class WaitTimeout(ClientError):
    """A count did not reach the awaited value in time."""


class NoEndpoint(ClientError):
    """No endpoint was given and GOFAIL_HTTP is not set."""

    exit_code = 2


class InvalidEndpoint(NoEndpoint):
    """An endpoint that is not HOST:PORT of a plain-HTTP gofail runtime (bad port, scheme, host)."""


# --- scenarios ------------------------------------------------------------------------------


class ScenarioError(GofailError):
    """Base of the scenario errors."""


class ScenarioSyntaxError(LocatedError, ScenarioError):
    """A scenario file that does not parse or does not validate."""


class ScenarioSyntaxErrors(ScenarioSyntaxError):
    """Several problems in one scenario, each on its own line; the fields are the first one's."""

    def __init__(self, errors: list[ScenarioSyntaxError]) -> None:
        first = errors[0]
        super().__init__(first.path, first.line, first.column, first.message)
        self.errors = errors

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


def located_errors(errors: list[ScenarioSyntaxError]) -> ScenarioSyntaxError:
    """One error as itself, several as ScenarioSyntaxErrors."""
    return errors[0] if len(errors) == 1 else ScenarioSyntaxErrors(errors)


class ScenarioFileError(ScenarioError):
    """A scenario or journal file that cannot be read or written (missing, a directory...)."""

    exit_code = 2


class ExpectationFailed(ScenarioError):
    """A scenario step's expectation did not hold."""

    exit_code = 1


class NotReached(ExpectationFailed):
    """A `reach` step timed out: the workload never made its failpoint fire."""

    exit_code = 1


class ProcessStartError(ScenarioError):
    """A scenario process could not be started or never answered on its endpoint."""

    exit_code = 3


# --- coverage reports -----------------------------------------------------------------------


class JournalError(GofailError):
    """A journal file that cannot be read or holds a line that is not an event."""

    exit_code = 2


# --- histories and the linearizability checker -----------------------------------------------


class HistoryError(LocatedError):
    """A history file that cannot be read or holds a line that is not an operation: ``FILE:LINE: ...``."""

    exit_code = 2

    def __init__(self, path: str, line: int, message: str) -> None:
        super().__init__(path, line, 0, message)

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}" if self.line > 0 else f"{self.path}: {self.message}"


class RecorderError(GofailError):
    """A Recorder used against the contract (an unknown operation, a client with two open calls, closed)."""

    exit_code = 2


class ModelError(GofailError):
    """An unknown model name, or a model object that does not follow the protocol."""

    exit_code = 2


# --- traffic ------------------------------------------------------------------------------------


class TrafficError(GofailError):
    """Traffic asked for what cannot run: an unknown target or operation, a duration of zero or
    infinity, a model the traffic's operations do not fit, a target that is not empty at the start."""

    exit_code = 2


# --- etcd: its gateway and the triggers -----------------------------------------------------------


class EtcdError(GofailError):
    """Talking to an etcd member's HTTP/JSON gateway failed, or it answered with an error."""

    exit_code = 1


class GatewayError(EtcdError):
    """etcd answered a call with an error: ``code`` is the gRPC code, ``text`` etcd's message."""

    def __init__(self, message: str, code: int, text: str) -> None:
        super().__init__(message)
        self.code = code
        self.text = text


class NotEtcd(EtcdError):
    """Something answers at the address, but not as etcd's gateway does (or nothing answers)."""

    exit_code = 1


class EtcdUnreachable(NotEtcd):
    """Nothing answers at the member's client address (not running, or not started yet)."""


class TriggerFailed(EtcdError):
    """A trigger did not do what it claims (no compaction, no snapshot received, ...) or ran
    past its deadline; the message says what was seen."""

    exit_code = 1


class TriggerUsageError(EtcdError):
    """A trigger asked for with an unknown action or arguments it does not take (bad input)."""

    exit_code = 2


class TableError(GofailError):
    """A failpoints table (examples/etcd/failpoints.tsv) that cannot be read or holds a bad row."""

    exit_code = 2


class CheckUndecided(GofailError):
    """A scenario's `check` reached its timeout before a verdict (unknown: never a pass, not a
    failure of the system either)."""

    exit_code = 3


# --- etcd members -------------------------------------------------------------------------------


class NoLeader(EtcdError):
    """The members did not agree on a running leader before the deadline (an election, a partition)."""
