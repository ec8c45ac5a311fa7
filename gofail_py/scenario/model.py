"""The scenario model: declarations and steps as frozen dataclasses, and the Scenario builder."""

from __future__ import annotations

import re
import shlex
from decimal import Decimal
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Union

from gofail_py.errors import ScenarioSyntaxError
from gofail_py.names import is_go_identifier
from gofail_py.terms import Terms, normalize_terms

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.runner import ScenarioResult

_DURATION = re.compile(r"([0-9]+(?:\.[0-9]*)?|\.[0-9]+)(ms|s|m|h)")
_UNITS = {"ms": 0.001, "s": 1.0, "m": 60.0, "h": 3600.0}
COMPARISONS = ("==", "!=", ">=", "<=", ">", "<")


def parse_duration(text: str) -> float:
    """`500ms`, `2s`, `1.5m`, `1h` -> seconds; ValueError otherwise."""
    match = _DURATION.fullmatch(text)
    if match is None:
        raise ValueError(f"{text!r} is not a duration (like 500ms, 2s, 1m)")
    value, unit = float(match.group(1)), match.group(2)
    # divided, not multiplied by 0.001: 300ms is 0.3 exactly as 0.3s is (formatting round-trips)
    return value / 1000 if unit == "ms" else value * _UNITS[unit]


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
class EndpointDecl:
    """A binary started elsewhere, known by its gofail endpoint only."""

    name: str
    endpoint: str
    where: Location = Location()


# --- steps -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Start:
    process: str
    where: Location = Location()


@dataclass(frozen=True)
class Stop:
    process: str
    kill: bool = False  # SIGKILL at once instead of SIGTERM and a grace period
    where: Location = Location()


@dataclass(frozen=True)
class Restart:
    process: str
    where: Location = Location()


@dataclass(frozen=True)
class SetFailpoints:
    target: str
    failpoints: tuple[tuple[str, str], ...]  # (name, normalised terms)
    duration: float | None = None  # `for 3s`: disabled again after that long
    where: Location = Location()


@dataclass(frozen=True)
class UnsetFailpoints:
    target: str
    names: tuple[str, ...] | None  # None: all
    where: Location = Location()


@dataclass(frozen=True)
class Sleep:
    seconds: float
    where: Location = Location()


@dataclass(frozen=True)
class RunCommand:
    argv: tuple[str, ...]
    allow_failure: bool = False
    background: bool = False
    where: Location = Location()


@dataclass(frozen=True)
class WaitCount:
    target: str
    failpoint: str
    op: str
    value: int
    within: float = 10.0
    where: Location = Location()


@dataclass(frozen=True)
class ExpectExit:
    process: str
    panic: bool = False
    within: float = 5.0
    where: Location = Location()


@dataclass(frozen=True)
class ExpectRunning:
    process: str
    where: Location = Location()


@dataclass(frozen=True)
class ExpectCount:
    target: str
    failpoint: str
    op: str
    value: int
    where: Location = Location()


@dataclass(frozen=True)
class Parallel:
    steps: tuple[Step, ...]
    where: Location = Location()


@dataclass(frozen=True)
class Repeat:
    times: int
    steps: tuple[Step, ...]
    where: Location = Location()


@dataclass(frozen=True)
class Choose:
    steps: tuple[Step, ...]
    seed: int | None = None
    where: Location = Location()


Step = Union[
    Start, Stop, Restart, SetFailpoints, UnsetFailpoints, Sleep, RunCommand, WaitCount, ExpectExit,
    ExpectRunning, ExpectCount, Parallel, Repeat, Choose,
]
BLOCKS = (Parallel, Repeat, Choose)


