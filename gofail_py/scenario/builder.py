"""The Scenario builder (the Python API of the text format) and render, its way back to text."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

from gofail_py.errors import ScenarioSyntaxError
from gofail_py.names import is_go_identifier
from gofail_py import argcheck
from gofail_py.scenario.model import (
    COMPARISONS,
    MAX_COUNT,
    MAX_REPEAT,
    MAX_SEED,
    ClusterDecl,
    EndpointDecl,
    Location,
    ProcessDecl,
    Step,
    check_duration,
    check_number,
    quote_word,
)
from gofail_py.scenario.members import NAME, role_problem, target_problem
from gofail_py.scenario.placeholders import PORTS
from gofail_py.scenario.statements import children, describe, spec_of
from gofail_py.scenario.statements.blocks import Choose, Parallel, Repeat
from gofail_py.scenario.statements.cluster import Pick
from gofail_py.scenario.statements.commands import RunCommand, Sleep
from gofail_py.scenario.statements.expect import ExpectExit, ExpectRunning
from gofail_py.scenario.statements.failpoints import ExpectCount, SetFailpoints, UnsetFailpoints, WaitCount
from gofail_py.scenario.statements.lifecycle import Restart, Start, Stop
from gofail_py.terms import Terms, normalize_terms

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.runner import ScenarioResult


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
    clusters: dict[str, ClusterDecl] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)  # `pick ALIAS C.ROLE`: alias -> role word
    steps: list[Step] = field(default_factory=list)
    _open_blocks: list[list[Step]] = field(default_factory=list, repr=False)

    # declarations
    def process(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None,
                where: Location = Location()) -> Scenario:
        argcheck.text(name, "name")
        argcheck.many(argv, "argv", "['./server', '--port', '{port}']", paths=True)
        self._check_new_name(name, where)
        self.processes[name] = ProcessDecl(name, tuple(argv), tuple((env or {}).items()), where)
        return self

    def env(self, process: str, **values: str) -> Scenario:
        decl = self._declared(process, Location())
        self.processes[process] = ProcessDecl(decl.name, decl.argv, decl.env + tuple(values.items()), decl.where)
        return self

    def endpoint(self, name: str, endpoint: str, where: Location = Location()) -> Scenario:
        self._check_new_name(name, where)
        self.endpoints[name] = EndpointDecl(name, endpoint, where)
        return self

    def cluster(self, name: str, *members: str, client: str = "port", where: Location = Location()) -> Scenario:
        """Declares processes as the members of one etcd cluster, in order; role words `NAME.leader`,
        `NAME.follower`, `NAME.followers`, `NAME.any`, `NAME.all` then stand for them in every step.
        ``client``: the port placeholder of each member's client address (127.0.0.1:{M.port})."""
        argcheck.text(name, "name")
        self._check_new_name(name, where)
        if not members:
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"cluster {name} needs at least one member")
        if client not in PORTS:
            raise ScenarioSyntaxError(where.path, where.line, where.column,
                                      f"client {client!r}: expected one of {', '.join(PORTS)}")
        for member in members:
            argcheck.text(member, "member")
            self._declared(member, where)
            if members.count(member) > 1:
                raise ScenarioSyntaxError(where.path, where.line, where.column, f"{member} is named twice in cluster {name}")
            other = next((c.name for c in self.clusters.values() if member in c.members), None)
            if other is not None:
                raise ScenarioSyntaxError(where.path, where.line, where.column,
                                          f"{member} is already a member of cluster {other}: a process is in one cluster")
        self.clusters[name] = ClusterDecl(name, tuple(members), client, where)
        return self

    # steps
    def pick(self, alias: str, role: str, where: Location = Location()) -> Scenario:
        """Binds ``alias`` to the one member ``role`` (`c.leader`, `c.follower`, `c.any`) resolves
        to when this step runs; the alias then names that process in every later step, whoever
        holds the role by then."""
        argcheck.text(alias, "alias")
        argcheck.text(role, "role")
        self.declare_alias(alias, role, where)
        return self._add(Pick(alias, role, where=where))

    def declare_alias(self, alias: str, role: str, where: Location) -> None:
        """Makes ``alias`` a name later steps may use (the text parser's `pick` calls it)."""
        problem = role_problem(self, role, single=True)
        if problem is not None:
            raise ScenarioSyntaxError(where.path, where.line, where.column, problem)
        if alias not in self.aliases:  # a second `pick` of an alias binds it again when it runs
            self._check_new_name(alias, where)
        self.aliases[alias] = role

    def start(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(Start(self._process(process, where), where=where))

    def stop(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(Stop(self._process(process, where), False, where=where))

    def kill(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(Stop(self._process(process, where), True, where=where))

    def restart(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(Restart(self._process(process, where), where=where))

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
        if duration is not None:
            self._duration(duration, where)
        return self._add(SetFailpoints(target, tuple((n, normalize_terms(t)) for n, t in merged.items()), duration, where=where))

    def unset(self, target: str, *names: str, where: Location = Location()) -> Scenario:
        """Disables the named failpoints, or every one when no name is given."""
        self._target(target, where)
        for name in names:
            self._failpoint(name, where)
        return self._add(UnsetFailpoints(target, names or None, where=where))

    def sleep(self, seconds: float, where: Location = Location()) -> Scenario:
        return self._add(Sleep(self._duration(seconds, where), where=where))

    def command(self, argv: Sequence[str], *, allow_failure: bool = False, background: bool = False,
                where: Location = Location()) -> Scenario:
        """The `run` statement: a command (argv, no shell) that must exit 0 unless allow_failure."""
        return self._add(RunCommand(tuple(argv), allow_failure, background, where=where))

    def wait_count(self, target: str, failpoint: str, op: str = ">=", value: int = 1, within: float = 10.0,
                   where: Location = Location()) -> Scenario:
        self._target(target, where)
        self._failpoint(failpoint, where)
        value = self._number(value, "a count", 0, MAX_COUNT, where)
        return self._add(WaitCount(target, failpoint, self._op(op, where), value, self._duration(within, where), where=where))

    def expect_exit(self, process: str, panic: bool = False, within: float = 5.0,
                    where: Location = Location()) -> Scenario:
        return self._add(ExpectExit(self._process(process, where), panic, self._duration(within, where), where=where))

    def expect_running(self, process: str, where: Location = Location()) -> Scenario:
        return self._add(ExpectRunning(self._process(process, where), where=where))

    def expect_count(self, target: str, failpoint: str, op: str, value: int,
                     where: Location = Location()) -> Scenario:
        self._target(target, where)
        self._failpoint(failpoint, where)
        value = self._number(value, "a count", 0, MAX_COUNT, where)
        return self._add(ExpectCount(target, failpoint, self._op(op, where), value, where=where))

    @contextmanager
    def parallel(self, where: Location = Location()) -> Iterator[Scenario]:
        with self._block(where) as steps:
            yield self
        self._add(Parallel(tuple(steps), where=where))

    @contextmanager
    def repeat(self, times: int, where: Location = Location()) -> Iterator[Scenario]:
        times = self._number(times, "repeat's count", 1, MAX_REPEAT, where)
        with self._block(where) as steps:
            yield self
        self._add(Repeat(times, tuple(steps), where=where))

    @contextmanager
    def choose(self, seed: int | None = None, where: Location = Location()) -> Iterator[Scenario]:
        if seed is not None:
            seed = self._number(seed, "the seed", 0, MAX_SEED, where)
        with self._block(where) as steps:
            yield self
        self._add(Choose(tuple(steps), seed, where=where))

    def to_text(self) -> str:
        """The scenario in the text format (see `render`)."""
        return render(self)

    def run(self, *, journal: str | Path | None = None, variables: Mapping[str, str] | None = None,
            on_step: Callable[[StepRecord], None] | None = None,
            source: Sequence[str | os.PathLike[str]] = ()) -> ScenarioResult:
        """Runs the scenario; cleanup always happens. Returns the result, raises nothing on failure.

        ``result.events`` (and the journal) hold its fault-coverage events; ``source`` lets a crash
        be attributed to its failpoint from the panic's stack."""
        from gofail_py.scenario.runner import run_scenario

        return run_scenario(self, journal=journal, variables=variables, on_step=on_step, source=source)

    def add(self, step: Step) -> Scenario:
        """Appends any statement object (gofail_py.scenario.statements), e.g. one without a method
        here; what it talks to must be declared."""
        for name in spec_of(step).subjects(step):
            self._target(name, step.where)
        return self._add(step)

    # helpers
    @staticmethod
    def _duration(seconds: float, where: Location) -> float:
        try:
            check_duration(seconds)
        except ValueError as error:
            raise ScenarioSyntaxError(where.path, where.line, where.column, str(error)) from error
        return seconds

    @staticmethod
    def _number(value: int, what: str, low: int, high: int, where: Location) -> int:
        try:
            return check_number(value, what, low, high)
        except ValueError as error:
            raise ScenarioSyntaxError(where.path, where.line, where.column, str(error)) from None

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
        kinds = (("process", self.processes), ("endpoint", self.endpoints), ("cluster", self.clusters), ("alias", self.aliases))
        taken = next((kind for kind, names in kinds if name in names), None)
        if taken is not None:
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"{name!r} is declared twice (already {'an' if taken[0] in 'aeiou' else 'a'} {taken})")
        if not NAME.fullmatch(name):
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"{name!r} is not a valid name")

    def _declared(self, name: str, where: Location) -> ProcessDecl:
        """A process declared by that name (not a role word nor an alias)."""
        if name in self.processes:
            return self.processes[name]
        raise ScenarioSyntaxError(where.path, where.line, where.column, f"no process {name!r} declared")

    def _process(self, name: str, where: Location) -> str:
        """A process's name, a role word or an alias: a name a step may act on as a process."""
        problem = target_problem(self, name, endpoints=False)
        if problem is not None:
            raise ScenarioSyntaxError(where.path, where.line, where.column, problem)
        return name

    def _target(self, name: str, where: Location) -> None:
        problem = target_problem(self, name)
        if problem is not None:
            raise ScenarioSyntaxError(where.path, where.line, where.column, problem)

    @staticmethod
    def _failpoint(name: str, where: Location) -> None:
        if not is_go_identifier(name):
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"{name!r} is not a failpoint name (a Go identifier)")

    @staticmethod
    def _op(op: str, where: Location) -> str:
        if op not in COMPARISONS:
            raise ScenarioSyntaxError(where.path, where.line, where.column, f"unknown comparison {op!r}: use one of {' '.join(COMPARISONS)}")
        return op


def render(scenario: Scenario) -> str:
    """The scenario in the text format; parsing it gives back the same declarations and steps."""
    lines = []
    for decl in scenario.processes.values():
        lines.append(f"process {decl.name}: {' '.join(quote_word(word) for word in decl.argv)}")
        if decl.env:
            lines.append(f"env {decl.name} {' '.join(quote_word(f'{k}={v}') for k, v in decl.env)}")
    for endpoint in scenario.endpoints.values():
        lines.append(f"endpoint {endpoint.name}: {endpoint.endpoint}")
    for cluster in scenario.clusters.values():
        client = f" client {cluster.client}" if cluster.client != "port" else ""
        lines.append(f"cluster {cluster.name}{client}: {' '.join(cluster.members)}")

    def steps(block: Sequence[Step], indent: str) -> None:
        for step in block:
            lines.append(indent + describe(step))
            steps(children(step), indent + "  ")

    steps(scenario.steps, "")
    return "\n".join(lines) + "\n"


