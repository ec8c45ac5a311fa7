"""The campaign's HTML report: the matrix failpoint × terms on top, each cell linking to its run's
timeline below it (the coverage report's, one per journal), then the coverage table.

A journal with only step records (no recorder) still gives a timeline: its process lanes, armed
windows and crashes derived from the steps (derive.py), the failing or not-reached step in red.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gofail_py.report.coverage import build
from gofail_py.errors import JournalError
from gofail_py.recording.events import Event, read_journal
from gofail_py.explore.campaign import RunResult, summary
from gofail_py.explore.derive import derive
from gofail_py.explore.matrix import counts_line
from gofail_py.report.html import render_html
from gofail_py.report.html import write_report as write_html
from gofail_py.rewriter.workspace import LocatedFailpoint


@dataclass(frozen=True)
class MatrixCell:
    outcome: str
    message: str
    run: str | None  # the id of its run in the coverage (its timeline's), None without a journal
    why: str = ""  # not reached: the failpoint table's reason


@dataclass(frozen=True)
class MatrixRow:
    failpoint: str
    cells: list[MatrixCell | None]  # one per terms; None where the pair was not run


@dataclass(frozen=True)
class Matrix:
    terms: list[str]
    rows: list[MatrixRow]
    summary: str


def _events(journal: Path | None) -> list[Event]:
    if journal is None:
        return []
    try:
        return derive(list(read_journal(journal)))
    except JournalError:
        return []  # a run killed mid-line: its cell still shows, without a timeline


def render_report(results: Sequence[RunResult], inventory: Sequence[LocatedFailpoint] | None = None) -> str:
    events: list[Event] = []
    run_of: dict[tuple[str, str], str] = {}
    names: dict[str, str] = {}
    for result in results:
        found = _events(result.journal)
        if not found:
            continue
        first = found[0].run
        run_of[(result.cell.failpoint, result.cell.terms)] = first
        names[first] = f"{result.cell.failpoint} × {result.cell.terms}: {result.outcome}"
        events += found
    coverage = build(events, inventory)
    for run in coverage.runs:
        if run.run in names:
            run.name = names[run.run]
    terms = list(dict.fromkeys(r.cell.terms for r in results))
    by_pair = {(r.cell.failpoint, r.cell.terms): r for r in results}
    rows = []
    for failpoint in dict.fromkeys(r.cell.failpoint for r in results):
        cells: list[MatrixCell | None] = []
        for term in terms:
            ran = by_pair.get((failpoint, term))
            cells.append(None if ran is None else MatrixCell(ran.outcome, ran.message, run_of.get((failpoint, term)), ran.why))
        rows.append(MatrixRow(failpoint, cells))
    matrix = Matrix(terms, rows, f"{len(results)} run(s): {counts_line(summary(results))}")
    return render_html(coverage, matrix)


def write_report(path: Path, results: Sequence[RunResult], inventory: Sequence[LocatedFailpoint] | None = None) -> None:
    """Written as `report -o` writes (through links, into devices, never over a journal read)."""
    journals = [str(result.journal) for result in results if result.journal is not None]
    write_html(str(path), journals, render_report(results, inventory).encode("utf-8"))
