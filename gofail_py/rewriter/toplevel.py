"""Where a Go file's top-level declarations begin, found by a cheap lexer over the bytes, so that a
parse can skip the declarations without gofail text (docs/speed.md, "Cold path").

A boundary is a line that starts with a declaration keyword at column 0 where the lexer, having
read everything before it, is outside every comment and literal, at bracket depth 0, and right
after a token that can end a declaration. Anything the lexer is unsure of makes the caller parse
the whole file: exactness over speed.
"""

from __future__ import annotations

import re

# Comments and literals, whole: what may hold brackets, quotes or keyword lines that are not code.
# An open one (no end before the line's or the span's end) matches too, in a named group that
# marks the span as unsure: a start that failed to match would be tried again at the next byte,
# each try reading to the end again (quadratic, where a span ends inside a raw string).
_LITERALS = re.compile(  # an escape never takes a newline: Go ends (and rejects) the literal there
    rb'//[^\n]*|/\*.*?(?:\*/|(?P<comment>\Z))'
    rb'|"[^"\\\n]*(?:\\[^\n][^"\\\n]*)*(?:"|(?P<string>))|`[^`]*(?:`|(?P<raw>))'
    rb'|\'[^\'\\\n]*(?:\\[^\n][^\'\\\n]*)*(?:\'|(?P<rune>))',
    re.DOTALL,
)
# Candidate boundaries; the leading newline lets the regex engine scan for it fast.
_KEYWORD_LINE = re.compile(rb"\n(?:func|var|const|type|import|package)\b")
_PACKAGE = re.compile(rb"package\b")
# The last character of a declaration: `}` `)` `;`, an identifier, a number or a literal (which
# reads as `0`). After anything else (`var f =` above a `func` line) the line below continues it.
# `]` is not one: Go ends a line there, but tree-sitter reads `var v = []` on into a `func() {`
# line below as one composite literal (the file does not compile; the whole parse has no error).
_ENDINGS = frozenset(b"});_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
# ...but not a keyword: Go ends a line with a semicolon after break/continue/fallthrough/return only,
# so `var s = []chan` goes on with the `func() {...}` line below it (a word ending in one, like
# `échan`, reads as one too: unsure, never wrong).
_KEYWORD_LAST = re.compile(
    rb"(?<![A-Za-z0-9_])(?:case|chan|const|default|defer|else|for|func|go|goto|if|import|interface|map|package"
    rb"|range|select|struct|switch|type|var)\Z"
)
_FUNC_LAST = re.compile(rb"(?<![A-Za-z0-9_])func\Z")
_CLOSE_PAREN = ord(")")
_UNSURE = (b'"', b"'", b"`", b"/*")
_SLASH = ord("/")
_BRACKETS = ((b"{", b"}"), (b"(", b")"), (b"[", b"]"))
# A failed boundary test is lexed again from the same start at the next one; past this many bytes
# lexed per byte of the file (raw strings full of keyword lines) the whole parse is cheaper.
_MAX_RELEX = 3


def _blank(literal: re.Match[bytes]) -> bytes:
    """A comment reads as a space; a literal as `0`, which (like it) can end a declaration; an
    open one as a quote (unsure)."""
    if literal.lastgroup is not None:
        return b'"'
    return b" " if literal.group()[0] == _SLASH else b"0"


def _closes(span: bytes) -> bool:
    """True when lexing `span` from a clean state ends clean: every comment and literal closed,
    brackets balanced, and a token that ends a declaration last (or nothing but comments)."""
    code = _LITERALS.sub(_blank, span)
    if any(mark in code for mark in _UNSURE):
        return False
    if any(code.count(open_) != code.count(close) for open_, close in _BRACKETS):
        return False
    code = code.rstrip()
    if not code:
        return True
    if code[-1] == _CLOSE_PAREN:  # a call, a block; not the parameters or results of a func type,
        before = code[: _opening(code)].rstrip()  # which tree-sitter reads on as `var v = []func()` does
        return not (before.endswith(b")") or _FUNC_LAST.search(before, len(before) - 5))
    return code[-1] in _ENDINGS and _KEYWORD_LAST.search(code, len(code) - 12) is None


def _opening(code: bytes) -> int:
    """Where the `(` is that the last `)` of code closes (blanked: its brackets are all code's)."""
    depth, close, open_ = 0, len(code) - 1, code.rfind(b"(")
    while open_ >= 0:
        if close > open_:
            depth += 1
            close = code.rfind(b")", 0, close)
        else:
            depth -= 1
            if depth == 0:
                return open_
            open_ = code.rfind(b"(", 0, open_)
    return 0


def _needle_at(source: bytes, needles: tuple[bytes, ...]) -> list[int]:
    """Where the needles are, in order."""
    found = []
    for needle in needles:
        position = source.find(needle)
        while position >= 0:
            found.append(position)
            position = source.find(needle, position + 1)
    return sorted(found)


def ranges_to_parse(source: bytes, needles: tuple[bytes, ...]) -> list[tuple[int, int]] | None:
    """The byte ranges a parse needs to see every node near the needles: the package clause, and
    each top-level declaration holding a needle (with the comments after it), line-aligned,
    adjacent ones merged. None when the whole file must be parsed: the lexer is unsure, or no
    line starts with the package clause.

    Every byte is lexed once, but only candidates next to a declaration with a needle are tested
    as boundaries: the others are never needed (a long run of them is lexed in one piece)."""
    candidates = [0, *[match.start() + 1 for match in _KEYWORD_LINE.finditer(source)], len(source)]
    # raw segment by raw segment, parsed or not: the package clause (every line that starts with
    # `package`: one may stand in a comment above it), the comments above it only with a needle
    wanted = [bool(_PACKAGE.match(source, start)) for start in candidates[:-1]]
    if not any(wanted):
        return None
    segment = 0
    for position in _needle_at(source, needles):
        while candidates[segment + 1] <= position:
            segment += 1
        wanted[segment] = True
    ranges: list[tuple[int, int]] = []
    start, lexed, holds_needle = 0, 0, False  # the span since the last boundary
    for index in range(1, len(candidates)):
        boundary = candidates[index]
        holds_needle = holds_needle or wanted[index - 1]
        last = index == len(candidates) - 1
        if not (last or holds_needle or wanted[index]):
            continue  # no declaration next to it is parsed: no need to know whether it is a boundary
        lexed += boundary - start
        if lexed > _MAX_RELEX * len(source):
            return None
        if not _closes(source[start:boundary]):
            if last:
                return None
            continue
        if holds_needle:
            if ranges and ranges[-1][1] == start:
                ranges[-1] = (ranges[-1][0], boundary)
            else:
                ranges.append((start, boundary))
        start, holds_needle = boundary, False
    return ranges