def describe(step: Step) -> str:
    """A statement in the text format's words (one line; a block's header only)."""
    if isinstance(step, Start):
        return f"start {step.process}"
    if isinstance(step, Stop):
        return f"{'kill' if step.kill else 'stop'} {step.process}"
    if isinstance(step, Restart):
        return f"restart {step.process}"
    if isinstance(step, SetFailpoints):
        pairs = " ".join(f"{n}={t}" for n, t in step.failpoints)
        return f"set {step.target} {pairs}" + (f" for {format_duration(step.duration)}" if step.duration is not None else "")
    if isinstance(step, UnsetFailpoints):
        return f"unset {step.target} {' '.join(step.names) if step.names is not None else 'all'}"
    if isinstance(step, Sleep):
        return f"sleep {format_duration(step.seconds)}"
    if isinstance(step, RunCommand):
        verb = ("run?" if step.allow_failure else "run") + (" background" if step.background else "")
        words = [quote_word(word) for word in step.argv]
        if words[0] == "background" and not step.background:
            words[0] = "'background'"  # a command named so, not the keyword
        return f"{verb} {' '.join(words)}"
    if isinstance(step, WaitCount):
        return f"wait {step.target} {step.failpoint} count {step.op} {step.value} within {format_duration(step.within)}"
    if isinstance(step, ExpectExit):
        return f"expect {step.process} exit{' panic' if step.panic else ''} within {format_duration(step.within)}"
    if isinstance(step, ExpectRunning):
        return f"expect {step.process} running"
    if isinstance(step, ExpectCount):
        return f"expect {step.target} {step.failpoint} count {step.op} {step.value}"
    if isinstance(step, Parallel):
        return "parallel:"
    if isinstance(step, Repeat):
        return f"repeat {step.times}:"
    return f"choose{f' seed {step.seed}' if step.seed is not None else ''}:"


def render(scenario: Scenario) -> str:
    """The scenario in the text format; parsing it gives back the same declarations and steps."""
    lines = []
    for decl in scenario.processes.values():
        lines.append(f"process {decl.name}: {' '.join(quote_word(word) for word in decl.argv)}")
        if decl.env:
            lines.append(f"env {decl.name} {' '.join(quote_word(f'{k}={v}') for k, v in decl.env)}")
    for endpoint in scenario.endpoints.values():
        lines.append(f"endpoint {endpoint.name}: {endpoint.endpoint}")

    def steps(block: Sequence[Step], indent: str) -> None:
        for step in block:
            lines.append(indent + describe(step))
            if isinstance(step, BLOCKS):
                steps(step.steps, indent + "  ")

    steps(scenario.steps, "")
    return "\n".join(lines) + "\n"


# --- the builder ------------------------------------------------------------------------------


