"""The ``gofail-py`` command: a click group whose commands live in one module per concern.

Commands are loaded lazily: ``COMMANDS`` maps each name to the command module that registers it
(each module has ``register(group)``, adding its click commands) and to its one-line summary, so
``gofail-py --help`` imports no command module and ``gofail-py ls`` imports only the client
(never tree-sitter). A new command is registered by its module as before, plus one row here;
tests/test_cli_help.py checks the rows against what the modules register. The CLI is the top of
the house: it may use every part, and no part uses it.

Must not import: gofail_py.pytest

Exit codes (the same for every command; docs/cli.md has them per command):
  0  success
  1  a check failed: a failpoint or term problem, a failed expectation, `enable --check` found enabled code
  2  usage error or bad input (malformed marker, bad path, bad scenario file)
  3  an endpoint or process could not be reached or started, or answered nonsense; another rewriter run holds the lock
"""

from __future__ import annotations

import gc
import sys
from importlib import import_module
from typing import Any, NamedTuple


def _is_the_program() -> bool:
    """True in the `gofail-py` console script and in `python -m gofail_py.cli` (read before runpy
    sets argv[0]); False where the CLI is imported by another program (a test's CliRunner)."""
    argv = getattr(sys, "orig_argv", [])
    if "-m" in argv[:-1] and argv[argv.index("-m") + 1] == __name__:
        return True
    name = sys.argv[0].replace("\\", "/").rsplit("/", 1)[-1] if sys.argv else ""
    return name.removesuffix(".exe").removesuffix("-script.py") == "gofail-py"


class _Loading:
    """Loading the CLI and a command makes ~100k objects (modules, classes, functions) that live
    until the process ends. The cycle collector would walk them again and again while they are
    made, and all of them once more at exit (~10 ms of a 60 ms run): it is off while they load,
    and gc.freeze() then leaves them out of every later collection; it runs as usual after.
    Only the program freezes: in a process that imports the CLI, freezing would make every object
    of that process alive then permanent (its cycles dropped later never collected)."""

    def __enter__(self) -> None:
        self.collecting = gc.isenabled()
        gc.disable()

    def __exit__(self, *exc: object) -> None:
        if _PROGRAM:
            gc.freeze()
        if self.collecting:
            gc.enable()


_PROGRAM = _is_the_program()


with _Loading():
    import click

    from gofail_py.errors import GofailError, LocatedError, MarkerErrors


class CommandRow(NamedTuple):
    module: str  # the module whose register(group) adds the command
    summary: str  # the first paragraph of its help, shown whole by `gofail-py --help`
    section: str


_REWRITER = "Rewrite Go source"
_CLIENT = "Drive a running binary"
_SCENARIO = "Script scenarios and report on them"
_CHECK = "Check what a system answered"

COMMANDS: dict[str, CommandRow] = {
    "list": CommandRow("gofail_py.cli.rewriter",
                       "List every failpoint: name, type, file:line, package, enabled or not, body.", _REWRITER),
    "enable": CommandRow("gofail_py.cli.rewriter",
                         "Turn `// gofail:` comments into failpoint code, byte-identical to gofail v0.2.0.", _REWRITER),
    "disable": CommandRow("gofail_py.cli.rewriter",
                          "Turn failpoint code back into `// gofail:` comments and delete the binding files.",
                          _REWRITER),
    "set": CommandRow("gofail_py.cli.client",
                      "Set failpoints' terms (several go in one request).", _CLIENT),
    "unset": CommandRow("gofail_py.cli.client", "Disable failpoints (or --all of them); one already off is no error.", _CLIENT),
    "get": CommandRow("gofail_py.cli.client", "Print a failpoint's terms; an empty line (exit 0) when it is off.", _CLIENT),
    "count": CommandRow("gofail_py.cli.client",
                        "Print how often a failpoint's terms fired since they were set (exit 1 when it is off).", _CLIENT),
    "ls": CommandRow("gofail_py.cli.client",
                     "List the binary's failpoints; active ones are marked * with their terms.", _CLIENT),
    "ps": CommandRow("gofail_py.cli.client",
                     "List local gofail binaries: those listening on their own GOFAIL_HTTP endpoint.",
                     _CLIENT),
    "run": CommandRow("gofail_py.cli.scenario",
                      "Run a scenario file: start processes, arm failpoints, check what happens.",
                      _SCENARIO),
    "report": CommandRow("gofail_py.cli.report",
                         "Fault coverage of any number of journals: which failpoints were armed, hit, crashed a process.",
                         _SCENARIO),
    "explore": CommandRow("gofail_py.cli.explore",
                          "Run TEMPLATE once per failpoint found under --source × each --terms.", _SCENARIO),
    "sweep": CommandRow("gofail_py.cli.scenario",
                        "List (or --stop) processes left behind by scenario runs that no longer exist.", _SCENARIO),
    "check": CommandRow("gofail_py.cli.check",
                        "Check that a recorded history of operations is linearizable (the files together are one history).",
                        _CHECK),
}

