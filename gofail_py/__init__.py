"""gofail-py: a Python toolkit for gofail, the failpoint library of etcd.

The public API, imported on first use so that the command line starts fast:

    from gofail_py import Client, Cluster, Terms, Scenario, enable, disable, list_failpoints

The package is laid out in parts, one subpackage each, importing one way (docs/architecture.md;
tests/test_layout.py holds the code to it). Below them all, the shared leaves, which import
nothing of the package but one another:

Shared leaves: gofail_py.errors, gofail_py.names, gofail_py.argcheck, gofail_py.resources,
    gofail_py.terms, gofail_py.terminal, gofail_py._moved, gofail_py.children
"""

from __future__ import annotations

import sys
from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from importlib.machinery import ModuleSpec

__version__ = "0.1.0"


class _OldPaths:
    """The module paths of 0.1 still import, for one release, with a DeprecationWarning: last on
    sys.meta_path, this is asked only for a name no module has; the table (gofail_py._moved) is
    loaded only then, not by every run."""

    @staticmethod
    def find_spec(name: str, path: object = None, target: object = None) -> ModuleSpec | None:
        if not name.startswith("gofail_py."):
            return None
        from gofail_py import _moved

        return _moved.find_spec(name)


if not any(getattr(finder, "__qualname__", "") == "_OldPaths" for finder in sys.meta_path):  # once, even if reloaded
    sys.meta_path.append(_OldPaths)

_EXPORTS = {
    "Client": "gofail_py.client.client",
    "Cluster": "gofail_py.client.cluster",
    "Terms": "gofail_py.terms",
    "parse_terms": "gofail_py.terms",
    "normalize_terms": "gofail_py.terms",
    "Scenario": "gofail_py.scenario",
    "ScenarioResult": "gofail_py.scenario",
    "load_scenario": "gofail_py.scenario",
    "parse_scenario": "gofail_py.scenario",
    "run_scenario": "gofail_py.scenario",
    "enable": "gofail_py.rewriter.workspace",
    "disable": "gofail_py.rewriter.workspace",
    "list_failpoints": "gofail_py.rewriter.workspace",
    "enable_source": "gofail_py.rewriter.rewrite",
    "disable_source": "gofail_py.rewriter.rewrite",
    "find_markers": "gofail_py.rewriter.markers",
}

__all__ = sorted(_EXPORTS)


def __getattr__(name: str) -> Any:
    if name not in _EXPORTS:
        raise AttributeError(f"module 'gofail_py' has no attribute {name!r}")
    return getattr(import_module(_EXPORTS[name]), name)


def __dir__() -> list[str]:
    # the public names, loaded or not (they are not globals until first use), not the helpers
    return [*__all__, "__version__"]
