"""The HTML fault-coverage report: one self-contained file (inline CSS, SVG and JS, no network)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gofail_py.report.coverage import Coverage
from gofail_py.report.history import history_sections
from gofail_py.report.timeline import layout, span_of
from gofail_py.resources import resource_dir

if TYPE_CHECKING:
    import jinja2


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # imported on first use

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        autoescape=True,  # process names, terms and step messages come from users
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
    )


def render_html(coverage: Coverage, matrix: Any = None) -> str:
    """The report page: a timeline per run (with the histories its traffic recorded), then the
    sortable coverage table.

    ``matrix`` (an explore campaign's, gofail_py.explore.report.Matrix) goes on top, each of its
    cells linking to its run's timeline by the anchor ``run-N``.
    """
    timelines = [layout(run) for run in coverage.runs]
    anchors = {t.run: f"run-{number}" for number, t in enumerate(timelines, 1)}
    # the histories of a run's traffic, under its timeline on the same time axis
    histories = {run.run: history_sections(run, span_of(run)) for run in coverage.runs}
    return _environment().get_template("report/report.html.j2").render(
        coverage=coverage, timelines=timelines, anchors=anchors, matrix=matrix, histories=histories)


def write_report(output: str, journals: Sequence[str], data: bytes) -> None:
    """Writes the HTML where -o says (gofail_py.recording.outputs: through the user's own links, into a FIFO
    or device, atomically into a regular file; never through another user's link, never over a
    file that is not a report, never over one of the journals just read)."""
    from gofail_py.recording.outputs import write_report as write

    write(output, data, journals)


__all__ = ["render_html", "write_report"]