@dataclass
class Scenario:
    """A scenario to run: built by the text parser or in Python with one method per statement.

    Every method returns the scenario, so calls chain; blocks are context managers:

        s = Scenario("crash")
        s.process("kv", ["./kvserver", "--listen", "127.0.0.1:{port}"])
        s.start("kv").set("kv", afterCommit="panic")
        s.command(["curl", "-s", "-XPUT", "http://127.0.0.1:{kv.port}/kv/a", "-d", "1"], allow_failure=True)
        s.expect_exit("kv", panic=True)
        result = s.run()
    """

    name: str = "scenario"
    directory: str = "."  # the {dir} placeholder: where the scenario file is
    processes: dict[str, ProcessDecl] = field(default_factory=dict)
    endpoints: dict[str, EndpointDecl] = field(default_factory=dict)
    steps: list[Step] = field(default_factory=list)
    _open_blocks: list[list[Step]] = field(default_factory=list, repr=False)

    # declarations
    def process(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None,
                where: Location = Location()) -> Scenario:
        self._check_new_name(name, where)
        self.processes[name] = ProcessDecl(name, tuple(argv), tuple((env or {}).items()), where)
        return self

    def env(self, process: str, **values: str) -> Scenario:
        decl = self._process(process, Location())
        self.processes[process] = ProcessDecl(decl.name, decl.argv, decl.env + tuple(values.items()), decl.where)
        return self

    def endpoint(self, name: str, endpoint: str, where: Location = Location()) -> Scenario:
        self._check_new_name(name, where)
        self.endpoints[name] = EndpointDecl(name, endpoint, where)
        return self

    # steps
    def start(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(Start(self._process(process, where).name, where))

    def stop(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(Stop(self._process(process, where).name, False, where))

    def kill(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(Stop(self._process(process, where).name, True, where))

    def restart(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(Restart(self._process(process, where).name, where))

    def set(self, target: str, failpoints: Mapping[str, str | Terms] | None = None, *,
            duration: float | None = None, where: Location = Location(), **by_name: str | Terms) -> Scenario:
        """Arms failpoints; ``duration`` seconds later they are disabled again (without blocking)."""
        merged = {**(failpoints or {}), **by_name}
        if not merged:
            raise ScenarioSyntaxError(where.path, where.line, where.column, "set needs at least one NAME=TERMS")
        self._target(target, where)
        for name in merged:
            self._failpoint(name, where)
        if duration is not None and duration <= 0:
            raise ScenarioSyntaxError(where.path, where.line, where.column, "a `for` window must be longer than 0s")
        return self._add(SetFailpoints(target, tuple((n, normalize_terms(t)) for n, t in merged.items()), duration, where))

    def unset(self, target: str, *names: str, where: Location = Location()) -> Scenario:
        """Disables the named failpoints, or every one when no name is given."""
        self._target(target, where)
        for name in names:
            self._failpoint(name, where)
        return self._add(UnsetFailpoints(target, names or None, where))

    def sleep(self, seconds: float, where: Location = Location()) -> Scenario:
        return self._add(Sleep(seconds, where))

    def command(self, argv: Sequence[str], *, allow_failure: bool = False, background: bool = False,
                where: Location = Location()) -> Scenario:
        """The `run` statement: a command (argv, no shell) that must exit 0 unless allow_failure."""
        return self._add(RunCommand(tuple(argv), allow_failure, background, where))

    def wait_count(self, target: str, failpoint: str, op: str = ">=", value: int = 1, within: float = 10.0,
                   where: Location = Location()) -> Scenario:
        self._target(target, where)
        self._failpoint(failpoint, where)
        return self._add(WaitCount(target, failpoint, self._op(op, where), value, within, where))

    def expect_exit(self, process: str, panic: bool = False, within: float = 5.0,
                    where: Location = Location()) -> Scenario:
        return self._add(ExpectExit(self._process(process, where).name, panic, within, where))

    def expect_running(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(ExpectRunning(self._process(process, where).name, where))

    def expect_count(self, target: str, failpoint: str, op: str, value: int,
                     where: Location = Location()) -> Scenario:
        self._target(target, where)
        self._failpoint(failpoint, where)
        return self._add(ExpectCount(target, failpoint, self._op(op, where), value, where))

    @contextmanager
    def parallel(self, where: Location = Location()) -> Iterator[Scenario]:
        with self._block(where) as steps:
            yield self
        self._add(Parallel(tuple(steps), where))

    @contextmanager
    def repeat(self, times: int, where: Location = Location()) -> Iterator[Scenario]:
        if times < 1:
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"repeat needs a count of at least 1, not {times}")
        with self._block(where) as steps:
            yield self
        self._add(Repeat(times, tuple(steps), where))

    @contextmanager
    def choose(self, seed: int | None = None, where: Location = Location()) -> Iterator[Scenario]:
        with self._block(where) as steps:
            yield self
        self._add(Choose(tuple(steps), seed, where))

    def to_text(self) -> str:
        """The scenario in the text format (see `render`)."""
        return render(self)

    def run(self, *, journal: str | Path | None = None, variables: Mapping[str, str] | None = None,
            on_step: Callable[[StepRecord], None] | None = None) -> ScenarioResult:
        """Runs the scenario; cleanup always happens. Returns the result, raises nothing on failure."""
        from gofail_py.scenario.runner import run_scenario

        return run_scenario(self, journal=journal, variables=variables, on_step=on_step)

    # helpers
    @contextmanager
    def _block(self, where: Location) -> Iterator[list[Step]]:
        steps: list[Step] = []
        self._open_blocks.append(steps)
        try:
            yield steps
        finally:
            self._open_blocks.pop()
        if not steps:
            raise ScenarioSyntaxError(where.path, where.line, where.column, "a block needs at least one step")

    def _add(self, step: Step) -> Scenario:
        (self._open_blocks[-1] if self._open_blocks else self.steps).append(step)
        return self

    def _check_new_name(self, name: str, where: Location) -> None:
        if name in self.processes or name in self.endpoints:
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"{name!r} is declared twice")
        if not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_-]*", name):
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"{name!r} is not a valid name")

    def _process(self, name: str, where: Location) -> ProcessDecl:
        if name in self.processes:
            return self.processes[name]
        hint = " (an endpoint can only be set, unset, waited on and counted)" if name in self.endpoints else ""
        raise ScenarioSyntaxError(where.path, where.line, where.column, f"no process {name!r} declared{hint}")

    def _target(self, name: str, where: Location) -> None:
        if name not in self.processes and name not in self.endpoints:
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"no process or endpoint {name!r} declared")

    @staticmethod
    def _failpoint(name: str, where: Location) -> None:
        if not is_go_identifier(name):
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"{name!r} is not a failpoint name (a Go identifier)")

    @staticmethod
    def _op(op: str, where: Location) -> str:
        if op not in COMPARISONS:
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"unknown comparison {op!r}: use one of {' '.join(COMPARISONS)}")
        return op
