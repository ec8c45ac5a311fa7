"""The HTML picture of a checked history (`gofail-py check -o report.html`): one self-contained
file (inline CSS and SVG, no script, nothing fetched).

``history_fragment(ops, violation, start, end)`` draws one time range as an HTML fragment (a
figure holding an SVG), so another page can put it beside its own drawing on the same axis; the
page shows the verdict, for a violation the numbered prefix, the state and what could not be
placed, a detail of the time around the violation, and the whole history (picture_layout.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from gofail_py.check.picture_layout import NUMBERED, Bar, detail_range, layout, span
from gofail_py.check.result import CheckResult, Violation, describe
from gofail_py.models.operation import Operation
from gofail_py.resources import resource_dir

if TYPE_CHECKING:
    import jinja2
    from markupsafe import Markup


@cache
def _environment() -> jinja2.Environment:
    import jinja2  # imported on first use

    return jinja2.Environment(
        loader=jinja2.FileSystemLoader(str(resource_dir("templates"))),
        autoescape=True,  # keys, values and error texts come from whoever recorded the history
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
    )


def history_fragment(ops: Sequence[Operation], violation: Violation | None, start: int, end: int, *,
                     origin: int | None = None, clients: Sequence[int] | None = None,
                     mark: tuple[int, int] | None = None, label: str = "history") -> Markup:
    """The operations intersecting [start, end] (monotonic nanoseconds) as a figure with an SVG;
    ``origin`` is the time the axis counts seconds from, ``mark`` a range to outline."""
    from markupsafe import Markup

    view = layout(ops, violation, start, end, origin=origin, clients=clients)
    if mark is not None and mark[1] > start and mark[0] < end:
        def x(t: int) -> float:
            return round(view.left + view.width * (min(max(t, start), end) - start) / (end - start), 2)

        view.marks.append(Bar("detail-window", x(mark[0]), 1, max(x(mark[1]) - x(mark[0]), 3.0), view.height - 31,
                              "the range drawn around the violation"))
    return Markup(_environment().get_template("check/history.svg.j2").render(view=view, label=label))


def _summary(result: CheckResult) -> str:
    files = ", ".join(result.files) or "operations given in Python"
    parts = f", {len(result.parts)} independent parts" if len(result.parts) > 1 else ""
    return (f"{files}: {result.operations:,} operations ({result.indeterminate:,} without an answer) against "
            f"the {result.model} model{parts}; checked in {result.elapsed:.2f} s")


def _explanation(result: CheckResult) -> dict[str, Any] | None:
    violation = result.violation
    if violation is None:
        return None
    shown = violation.prefix[-NUMBERED:]
    part = result.parts[violation.part] if 0 <= violation.part < len(result.parts) and len(result.parts) > 1 else None
    return {
        "part": f"{part.label} ({part.operations:,} operations)" if part is not None else "",
        "length": len(violation.prefix),
        "first_number": len(violation.prefix) - len(shown) + 1,
        "shown": [describe(op) for op in shown],
        "state": json.dumps(violation.state, indent=2, ensure_ascii=False),
        "unplaced": [{"line": describe(item.op), "reason": item.reason} for item in violation.unplaced],
    }


def render_picture(result: CheckResult) -> str:
    """The whole page for a check's result."""
    ops = result.history
    start, end = span(ops)
    clients = sorted({op.client for op in ops})
    origin = min((op.call for op in ops), default=0)
    around = detail_range(result.violation) if result.violation is not None else None
    detail = (history_fragment(ops, result.violation, around[0], around[1], origin=origin, clients=clients,
                               label="the operations around the violation")
              if around is not None else None)
    overview = history_fragment(ops, result.violation, start, end, origin=origin, clients=clients, mark=around,
                                label="the whole history")
    return _environment().get_template("check/picture.html.j2").render(
        result=result, summary=_summary(result), explanation=_explanation(result), detail=detail, overview=overview)


def write_picture(path: str, result: CheckResult) -> None:
    """Writes the page to ``path`` atomically (through a symbolic link, into a FIFO or device as
    the coverage report does), never over one of the history files just read."""
    import os

    from gofail_py.errors import WorkspaceError
    from gofail_py.recording.outputs import write_report

    for history in result.files:
        try:
            same = os.path.samefile(path, history)
        except OSError:  # one of them is not there: not the same file
            same = False
        if same:
            raise WorkspaceError(f"{path}: is the history {history}; the picture would overwrite it")
    write_report(path, render_picture(result).encode("utf-8"), result.files)


__all__ = ["history_fragment", "render_picture", "write_picture"]
