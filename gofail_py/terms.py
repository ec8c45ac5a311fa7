"""The failpoint term language of the gofail runtime v0.2.0: parse (with its quirks), normalise, build."""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field

from gofail_py.errors import TermSyntaxError

ACTIONS = ("off", "return", "sleep", "panic", "break", "print")
_DIGITS = re.compile(r"[0-9]+")
_INT_VALUE = re.compile(r"[ \t]*([+-]?[0-9]+)")
# `sleep(1s)` as people write it: an unquoted Go duration, which the runtime cannot parse.
_FRIENDLY_SLEEP = re.compile(r"sleep\(((?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h)(?:(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:ns|us|µs|μs|ms|s|m|h))*)\)")
_INT64_MAX = 2**63 - 1
_UNIT_TAIL = re.compile(r"([^\W\d]+)(\)?)")
_DURATION_UNITS = ("ns", "us", "µs", "μs", "ms", "s", "m", "h")
_LINE_BREAK = re.compile("[\n\r\v\f\x1c\x1d\x1e\x85\u2028\u2029]")
_BOOL_VALUE = re.compile(r"([tT](?![rR])|[tT][rR][uU][eE])|[fF](?![aA])|[fF][aA][lL][sS][eE]")


def _int64(digits: str) -> int | None:
    """The value of `[+-]?[0-9]+` when a Go int holds it, else None. Never int() of thousands of
    digits: Python refuses more than 4,300 with a ValueError."""
    sign = -1 if digits.startswith("-") else 1
    body = digits.lstrip("+-").lstrip("0") or "0"
    if len(body) > 19:
        return None
    value = sign * int(body)
    return value if -(2**63) <= value <= _INT64_MAX else None


def _shown_number(digits: str) -> str:
    return digits if len(digits) <= 24 else f"{digits[:12]}... ({len(digits)} digits)"


class _NoValue:
    """The value of a term written without parentheses, like `panic`."""

    def __repr__(self) -> str:
        return "NO_VALUE"


NO_VALUE = _NoValue()
Value = int | str | bool | None | _NoValue  # None: `()`, which the runtime reads as struct{}{}


@dataclass(frozen=True)
class Term:
    """One term of a chain: modifiers, an action, a value; ``text`` is exactly as written."""

    text: str
    action: str
    value: Value = NO_VALUE
    count: int | None = None  # `N*`: fires at most N times
    percent: float | None = None  # `P%`: fires with probability P percent


@dataclass(frozen=True)
class ParsedTerms:
    """A terms string the runtime accepts, as its chain of terms."""

    text: str
    terms: tuple[Term, ...]


