"""Go identifiers, without tree-sitter: the client checks failpoint names before they go in a URL."""

from __future__ import annotations

_GO_KEYWORDS = frozenset(
    "break case chan const continue default defer else fallthrough for func go goto if import "
    "interface map package range return select struct switch type var".split()
)


def is_go_identifier(name: str) -> bool:
    return name.isidentifier() and name not in _GO_KEYWORDS


__all__ = ["is_go_identifier"]
