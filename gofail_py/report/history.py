"""The histories a run's traffic recorded, drawn under its failpoint timeline on the same time axis.

A `traffic` step's journal record names its history and the history clock's reading at the
journal's time 0 (``clock_ns``); a `check` step's record gives each history's verdict. A history
the check found not linearizable is checked again here to mark the operations that could not be
placed. Only a file that starts as a history does is read: a journal from elsewhere cannot make
the report copy some other file's lines into the page."""

from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gofail_py.errors import GofailError
from gofail_py.report.spans import Run

if TYPE_CHECKING:
    from markupsafe import Markup

CHECK_AGAIN_FOR = 60.0  # seconds the report may spend checking a failed history again
_HEADER = b'{"gofail_py_history"'


@dataclass
class HistorySection:
    statement: str
    path: str
    verdict: str | None  # the scenario's check of it; None: not checked
    operations: int
    fragment: Markup | None
    note: str = ""


def _looks_like_history(path: str) -> bool:
    """A regular file that starts as a history does: opened without waiting (a FIFO or a terminal
    named by a journal from elsewhere would hang the report), checked for what it is once open."""
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError):  # ValueError: a NUL in the name (JSON can carry one)
        return False
    try:
        return stat.S_ISREG(os.fstat(fd).st_mode) and os.read(fd, len(_HEADER)) == _HEADER
    except OSError:
        return False
    finally:
        os.close(fd)


def history_sections(run: Run, span: float) -> list[HistorySection]:
    """One section per history of the run's traffic, its fragment on the timeline's x scale
    (``span``: the seconds the timeline's width stands for)."""
    if not run.traffics:
        return []
    from gofail_py.check import check  # the checker and the picture only for a run with traffic
    from gofail_py.check.picture import history_fragment
    from gofail_py.history import read_history

    sections = []
    for step in run.traffics:  # (spans.Run kept each one's history path and clock, checked)
        path, clock = step.answer["history"], step.answer["clock_ns"]
        verdict = run.verdicts.get(path)
        section = HistorySection(step.statement, path, verdict, 0, None)
        sections.append(section)
        if not _looks_like_history(path):
            section.note = "the history is not there any more (pass --journal to keep it beside the journal)" \
                if not os.path.exists(path) else "not a history file: not drawn"
            continue
        try:
            if verdict == "not linearizable":
                result = check(path, timeout=CHECK_AGAIN_FOR)
                ops, violation = result.history, result.violation
            else:
                ops, violation = list(read_history(path)), None
        except (GofailError, OSError, MemoryError) as error:
            section.note = f"the history could not be read: {error}"
            continue
        section.operations = len(ops)
        section.fragment = history_fragment(ops, violation, clock, clock + max(int(span * 1e9), 1), origin=clock,
                                            label=f"operations of {step.statement}")
    return sections


__all__ = ["HistorySection", "history_sections"]
