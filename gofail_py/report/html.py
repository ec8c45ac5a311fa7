"""The HTML fault-coverage report: one self-contained file (inline CSS, SVG and JS, no network)."""

from __future__ import annotations

import os
import stat
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gofail_py.report.coverage import Coverage
from gofail_py.resources import resource_dir
from gofail_py.report.timeline import layout

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


def write_report(output: str, journals: Sequence[str], data: bytes) -> None:
    """Writes the HTML where -o says: through a symbolic link into its target (the link stays),
    straight into a FIFO or device (`-o /dev/stdout`; a rename would replace the node itself),
    atomically into a regular file; never over one of the journals just read."""
    from gofail_py.errors import WorkspaceError
    from gofail_py.rewriter.fileio import write_atomic

    target = Path(os.path.realpath(output))
    try:
        for journal in journals:
            if target.exists() and target.samefile(journal):
                raise WorkspaceError(f"{output}: is the journal {journal}; the report would overwrite it")
        if target.exists() and not stat.S_ISREG(target.stat().st_mode):
            with open(target, "wb") as out:
                out.write(data)
        else:
            write_atomic(target, data)
    except OSError as error:
        raise WorkspaceError(f"{output}: cannot write the report: {error.strerror or error}") from None


__all__ = ["render_html", "write_report"]
