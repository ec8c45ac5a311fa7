"""What a statement's ``parse`` reads a line with: the line, its tokens, and a cursor that checks
words (durations, names, numbers, declared targets) and makes located errors.

Below both the parser, which makes the cursors, and the statements, which use them: the cursor
asks the parser only what ``Reader`` names.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from gofail_py.errors import ScenarioSyntaxError
from gofail_py.names import is_go_identifier
from gofail_py.scenario.members import role_problem, target_problem
from gofail_py.scenario.model import Location, Plan, Step, parse_duration, whole_number


class Reader(Protocol):
    """What a cursor asks of the parser reading the file (gofail_py.scenario.parser)."""

    @property
    def path(self) -> str: ...
    @property
    def scenario(self) -> Plan: ...
    def split_command(self, line: Line, text: str, column: int) -> list[str]: ...
    def children(self, line: Line, depth: int) -> tuple[Step, ...]: ...
    def declare_alias(self, name: str, role: str, where: Location) -> None: ...


@dataclass(frozen=True)
class Line:
    number: int
    indent: int
    text: str  # without indentation and comment
    offset: int  # column (0-based) where text starts


@dataclass(frozen=True)
class Token:
    text: str
    column: int  # 1-based


class Cursor:
    """One line being parsed: what a statement's ``parse`` uses to read and check its words."""

    def __init__(self, parser: Reader, line: Line, depth: int) -> None:
        self.parser = parser
        self.line = line
        self.depth = depth

    def error(self, column: int, message: str) -> ScenarioSyntaxError:
        return ScenarioSyntaxError(self.parser.path, self.line.number, column, message)

    def where(self, token: Token | None = None) -> Location:
        return Location(self.parser.path, self.line.number, token.column if token else self.line.offset + 1)

    def arity(self, tokens: Sequence[Token], count: int, usage: str) -> None:
        if len(tokens) != count:
            column = tokens[count].column if len(tokens) > count else tokens[-1].column + len(tokens[-1].text)
            raise self.error(column, f"expected `{usage}`")

    def duration(self, token: Token) -> float:
        try:
            return parse_duration(token.text)
        except ValueError as error:
            raise self.error(token.column, str(error)) from error

    def failpoint(self, token: Token, name: str | None = None) -> str:
        name = token.text if name is None else name
        if not is_go_identifier(name):
            raise self.error(token.column, f"{name!r} is not a failpoint name (a Go identifier)")
        return name

    def integer(self, token: Token, what: str, low: int, high: int, text: str | None = None) -> int:
        try:
            return whole_number(token.text if text is None else text, what, low, high)
        except ValueError as error:
            raise self.error(token.column, str(error)) from None

    def process(self, token: Token) -> str:
        """A declared process's name, a role word of a declared cluster (`c.leader`) or an alias."""
        problem = target_problem(self.parser.scenario, token.text, endpoints=False)
        if problem is not None:
            raise self.error(token.column, problem)
        return token.text

    def target(self, token: Token) -> str:
        """A declared process's or endpoint's name, a role word or an alias."""
        problem = target_problem(self.parser.scenario, token.text)
        if problem is not None:
            raise self.error(token.column, problem)
        return token.text

    def role(self, token: Token, single: bool = False) -> str:
        """A role word `C.ROLE` of a declared cluster (``single``: one member's role)."""
        problem = role_problem(self.parser.scenario, token.text, single)
        if problem is not None:
            raise self.error(token.column, problem)
        return token.text

    def alias(self, token: Token, role: str) -> str:
        """Declares ``token`` as a name for the member ``role`` will resolve to (`pick`)."""
        self.parser.declare_alias(token.text, role, self.where(token))
        return token.text

    def command(self, first: Token) -> tuple[str, ...]:
        """The rest of the line from ``first``, split like a POSIX shell."""
        return tuple(self.parser.split_command(self.line, self.line.text[first.column - self.line.offset - 1:], first.column))

    def children(self) -> tuple[Step, ...]:
        """The indented block below this line (a block statement's steps)."""
        return self.parser.children(self.line, self.depth)
