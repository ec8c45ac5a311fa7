"""The scenario text format: text in, a validated Scenario out (errors as path:line:col: message)."""

from __future__ import annotations

import re
import shlex
from dataclasses import dataclass
from pathlib import Path

from gofail_py.errors import ScenarioSyntaxError, TermSyntaxError
from gofail_py.names import is_go_identifier
from gofail_py.scenario.model import COMPARISONS, Location, Scenario, parse_duration
from gofail_py.terms import normalize_terms

STATEMENTS = (
    "process", "env", "endpoint", "start", "stop", "kill", "restart", "set", "unset", "sleep", "run",
    "run?", "wait", "expect", "parallel:", "repeat", "choose",
)
_DECLARATIONS = ("process", "env", "endpoint")
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


@dataclass(frozen=True)
class _Line:
    number: int
    indent: int
    text: str  # without indentation and comment
    offset: int  # column (0-based) where text starts


@dataclass(frozen=True)
class _Token:
    text: str
    column: int  # 1-based


class _Parser:
    def __init__(self, text: str, path: str) -> None:
        self.path = path
        self.lines = self._lines(text)
        self.scenario = Scenario(name=Path(path).stem if path != "<string>" else "scenario")
        if path != "<string>":
            self.scenario.directory = str(Path(path).resolve().parent)
        self.pos = 0

    def _lines(self, text: str) -> list[_Line]:
        lines = []
        for number, raw in enumerate(text.splitlines(), start=1):
            if "\t" in raw[: len(raw) - len(raw.lstrip())]:
                raise ScenarioSyntaxError(self.path, number, 1, "indent with spaces, not tabs")
            content = strip_comment(raw).rstrip()
            stripped = content.lstrip(" ")
            if stripped:
                indent = len(content) - len(stripped)
                lines.append(_Line(number, indent, stripped, indent))
        return lines

    def error(self, line: _Line, column: int, message: str) -> ScenarioSyntaxError:
        return ScenarioSyntaxError(self.path, line.number, column, message)

    def where(self, line: _Line, column: int | None = None) -> Location:
        return Location(self.path, line.number, column or line.offset + 1)

    def tokens(self, line: _Line) -> list[_Token]:
        return [_Token(m.group(0), line.offset + m.start() + 1) for m in _TOKEN.finditer(line.text)]

    def parse(self) -> Scenario:
        self.block(0, top=True)
        return self.scenario

    def block(self, indent: int, top: bool = False) -> None:
        while self.pos < len(self.lines):
            line = self.lines[self.pos]
            if line.indent < indent:
                return
            if line.indent > indent:
                raise self.error(line, line.indent + 1, "unexpected indentation")
            self.pos += 1
            if not top and line.text.split(None, 1)[0] in _DECLARATIONS:
                raise self.error(line, line.offset + 1, "declarations (process, env, endpoint) go at the top level, not in a block")
            self.statement(line)

    def children(self, line: _Line) -> None:
        """The indented block after a `parallel:`, `repeat N:` or `choose:` line."""
        if self.pos >= len(self.lines) or self.lines[self.pos].indent <= line.indent:
            raise self.error(line, line.offset + 1, f"`{line.text}` needs an indented block of steps below it")
        self.block(self.lines[self.pos].indent)

    def statement(self, line: _Line) -> None:
        tokens = self.tokens(line)
        keyword = tokens[0].text
        handler = {
            "process": self.process, "env": self.env, "endpoint": self.endpoint, "start": self.lifecycle,
            "stop": self.lifecycle, "kill": self.lifecycle, "restart": self.lifecycle, "set": self.set,
            "unset": self.unset, "sleep": self.sleep, "run": self.run, "run?": self.run, "wait": self.wait,
            "expect": self.expect, "parallel:": self.parallel, "repeat": self.repeat, "choose": self.choose,
            "choose:": self.choose,
        }.get(keyword)
        if handler is None:
            raise self.error(line, tokens[0].column, f"unknown statement {keyword!r}: expected one of {', '.join(STATEMENTS)}")
        handler(line, tokens)

    # --- declarations ---------------------------------------------------------------------

    def _named_colon(self, line: _Line, tokens: list[_Token], what: str) -> tuple[str, str]:
        name, sep, rest = line.text.partition(" ")[2].partition(":")
        if not sep or not name.strip() or not rest.strip():
            raise self.error(line, tokens[0].column, f"expected `{tokens[0].text} NAME: {what}`")
        return name.strip(), rest.strip()

    def _split_command(self, line: _Line, text: str, column: int) -> list[str]:
        try:
            argv = shlex.split(text)
        except ValueError as error:
            raise self.error(line, column, f"cannot split the command: {error}") from error
        if not argv:
            raise self.error(line, column, "missing command")
        return argv

    def process(self, line: _Line, tokens: list[_Token]) -> None:
        name, command = self._named_colon(line, tokens, "COMMAND ARGS...")
        argv = self._split_command(line, command, line.offset + line.text.index(":") + 2)
        self.scenario.process(name, argv, where=self.where(line, tokens[1].column))

    def env(self, line: _Line, tokens: list[_Token]) -> None:
        if len(tokens) < 3:
            raise self.error(line, tokens[0].column, "expected `env PROCESS KEY=VALUE...`")
        values = {}
        for word in self._split_command(line, line.text.split(None, 2)[2], tokens[2].column):
            key, sep, value = word.partition("=")
            if not sep or not key:
                raise self.error(line, tokens[2].column, f"{word!r}: expected KEY=VALUE")
            values[key] = value
        name = tokens[1].text
        if name not in self.scenario.processes:
            raise self.error(line, tokens[1].column, f"no process {name!r} declared")
        self.scenario.env(name, **values)

    def endpoint(self, line: _Line, tokens: list[_Token]) -> None:
        name, address = self._named_colon(line, tokens, "HOST:PORT")
        from gofail_py.client import parse_endpoint
        from gofail_py.errors import NoEndpoint

        try:
            parse_endpoint(address)
        except NoEndpoint as error:
            raise self.error(line, tokens[-1].column, str(error)) from error
        self.scenario.endpoint(name, address, where=self.where(line, tokens[1].column))

    # --- steps --------------------------------------------------------------------------------

    def _arity(self, line: _Line, tokens: list[_Token], count: int, usage: str) -> None:
        if len(tokens) != count:
            column = tokens[count].column if len(tokens) > count else tokens[-1].column + len(tokens[-1].text)
            raise self.error(line, column, f"expected `{usage}`")

    def _duration(self, line: _Line, token: _Token) -> float:
        try:
            return parse_duration(token.text)
        except ValueError as error:
            raise self.error(line, token.column, str(error)) from error

    def _failpoint(self, line: _Line, token: _Token, name: str | None = None) -> str:
        name = token.text if name is None else name
        if not is_go_identifier(name):
            raise self.error(line, token.column, f"{name!r} is not a failpoint name (a Go identifier)")
        return name

    def _int(self, line: _Line, token: _Token, what: str) -> int:
        if not token.text.isdigit():
            raise self.error(line, token.column, f"{what} must be a whole number, not {token.text!r}")
        return int(token.text)

    def lifecycle(self, line: _Line, tokens: list[_Token]) -> None:
        verb = tokens[0].text
        self._arity(line, tokens, 2, f"{verb} PROCESS")
        where = self.where(line, tokens[1].column)
        getattr(self.scenario, verb)(tokens[1].text, where=where)

    def set(self, line: _Line, tokens: list[_Token]) -> None:
        if len(tokens) < 3:
            raise self.error(line, tokens[0].column, "expected `set TARGET NAME=TERMS... [for DURATION]`")
        duration = None
        words = tokens[2:]
        window = next((i for i, word in enumerate(words) if word.text == "for"), None)
        if window is not None and window != len(words) - 2:
            raise self.error(line, words[window].column, "`for` takes one duration and ends the line, like `for 3s`")
        if window is not None:
            duration = self._duration(line, words[-1])
            if duration <= 0:
                raise self.error(line, words[-1].column, "a `for` window must be longer than 0s")
            words = words[:-2]
        failpoints = {}
        for word in words:
            name, sep, terms = word.text.partition("=")
            if not sep or not name:
                raise self.error(line, word.column, f"{word.text!r}: expected NAME=TERMS")
            self._failpoint(line, word, name)
            try:
                failpoints[name] = normalize_terms(terms)
            except TermSyntaxError as error:
                raise self.error(line, word.column + len(name) + error.column, f"bad terms: {error.message}") from error
        self.scenario.set(tokens[1].text, failpoints, duration=duration, where=self.where(line, tokens[1].column))

    def unset(self, line: _Line, tokens: list[_Token]) -> None:
        if len(tokens) < 3:
            raise self.error(line, tokens[0].column, "expected `unset TARGET NAME...` or `unset TARGET all`")
        names = [t.text for t in tokens[2:]]
        if names != ["all"]:
            for token in tokens[2:]:
                self._failpoint(line, token)
        where = self.where(line, tokens[1].column)
        if names == ["all"]:
            self.scenario.unset(tokens[1].text, where=where)
        else:
            self.scenario.unset(tokens[1].text, *names, where=where)

    def sleep(self, line: _Line, tokens: list[_Token]) -> None:
        self._arity(line, tokens, 2, "sleep DURATION")
        self.scenario.sleep(self._duration(line, tokens[1]), where=self.where(line))

    def run(self, line: _Line, tokens: list[_Token]) -> None:
        allow_failure = tokens[0].text == "run?"
        background = len(tokens) > 1 and tokens[1].text == "background"
        first = tokens[2 if background else 1] if len(tokens) > (2 if background else 1) else None
        if first is None:
            raise self.error(line, tokens[-1].column, "expected a command after `run`")
        argv = self._split_command(line, line.text[first.column - line.offset - 1:], first.column)
        self.scenario.command(argv, allow_failure=allow_failure, background=background, where=self.where(line))

    def _comparison(self, line: _Line, tokens: list[_Token], at: int, usage: str) -> tuple[str, int]:
        if len(tokens) < at + 3 or tokens[at].text != "count" or tokens[at + 1].text not in COMPARISONS:
            culprit = at + 1 if len(tokens) > at + 1 and tokens[at].text == "count" else at
            column = tokens[min(culprit, len(tokens) - 1)].column
            raise self.error(line, column, f"expected `{usage}` with one of {' '.join(COMPARISONS)}")
        return tokens[at + 1].text, self._int(line, tokens[at + 2], "a count")

    def wait(self, line: _Line, tokens: list[_Token]) -> None:
        usage = "wait TARGET FAILPOINT count OP N [within DURATION]"
        op, value = self._comparison(line, tokens, 3, usage)
        self._failpoint(line, tokens[2])
        rest = tokens[6:]
        within = 10.0
        if rest:
            if len(rest) != 2 or rest[0].text != "within":
                raise self.error(line, rest[0].column, f"expected `{usage}`")
            within = self._duration(line, rest[1])
        self.scenario.wait_count(tokens[1].text, tokens[2].text, op, value, within, where=self.where(line, tokens[1].column))

    def expect(self, line: _Line, tokens: list[_Token]) -> None:
        if len(tokens) < 3:
            raise self.error(line, tokens[0].column, "expected `expect PROCESS exit|running` or `expect TARGET FAILPOINT count OP N`")
        where = self.where(line, tokens[1].column)
        if tokens[2].text == "running":
            self._arity(line, tokens, 3, "expect PROCESS running")
            self.scenario.expect_running(tokens[1].text, where=where)
        elif tokens[2].text == "exit":
            rest = tokens[3:]
            panic = bool(rest) and rest[0].text == "panic"
            rest = rest[1:] if panic else rest
            within = 5.0
            if rest:
                if len(rest) != 2 or rest[0].text != "within":
                    raise self.error(line, rest[0].column, "expected `expect PROCESS exit [panic] [within DURATION]`")
                within = self._duration(line, rest[1])
            self.scenario.expect_exit(tokens[1].text, panic, within, where=where)
        elif len(tokens) == 3:
            raise self.error(line, tokens[2].column, "expected `expect PROCESS exit|running` or `expect TARGET FAILPOINT count OP N`")
        else:
            op, value = self._comparison(line, tokens, 3, "expect TARGET FAILPOINT count OP N")
            self._failpoint(line, tokens[2])
            self._arity(line, tokens, 6, "expect TARGET FAILPOINT count OP N")
            self.scenario.expect_count(tokens[1].text, tokens[2].text, op, value, where=where)

    def parallel(self, line: _Line, tokens: list[_Token]) -> None:
        self._arity(line, tokens, 1, "parallel:")
        with self.scenario.parallel(self.where(line)):
            self.children(line)

    def repeat(self, line: _Line, tokens: list[_Token]) -> None:
        if len(tokens) != 2 or not tokens[1].text.endswith(":"):
            raise self.error(line, tokens[0].column, "expected `repeat N:`")
        times = self._int(line, _Token(tokens[1].text[:-1], tokens[1].column), "repeat's count")
        if times < 1:
            raise self.error(line, tokens[1].column, f"repeat needs a count of at least 1, not {times}")
        with self.scenario.repeat(times, self.where(line)):
            self.children(line)

    def choose(self, line: _Line, tokens: list[_Token]) -> None:
        seed = None
        if tokens[0].text != "choose:":
            if len(tokens) != 3 or tokens[1].text != "seed" or not tokens[2].text.endswith(":"):
                raise self.error(line, tokens[0].column, "expected `choose:` or `choose seed N:`")
            seed = self._int(line, _Token(tokens[2].text[:-1], tokens[2].column), "the seed")
        with self.scenario.choose(seed, self.where(line)):
            self.children(line)


def parse_scenario(text: str, path: str = "<string>") -> Scenario:
    """Parses and validates a scenario; ScenarioSyntaxError at the first problem."""
    return _Parser(text, path).parse()


def load_scenario(path: str | Path) -> Scenario:
    """Reads and parses a scenario file."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as error:
        raise ScenarioSyntaxError(str(path), 0, 0, f"cannot read: {error.strerror}") from error
    return parse_scenario(text, str(path))
