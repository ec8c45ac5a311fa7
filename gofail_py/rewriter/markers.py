"""Finds the gofail markers of one Go file (failpoints and labels, as comments or enabled): values, no edits."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, NamedTuple

from gofail_py.rewriter import render
from gofail_py.errors import MarkerError, MarkerErrors
from gofail_py.names import is_go_identifier as is_go_identifier  # re-exported: moved to names.py

if TYPE_CHECKING:
    from tree_sitter import Node, Tree

# Places where a statement may stand: a failpoint or label anywhere else would not compile.
_STATEMENT_PARENTS = frozenset(
    {"block", "statement_list", "expression_case", "default_case", "type_case", "communication_case", "labeled_statement"}
)
_CASE_CLAUSES = frozenset({"expression_case", "default_case", "type_case", "communication_case"})
_SWITCHES = frozenset({"expression_switch_statement", "type_switch_statement", "select_statement"})
_LEADING_BLANKS = re.compile(rb"[ \t]*")
_LABEL = re.compile(r"\s*(\w+):\s*")


class Lines:
    """A file's lines as tree-sitter counts them (split at ``\\n`` only). A line's content is
    without its ending (``\\n`` or ``\\r\\n``); the last line may have none. Kept as the raw split
    (one C call, no object per line): only the lines near markers are ever looked at."""

    __slots__ = ("_raws",)

    def __init__(self, source: bytes) -> None:
        self._raws = source.split(b"\n")  # the last item is what follows the last newline

    def __len__(self) -> int:
        return len(self._raws) - (not self._raws[-1])

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Lines) and self._raws == other._raws

    __hash__ = None  # type: ignore[assignment]  # mutable

    def _crlf(self, row: int) -> bool:
        return self._raws[row][-1:] == b"\r" and row < len(self._raws) - 1

    def content(self, row: int) -> bytes:
        return self._raws[row][:-1] if self._crlf(row) else self._raws[row]

    def set_content(self, row: int, content: bytes) -> None:
        self._raws[row] = content + b"\r" if self._crlf(row) else content

    def join(self) -> bytes:
        return b"\n".join(self._raws)


# The records below are NamedTuples, not frozen dataclasses: a warm run loads them from the cache
# without parsing, and making a dataclass costs 0.5-0.9 ms of every run (a NamedTuple ~0.1 ms).
class Failpoint(NamedTuple):
    """A failpoint of one file. ``line``/``column`` are 1-based; ``column`` counts characters."""

    name: str
    type: str
    line: int
    column: int
    end_line: int  # the last line of its body; ``line`` when it has none
    enabled: bool
    indent: bytes  # the bytes before `//` (or `if`) on the header line
    body_comments: tuple[bytes, ...]  # the body as comment lines, exactly as disable writes them

    @property
    def body(self) -> tuple[str, ...]:
        """The body's Go code, one entry per line."""
        code = []
        for comment in self.body_comments:
            text = comment.lstrip(b" \t")[2:].decode("utf-8", "replace")
            code.append(text[1:] if text.startswith(" ") else text)
        return tuple(code)


class Label(NamedTuple):
    """A `// gofail: NAME:` label, which bodies reach with continue/break/goto."""

    name: str
    line: int
    column: int
    enabled: bool


class FileMarkers(NamedTuple):
    """Everything gofail-related in one file, in source order."""

    package: str | None
    failpoints: tuple[Failpoint, ...]
    labels: tuple[Label, ...]

    @property
    def is_enabled(self) -> bool:
        return any(fp.enabled for fp in self.failpoints) or any(label.enabled for label in self.labels)


def char_column(content: bytes, byte_column: int) -> int:
    """The 1-based character column of a byte offset within a line."""
    return len(content[:byte_column].decode("utf-8", "replace")) + 1


# Every marker (`// gofail:`, `/* gofail-label */`) holds this text, and all enabled code holds the
# runtime prefix: a file with neither has nothing to rewrite (tests check the templates agree).
MARKER_TEXT = b"gofail"
RUNTIME_TEXT = render.RUNTIME_PREFIX.encode()


def may_hold_markers(source: bytes) -> bool:
    """A cheap test that lets files without any gofail text skip parsing."""
    return MARKER_TEXT in source or RUNTIME_TEXT in source


def _ranges_around(source: bytes, needle: bytes, with_bodies: bool) -> list[tuple[int, int]]:
    """Byte ranges of the lines holding `needle` (and the `//` lines right below them, where a
    failpoint's body is), merged: the only places a query has to look."""
    ranges: list[tuple[int, int]] = []
    position = source.find(needle)
    while position >= 0:
        begin = source.rfind(b"\n", 0, position) + 1
        end = source.find(b"\n", position)
        end = len(source) if end < 0 else end + 1
        while with_bodies and end < len(source):
            next_end = source.find(b"\n", end)
            next_end = len(source) if next_end < 0 else next_end + 1
            if not source[end:next_end].lstrip(b" \t").startswith(b"//"):
                break
            end = next_end
        if ranges and begin <= ranges[-1][1]:
            ranges[-1] = (ranges[-1][0], max(end, ranges[-1][1]))
        else:
            ranges.append((begin, end))
        position = source.find(needle, end)
    return ranges


