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
# Unterminated ones do not match, which leaves a quote behind that marks the span as unsure.
_LITERALS = re.compile(
    rb'//[^\n]*|/\*.*?\*/|"[^"\\\n]*(?:\\.[^"\\\n]*)*"|`[^`]*`|\'[^\'\\\n]*(?:\\.[^\'\\\n]*)*\'',
    re.DOTALL,
)
# Candidate boundaries; the leading newline lets the regex engine scan for it fast.
_KEYWORD_LINE = re.compile(rb"\n(?:func|var|const|type|import|package)\b")
_PACKAGE = re.compile(rb"package\b")
# The last character of a declaration: `}` `)` `]`, an identifier or a number. A literal is
# blanked before this check, so `var s = "x"` ends in `=` and is merged with what follows:
# a lost chance to skip, never a wrong boundary.
_ENDINGS = frozenset(b"})]_0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ")
_UNSURE = (b'"', b"'", b"`", b"/*")
_BRACKETS = ((b"{", b"}"), (b"(", b")"), (b"[", b"]"))
# Merged spans are lexed again from their start; past this many bytes lexed per byte of the file
# (raw strings full of keyword lines) the whole parse is cheaper.
_MAX_RELEX = 3


def _closes(span: bytes) -> bool:
    """True when lexing `span` from a clean state ends clean: every comment and literal closed,
    brackets balanced, and a token that ends a declaration last (or nothing but comments)."""
    code = _LITERALS.sub(b" ", span)
    if any(mark in code for mark in _UNSURE):
        return False
    if any(code.count(open_) != code.count(close) for open_, close in _BRACKETS):
        return False
    code = code.rstrip()
    return not code or code[-1] in _ENDINGS


def declarations(source: bytes) -> list[tuple[int, int]] | None:
    """Line-aligned byte spans that tile the file, each one or more whole top-level declarations
    (with the comments after them); the first starts at 0. None when the lexer is unsure."""
    spans: list[tuple[int, int]] = []
    start, lexed = 0, 0
    for match in _KEYWORD_LINE.finditer(source):
        boundary = match.start() + 1
        lexed += boundary - start
        if lexed > _MAX_RELEX * len(source):
            return None
        if _closes(source[start:boundary]):
            spans.append((start, boundary))
            start, lexed = boundary, 0
    if start < len(source):
        if not _closes(source[start:]):
            return None
        spans.append((start, len(source)))
    return spans


def ranges_to_parse(source: bytes, needles: tuple[bytes, ...]) -> list[tuple[int, int]] | None:
    """The byte ranges a parse needs to see every node near the needles: the file's head through
    the package clause, and each declaration holding a needle; adjacent ones merged. None when the
    whole file must be parsed (the lexer is unsure, or there is no package clause at a line start)."""
    spans = declarations(source)
    if spans is None:
        return None
    ranges: list[tuple[int, int]] = []
    head = True
    for start, end in spans:
        if head:
            head = not _PACKAGE.match(source, start)
        elif not any(source.find(needle, start, end) >= 0 for needle in needles):
            continue
        if ranges and ranges[-1][1] == start:
            ranges[-1] = (ranges[-1][0], end)
        else:
            ranges.append((start, end))
    return None if head else ranges
