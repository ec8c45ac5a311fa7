"""The CLI imports only the module of the command it runs (gofail_py/cli/__init__.py)."""

from __future__ import annotations

import importlib
import subprocess
import sys

import click

from gofail_py.cli import _MODULE_OF, _MODULES


def test_every_command_is_listed_with_the_module_that_registers_it() -> None:
    listed = {}
    for name in _MODULES:
        group = click.Group()
        importlib.import_module(f"gofail_py.cli.{name}").register(group)
        listed.update(dict.fromkeys(group.commands, name))
    assert listed == _MODULE_OF


def test_a_rewriter_command_imports_no_other_command_module() -> None:
    code = ("import sys\nfrom gofail_py.cli import main\ntry:\n    main(['list', '--help'])\nexcept SystemExit:\n    pass\n"
            "print(sorted(m for m in sys.modules if m.startswith('gofail_py.cli.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.splitlines()[-1] == "['gofail_py.cli.rewriter']"
