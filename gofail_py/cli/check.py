"""CLI command of the linearizability checker: check."""

from __future__ import annotations

import json
import os
import sys

import click

from gofail_py.cli.options import Seconds


@click.command(name="check")
@click.argument("histories", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--model", type=click.Choice(["kv", "register"]), default=None,
              help="The model to check against (default: the history header's, else kv).")
@click.option("--timeout", type=Seconds(), default=None, metavar="SECONDS",
              help="A deadline for the whole check; reaching it gives the verdict unknown (exit 3).")
@click.option("--method", type=click.Choice(["auto", "search", "revisions"]), default="auto", show_default=True,
              help="auto: the kv model's revision-driven check for kv, the general search otherwise; "
                   "search: always the general search.")
@click.option("--memory", type=click.IntRange(1, 1 << 20), default=256, show_default=True, metavar="MB",
              help="What the search may hold in its memo of configurations tried (beyond it, it forgets the "
                   "older half: slower, never wrong).")
@click.option("--json", "as_json", is_flag=True, help="Print the result as JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the HTML picture of the history here.")
def check(histories: tuple[str, ...], model: str | None, timeout: float | None, method: str, memory: int,
          as_json: bool, output: str | None) -> None:
    """Check that a recorded history of operations is linearizable (the files together are one history).

    \b
    Examples:
      gofail-py check examples/check/stale-read.jsonl
      gofail-py check history.jsonl --model kv --timeout 60 -o history.html

    Exit 0 linearizable, 1 not linearizable (the explanation says why), 3 unknown (the
    --timeout deadline came first); 2 for a file that cannot be read or a bad line (FILE:LINE).
    """
    import gc

    from gofail_py.check import check as run_check
    from gofail_py.check.explain import explain

    # the process ends after this: no cycle collection over the history's objects, during the check
    # (check() holds it off too) or after it (a first collection would walk them all: 0.5 s at 50k)
    gc.disable()
    try:
        result = run_check(list(histories), model=model, timeout=timeout, method=method, memory=memory)
    except MemoryError:
        click.echo(f"gofail-py: out of memory while checking (the memo may hold {memory} MB: give a smaller --memory)",
                   err=True)
        sys.exit(3)
    if output is not None:
        from gofail_py.check.picture import write_picture

        write_picture(output, result)
    # ASCII JSON, as every --json of the CLI: a history's C1 controls or bidi overrides stay escaped
    click.echo(json.dumps(result.to_json(), indent=2) if as_json else explain(result))
    _exit(result.exit_code)


def _exit(code: int) -> None:
    """Ends the program at once when this is the `gofail-py` process: freeing a big history's
    objects one by one at exit costs a tenth of a second per 50k operations, for nothing. In a
    process that imported the CLI (tests, a host program) it is an ordinary exit."""
    from gofail_py import cli

    if cli._PROGRAM:
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(code)
    sys.exit(code)


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    group.add_command(check)
