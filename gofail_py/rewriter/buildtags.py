"""A Go file's build constraints as the go tool reads them: the `//go:build` and `// +build` lines
of its header (copied onto the file's binding, so the binding builds exactly when its file may),
and whether two files can ever build together (a failpoint name may stand in two files that
cannot: `x_linux.go` and `x_other.go` with `//go:build !linux`). Pure: bytes and names in.

The header is read as go/build's parseFileHeader reads it: `//go:build` anywhere in the comments
before the package clause, `// +build` only in the comment blocks a blank line separates from it.
Tags are free variables, as they are to the go tool (`-tags linux` makes `linux` true on any
GOOS; a `_linux.go` name suffix is matched the same way): two files are apart only when no
assignment of their tags builds both.
"""

from __future__ import annotations

import re
from itertools import product
from typing import Union

_GO_BUILD = b"//go:build"
_TAG = re.compile(r"[\w.]+")  # letters and digits (Unicode too), _ and .
_TOKEN = re.compile(r"\s*(\(|\)|!|&&|\|\||[\w.]+)")
# Go's internal/syslist: the GOOS and GOARCH values a file name suffix is read as
KNOWN_OS = frozenset("aix android darwin dragonfly freebsd hurd illumos ios js linux nacl netbsd openbsd plan9 "
                     "solaris wasip1 windows zos".split())
KNOWN_ARCH = frozenset("386 amd64 amd64p32 arm armbe arm64 arm64be loong64 mips mipsle mips64 mips64le mips64p32 "
                       "mips64p32le ppc ppc64 ppc64le riscv riscv64 s390 s390x sparc sparc64 wasm".split())
MAX_TAGS = 16  # more distinct tags in two constraints than this: not proven apart (2^16 assignments)
# bigger or deeper expressions are not read (not proven apart): the checks recurse over them, and
# real constraints are a few tags long (the go tool itself stops at 1000 operators)
_MAX_TOKENS = 400
_MAX_DEPTH = 100

# an expression: a tag name, or ("!", x), ("&&", x, y), ("||", x, y); True: no constraint
Expr = Union[str, bool, tuple["Expr", ...]]  # noqa: UP007 - a recursive alias needs the string form


def _is_go_build(line: bytes) -> bool:
    rest = line[len(_GO_BUILD):]
    return line.startswith(_GO_BUILD) and (not rest or rest[:1] in (b" ", b"\t"))


def _plus_build(line: bytes) -> bytes | None:
    """The expression of a `// +build` line (constraint.splitPlusBuild), or None."""
    if not line.startswith(b"//"):
        return None
    rest = line[2:].strip()
    if not rest.startswith(b"+build"):
        return None
    rest = rest[len(b"+build"):]
    if rest and rest[:1] not in (b" ", b"\t"):
        return None  # `+buildsomething`
    return rest.strip()


def header_lines(source: bytes) -> tuple[bytes | None, list[bytes]]:
    """The file's `//go:build` line (the first: the go tool refuses a second) and its `// +build`
    lines, as the go tool finds them before the package clause."""
    go_build: bytes | None = None
    plus: list[tuple[int, bytes]] = []
    end = pos = 0
    ended = in_star = False
    while pos < len(source):
        newline = source.find(b"\n", pos)
        stop = len(source) if newline < 0 else newline + 1
        line, pos = source[pos:stop].strip(), stop
        if not line and not ended:
            end = pos  # the last blank line before the first code: +build lines count above it
            continue
        if not line.startswith(b"//"):
            ended = True
        if not in_star and _is_go_build(line) and go_build is None:
            go_build = line
        if not in_star and _plus_build(line) is not None:
            plus.append((pos, line))
        while line:  # the rest of the line: comments, or the first code (the header ends)
            if in_star:
                close = line.find(b"*/")
                if close < 0:
                    break
                in_star, line = False, line[close + 2:].strip()
            elif line.startswith(b"//"):
                break
            elif line.startswith(b"/*"):
                in_star, line = True, line[2:].strip()
            else:
                return go_build, [text for at, text in plus if at <= end]
    return go_build, [text for at, text in plus if at <= end]


def constraint_lines(source: bytes) -> tuple[str, ...]:
    """What a binding copies: the file's `//go:build` line and its `// +build` lines (as the file
    holds them: they agree there, so they agree in the binding), or its `// +build` lines alone."""
    go_build, plus = header_lines(source)
    lines = ([go_build] if go_build is not None else []) + plus
    return tuple(line.decode("utf-8", "replace") for line in lines)


# --- whether two files can build together ------------------------------------------------------


