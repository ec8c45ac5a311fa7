"""gofail-py: a Python toolkit for gofail, the failpoint library of etcd.

The public API, imported on first use so that the command line starts fast:

    from gofail_py import Client, Cluster, Terms, Scenario, enable, disable, list_failpoints

The package is laid out in parts, one subpackage each, importing one way (docs/architecture.md;
tests/test_layout.py holds the code to it). Below them all, the shared leaves, which import
nothing of the package but one another:

Shared leaves: gofail_py.errors, gofail_py.names, gofail_py.argcheck, gofail_py.resources,
    gofail_py.terms, gofail_py.terminal, gofail_py._moved
"""

from __future__ import annotations

from importlib import import_module
from typing import Any

from gofail_py import _moved

__version__ = "0.1.0"
_moved.install()  # the module paths of 0.1 still import, for one release (with a DeprecationWarning)

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
