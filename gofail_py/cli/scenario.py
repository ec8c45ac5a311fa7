"""CLI command of the scenario runner: run."""

from __future__ import annotations

import signal
import sys
from types import FrameType

import click


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


@click.command(name="run")
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option("--journal", type=click.Path(dir_okay=False), help="Write the timeline here, one JSON line per step.")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="A {NAME} placeholder's value (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the final line, not the timeline.")
def run(scenario_file: str, journal: str | None, variables: tuple[str, ...], quiet: bool) -> None:
    """Run a scenario file; exit 0 passed, 1 expectation failed, 2 file wrong, 3 unreachable.

    Everything the scenario started is stopped and every failpoint it set is disabled at the end,
    also on failure, Ctrl-C or SIGTERM (exit code 130).
    """
    from gofail_py.explore.template import load_cell
    from gofail_py.scenario import run_scenario

    values = {}
    for item in variables:
        name, sep, value = item.partition("=")
        if not sep:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--var")
        values[name] = value
    scenario = load_cell(scenario_file, values)  # a template's {failpoint} {terms} from --var
    signal.signal(signal.SIGTERM, _interrupt)
    on_step = None if quiet else (lambda record: click.echo(record.line()))
    try:
        result = run_scenario(scenario, journal=journal, variables=values, on_step=on_step)
    except KeyboardInterrupt:
        click.echo("interrupted: processes stopped and failpoints disabled", err=True)
        sys.exit(130)
    click.echo(result.summary().splitlines()[-1])
    sys.exit(result.exit_code)


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    group.add_command(run)
