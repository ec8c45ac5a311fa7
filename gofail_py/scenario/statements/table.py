"""The one table of statements: ``{StepClass: Spec}``, and what is read from it.

Each module of this package defines a family of statements: the frozen dataclass of each, and
one ``Spec`` with its keywords, usage line, meaning, parse function, describe function and run
handler, registered here. The parser, ``describe``, the runner's dispatch and the grammar table
of docs/scenario.md are all derived from the table, so a new statement is one new module in this
package (its __init__.py loads them all).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from gofail_py.scenario.model import Step

if TYPE_CHECKING:
    from gofail_py.scenario.journal import StepRecord
    from gofail_py.scenario.cursor import Cursor, Token
    from gofail_py.scenario.runtime import Runtime

S = TypeVar("S", bound=Step)


def _always(tokens: Sequence[Token]) -> bool:
    return True


def _nobody(step: Any) -> tuple[str, ...]:
    return ()


def _leaf(step: Any) -> tuple[Step, ...]:
    return ()


@dataclass(frozen=True)
class Spec(Generic[S]):
    """Everything about one statement class."""

    step: type[S]
    keywords: tuple[str, ...]  # first words that introduce it
    usage: str  # the line as the grammar table writes it
    meaning: str  # what it does, for the docs table
    parse: Callable[[Cursor, Sequence[Token]], S]
    describe: Callable[[S], str]  # the statement back in the text format's words (a block's header only)
    run: Callable[[Runtime, S, StepRecord, str], None]  # (runtime, step, its journal record, its index)
    accepts: Callable[[Sequence[Token]], bool] = _always  # which of the specs sharing a keyword parses the line
    subjects: Callable[[S], tuple[str, ...]] = _nobody  # the processes or endpoints it talks to
    words: Callable[[S], tuple[str, ...]] = _nobody  # words holding {placeholders}, substituted when it runs
    accounts_for_exit: bool = False  # after it, a process's exit is expected (stop, start, expect exit...)
    children: Callable[[S], tuple[Step, ...]] = _leaf  # a block's inner steps


REGISTRY: dict[type[Step], Spec[Any]] = {}


def register(spec: Spec[S]) -> Spec[S]:
    if spec.step in REGISTRY:
        raise RuntimeError(f"{spec.step.__name__} is registered twice")
    REGISTRY[spec.step] = spec
    return spec


def spec_of(step: Step) -> Spec[Any]:
    return REGISTRY[type(step)]


def describe(step: Step) -> str:
    """A statement in the text format's words (one line; a block's header only)."""
    return spec_of(step).describe(step)


def children(step: Step) -> tuple[Step, ...]:
    """A block's inner steps; () for other statements."""
    return spec_of(step).children(step)


def walk(steps: Sequence[Step]) -> Iterator[Step]:
    """Every step, blocks' inner steps included."""
    for step in steps:
        yield step
        yield from walk(children(step))


def keywords() -> list[str]:
    """Every keyword a step statement may start with, in table order."""
    return list(dict.fromkeys(word for spec in REGISTRY.values() for word in spec.keywords))


def grammar_table() -> str:
    """The docs' table of statements (docs/scenario.md must hold it as is; a test checks)."""
    rows = ["| statement | meaning |", "|---|---|"]
    rows += [f"| `{spec.usage}` | {spec.meaning} |" for spec in REGISTRY.values()]
    return "\n".join(rows)
