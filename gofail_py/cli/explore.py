"""CLI command of the campaign: explore (a template over every failpoint × terms)."""

from __future__ import annotations

import os
import shutil
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING

import click

from gofail_py.cli.options import Seconds
from gofail_py.errors import WorkspaceError

if TYPE_CHECKING:
    from gofail_py.explore.cells import Cell


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM stops every run like Ctrl-C


def _variables(items: tuple[str, ...]) -> dict[str, str]:
    values = {}
    for item in items:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--var")
        values[name] = value
    return values


@click.command(name="explore")
@click.argument("template", type=click.Path(dir_okay=False))
@click.option("--source", "sources", multiple=True, required=True, metavar="PATH",
              help="Where the failpoints are: a .go file, a package directory or DIR/... (repeatable).")
@click.option("--terms", "terms", multiple=True, metavar="TERMS", help="Terms to arm each failpoint with (repeatable; default panic).")
@click.option("--table", "table_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="A failpoint table (TSV, first column `failpoint`): each column is a placeholder of its row's cells; "
                   "`why` is shown for a cell not reached.")
@click.option("--only", multiple=True, metavar="GLOB", help="Only failpoints whose name matches (repeatable).")
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=1, show_default=True, help="Runs at once.")
@click.option("--seed", type=int, help="Seed of --sample.")
@click.option("--sample", type=click.IntRange(min=1), help="Run only this many pairs, picked at random (with --seed).")
@click.option("--journal", "journal_dir", type=click.Path(file_okay=False), help="Keep one journal per run here.")
@click.option("--json", "as_json", is_flag=True, help="Print the results as JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write an HTML report of the matrix.")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="A {NAME} placeholder's value (repeatable).")
@click.option("--timeout", type=Seconds(), default=600.0, show_default=True, help="Seconds one run may take.")
@click.option("--fail-on-not-reached", is_flag=True, help="Exit 1 when any run did not reach its failpoint.")
def explore(template: str, sources: tuple[str, ...], terms: tuple[str, ...], only: tuple[str, ...], jobs: int,
            seed: int | None, sample: int | None, journal_dir: str | None, as_json: bool, output: str | None,
            variables: tuple[str, ...], timeout: float, fail_on_not_reached: bool, table_file: str | None) -> None:
    """Run TEMPLATE once per failpoint found under --source × each --terms.

    TEMPLATE is a scenario file using {failpoint}, {terms} and {failpoint_type} (and, with --table,
    the table's columns, from the failpoint's row); each run is its own
    `gofail-py run` with its own ports and {tmp}. Outcomes: passed, failed (a step failed after the
    failpoint fired), not-reached (the failpoint never fired), error (template or environment
    broken). Exit 0 nothing failed or errored, 1 a run failed, 3 runs errored and none failed,
    2 bad input (nothing ran).

    \b
    Examples:
      gofail-py explore examples/explore/kv.gofail --source examples/kvserver --var kvserver=./kvserver
      gofail-py explore t.gofail --source ./server/... --terms panic --terms 'sleep("100ms")' -j 2 -o explore.html
      gofail-py explore campaign.gofail --source ./server/... --table failpoints.tsv --var etcd=./etcd -j 2

    Templates and the campaign: docs/explore.md.
    """
    from gofail_py.explore.cells import inventory, make_cells
    from gofail_py.explore.table import read_table
    from gofail_py.explore.template import load_cell

    values = _variables(variables)
    reserved = sorted({"failpoint", "terms", "failpoint_type"} & set(values))
    if reserved:
        raise click.BadParameter(f"{', '.join(reserved)} are set per run by explore", param_hint="--var")
    if seed is not None and sample is None:
        raise click.BadParameter("--seed picks the cells of --sample; give --sample K too", param_hint="--seed")
    table = read_table(table_file) if table_file is not None else None
    cells = make_cells(inventory(sources, only), list(terms) or ["panic"], seed, sample, table)
    for cell in cells:  # every cell must parse before anything runs (bad terms, a broken template)
        load_cell(template, {**values, **cell.variables()}, table)
    from gofail_py.recording.outputs import JOURNAL, REPORT, resolve, target

    if output is not None and Path(output).resolve() == Path(template).resolve():
        raise WorkspaceError(f"-o {output}: is the template; the report would overwrite it")
    if output is not None and not Path(target(output, REPORT)[0]).parent.is_dir():
        raise WorkspaceError(f"-o {output}: the report's directory does not exist")

    if journal_dir is not None:
        journal_dir = resolve(journal_dir, JOURNAL)  # each run's journal goes there, never through another user's link
        if os.path.exists(journal_dir) and not os.path.isdir(journal_dir):
            raise WorkspaceError(f"--journal {journal_dir}: not a folder (explore writes one journal per run into it)")
        try:
            Path(journal_dir).mkdir(parents=True, exist_ok=True)
        except OSError as error:
            raise WorkspaceError(f"--journal {journal_dir}: {error.strerror}") from error
    # the report draws each run's timeline from its journal: kept for it until it is written
    from gofail_py.processes.supervisor import explore_temp_dir

    kept = explore_temp_dir() if output is not None and journal_dir is None else None
    try:
        _campaign(template, cells, values, timeout, jobs, journal_dir or kept, as_json, output, sources,
                  fail_on_not_reached, kept is not None, Path(table_file).resolve() if table_file else None)
    finally:
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)


def _campaign(template: str, cells: list[Cell], values: dict[str, str], timeout: float, jobs: int,
              journal_dir: str | Path | None, as_json: bool, output: str | None, sources: tuple[str, ...],
              fail_on_not_reached: bool, forget_journals: bool, table: Path | None = None) -> None:
    from gofail_py.rewriter import workspace
    from gofail_py.explore import matrix
    from gofail_py.explore.campaign import Campaign, RunResult, exit_code, summary
    from gofail_py.explore.report import write_report
    from gofail_py.terminal import visible  # names, terms and messages of the runs: shown, never obeyed

    campaign = Campaign(Path(template).resolve(), Path(journal_dir) if journal_dir else None, values, timeout, table)
    done: list[RunResult] = []
    lock = threading.Lock()

    def progress(result: RunResult) -> None:
        with lock:
            done.append(result)
            click.echo(visible(matrix.progress_line(result, len(done), len(cells), summary(done)), lines=True), err=as_json)

    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGTERM, _interrupt)
    try:
        results = campaign.run(cells, jobs, progress)
    except KeyboardInterrupt:
        click.echo("interrupted: every run stopped (their processes stopped, failpoints disabled)", err=True)
        sys.exit(130)
    if output is not None:
        write_report(Path(output), results, workspace.list_failpoints(list(sources)))
        if forget_journals:  # they were kept for the report only
            for result in results:
                result.journal = None
    if as_json:
        click.echo(matrix.as_json(results))
    else:
        click.echo(visible(matrix.matrix_text(results), lines=True))
    if as_json and summary(results)["not-reached"] == len(results):
        click.echo("NOTHING WAS REACHED: no run's workload made its failpoint fire", err=True)
    sys.exit(exit_code(results, fail_on_not_reached))


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    group.add_command(explore)