EXIT_CODES_HELP = """\b
Exit codes:
  0  success
  1  failpoint/term problem, failed expectation, or `--check` found enabled code
  2  usage error or bad input (marker, path, scenario file)
  3  endpoint or process unreachable or answering nonsense, another run holds the lock,
     or a file changed while enable/disable wrote (run it again)

Run `gofail-py COMMAND -h` for a command's options; docs/cli.md lists each command's exit codes.
"""


class GofailGroup(click.Group):
    """Loads commands on first use; turns our exceptions into a message and the exception's exit code."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(COMMANDS)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in COMMANDS:
            return None
        if cmd_name not in self.commands:  # first use: the module adds its commands to this group
            with _Loading():
                import_module(COMMANDS[cmd_name].module).register(self)
        return self.commands.get(cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        # whole summaries from the table, grouped: no import, and no cut at "e.g." as click's short help does
        width = max(len(name) for name in COMMANDS)  # one column for every section
        sections: dict[str, list[tuple[str, str]]] = {}
        for name, row in COMMANDS.items():
            sections.setdefault(row.section, []).append((name.ljust(width), row.summary))
        for section, rows in sections.items():
            with formatter.section(section):
                formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except GofailError as error:
            from gofail_py.terminal import visible  # messages quote endpoints, files, journals: shown, never obeyed

            message = visible(str(error), lines=True)
            # located errors (path:line:col: ...) stay bare, so editors and CI annotators can read them
            located = isinstance(error, (LocatedError, MarkerErrors))
            click.echo(message if located else f"gofail-py: {message}", err=True)
            sys.exit(error.exit_code)
        finally:
            _warn_about_the_cache()


def _warn_about_the_cache() -> None:
    """What the rewriter's cache found wrong with itself (a cache another user could write is not
    used): the library only collects it, the command says it, once."""
    cachedir = sys.modules.get("gofail_py.rewriter.cachedir")  # not imported: no rewriter ran
    for note in cachedir.notices() if cachedir is not None else []:
        click.echo(f"gofail-py: warning: {note}", err=True)


@click.group(cls=GofailGroup, epilog=EXIT_CODES_HELP, invoke_without_command=True,
             context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(package_name="gofail-py")
@click.pass_context
def main(ctx: click.Context) -> None:
    """Enable gofail failpoints in Go code, drive them in running binaries, script scenarios.

    \b
    gofail-py enable --go-get ./...        # rewrite, then build as usual
    GOFAIL_HTTP=127.0.0.1:22381 ./prog &   # the runtime's endpoint
    gofail-py set -e 127.0.0.1:22381 'writeError=return("disk full")'
    """
    if ctx.invoked_subcommand is None:  # `gofail-py` alone: the help, as `git` and `go` do
        click.echo(ctx.get_help())