class _Parser:
    def __init__(self, text: str) -> None:
        self.tokens: list[str] = []
        position = 0
        text = text.rstrip()
        while position < len(text):
            match = _TOKEN.match(text, position)
            if match is None:
                raise ValueError(text)
            self.tokens.append(match.group(1))
            position = match.end()
            if len(self.tokens) > _MAX_TOKENS:
                raise ValueError("too long")
        self.at = 0
        self.depth = 0

    def parse(self) -> Expr:
        expr = self._or()
        if self.at != len(self.tokens):
            raise ValueError("trailing tokens")
        return expr

    def _next(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def _or(self) -> Expr:
        expr = self._and()
        while self._next() == "||":
            self.at += 1
            expr = ("||", expr, self._and())
        return expr

    def _and(self) -> Expr:
        expr = self._not()
        while self._next() == "&&":
            self.at += 1
            expr = ("&&", expr, self._not())
        return expr

    def _not(self) -> Expr:
        token = self._next()
        self.at += 1
        if token in ("!", "("):
            self.depth += 1
            if self.depth > _MAX_DEPTH:
                raise ValueError("too deep")
        if token == "!":
            expr: Expr = ("!", self._not())
            self.depth -= 1
            return expr
        if token == "(":
            expr = self._or()
            if self._next() != ")":
                raise ValueError("unclosed (")
            self.at += 1
            self.depth -= 1
            return expr
        if token is None or token in (")", "&&", "||"):
            raise ValueError("tag expected")
        return token


def _plus_expr(text: bytes) -> Expr:
    """`a,!b c` of a +build line: an OR of ANDs; a word that is not a tag (and an empty line)
    reads as the tag `ignore`, as constraint.parsePlusBuildExpr has it."""
    options: Expr | None = None
    if text.count(b",") + text.count(b" ") > _MAX_TOKENS:
        raise ValueError("too long")
    for option in text.decode("utf-8", "replace").split():
        terms: Expr | None = None
        for word in option.split(","):
            term: Expr
            if word.startswith("!!") or word == "!":
                term = "ignore"
            else:
                tag = word.removeprefix("!")
                term = tag if _TAG.fullmatch(tag) else "ignore"
                if word.startswith("!"):
                    term = ("!", term)
            terms = term if terms is None else ("&&", terms, term)
        if terms is not None:
            options = terms if options is None else ("||", options, terms)
    return "ignore" if options is None else options


def _and(left: Expr, right: Expr) -> Expr:
    return right if left is True else left if right is True else ("&&", left, right)


def name_tags(file_name: str) -> Expr:
    """The constraint a `_GOOS`, `_GOARCH` or `_GOOS_GOARCH` name suffix sets (go/build's
    goodOSArchFile: the name up to its first dot, from its first `_`, a `_test` suffix aside)."""
    stem = file_name.split(".", 1)[0]
    if "_" not in stem:
        return True
    parts = stem[stem.index("_"):].split("_")
    if parts[-1] == "test":
        parts = parts[:-1]
    if len(parts) >= 2 and parts[-2] in KNOWN_OS and parts[-1] in KNOWN_ARCH:
        return ("&&", parts[-2], parts[-1])
    if parts and (parts[-1] in KNOWN_OS or parts[-1] in KNOWN_ARCH):
        return parts[-1]
    return True


def file_constraint(source: bytes, file_name: str) -> Expr | None:
    """When the file builds, as an expression over tags; None when its constraint does not parse
    (the go tool refuses the file then: nothing is proven about it)."""
    go_build, plus = header_lines(source)
    try:
        expr: Expr = True
        if go_build is not None:
            expr = _Parser(go_build[len(_GO_BUILD):].decode("utf-8", "replace")).parse()
        else:
            for line in plus:
                expr = _and(expr, _plus_expr(_plus_build(line) or b""))
    except ValueError:
        return None
    return _and(name_tags(file_name), expr)


def _tags(expr: Expr, into: set[str]) -> set[str]:
    if isinstance(expr, str):
        into.add(expr)
    elif isinstance(expr, tuple):
        for part in expr[1:]:
            _tags(part, into)
    return into


def _holds(expr: Expr, true: set[str]) -> bool:
    if isinstance(expr, bool):
        return expr
    if isinstance(expr, str):
        return expr in true
    if expr[0] == "!":
        return not _holds(expr[1], true)
    if expr[0] == "&&":
        return _holds(expr[1], true) and _holds(expr[2], true)
    return _holds(expr[1], true) or _holds(expr[2], true)


def apart(first: Expr | None, second: Expr | None) -> bool:
    """True when no choice of tags builds both (so a name may be registered in each)."""
    if first is None or second is None:
        return False
    tags = sorted(_tags(first, set()) | _tags(second, set()))
    if len(tags) > MAX_TAGS:
        return False
    for values in product((False, True), repeat=len(tags)):
        true = {tag for tag, value in zip(tags, values) if value}
        if _holds(first, true) and _holds(second, true):
            return False
    return True
