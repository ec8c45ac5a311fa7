"""The scenario text format: text in, a validated Scenario out.

Grammar (the statements' own lines come from the table in gofail_py.scenario.statements;
docs/scenario.md shows them)::

    file        = { line } ;
    line        = indent statement [ comment ] NEWLINE | [ comment ] NEWLINE ;
    comment     = "#" { any } ;        a "#" at the start or after a blank, outside quotes
    indent      = { " " } ;            spaces; a block is the lines indented deeper than its header
    statement   = declaration | step ;
    declaration = "process" NAME ":" COMMAND
                | "env" NAME KEY "=" VALUE { KEY "=" VALUE }
                | "endpoint" NAME ":" HOST ":" PORT
                | "cluster" NAME [ "client" PORT ] ":" NAME { NAME } ;   top level only
    step        = KEYWORD { word } [ ":" block ] ;              KEYWORD: a keyword of the table
    word        = bare or quoted text ("..." and `...` may hold blanks) ;

Scanning splits the file into lines (indentation, text without its comment) and each line into
tokens; the parser checks the declarations itself and hands a step's tokens to the ``parse``
of the statement its first word names. Every problem of the file is reported at once, one
``path:line:col: message`` each; a block nested deeper than MAX_DEPTH is refused.
"""

from __future__ import annotations

import re
import shlex
from pathlib import Path

from gofail_py.errors import NoEndpoint, ScenarioFileError, ScenarioSyntaxError, TermSyntaxError, located_errors
from gofail_py.scenario.builder import Scenario
from gofail_py.scenario.cursor import Cursor, Line, Token
from gofail_py.scenario.model import Location, Step
from gofail_py.scenario.statements import REGISTRY, Spec, keywords

DECLARATIONS = ("process", "env", "endpoint", "cluster")
MAX_FILE_SIZE = 10_000_000
MAX_DEPTH = 50  # blocks inside blocks; deeper is a generated file gone wrong
# an env word: blanks split words outside '...' and "..." (a shell would also drop inner quotes)
_ENV_WORD = re.compile(r"(?:[^\s\"']+|\"(?:[^\"\\]|\\.)*\"|'[^']*')+|\S+")
# a word; quoted parts may hold blanks, as in `set kv e=return("disk full")`
_TOKEN = re.compile(r"(?:[^\s\"`]+|\"(?:[^\"\\]|\\.)*\"|`[^`]*`)+|\S+")


def strip_comment(raw: str) -> str:
    """The line without its `#` comment: a `#` at the start or after a blank, outside quotes."""
    quote = ""
    for index, char in enumerate(raw):
        if quote:
            quote = "" if char == quote else quote
        elif char in "'\"":
            quote = char
        elif char == "#" and (index == 0 or raw[index - 1] in " \t"):
            return raw[:index]
    return raw


