"""The ``gofail-py`` command: a click group whose commands live in one module per concern.

Exit codes (the same for every command):
  0  success
  1  a check failed: a failpoint or term problem, a failed expectation, `enable --check` found enabled code
  2  usage error or bad input (malformed marker, bad path, bad scenario file)
  3  an endpoint or process could not be reached or started; another rewriter run holds the lock
"""

from __future__ import annotations

import sys
from typing import Any

import click

from gofail_py.errors import GofailError, LocatedError, MarkerErrors

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  failpoint/term problem, failed expectation, or `--check` found enabled code
  2  usage error or bad input (marker, path, scenario file)
  3  endpoint or process unreachable, or another run holds the lock
"""


# The module that registers each command: a run imports only its command's module (a rewriter
# run skips the client, scenario and report ones); --help, or a name not listed, loads them all.
_MODULES = ("rewriter", "client", "scenario", "report", "explore")
_MODULE_OF = {"enable": "rewriter", "disable": "rewriter", "list": "rewriter", "count": "client", "get": "client",
              "ls": "client", "ps": "client", "set": "client", "unset": "client", "run": "scenario",
              "sweep": "scenario", "report": "report", "explore": "explore"}
_loaded: set[str] = set()


class GofailGroup(click.Group):
    """Turns our exceptions into a message on stderr and the exception's exit code."""

    def load(self, modules: tuple[str, ...]) -> None:
        import importlib

        for name in modules:
            if name not in _loaded:
                _loaded.add(name)
                importlib.import_module(f"gofail_py.cli.{name}").register(self)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        self.load((_MODULE_OF[cmd_name],) if cmd_name in _MODULE_OF else _MODULES)
        return super().get_command(ctx, cmd_name)

    def list_commands(self, ctx: click.Context) -> list[str]:
        self.load(_MODULES)
        return super().list_commands(ctx)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GofailError as error:
            message = str(error)
            # located errors (path:line:col: ...) stay bare, so editors and CI annotators can read them
            located = isinstance(error, (LocatedError, MarkerErrors))
            click.echo(message if located else f"gofail-py: {message}", err=True)
            sys.exit(error.exit_code)


@click.group(cls=GofailGroup, epilog=EXIT_CODES_HELP)
@click.version_option(package_name="gofail-py")
def main() -> None:
    """Enable gofail failpoints in Go code, drive them in running binaries, script scenarios."""


