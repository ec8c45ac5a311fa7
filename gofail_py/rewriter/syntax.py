"""The tree-sitter Go parser and the queries of grammars/, loaded once and cached."""

from __future__ import annotations

from functools import cache

import tree_sitter_go
from tree_sitter import Language, Node, Parser, Point, Query, QueryCursor, Range, Tree

from gofail_py.resources import read_query


@cache
def go_language() -> Language:
    return Language(tree_sitter_go.language())


@cache
def _parser() -> Parser:
    return Parser(go_language())


def parse(source: bytes) -> Tree:
    return _parser().parse(source)


@cache
def _range_parser() -> Parser:  # its own parser: included_ranges stay set between calls
    return Parser(go_language())


def parse_ranges(source: bytes, ranges: list[tuple[int, int]]) -> Tree:
    """A parse of the given byte ranges (ascending, apart) only; nodes keep the bytes, rows and
    columns of `source`."""
    points, row, counted = [], 0, 0
    for offset in (offset for pair in ranges for offset in pair):  # rows counted on from the last
        row += source.count(b"\n", counted, offset)  # (from 0 each time: quadratic in the ranges)
        counted = offset
        points.append(Point(row, offset - source.rfind(b"\n", 0, offset) - 1))
    parser = _range_parser()
    parser.included_ranges = [Range(points[2 * i], points[2 * i + 1], start, end) for i, (start, end) in enumerate(ranges)]
    return parser.parse(source)


@cache
def query(name: str) -> Query:
    """The query in ``grammars/NAME.scm``."""
    return Query(go_language(), read_query(name))


def captures(name: str, node: Node) -> dict[str, list[Node]]:
    """Every capture of a query over a node, by capture name."""
    return QueryCursor(query(name)).captures(node)


def matches(name: str, node: Node) -> list[dict[str, list[Node]]]:
    """Every match of a query over a node, each as its captures by name."""
    return [found for _, found in QueryCursor(query(name)).matches(node)]


def _cursors(name: str, ranges: list[tuple[int, int]]) -> list[QueryCursor]:
    cursors = []
    for start, end in ranges:
        cursor = QueryCursor(query(name))
        cursor.set_byte_range(start, end)
        cursors.append(cursor)
    return cursors


def captures_in(name: str, node: Node, ranges: list[tuple[int, int]]) -> dict[str, list[Node]]:
    """The captures of a query that touch the byte ranges only (the rest of the tree is not walked)."""
    found: dict[str, list[Node]] = {}
    for cursor in _cursors(name, ranges):
        for capture, nodes in cursor.captures(node).items():
            found.setdefault(capture, []).extend(nodes)
    return found


def matches_in(name: str, node: Node, ranges: list[tuple[int, int]]) -> list[dict[str, list[Node]]]:
    """The matches of a query that touch the byte ranges (one match may be seen from two ranges)."""
    return [found for cursor in _cursors(name, ranges) for _, found in cursor.matches(node)]


def first_error(node: Node) -> Node | None:
    """The first ERROR or MISSING node in document order, or None when the tree is clean."""
    if not node.has_error:
        return None
    if node.is_error or node.is_missing:
        return node
    for child in node.children:
        found = first_error(child)
        if found is not None:
            return found
    return node