class _Reported(Exception):
    """A block whose every line failed: those errors are reported, the header adds none."""


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.errors: list[ScenarioSyntaxError] = []
        self.lines = self._lines(text)
        self.scenario = Scenario(name=Path(path).stem if path != "<string>" else "scenario")
        if path != "<string>":
            self.scenario.directory = str(Path(path).resolve().parent)
        self.pos = 0

    def _lines(self, text: str) -> list[Line]:
        lines = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                # reported, then read as if each tab were a space, so its block still has its steps
                self.errors.append(ScenarioSyntaxError(self.path, number, 1, "indent with spaces, not tabs"))
            content = strip_comment(raw).rstrip()
            stripped = content.lstrip(" \t")
            if stripped:
                indent = len(content) - len(stripped)
                lines.append(Line(number, indent, stripped, indent))
        return lines

    def error(self, line: Line, column: int, message: str) -> ScenarioSyntaxError:
        return ScenarioSyntaxError(self.path, line.number, column, message)

    def parse(self) -> Scenario:
        self.scenario.steps = list(self.block(0, 0))
        if self.errors:
            raise located_errors(sorted(self.errors, key=lambda e: (e.line, e.column)))
        return self.scenario

    def skip_block(self, line: Line) -> None:
        """Past the lines indented below a line that failed: they belong to it."""
        while self.pos < len(self.lines) and self.lines[self.pos].indent > line.indent:
            self.pos += 1

    def block(self, indent: int, depth: int) -> list[Step]:
        steps: list[Step] = []
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent:
                break
            self.pos += 1
            try:
                if line.indent > indent:
                    raise self.error(line, line.indent + 1, "unexpected indentation")
                step = self.statement(line, depth)
            except ScenarioSyntaxError as error:
                self.errors.append(error)
                self.skip_block(line)
                continue
            except _Reported:
                continue
            if step is not None:
                steps.append(step)
        return steps

    def children(self, line: Line, depth: int) -> tuple[Step, ...]:
        """The indented block after a `parallel:`, `repeat N:` or `choose:` line."""
        if self.pos >= len(self.lines) or self.lines[self.pos].indent <= line.indent:
            raise self.error(line, line.offset + 1, f"`{line.text}` needs an indented block of steps below it")
        if depth >= MAX_DEPTH:
            raise self.error(line, line.offset + 1, f"blocks are nested deeper than {MAX_DEPTH} levels")
        reported = len(self.errors)
        steps = self.block(self.lines[self.pos].indent, depth + 1)
        if not steps and len(self.errors) > reported:
            raise _Reported  # its lines failed and were reported: no second error for the header
        if not steps:
            raise self.error(line, line.offset + 1, "a block needs at least one step")
        return tuple(steps)

    def statement(self, line: Line, depth: int) -> Step | None:
        tokens = [Token(m.group(0), line.offset + m.start() + 1) for m in _TOKEN.finditer(line.text)]
        keyword = tokens[0].text
        if keyword in DECLARATIONS:
            if depth:
                raise self.error(line, line.offset + 1, "declarations (process, env, endpoint, cluster) go at the top level, not in a block")
            {"process": self.declare_process, "env": self.declare_env, "endpoint": self.declare_endpoint,
             "cluster": self.declare_cluster}[keyword](line, tokens)
            return None
        specs: list[Spec[Step]] = [spec for spec in REGISTRY.values() if keyword in spec.keywords]
        if not specs:
            raise self.error(line, tokens[0].column,
                             f"unknown statement {keyword!r}: expected one of {', '.join([*DECLARATIONS, *keywords()])}")
        spec = next((spec for spec in specs if spec.accepts(tokens)), None)
        if spec is None:
            usages = " or ".join(f"`{spec.usage}`" for spec in specs)
            raise self.error(line, tokens[-1].column if len(tokens) > 1 else tokens[0].column, f"expected {usages}")
        return spec.parse(Cursor(self, line, depth), tokens)

    # --- declarations (not steps: they name what the steps talk to) ---------------------------

    def _named_colon(self, line: Line, tokens: list[Token], what: str) -> tuple[str, str]:
        name, sep, rest = line.text.partition(" ")[2].partition(":")
        if not sep or not name.strip() or not rest.strip():
            raise self.error(line, tokens[0].column, f"expected `{tokens[0].text} NAME: {what}`")
        return name.strip(), rest.strip()

    def split_command(self, line: Line, text: str, column: int) -> list[str]:
        try:
            argv = shlex.split(text)
        except ValueError as error:
            raise self.error(line, column, f"cannot split the command: {error}") from error
        if not argv:
            raise self.error(line, column, "missing command")
        return argv

    def declare_process(self, line: Line, tokens: list[Token]) -> None:
        name, command = self._named_colon(line, tokens, "COMMAND ARGS...")
        argv = self.split_command(line, command, line.offset + line.text.index(":") + 2)
        self.scenario.process(name, argv, where=Location(self.path, line.number, tokens[1].column))

    def declare_env(self, line: Line, tokens: list[Token]) -> None:
        if len(tokens) < 3:
            raise self.error(line, tokens[0].column, "expected `env PROCESS KEY=VALUE...`")
        values = {}
        for match in _ENV_WORD.finditer(line.text, tokens[2].column - line.offset - 1):
            column = line.offset + match.start() + 1
            word = self._env_part(line, match.group(0), column)
            key, sep, value = word.partition("=")
            if not sep or not key:
                raise self.error(line, column, f"{word!r}: expected KEY=VALUE")
            values[key] = self._env_part(line, value, column + len(key) + 1) if word == match.group(0) else value
            if key == "GOFAIL_FAILPOINTS" and "{" not in values[key]:  # with a placeholder: checked at start
                self._check_failpoints_env(line, values[key], column)
        name = tokens[1].text
        if name not in self.scenario.processes:
            raise self.error(line, tokens[1].column, f"no process {name!r} declared")
        self.scenario.env(name, **values)

    def _check_failpoints_env(self, line: Line, value: str, column: int) -> None:
        from gofail_py.terms import failpoints_env

        try:
            failpoints_env(value)
        except TermSyntaxError as error:
            entry = f"{error.name}={error.text}" if error.name else error.text
            raise self.error(line, column, f"GOFAIL_FAILPOINTS: entry {entry!r}: {error.message}") from None

    def _env_part(self, line: Line, text: str, column: int) -> str:
        """A word or a value as written, or read like one shell word when it starts with a quote:
        `GOFAIL_FAILPOINTS=fp=return("x")` keeps its quotes, `A="a b"` and `'A=a b'` lose them."""
        if not text.startswith(("'", '"')):
            return text
        words = self.split_command(line, text, column)
        if len(words) != 1:
            raise self.error(line, column, f"{text!r}: expected one word")
        return words[0]

    def declare_endpoint(self, line: Line, tokens: list[Token]) -> None:
        name, address = self._named_colon(line, tokens, "HOST:PORT")
        from gofail_py.client.client import parse_endpoint

        try:
            parse_endpoint(address)
        except NoEndpoint as error:
            raise self.error(line, tokens[-1].column, str(error)) from error
        self.scenario.endpoint(name, address, where=Location(self.path, line.number, tokens[1].column))

    def declare_cluster(self, line: Line, tokens: list[Token]) -> None:
        """`cluster c: m1 m2 m3` or `cluster c client port2: m1 m2 m3`."""
        usage = "expected `cluster NAME: MEMBER...` or `cluster NAME client PORT: MEMBER...`"
        colon = next((i for i, token in enumerate(tokens) if token.text.endswith(":") or token.text == ":"), None)
        if colon is None:
            raise self.error(line, tokens[0].column, usage)
        head = [*tokens[1:colon], Token(tokens[colon].text[:-1], tokens[colon].column)]
        head = [token for token in head if token.text]
        members = tokens[colon + 1:]
        if len(head) not in (1, 3) or (len(head) == 3 and head[1].text != "client") or not members:
            raise self.error(line, (members[0] if members and len(head) in (1, 3) else tokens[0]).column, usage)
        where = Location(self.path, line.number, head[0].column)
        self.scenario.cluster(head[0].text, *(member.text for member in members),
                              client=head[2].text if len(head) == 3 else "port", where=where)

    def declare_alias(self, name: str, role: str, where: Location) -> None:
        self.scenario.declare_alias(name, role, where)


