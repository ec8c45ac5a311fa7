"""The campaign's results as text: progress lines, the failpoint × terms matrix, JSON, a small HTML."""

from __future__ import annotations

import html
import json
from collections.abc import Sequence
from pathlib import Path

from gofail_py.explore.campaign import NOT_REACHED, OUTCOMES, PASSED, RunResult, summary

_MARK = {"passed": "pass", "failed": "FAIL", "not-reached": "n/r", "error": "ERR"}


def counts_line(counts: dict[str, int]) -> str:
    return "  ".join(f"{outcome} {counts[outcome]}" for outcome in OUTCOMES)


def progress_line(result: RunResult, done: int, total: int, counts: dict[str, int]) -> str:
    """`[3/14] afterCommit × panic: failed (2.1 s)  | passed 2 failed 1 ...`, a finished run."""
    retried = f", {result.attempts} attempts" if result.attempts > 1 else ""
    line = f"[{done}/{total}] {result.cell.failpoint} × {result.cell.terms}: {result.outcome} ({result.seconds:.1f} s{retried})"
    if result.outcome != PASSED and result.message:
        line += f"\n      {result.message}"
    return f"{line}\n      so far: {counts_line(counts)}"


def _axes(results: Sequence[RunResult]) -> tuple[list[str], list[str]]:
    failpoints = list(dict.fromkeys(r.cell.failpoint for r in results))
    terms = list(dict.fromkeys(r.cell.terms for r in results))
    return failpoints, terms


def matrix_text(results: Sequence[RunResult]) -> str:
    """A table, one row per failpoint, one column per terms; `-` where a pair was not run."""
    failpoints, terms = _axes(results)
    by_pair = {(r.cell.failpoint, r.cell.terms): r for r in results}
    head = ["failpoint", *terms]
    rows = [[name, *(_MARK[by_pair[(name, t)].outcome] if (name, t) in by_pair else "-" for t in terms)]
            for name in failpoints]
    widths = [max(len(row[i]) for row in [head, *rows]) for i in range(len(head))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths)).rstrip() for row in [head, *rows]]
    counts = summary(results)
    lines.append(f"{len(results)} run(s): {counts_line(counts)}")
    if results and counts[NOT_REACHED] == len(results):
        lines.append("NOTHING WAS REACHED: no run's workload made its failpoint fire; the campaign tested nothing")
    return "\n".join(lines)


def as_json(results: Sequence[RunResult]) -> str:
    return json.dumps({"runs": [r.as_dict() for r in results], "summary": summary(results)}, indent=2)


def write_html(path: Path, results: Sequence[RunResult]) -> None:
    """The matrix as a standalone page, each cell linking to its run's journal.

    A hook: the coverage report (timelines per run) will take this matrix on top.
    """
    failpoints, terms = _axes(results)
    by_pair = {(r.cell.failpoint, r.cell.terms): r for r in results}
    rows = []
    for name in failpoints:
        cells = []
        for term in terms:
            result = by_pair.get((name, term))
            if result is None:
                cells.append("<td>-</td>")
                continue
            label = html.escape(result.outcome)
            if result.journal is not None:
                label = f'<a href="{html.escape(result.journal.resolve().as_uri())}">{label}</a>'
            cells.append(f'<td class="{html.escape(result.outcome)}" title="{html.escape(result.message)}">{label}</td>')
        rows.append(f"<tr><th>{html.escape(name)}</th>{''.join(cells)}</tr>")
    head = "".join(f"<th>{html.escape(t)}</th>" for t in terms)
    counts = summary(results)
    page = f"""<!doctype html>
<html><head><meta charset="utf-8"><title>gofail-py explore</title><style>
td, th {{ padding: 2px 8px; border: 1px solid #ccc; }} .passed {{ background: #cfc; }}
.failed {{ background: #f99; }} .not-reached {{ background: #eee; }} .error {{ background: #fc6; }}
</style></head><body>
<h1>gofail-py explore</h1>
<p>{html.escape(counts_line(counts))}</p>
<table><tr><th>failpoint</th>{head}</tr>
{chr(10).join(rows)}
</table></body></html>
"""
    path.write_text(page, encoding="utf-8")
