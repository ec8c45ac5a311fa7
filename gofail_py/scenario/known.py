"""Failpoint names of a scenario checked against the source's inventory (`run --source`), before
anything starts: a mistyped name is a located usage error at once, not a 30 s wait for it to
register followed by "not found"."""

from __future__ import annotations

import difflib
from collections.abc import Collection, Iterator, Sequence

from gofail_py.errors import ScenarioSyntaxError, located_errors
from gofail_py.scenario.model import Step
from gofail_py.scenario.statements import walk
from gofail_py.scenario.statements.failpoints import ExpectCount, SetFailpoints, UnsetFailpoints, WaitCount


def failpoint_names(step: Step) -> Iterator[str]:
    """The failpoint names a statement uses (none for most)."""
    if isinstance(step, SetFailpoints):
        yield from (name for name, _ in step.failpoints)
    elif isinstance(step, UnsetFailpoints) and step.names is not None:
        yield from step.names
    elif isinstance(step, (WaitCount, ExpectCount)):
        yield step.failpoint


def check_names(steps: Sequence[Step], known: Collection[str]) -> None:
    """ScenarioSyntaxError(s), every unknown name at once: `no failpoint X in the source (did you mean Y?)`."""
    errors = []
    for step in walk(steps):
        for name in failpoint_names(step):
            if name in known:
                continue
            close = difflib.get_close_matches(name, sorted(known), n=1)
            hint = f" (did you mean {close[0]}?)" if close else ""
            where = step.where
            errors.append(ScenarioSyntaxError(where.path, where.line, where.column, f"no failpoint {name} in the source{hint}"))
    if errors:
        raise located_errors(errors)