def parse_for_markers(source: bytes, partial: bool = True) -> tuple[Tree, bool]:
    """The tree the finder reads, and whether it is partial: only the package clause and the
    top-level declarations holding gofail text (toplevel.py), where the lexer is sure of their
    bounds and they parse without an error and with a package clause; else the whole file (so
    every error, message and position is the whole parse's)."""
    from gofail_py.rewriter import syntax, toplevel  # tree-sitter only where a file holds gofail text

    if partial:
        ranges = toplevel.ranges_to_parse(source, (MARKER_TEXT, RUNTIME_TEXT))
        if ranges is not None and ranges != [(0, len(source))]:
            tree = syntax.parse_ranges(source, ranges)
            if not tree.root_node.has_error and _package_of(tree) is not None:
                return tree, True
    return syntax.parse(source), False


class _Finder:
    def __init__(self, source: bytes, path: str, partial: bool = True) -> None:
        from gofail_py.rewriter import syntax

        self.syntax = syntax
        self.source = source
        self.path = path
        self.lines = Lines(source)
        self.tree: Tree = parse_for_markers(source, partial)[0]
        self.errors: list[MarkerError] = []
        self.prefix = render.marker_prefix()
        # line comments that open their line, by row; the candidates for headers, bodies and labels
        self.line_comments: dict[int, Node] = {}
        self.enabled_labels: list[Node] = []

    def error(self, row: int, byte_column: int, message: str) -> None:
        content = self.lines.content(row) if row < len(self.lines) else b""
        self.errors.append(MarkerError(self.path, row + 1, char_column(content, byte_column), message))

    def opens_line(self, node: Node) -> bool:
        row, column = node.start_point
        return not self.lines.content(row)[:column].strip(b" \t")

    def comment_text(self, node: Node) -> bytes:
        return node.text.rstrip(b"\r") if node.text is not None else b""

    def find(self) -> FileMarkers:
        ranges = _ranges_around(self.source, MARKER_TEXT, with_bodies=True)
        for comment in self.syntax.captures_in("comments", self.tree.root_node, ranges).get("comment", []):
            if not self.opens_line(comment):
                continue
            text = self.comment_text(comment)
            if text.startswith(b"//"):
                self.line_comments[comment.start_point.row] = comment
            elif text == render.label_enabled():
                self.enabled_labels.append(comment)
        failpoints: list[Failpoint] = []
        labels: list[Label] = []
        self.find_plain(failpoints, labels)
        self.find_enabled(failpoints, labels)
        if self.errors:
            raise MarkerErrors(sorted(self.errors, key=lambda e: (e.line, e.column)))
        return FileMarkers(
            package=self.package(),
            failpoints=tuple(sorted(failpoints, key=lambda fp: fp.line)),
            labels=tuple(sorted(labels, key=lambda label: label.line)),
        )

    def package(self) -> str | None:
        return _package_of(self.tree)

    def is_marker(self, node: Node) -> bool:
        return self.comment_text(node).startswith(self.prefix)

    @staticmethod
    def in_statement_position(node: Node) -> bool:
        parent = node.parent
        if parent is None:
            return False
        if parent.type in _STATEMENT_PARENTS:
            return True
        if parent.type in _SWITCHES:
            # tree-sitter ends a case clause with no statements at its colon, so the comments
            # below it hang on the switch; they belong to the case clause before them
            sibling = node.prev_named_sibling
            while sibling is not None and sibling.type == "comment":
                sibling = sibling.prev_named_sibling
            return sibling is not None and sibling.type in _CASE_CLAUSES
        return False

    def check_placement(self, node: Node, what: str) -> bool:
        if not self.in_statement_position(node):
            row, column = node.start_point
            self.error(row, column, f"{what} is outside a function body: gofail code must stand where a statement can")
            return False
        return True

    def find_plain(self, failpoints: list[Failpoint], labels: list[Label]) -> None:
        for row in sorted(self.line_comments):
            node = self.line_comments[row]
            if not self.is_marker(node):
                continue
            column = node.start_point.column
            rest = self.comment_text(node)[len(self.prefix):]
            rest_column = column + len(self.prefix)
            text = rest.decode("utf-8", "replace")
            if ":" in text and text.strip():
                label = _LABEL.fullmatch(text)
                if label is None or not is_go_identifier(label.group(1)):
                    self.error(row, rest_column, f"malformed gofail label {text.strip()!r}: expected `// gofail: NAME:`")
                elif self.check_placement(node, f"label {label.group(1)}"):
                    labels.append(Label(label.group(1), row + 1, char_column(self.lines.content(row), column), False))
                continue
            fields = text.split()
            if len(fields) != 3 or fields[0] != "var":
                self.error(row, rest_column, f"malformed gofail header {text.strip()!r}: expected `// gofail: var NAME TYPE`")
                continue
            _, name, type_ = fields
            if not is_go_identifier(name):
                self.error(row, rest_column, f"failpoint name {name!r} is not a Go identifier")
                continue
            if not self.check_placement(node, f"failpoint {name}"):
                continue
            body_rows = []
            next_row = row + 1
            # The body: the `//` lines right below; a blank line, code or another marker ends it.
            while next_row in self.line_comments and not self.is_marker(self.line_comments[next_row]):
                body_rows.append(next_row)
                next_row += 1
            comments = tuple(self.lines.content(r) for r in body_rows)
            end_row = body_rows[-1] if body_rows else row
            failpoints.append(self.failpoint(name, type_, row, column, end_row, False, comments))

    def failpoint(self, name: str, type_: str, row: int, column: int, end_row: int, enabled: bool,
                  body_comments: tuple[bytes, ...]) -> Failpoint:
        """A Failpoint from 0-based rows and the byte column of its `//` or `if`."""
        content = self.lines.content(row)
        return Failpoint(name, type_, row + 1, char_column(content, column), end_row + 1, enabled, content[:column], body_comments)

    def find_enabled(self, failpoints: list[Failpoint], labels: list[Label]) -> None:
        ranges = _ranges_around(self.source, RUNTIME_TEXT, with_bodies=False) if RUNTIME_TEXT in self.source else []
        seen = set()
        for match in self.syntax.matches_in("enabled_failpoint", self.tree.root_node, ranges):
            node = match["failpoint"][0]
            runtime_var = (match["runtime"][0].text or b"").decode()
            name = runtime_var[len(render.RUNTIME_PREFIX):]
            type_ = (match["type"][0].text or b"").decode()
            row, column = node.start_point
            if (
                node.start_byte in seen
                or not runtime_var.startswith(render.RUNTIME_PREFIX)
                or (match["error_var"][0].text or b"").decode() != render.ERROR_VAR
                or (match["method"][0].text or b"").decode() != render.ACQUIRE
                or (match["value"][0].text or b"").decode() != render.VALUE_PREFIX + name
                or not self.opens_line(node)
            ):
                continue  # seen from an earlier range, or an if statement that only looks like a failpoint
            seen.add(node.start_byte)
            end_row = node.end_point.row
            body = []
            for body_row in range(row + 1, end_row + 1):
                content = self.lines.content(body_row)
                if body_row == end_row:
                    cut = content.find(render.footer_needle(name))
                    if cut < 0:
                        footer = render.failpoint_close(name, type_).decode()  # rendered for the message only
                        self.error(body_row, 0, f"enabled failpoint {name} was edited: its last line lacks the footer {footer!r}")
                        break
                    content = content[:cut]
                comment = self.body_line_to_comment(content, self.lines.content(row)[:column])
                if comment is None:
                    self.error(body_row, 0, f"enabled failpoint {name} was edited: body line does not start with the tab enable puts there")
                    break
                body.append(comment)
            failpoints.append(self.failpoint(name, type_, row, column, end_row, True, tuple(body)))
        for node in self.enabled_labels:
            row, column = node.start_point
            after = self.lines.content(row)[node.end_point.column:].decode("utf-8", "replace")
            label = _LABEL.fullmatch(after)
            if label is not None:
                labels.append(Label(label.group(1), row + 1, char_column(self.lines.content(row), column), True))

    @staticmethod
    def body_line_to_comment(content: bytes, indent: bytes) -> bytes | None:
        """Undoes enable's `//` -> tab on one body line, given the header's indentation.

        The tab is somewhere in the line's leading blanks. Body comments stand at the header's
        indentation in real code (gofail's own disable assumes so), so the tab right after that
        indentation is taken whenever there is one: `//\t code` comes back exactly. Only a line
        indented less than its header falls back to the last tab of its blanks.
        """
        blanks = _LEADING_BLANKS.match(content)
        end = blanks.end() if blanks else 0
        if content.startswith(indent + b"\t"):
            return indent + b"//" + content[len(indent) + 1:]
        tab = content.rfind(b"\t", 0, end)
        if tab < 0:
            return None
        return content[:tab] + b"//" + content[tab + 1:]


def find_markers(source: bytes, path: str = "<source>") -> FileMarkers:
    """The failpoints and labels of one Go file; MarkerErrors for malformed or misplaced markers."""
    return find_markers_and_lines(source, path)[0]


def find_markers_and_lines(source: bytes, path: str = "<source>", *, partial: bool = True) -> tuple[FileMarkers, Lines | None]:
    """find_markers, with the file's lines when it had to split them (so a rewrite splits once).
    `partial=False` parses the whole file (tests compare the two)."""
    if not may_hold_markers(source):
        return FileMarkers(package=None, failpoints=(), labels=()), None
    finder = _Finder(source, path, partial)
    return finder.find(), finder.lines


def _package_of(tree: Tree) -> str | None:
    """The package clause is a child of the root: no query needed."""
    for child in tree.root_node.children:
        if child.type == "package_clause":
            for part in child.children:
                if part.type == "package_identifier" and part.text is not None:
                    return part.text.decode()
            return None
    return None


def package_name(source: bytes) -> str | None:
    """The name in the file's package clause."""
    from gofail_py.rewriter import syntax

    return _package_of(syntax.parse(source))
