"""CLI commands of the scenario runner: run, sweep."""

from __future__ import annotations

import json
import os
import shutil
import signal
import sys
import tempfile
from types import FrameType
from typing import TYPE_CHECKING

import click

from gofail_py.terminal import visible  # command output, stderr, command lines of others: shown, never obeyed

if TYPE_CHECKING:
    from gofail_py.recording.events import Event


def _interrupt(signum: int, frame: FrameType | None) -> None:
    raise KeyboardInterrupt  # SIGTERM cleans up like Ctrl-C


@click.command(name="run")
@click.argument("scenario_file", type=click.Path(dir_okay=False))
@click.option("--journal", type=click.Path(dir_okay=False), help="Write the timeline here, one JSON line per step.")
@click.option("--var", "variables", multiple=True, metavar="NAME=VALUE", help="A {NAME} placeholder's value (repeatable).")
@click.option("-q", "--quiet", is_flag=True, help="Print only the final line, not the timeline.")
@click.option("--report", type=click.Path(dir_okay=False), help="Write the HTML fault-coverage report (timeline and table) of the run here.")
@click.option("--source", "sources", multiple=True, metavar="PATH", help="Go source of the failpoints, for the coverage and crash attribution (as `list` takes paths; repeatable).")
@click.option("--table", "table_file", type=click.Path(dir_okay=False), metavar="FILE",
              help="A failpoint table (as `explore --table`): the row of --var failpoint fills the template's column placeholders.")
def run(scenario_file: str, journal: str | None, variables: tuple[str, ...], quiet: bool, report: str | None,
        sources: tuple[str, ...], table_file: str | None) -> None:
    """Run a scenario file: start processes, arm failpoints, check what happens.

    \b
    Example (examples/demo.gofail drives the bundled key-value server):
      gofail-py run examples/demo.gofail --var kvserver=./kvserver --journal timeline.jsonl
    \b
    A scenario file, one statement a line:
      process kv: {kvserver} --listen 127.0.0.1:{port} --data {tmp}/kv
      start kv
      set kv afterCommit=panic
      run? curl -s -XPUT http://127.0.0.1:{kv.port}/kv/a -d 1
      expect kv exit panic within 5s

    The grammar, every statement and placeholder: docs/scenario.md.

    With --report, the run's timeline and fault coverage go to an HTML file and the coverage
    summary line is printed (docs/coverage.md); --source adds the never-armed failpoints.

    Exit 0 passed, 1 an expectation failed, 2 the file or a --var is wrong, 3 a process could not
    be started or an endpoint reached, 130 interrupted. Everything the scenario started is stopped
    and every failpoint it set is disabled at the end, also on failure, Ctrl-C or SIGTERM.
    """
    from gofail_py.explore.template import load_cell
    from gofail_py.scenario import run_scenario

    values = {}
    for item in variables:
        name, sep, value = item.partition("=")
        if not sep or not name:
            raise click.BadParameter(f"{item!r}: expected NAME=VALUE", param_hint="--var")
        if name in ("tmp", "dir"):
            raise click.BadParameter(f"{{{name}}} is built in (the run's temp dir / the file's dir)", param_hint="--var")
        values[name] = value
    if report is not None and journal is not None and os.path.realpath(report) == os.path.realpath(journal):
        raise click.BadParameter("is the --journal: the report would overwrite it", param_hint="--report")
    for hint, path in (("--journal", journal), ("--report", report)):
        if path is not None and os.path.realpath(path) == os.path.realpath(scenario_file):
            raise click.BadParameter("is the scenario file: the run would overwrite it", param_hint=hint)
    if report is not None:
        _check_report_dir(report)
    from gofail_py.explore.table import read_table

    table = read_table(table_file) if table_file is not None else None
    scenario = load_cell(scenario_file, values, table)  # a template's {failpoint} {terms} from --var
    signal.signal(signal.SIGTERM, _interrupt)
    on_step = None if quiet else (lambda record: click.echo(visible(record.line(), lines=True)))
    # a report without a journal: the run still writes one, in a folder of its own removed after the
    # report, so that what the run keeps beside its journal (traffic histories) reaches the report
    kept = tempfile.mkdtemp(prefix="gofail-py-report-") if report is not None and journal is None else None
    try:
        result = run_scenario(scenario, journal=journal or (kept and os.path.join(kept, "journal.jsonl")),
                              variables=values, on_step=on_step, source=sources,
                              on_notice=lambda text: click.echo(f"gofail-py: {text}", err=True))
        if report is not None or sources:
            _coverage(result.events, sources, report, journal)
    except KeyboardInterrupt:
        click.echo("interrupted: processes stopped and failpoints disabled", err=True)
        sys.exit(130)
    finally:
        if kept is not None:
            shutil.rmtree(kept, ignore_errors=True)
    # the timeline already showed a failing step's whole message; quiet runs get it here
    click.echo(visible(result.verdict(), lines=True) if quiet else visible(result.verdict().splitlines()[0]))
    sys.exit(result.exit_code)