class _Parser:
    """Follows the runtime's parser step by step, so both accept the same strings."""

    def __init__(self, text: str, strict: bool) -> None:
        self.text = text
        self.pos = 0
        # strict: also refuse what the runtime accepts but misreads (`sleep(1s` sleeps 1 ms)
        self.strict = strict

    def fail(self, message: str, pos: int | None = None) -> TermSyntaxError:
        return TermSyntaxError(self.text, (self.pos if pos is None else pos) + 1, message)

    def parse(self) -> ParsedTerms:
        if not self.text:
            raise self.fail("empty terms: expected an action (off, return, sleep, panic, break, print)")
        terms = []
        while self.pos < len(self.text):
            terms.append(self.term())
            rest = self.text[self.pos:]
            if rest.startswith("->"):
                self.pos += 2  # the runtime also takes a trailing `->`
            elif rest:
                raise self.fail(f"expected `->` between terms, found {rest[:1]!r}")
        return ParsedTerms(self.text, tuple(terms))

    def term(self) -> Term:
        start = self.pos
        count, percent = self.modifiers()
        action = next((a for a in ACTIONS if self.text.startswith(a, self.pos)), None)
        if action is None:
            raise self.fail("expected an action: off, return, sleep, panic, break or print")
        self.pos += len(action)
        value = self.value(action)
        return Term(self.text[start:self.pos], action, value, count, percent)

    def modifiers(self) -> tuple[int | None, float | None]:
        count: int | None = None
        percent: float | None = None
        while True:
            digits = _DIGITS.match(self.text, self.pos)
            if digits is None:
                return count, percent
            end = digits.end()
            is_float = end < len(self.text) and self.text[end] == "."
            if is_float:
                fraction = _DIGITS.match(self.text, end + 1)
                end = fraction.end() if fraction else end + 1
            number = self.text[self.pos:end]
            if end >= len(self.text):
                raise self.fail(f"{number!r} needs `*` (a count) or `%` (a percentage) and then an action")
            if is_float:
                if self.text[end] != "%":
                    raise self.fail(f"a decimal number is a percentage: expected `%` after {number!r}", end)
                percent = float(number)
            else:
                if self.text[end] == "%":
                    raise self.fail(
                        f"the runtime reads {number}% as a count missing its `*`: write a percentage as a "
                        f"decimal, {number}.0%",
                        end,
                    )
                if self.text[end] != "*":
                    raise self.fail(f"expected `*` after the count {number!r}", end)
                count = _int64(number)
                if count is None:
                    raise self.fail(f"count {_shown_number(number)} is too large (at most {_INT64_MAX})", self.pos)
            self.pos = end + 1

    def value(self, action: str) -> Value:
        text, pos = self.text, self.pos
        if pos >= len(text) or text[pos] != "(":
            return NO_VALUE
        if pos + 1 >= len(text):
            raise self.fail("`(` is not closed")
        if text[pos + 1] == ")":
            self.pos += 2
            return None
        value: Value
        inner = pos + 1
        if text[inner] in "\"`":
            value, width = self.quoted(inner)
        else:
            number = _INT_VALUE.match(text, inner)
            if number is not None:
                fits = _int64(number.group(1))
                if fits is None:
                    raise self.fail(f"integer {_shown_number(number.group(1))} does not fit in an int", inner)
                value = fits
                if number.group(0) != str(value):
                    raise self.fail(f"write the integer as {value}: the runtime takes only canonical integers", inner)
                width = len(str(value))
            elif (boolean := _BOOL_VALUE.match(text, inner)) is not None:
                # Go's %t reads t/T/f/F and an optional rest of the word, in any case; the runtime
                # then skips len("true") or len("false") characters whatever was written.
                value = boolean.group(1) is not None
                width = 4 if value else 5
                if self.strict and len(boolean.group(0)) != width:
                    raise self.fail(f"write the boolean as {str(value).lower()}", inner)
            else:
                raise self.fail("expected a value: an integer, a quoted string, true or false", inner)
        # The runtime takes the value's width plus one more character as its `)`, whatever that
        # character is: `return(5x` returns 5. We accept what it accepts.
        close = inner + width
        if self.strict and (close >= len(text) or text[close] != ")"):
            raise self.strict_close_error(action, value, close)
        if close >= len(text):
            raise self.fail("`(` is not closed", close)
        self.pos = close + 1
        return value

    def strict_close_error(self, action: str, value: Value, close: int) -> TermSyntaxError:
        """Where the runtime would take any character as the `)`, say what is really wrong."""
        text = self.text
        unit = _UNIT_TAIL.match(text, close)
        if action == "sleep" and isinstance(value, int) and unit is not None:
            if unit.group(1) not in _DURATION_UNITS:
                return self.fail(f"unknown duration unit {unit.group(1)!r}: use ns, us, ms, s, m or h", close)
            if unit.group(2) != ")":
                return self.fail(f"`sleep(` is not closed: write sleep({value}{unit.group(1)})", unit.end(1))
        if close >= len(text):
            return self.fail("`(` is not closed: expected `)`", close)
        return self.fail(f"expected `)` after the value, found {text[close]!r}", close)

    def quoted(self, start: int) -> tuple[str, int]:
        """A quoted value and its width; the runtime measures the unquoted text, so no escapes."""
        quote = self.text[start]
        end = self.text.find(quote, start + 1)
        if quote == '"':
            backslash = self.text.find("\\", start + 1)
            if backslash != -1 and (end == -1 or backslash < end):
                raise self.fail(
                    "escape sequences in quoted values are not supported by the runtime v0.2.0 "
                    "(use a `raw` string)",
                    backslash,
                )
        if end == -1:
            raise self.fail("string is not closed", start)
        content = self.text[start + 1:end]
        if "\r" in content:
            raise self.fail("a carriage return in a value is not supported by the runtime v0.2.0", start)
        return content, len(content) + 2


def parse_terms(text: str, *, runtime_exact: bool = False) -> ParsedTerms:
    """Parses a terms string; TermSyntaxError if the runtime v0.2.0 would refuse or misread it.

    ``runtime_exact=True`` accepts exactly what the runtime accepts, including what it misreads:
    an unclosed `sleep(1s` (it sleeps 1 ms) or `return(5x` (any character closes a value).
    """
    return _Parser(text, strict=not runtime_exact).parse()


def normalize_terms(text: str | Terms, *, raw: bool = False) -> str:
    """The string to send: `sleep(1s)` becomes `sleep("1s")`, the rest is unchanged but checked.

    ``raw=True`` returns the text unchanged and unchecked by the grammar, for the runtime's own
    reading; a line break is refused all the same (``one_entry``).
    """
    if not isinstance(text, (str, Terms)):
        raise TypeError(f"terms must be a str or gofail_py.Terms, not {type(text).__name__} {text!r}"[:120])
    text = one_entry(str(text))
    return text if raw else _normalized(text)


def one_entry(text: str) -> str:
    """``text`` unless a reader of the runtime's answers would take it for more than one failpoint.

    The runtime stores a PUT body whole, but lists failpoints one per line (`GET /`, as `ls` and
    ``Client.list`` read it): terms holding a newline show, after it, a failpoint nobody set (the
    rest of the value reads `slowWrite=sleep(99999)`). Every character some reader breaks lines
    at (str.splitlines) is refused, in raw terms too. `;` and `=` split only a PUT /failpoints body
    and GOFAIL_FAILPOINTS: the client sends terms holding them one by one (Client.enable_many).
    """
    found = _LINE_BREAK.search(text)
    if found is not None:
        raise TermSyntaxError(
            text, found.start() + 1,
            f"a newline or other line break ({found.group(0)!r}) in terms: the runtime lists one failpoint per line, "
            "so the text after it would read as another failpoint",
        )
    return text


