"""Go identifiers, apart from the parser: the client and the scenario parser check failpoint names
with this and must not pull tree-sitter in (see gofail_py/cli/__init__.py on lazy imports)."""

from __future__ import annotations

_GO_KEYWORDS = frozenset(
    "break case chan const continue default defer else fallthrough for func go goto if import "
    "interface map package range return select struct switch type var".split()
)


def is_go_identifier(name: str) -> bool:
    return name.isidentifier() and name not in _GO_KEYWORDS
