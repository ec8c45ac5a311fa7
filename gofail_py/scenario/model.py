"""The scenario model's plain parts: locations, declarations, the Step base, durations, and Plan,
what running a scenario reads of one.

The statement classes live in gofail_py.scenario.statements (one module per family, each with
its syntax, description and behaviour); the builder in gofail_py.scenario.builder.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Protocol

_DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")
MAX_DURATION = 24 * 3600.0  # longer is a typo, and past ~49 days a timer thread dies of overflow
MAX_COUNT = 2**63 - 1  # what the runtime's count (a Go int) can reach
MAX_REPEAT = 1_000_000  # rounds of a `repeat`: more is a typo (each round's steps go to the journal)
MAX_SEED = 2**64 - 1
_WHOLE = re.compile(r"[0-9]+")  # ASCII only: str.isdigit() also takes `²` (int() refuses it) and `٣`


def shown(text: str, limit: int = 24) -> str:
    """A word of the file as a message quotes it: a 4,400-digit number is not echoed whole."""
    return repr(text) if len(text) <= limit else f"{text[:limit]!r}... ({len(text)} characters)"


def whole_number(text: str, what: str, low: int, high: int) -> int:
    """``text`` as a whole number from ``low`` to ``high``; ValueError with a short message."""
    if not _WHOLE.fullmatch(text):
        raise ValueError(f"{what} must be a whole number, not {shown(text)}")
    digits = text.lstrip("0") or "0"
    if len(digits) > len(str(high)) or not low <= int(digits) <= high:  # no int() of 4,300+ digits
        raise ValueError(f"{what} {shown(text)} is out of range: from {low} to {high}")
    return int(digits)


def check_number(value: object, what: str, low: int, high: int) -> int:
    """The same bounds for a number given in code (the scenario API)."""
    if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
        text = f"{type(value).__name__}" if not isinstance(value, int) else ("a number of more than 40 digits" if abs(value) >= 10**40 else str(value))
        raise ValueError(f"{what} must be a whole number from {low} to {high}, not {text}")
    return value


def check_duration(seconds: float, text: str | None = None) -> None:
    """ValueError for a duration that is negative or longer than 24h."""
    if not 0 <= seconds <= MAX_DURATION:
        raise ValueError(f"{shown(text) if text else repr(seconds)} is out of range: a duration is at most 24h")


def parse_duration(text: str) -> float:
    """`500ms`, `2s`, `1.5m`, `1h` -> seconds; ValueError otherwise."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{shown(text)} is not a duration (like 500ms, 2s, 1m)")
    value, unit = float(match.group(1)), match.group(2)
    # divided, not multiplied by 0.001: 300ms is 0.3 exactly as 0.3s is (formatting round-trips)
    seconds = value / 1000 if unit == "ms" else value * _UNITS[unit]
    check_duration(seconds, text)
    return seconds


def format_duration(seconds: float) -> str:
    """Seconds as a duration the parser reads back to the same float: 0.5 -> `500ms`, 2 -> `2s`."""
    millis = round(seconds * 1000)
    if seconds < 1 and millis / 1000 == seconds:
        return f"{millis}ms"
    # the shortest repr reads back to the same float; written out without an exponent
    text = format(Decimal(repr(float(seconds))), "f")
    return f"{text.removesuffix('.0')}s"


def quote_word(word: str) -> str:
    """A command word as the text format writes it: bare when it splits back unchanged."""
    return word if re.fullmatch(r"[^\s'\"\\#]+", word) else shlex.quote(word)


def compare(left: int, op: str, right: int) -> bool:
    return {
        "==": left == right,
        "!=": left != right,
        ">=": left >= right,
        "<=": left <= right,
        ">": left > right,
        "<": left < right,
    }[op]


@dataclass(frozen=True)
class Location:
    """Where a statement stands (line and column are 1-based); `<api>` for built ones."""

    path: str = "<api>"
    line: int = 0
    column: int = 1

    def __str__(self) -> str:
        return f"{self.path}:{self.line}:{self.column}"


# --- declarations ------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProcessDecl:
    """A process the scenario starts: argv with placeholders like {port} and {tmp}."""

    name: str
    argv: tuple[str, ...]
    env: tuple[tuple[str, str], ...] = ()
    where: Location = Location()


@dataclass(frozen=True)
class ClusterDecl:
    """Declared processes that are the members of one etcd cluster, in order: role words
    (`c.leader`) name them by what they are when a step runs. ``client`` is the port placeholder
    of each member's client address (127.0.0.1:{M.port} by default)."""

    name: str
    members: tuple[str, ...]
    client: str = "port"
    where: Location = Location()


@dataclass(frozen=True)
class EndpointDecl:
    """A binary started elsewhere, known by its gofail endpoint only."""

    name: str
    endpoint: str
    where: Location = Location()


# --- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """Base of every statement class (see gofail_py.scenario.statements): where it was written."""

    where: Location = field(default=Location(), kw_only=True)


class Plan(Protocol):
    """What running a scenario reads of it: its name, folder, declarations and steps. The builder's
    Scenario is one; the runner knows it by this protocol, since the builder runs scenarios."""

    @property
    def name(self) -> str: ...
    @property
    def directory(self) -> str: ...
    @property
    def processes(self) -> Mapping[str, ProcessDecl]: ...
    @property
    def endpoints(self) -> Mapping[str, EndpointDecl]: ...
    @property
    def clusters(self) -> Mapping[str, ClusterDecl]: ...
    @property
    def aliases(self) -> Mapping[str, str]: ...  # `pick ALIAS C.ROLE`: alias -> the role word
    @property
    def steps(self) -> Sequence[Step]: ...
