"""Scenario templates: `{failpoint}`, `{terms}` and `{failpoint_type}` filled in before parsing.

A template is an ordinary scenario file in which these three placeholders may stand wherever a
failpoint name or terms may (set, unset, wait, expect, commands...). They are replaced in the text,
so the parser validates the result like any scenario; every other placeholder ({port}, {tmp},
{x.port}, --var names) is left for the runner. With a failpoint table (table.py), its columns are
template placeholders too, filled with the failpoint's row: `pick victim c.{member}`.
"""

from __future__ import annotations

import re
import shlex
from collections.abc import Mapping
from pathlib import Path

from gofail_py.errors import ScenarioSyntaxError, TermSyntaxError
from gofail_py.explore.table import Table
from gofail_py.names import is_go_identifier
from gofail_py.scenario.builder import Scenario
from gofail_py.scenario.parser import parse_scenario, read_scenario_text, strip_comment
from gofail_py.terms import normalize_terms

TEMPLATE_NAMES = ("failpoint", "terms", "failpoint_type")
_TEMPLATE = re.compile(r"\{(failpoint|terms|failpoint_type)\}")
# statements whose rest is split like a shell command line (shlex), so values are shell-quoted there
_COMMAND_STATEMENTS = ("run", "run?", "process", "env")


def _pattern(names: tuple[str, ...]) -> re.Pattern[str]:
    return _TEMPLATE if names == TEMPLATE_NAMES else re.compile(r"\{(" + "|".join(map(re.escape, names)) + r")\}")


def template_names(text: str, names: tuple[str, ...] = TEMPLATE_NAMES) -> set[str]:
    """The template placeholders a text uses (outside comments)."""
    found: set[str] = set()
    pattern = _pattern(names)
    for line in text.splitlines():
        found.update(match.group(1) for match in pattern.finditer(strip_comment(line)))
    return found


def one_word_terms(terms: str) -> str:
    """Terms checked and normalized (`sleep(1s)` -> `sleep("1s")`), blanks outside quotes removed.

    The scenario tokenizer splits words at blanks outside double quotes; the runtime's grammar
    has no blank outside a string, so dropping them keeps the terms one word with the same meaning.
    """
    out = []
    quoted = False
    for index, char in enumerate(terms):
        if char == '"' and (index == 0 or terms[index - 1] != "\\"):
            quoted = not quoted
        if quoted or not char.isspace():
            out.append(char)
    return normalize_terms("".join(out))


def _shell_state(prefix: str) -> str:
    """The shlex quote in force at the end of ``prefix``: "", "'" or '"'."""
    quote = ""
    escaped = False
    for char in prefix:
        if escaped:
            escaped = False
        elif quote == "'":
            quote = "" if char == "'" else quote
        elif char == "\\":
            escaped = True
        elif quote == '"':
            quote = "" if char == '"' else quote
        elif char in "'\"":
            quote = char
    return quote


def _shell_value(value: str, quote: str) -> str:
    """``value`` written so that shlex reads it back unchanged inside the given quote."""
    if quote == "'":
        return value.replace("'", "'\"'\"'")
    if quote == '"':
        return re.sub(r'(["\\$`])', r"\\\1", value)
    return shlex.quote(value)


def _line(line: str, values: Mapping[str, str], pattern: re.Pattern[str] = _TEMPLATE) -> str:
    words = line.split(None, 1)
    if not words or words[0] not in _COMMAND_STATEMENTS:
        return pattern.sub(lambda match: values.get(match.group(1), match.group(0)), line)
    parts = []
    last = 0
    for match in pattern.finditer(line):
        parts.append(line[last:match.start()])
        value = values.get(match.group(1))
        quote = _shell_state("".join(parts))
        if value is None:
            parts.append(match.group(0))
        elif words[0] == "env" and not quote:
            parts.append(value)  # env takes an unquoted value as written (the values are one word)
        else:
            parts.append(_shell_value(value, quote))
        last = match.end()
    parts.append(line[last:])
    return "".join(parts)


def check_values(values: Mapping[str, str], needed: set[str], path: str = "<template>") -> dict[str, str]:
    """The template values, checked: a Go identifier for the failpoint, terms the runtime accepts."""
    missing = sorted(needed - set(values))
    if missing:
        raise ScenarioSyntaxError(
            path, 0, 0, "this is a template: give " + " ".join(f"--var {name}=..." for name in missing)
            + " (or run it through `gofail-py explore`)",
        )
    checked = {name: value for name, value in values.items() if name in TEMPLATE_NAMES or name in needed}
    if "failpoint" in checked and not is_go_identifier(checked["failpoint"]):
        raise ScenarioSyntaxError(path, 0, 0, f"{checked['failpoint']!r} is not a failpoint name (a Go identifier)")
    if "terms" in checked:
        try:
            checked["terms"] = one_word_terms(checked["terms"])
        except TermSyntaxError as error:
            raise ScenarioSyntaxError(path, 0, 0, f"bad terms {checked['terms']!r}: {error.message}") from error
    return checked


def fill_template(text: str, values: Mapping[str, str], path: str = "<template>",
                  names: tuple[str, ...] = TEMPLATE_NAMES) -> str:
    """The scenario text with {failpoint}, {terms}, {failpoint_type} (and a table's columns,
    ``names``) replaced; others left alone.

    Values are checked first (ScenarioSyntaxError, exit 2); in command lines (run, process, env)
    they are shell-quoted so the command's split gives the value back as it was (in env, only
    inside quotes: an unquoted env value is taken as written).
    """
    checked = check_values(values, template_names(text, names), path)
    pattern = _pattern(names)
    lines = text.split("\n")
    return "\n".join(_line(line, checked, pattern) if pattern.search(line) else line for line in lines)


def load_cell(path: str | Path, values: Mapping[str, str], table: Table | None = None) -> Scenario:
    """A scenario file, template or not, filled with ``values`` and parsed (errors at its lines).
    With a ``table``, the row of ``values["failpoint"]`` fills the placeholders of its columns."""
    names: tuple[str, ...] = TEMPLATE_NAMES
    if table is not None:
        clash = sorted(set(table.placeholders) & set(values))
        if clash:
            raise ScenarioSyntaxError(str(path), 0, 0, f"--var {clash[0]}: is a column of the table {table.path}, "
                                      "whose row gives it per failpoint")
        if "failpoint" not in values:
            raise ScenarioSyntaxError(str(path), 0, 0, "a table's row is the failpoint's: give --var failpoint=...")
        values = {**values, **table.row(values["failpoint"])}
        names = TEMPLATE_NAMES + table.placeholders
    return parse_scenario(fill_template(read_scenario_text(path), values, str(path), names), str(path))
