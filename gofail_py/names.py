"""Go identifiers, without tree-sitter: the client checks failpoint names before they go in a URL;
and the names of the gofail runtime module and of the go.mod state file."""

from __future__ import annotations

RUNTIME_MODULE = "go.etcd.io/gofail"
RUNTIME_VERSION = "v0.2.0"
GO_MOD_STATE = ".gofail-py-gomod.json"  # go.mod/go.sum before (and after) `enable --go-get`

_GO_KEYWORDS = frozenset(
    "break case chan const continue default defer else fallthrough for func go goto if import "
    "interface map package range return select struct switch type var".split()
)


def is_go_identifier(name: str) -> bool:
    return name.isidentifier() and name not in _GO_KEYWORDS


__all__ = ["GO_MOD_STATE", "RUNTIME_MODULE", "RUNTIME_VERSION", "is_go_identifier"]
