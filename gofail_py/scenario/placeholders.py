"""{placeholders} in commands: checked before anything starts, substituted when a command runs."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence

from gofail_py.errors import ScenarioSyntaxError, located_errors
from gofail_py.scenario.model import Location

PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_-]*(?:\.[A-Za-z_][A-Za-z0-9_]*)?)\}")
PORTS = ("port", "port2", "port3")  # a process gets three free ports, e.g. client and peer
BUILT_IN = ("tmp", "dir")


def check(scenario_processes: Sequence[tuple[str, Location, Sequence[str]]],
          steps_words: Iterable[tuple[Sequence[str], Location]],
          processes: set[str], endpoints: set[str], variables: Mapping[str, str]) -> None:
    """Every {placeholder} resolvable and no NUL byte anywhere, or every problem at once
    (ScenarioSyntaxError or ScenarioSyntaxErrors). ``steps_words``: each step's words that hold
    placeholders, with where it stands (the runner reads them from the statements' table)."""
    errors: list[ScenarioSyntaxError] = []

    def known(name: str, own: str | None) -> bool:
        if name in variables or name in BUILT_IN or (own is not None and name in (*PORTS, "endpoint")):
            return True
        target, _, attribute = name.partition(".")
        if target in processes:
            return attribute in (*PORTS, "endpoint", "pid")
        return target in endpoints and attribute == "endpoint"

    def check_words(words: Sequence[str], where: Location, own: str | None) -> None:
        for word in words:
            if "\0" in word:
                errors.append(ScenarioSyntaxError(where.path, where.line, where.column, "a NUL byte in a command word"))
            for match in PLACEHOLDER.finditer(word):
                if not known(match.group(1), own):
                    names = ", ".join(sorted(variables)) or "none given"
                    errors.append(ScenarioSyntaxError(
                        where.path, where.line, where.column,
                        f"unknown placeholder {{{match.group(1)}}} (built in: {{port}} {{port2}} {{port3}} {{endpoint}} "
                        f"{{tmp}} {{dir}} {{NAME.port}} {{NAME.endpoint}} {{NAME.pid}}; --var names: {names})",
                    ))

    for name, where, words in scenario_processes:
        check_words(words, where, name)
    for words, where in steps_words:
        check_words(words, where, None)
    if errors:
        raise located_errors(errors)


def substitute(word: str, value_of: Callable[[str], str]) -> str:
    return PLACEHOLDER.sub(lambda match: value_of(match.group(1)), word)