def parse_scenario(text: str, path: str = "<string>") -> Scenario:
    """Parses and validates a scenario; ScenarioSyntaxError (ScenarioSyntaxErrors for several)."""
    return _Parser(text, path).parse()


def load_scenario(path: str | Path) -> Scenario:
    """Reads and parses a scenario file (UTF-8)."""
    return parse_scenario(read_scenario_text(path), str(path))


def read_scenario_text(path: str | Path) -> str:
    """A scenario file's text: a regular UTF-8 file of sane size, or a located/file error."""
    try:
        if not Path(path).is_file() and Path(path).exists():
            raise ScenarioFileError(f"{path}: not a regular file")  # /dev/zero or a FIFO would never end
        with open(path, "rb") as file:
            raw = file.read(MAX_FILE_SIZE + 1)
        if len(raw) > MAX_FILE_SIZE:
            raise ScenarioFileError(f"{path}: larger than {MAX_FILE_SIZE // 1_000_000} MB; not a scenario")
    except FileNotFoundError as error:
        raise ScenarioFileError(f"{path}: no such file") from error
    except OSError as error:
        raise ScenarioFileError(f"{path}: cannot read: {error.strerror or error}") from error
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        line = raw.count(b"\n", 0, error.start) + 1
        column = error.start - (raw.rfind(b"\n", 0, error.start) + 1) + 1
        raise ScenarioSyntaxError(str(path), line, column, "invalid UTF-8; a scenario file must be UTF-8") from error
    return text
