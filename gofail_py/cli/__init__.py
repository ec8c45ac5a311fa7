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


class GofailGroup(click.Group):
    """Turns our exceptions into a message on stderr and the exception's exit code."""

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


def _register_commands() -> None:
    from gofail_py.cli import client, explore, report, rewriter, scenario

    for module in (rewriter, client, scenario, report, explore):
        module.register(main)


_register_commands()