def failpoints_env(value: str) -> dict[str, str]:
    """GOFAIL_FAILPOINTS (`a=terms;b=terms`) read as runtime v0.2.0 reads it at start-up, checked.

    The runtime splits at every `;` first, then each entry at `=`: a `;` or `=` inside one
    entry's value makes the text after it an entry of its own (`a=return(5x;b=panic;c=)` arms
    b). An entry that is not NAME=TERMS ends the process at start; terms it cannot parse are
    ignored silently, or crash it (a cut string). TermSyntaxError names the entry.
    """
    from gofail_py.names import is_go_identifier

    entries: dict[str, str] = {}
    for entry in value.split(";"):
        if not entry:
            continue
        parts = entry.split("=")
        if len(parts) != 2 or not is_go_identifier(parts[0]):
            raise TermSyntaxError(entry, 1, "not NAME=TERMS (the runtime splits GOFAIL_FAILPOINTS at every `;`, "
                                            "then at `=`: neither may appear inside terms there)", None)
        try:
            normalize_terms(parts[1])
        except TermSyntaxError as error:
            raise TermSyntaxError(error.text, error.column, error.message + " (the runtime splits GOFAIL_FAILPOINTS "
                                  "at every `;`: one may not appear inside terms there)", parts[0]) from None
        entries[parts[0]] = parts[1]
    return entries


@functools.lru_cache(maxsize=1024)
def _normalized(text: str) -> str:  # pure, and asked for the same few terms again and again
    normalized = _FRIENDLY_SLEEP.sub(lambda m: f'sleep("{m.group(1)}")', text)
    parse_terms(normalized)
    return normalized


# --- building terms in programs -------------------------------------------------------------


def _render_value(value: Value) -> str:
    if isinstance(value, _NoValue):
        return ""
    if value is None:
        return "()"
    if isinstance(value, bool):
        return f"({str(value).lower()})"
    if isinstance(value, int):
        return f"({value})"
    if "\\" not in value and '"' not in value and value.isprintable():
        return f'("{value}")'
    if "`" not in value and "\r" not in value:
        return f"(`{value}`)"  # the runtime cannot read escapes, but takes raw strings
    raise TermSyntaxError(value, 1, "the runtime v0.2.0 cannot take a string holding both a backquote and an escape")


def _render_percent(percent: float) -> str:
    text = repr(float(percent))
    return text if "e" not in text else f"{percent:.10f}".rstrip("0")


@dataclass(frozen=True)
class _Spec:
    action: str
    value: Value = NO_VALUE
    count: int | None = None
    percent: float | None = None

    def render(self) -> str:
        mods = (f"{_render_percent(self.percent)}%" if self.percent is not None else "") + (
            f"{self.count}*" if self.count is not None else ""
        )
        return mods + self.action + _render_value(self.value)


@dataclass(frozen=True)
class Terms:
    """A chain of terms built in code: ``Terms.return_("x").times(2).then(Terms.off())``."""

    chain: tuple[_Spec, ...] = field(default_factory=tuple)

    @classmethod
    def _one(cls, action: str, value: Value = NO_VALUE) -> Terms:
        return cls((_Spec(action, value),))

    @classmethod
    def off(cls) -> Terms:
        return cls._one("off")

    @classmethod
    def return_(cls, value: Value = NO_VALUE) -> Terms:
        return cls._one("return", value)

    @classmethod
    def sleep(cls, duration: int | str) -> Terms:
        """Milliseconds as an int, or a Go duration string such as "1s"."""
        return cls._one("sleep", duration)

    @classmethod
    def panic(cls, message: str | None = None) -> Terms:
        return cls._one("panic", NO_VALUE if message is None else message)

    @classmethod
    def print_(cls) -> Terms:
        return cls._one("print")

    @classmethod
    def break_(cls) -> Terms:
        return cls._one("break")

    def _with_last(self, **changes: object) -> Terms:
        if not self.chain:
            raise ValueError("no term to modify")
        last = self.chain[-1]
        return Terms(self.chain[:-1] + (_Spec(**{**last.__dict__, **changes}),))

    def times(self, count: int) -> Terms:
        """Fire the last term at most ``count`` times."""
        return self._with_last(count=count)

    def percent(self, percent: float) -> Terms:
        """Fire the last term with probability ``percent`` percent."""
        return self._with_last(percent=percent)

    def then(self, other: Terms) -> Terms:
        """Move on to ``other`` once this chain's terms are used up."""
        return Terms(self.chain + other.chain)

    def __str__(self) -> str:
        return "->".join(spec.render() for spec in self.chain)


__all__ = ["ACTIONS", "NO_VALUE", "ParsedTerms", "Term", "Terms", "failpoints_env", "normalize_terms", "one_entry",
           "parse_terms"]
