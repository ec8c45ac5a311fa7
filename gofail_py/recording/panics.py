"""Which failpoint killed a process: the Go panic in its stderr, matched with the inventory.

The runtime's `panic` action prints ``panic: failpoint panic: VALUE`` where VALUE is the term's
value (``{}`` for a bare `panic`), so the message rarely names the failpoint. The stack trace
does: the frame below ``runtime.(*Failpoint).Acquire`` is the file:line of the enabled
failpoint, which is the marker's line (the rewriter keeps line numbers).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import PurePath
from typing import TYPE_CHECKING

from gofail_py.errors import TermSyntaxError
from gofail_py.terms import parse_terms

if TYPE_CHECKING:  # the inventory's type only: importing the rewriter would load tree-sitter
    from gofail_py.rewriter.workspace import LocatedFailpoint


RUNTIME_PACKAGE = "go.etcd.io/gofail/runtime."
_ACQUIRE = RUNTIME_PACKAGE + "(*Failpoint).Acquire("
_FRAME_FILE = re.compile(r"^\t(?P<file>.+?):(?P<line>[0-9]+)(?: \+0x[0-9a-f]+)?$")


@dataclass(frozen=True)
class Panic:
    """A Go panic read from a process's stderr: its message and the failpoint frame, if any."""

    message: str  # the text after `panic: ` (first line), or the `fatal error: ` line
    from_failpoint: bool  # the panicking goroutine was inside the runtime's Acquire
    file: str | None = None  # the caller of Acquire: where the enabled failpoint sits
    line: int | None = None


def parse_panic(stderr: str) -> Panic | None:
    """The first Go panic in the text, or None when there is none."""
    lines = stderr.splitlines()
    start = next((i for i, text in enumerate(lines) if text.startswith(("panic: ", "fatal error: "))), None)
    if start is None:
        return None
    message = lines[start].partition(": ")[2]
    # the panicking goroutine's frames: pairs of a function line and a tab-indented file:line
    goroutine = next((i for i in range(start, len(lines)) if lines[i].startswith("goroutine ")), None)
    if goroutine is None:
        return Panic(message, from_failpoint=False)
    frames: list[tuple[str, str | None, int | None]] = []
    i = goroutine + 1
    while i < len(lines) and lines[i].strip():
        function = lines[i]
        where = _FRAME_FILE.match(lines[i + 1]) if i + 1 < len(lines) else None
        frames.append((function, where["file"] if where else None, int(where["line"]) if where else None))
        i += 2 if where else 1
    for k, (function, _, _) in enumerate(frames):
        if function.startswith(_ACQUIRE) and k + 1 < len(frames):
            _, file, line = frames[k + 1]
            return Panic(message, from_failpoint=True, file=file, line=line)
    return Panic(message, from_failpoint=False)


def _common_tail(a: PurePath, b: PurePath) -> int:
    """How many trailing path components two paths share."""
    n = 0
    for x, y in zip(reversed(a.parts), reversed(b.parts)):
        if x != y:
            break
        n += 1
    return n


def attribute(panic: Panic, inventory: Sequence[LocatedFailpoint]) -> tuple[str | None, str]:
    """(failpoint name, how) or (None, why not): the inventory entry at the panic's file:line.

    The binary may have been built elsewhere (a copy, -trimpath), so paths are compared by their
    longest common tail; the best match must be unique and share at least the file name.
    """
    if not panic.from_failpoint or panic.file is None or panic.line is None:
        return None, "not a failpoint panic: no gofail runtime Acquire frame in the stack"
    if not inventory:
        return None, f"no inventory to match {panic.file}:{panic.line} against (pass --source)"
    frame = PurePath(panic.file)
    scored = [(_common_tail(frame, PurePath(fp.path)), fp) for fp in inventory if fp.failpoint.line == panic.line]
    scored = [(score, fp) for score, fp in scored if score > 0]
    if not scored:
        return None, f"no failpoint of the inventory at {frame.name}:{panic.line}"
    best = max(score for score, _ in scored)
    names = sorted({fp.failpoint.name for score, fp in scored if score == best})
    if len(names) > 1:
        return None, f"{frame.name}:{panic.line} matches several failpoints: {', '.join(names)}"
    return names[0], "stack"


__all__ = ["Panic", "attribute", "parse_panic"]


def hits_at_panic(terms: str) -> int | None:
    """The count when a panic in these terms fires, when the terms fix it (``2*off->panic``: 3)."""
    try:
        chain = parse_terms(terms).terms
    except TermSyntaxError:
        return None
    total = 0
    for term in chain:
        if term.percent is not None:
            return None
        if term.action == "panic":
            return total + 1
        if term.count is None:
            return None  # this term fires every time: a later panic is never reached
        total += term.count
    return None


def panics(terms: str) -> bool:
    """Whether the terms hold a panic action."""
    try:
        return any(term.action == "panic" for term in parse_terms(terms).terms)
    except TermSyntaxError:
        return False
