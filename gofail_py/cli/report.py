"""CLI command of fault coverage: report."""

from __future__ import annotations

import json
import sys
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:  # imported when the command runs: coverage pulls in the HTTP client (requests)
    from gofail_py.report.coverage import Coverage


def _shown(text: str) -> str:
    """A journal's text as one line: a newline or a terminal escape in a hand-made or damaged
    journal would forge table rows or drive the terminal."""
    from gofail_py.terminal import visible

    return visible(text).replace("\t", "\\t")  # a tab would shift the table's columns


def _table(coverage: Coverage) -> str:
    rows = [("failpoint", "location", "armed", "hits", "crashes", "processes")]
    for fp in coverage.failpoints:
        where = ", ".join(fp.locations) or ("not in source" if fp.in_source is False else "-")
        hits = str(fp.hits) if fp.exact else f">={fp.hits}"
        processes = ", ".join(sorted(fp.processes)) or "-"
        rows.append((_shown(fp.name), _shown(where), str(fp.armed), hits, str(fp.crashes), _shown(processes)))
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    numeric = {2, 3, 4}
    return "\n".join(
        "  ".join(cell.rjust(widths[i]) if i in numeric else cell.ljust(widths[i]) for i, cell in enumerate(row)).rstrip()
        for row in rows
    )


@click.command(name="report")
@click.argument("journals", nargs=-1, required=True, type=click.Path(dir_okay=False))
@click.option("--source", "sources", multiple=True, metavar="PATH", help="Go source to take the failpoint inventory from (as `list` takes paths; repeatable).")
@click.option("--json", "as_json", is_flag=True, help="Print the coverage as JSON.")
@click.option("-o", "--output", type=click.Path(dir_okay=False), help="Write the HTML report (timelines and table) here.")
@click.option("--fail-under", type=click.FloatRange(0, 100), metavar="PCT", help="Exit 1 when fewer than PCT percent of the source's failpoints were hit (needs --source).")
def report(journals: tuple[str, ...], sources: tuple[str, ...], as_json: bool, output: str | None, fail_under: float | None) -> None:
    """Fault coverage of any number of journals: which failpoints were armed, hit, crashed a process.

    \b
    Examples:
      gofail-py report timeline.jsonl --source ./examples/kvserver
      gofail-py report journals/*.jsonl --source ./server/... -o coverage.html --fail-under 50

    The journals come from `gofail-py run --journal`, `explore --journal`, pytest's
    --gofail-journal or Client(journal=); docs/coverage.md.

    Journals are read line by line (a line holds at most 1 MiB; a longer one is refused at its
    FILE:LINE); a journal given twice is counted once. Memory and the HTML stay bounded: past a
    size a browser can show, timelines are aggregated and the page says so (docs/coverage.md).

    Exit 0, or 1 when --fail-under is not met; 2 for a journal or path that cannot be read.
    """
    from gofail_py.recording.events import read_journals
    from gofail_py.report.coverage import build
    from gofail_py.rewriter.workspace import list_failpoints

    if fail_under is not None and not sources:
        raise click.UsageError("--fail-under needs --source: without the inventory there is nothing to divide by")
    inventory = list_failpoints(sources) if sources else None
    def warn(message: str) -> None:
        click.echo(_shown(f"gofail-py: warning: {message}"), err=True)

    coverage = build(read_journals(journals, warn), inventory)  # streamed: memory is what the report holds
    if output is not None:
        from gofail_py.report.html import render_html, write_report

        write_report(output, journals, render_html(coverage).encode("utf-8"))
    if as_json:
        click.echo(json.dumps(coverage.as_dict(), indent=2))
    else:
        click.echo(_table(coverage))
        for crash in coverage.unattributed:
            click.echo(_shown(f"unattributed crash of {crash.process} at {crash.time:.3f}s: {crash.message or '-'} ({crash.reason})"))
        if coverage.unattributed_count > len(coverage.unattributed):
            click.echo(f"and {coverage.unattributed_count - len(coverage.unattributed):,} more unattributed crashes, not listed")
        click.echo(coverage.summary())
    if fail_under is not None:
        hit = coverage.percent(coverage.hit) or 0.0
        if hit < fail_under:
            click.echo(f"gofail-py: {hit:.1f}% of the failpoints hit, under --fail-under {fail_under:g}%", err=True)
            sys.exit(1)


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    group.add_command(report)
