"""The campaign's results as text: progress lines, the failpoint × terms matrix, JSON (the HTML report: report.py)."""

from __future__ import annotations

import json
from collections.abc import Sequence

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
    why = [r for r in results if r.why]
    if why:  # the failpoint table's reasons: a cell not reached is explained, not just counted
        lines.append("not reached, as the table says why:")
        lines += [f"  {r.cell.failpoint} × {r.cell.terms}: {r.why}" for r in why]
    counts = summary(results)
    lines.append(f"{len(results)} run(s): {counts_line(counts)}")
    if results and counts[NOT_REACHED] == len(results):
        lines.append("NOTHING WAS REACHED: no run's workload made its failpoint fire; the campaign tested nothing")
    return "\n".join(lines)


def as_json(results: Sequence[RunResult]) -> str:
    return json.dumps({"runs": [r.as_dict() for r in results], "summary": summary(results)}, indent=2)