def _check_report_dir(report: str) -> None:
    """The report's path may be written (gofail_py.recording.outputs: no other user's link on the way, not
    over a file that is not a report) and its folder exists and is writable: checked before the
    run rather than after it."""
    from gofail_py.recording.outputs import REPORT, target

    folder = os.path.dirname(target(report, REPORT)[0])
    if not os.path.isdir(folder):
        what = "is not a folder" if os.path.exists(folder) else "does not exist"
        raise click.BadParameter(f"{report}: {folder} {what}", param_hint="--report")
    if not os.access(folder, os.W_OK | os.X_OK) and not os.path.exists(report):
        raise click.BadParameter(f"{report}: its folder {folder} is not writable", param_hint="--report")


def _coverage(events: list[Event], sources: tuple[str, ...], report: str | None, journal: str | None) -> None:
    """The summary line, and the HTML report when asked for."""
    from gofail_py.report.coverage import build
    from gofail_py.rewriter.workspace import list_failpoints

    coverage = build(events, list_failpoints(sources) if sources else None)
    if report is not None:
        from gofail_py.report.html import render_html, write_report

        write_report(report, (journal,) if journal else (), render_html(coverage).encode("utf-8"))
        click.echo(visible(f"report: {report}"))
    click.echo(visible(f"fault coverage: {coverage.summary()}"))


@click.command(name="sweep")
@click.option("--stop", "stop", is_flag=True, help="Stop them (SIGTERM, SIGKILL after 3 s) and remove dead runs' temp dirs.")
@click.option("--json", "as_json", is_flag=True, help="Print JSON.")
@click.option("--run", "run", metavar="TOKEN", help="Only what this dead run left: its token, or its first fields (PID).")
def sweep(stop: bool, as_json: bool, run: str | None) -> None:
    """List (or --stop) processes left behind by scenario runs that no longer exist.

    Every process a run starts carries the run's token in its environment (GOFAIL_PY_RUN), and so
    do its descendants; a run killed by SIGKILL cannot clean up, so this finds them later.

    \b
    Example:
      gofail-py sweep            # what a killed run left behind
      gofail-py sweep --stop     # stop it
      gofail-py sweep --stop --run 4242   # only what the run of pid 4242 left (other jobs' are theirs)

    The same as `gofail-py ps --stale [--stop]`.
    """
    show_stale(stop, as_json, run)


def show_stale(stop: bool, as_json: bool, run: str | None = None) -> None:
    """`sweep` and `ps --stale`: what dead runs left behind, stopped with ``stop``. Only what was
    really stopped or removed is said to be; this command and its ancestors are never signalled
    (a shell that inherited a dead run's token is named, with the remedy)."""
    from gofail_py.processes.proctable import spared
    from gofail_py.processes.supervisor import RUN_ENV, stale_processes, stale_temp_dirs, stop_stale

    if stop:
        result = stop_stale(run=run)
        rows = ([(p, "stopped", "stopped") for p in result.stopped]
                + [(p, "spared", f"spared ({why})") for p, why in result.spared]
                + [(p, "still-running", "could not be stopped") for p in result.still_running])
        dirs = [(path, token, "removed", "removed") for path, token in result.removed]
        dirs += [(path, token, "kept", f"not removed ({why})") for path, token, why in result.kept]
    else:
        why = spared()
        rows = [(p, "left", "left by") if p.pid not in why else (p, "spared", f"carries the token ({why[p.pid]}) of")
                for p in stale_processes(run)]
        dirs = [(path, token, "left", "left by") for path, token in stale_temp_dirs(run)]
    rows = [row for row in rows if row[0].pid != os.getpid()]  # itself: it inherited the token, said below
    if as_json:
        click.echo(json.dumps([{"pid": p.pid, "run": p.token, "command": p.command, "status": status} for p, status, _ in rows]
                              + [{"pid": None, "run": token, "dir": str(path), "status": status} for path, token, status, _ in dirs],
                              indent=2))
        return
    for process, _, said in rows:
        click.echo(f"{process.pid}\t{said} run {visible(process.token)}\t{visible(process.command)}")
    for path, token, _, said in dirs:
        click.echo(visible(f"-\t{said} run {token}\t{path}"))
    if any(status == "spared" for _, status, _ in rows):
        click.echo(f"gofail-py: this command runs from a shell that carries {RUN_ENV} of a run that is gone (a shell "
                   f"started from that run inherits it), which {'was' if stop else 'is'} not signalled: "
                   f"`unset {RUN_ENV}` there", err=True)
    if not rows and not dirs:
        click.echo("nothing left behind by a finished run")


def register(group: click.Group) -> None:
    """Adds this module's commands to the group."""
    group.add_command(run)
    group.add_command(sweep)
