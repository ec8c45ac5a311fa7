"""The statements of the scenario language, one module per family (lifecycle, failpoints, commands,
expect, blocks, ...), and their one table (table.py), which this package hands on with every
statement loaded: importing it loads every module of the package. Modules are found by listing
the package: nothing else names them, so a new statement is one new module here.

A statement knows the run's state (runtime) its handler is given, never who parses or runs it:

Must not import: gofail_py.scenario.parser, gofail_py.scenario.builder, gofail_py.scenario.runner
"""

from __future__ import annotations

import importlib
import pkgutil

from gofail_py.scenario.statements.table import (
    REGISTRY, Spec, children, describe, grammar_table, keywords, register, spec_of, walk,
)

_FIRST = ("lifecycle", "failpoints", "commands", "expect", "blocks")  # the docs table's order


def _load_all() -> None:
    names = {module.name for module in pkgutil.iter_modules(__path__)} - {"table"}
    for name in [*(n for n in _FIRST if n in names), *sorted(names - set(_FIRST))]:
        importlib.import_module(f"{__name__}.{name}")


_load_all()

__all__ = ["REGISTRY", "Spec", "children", "describe", "grammar_table", "keywords", "register", "spec_of", "walk"]
