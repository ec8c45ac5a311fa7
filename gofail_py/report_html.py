"""The HTML fault-coverage report: one self-contained file (inline CSS, SVG and JS, no network)."""

from __future__ import annotations

from functools import cache
from typing import TYPE_CHECKING, Any

from gofail_py.coverage import Coverage
from gofail_py.resources import resource_dir
from gofail_py.timeline import layout

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
    """The report page: a timeline per run, then the sortable coverage table.

    ``matrix`` (an explore campaign's, gofail_py.explore.report.Matrix) goes on top, each of its
    cells linking to its run's timeline by the anchor ``run-N``.
    """
    timelines = [layout(run) for run in coverage.runs]
    anchors = {t.run: f"run-{number}" for number, t in enumerate(timelines, 1)}
    return _environment().get_template("report/report.html.j2").render(
        coverage=coverage, timelines=timelines, anchors=anchors, matrix=matrix)


__all__ = ["render_html"]
