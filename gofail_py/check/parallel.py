"""Independent parts checked in parallel, when that pays: several parts, a big history, more than
one CPU, and a process with no other thread (the workers are forked: they inherit the parts and
the model, nothing is pickled on the way in). Each worker runs the general search on one part
with its share of the memo budget; the first violation stops the others."""

from __future__ import annotations

import multiprocessing
import os
import threading
from collections.abc import Iterator, Sequence
from typing import Any

from gofail_py.children import die_with_parent
from gofail_py.check.result import NOT_LINEARIZABLE, Unplaced, Violation
from gofail_py.check.search import Outcome, search
from gofail_py.models.operation import Operation
from gofail_py.models.base import Model

PAYS_FROM = 20_000  # operations: below it a worker's start-up costs more than it saves
_JOB: tuple[Model, list[list[Operation]], float | None, int] | None = None  # what forked workers inherit

Compact = tuple[int, str, Any]  # (part, verdict, violation as indices into the part, or None)


def worth_it(pieces: Sequence[Sequence[Operation]]) -> bool:
    return (len(pieces) > 1 and sum(map(len, pieces)) >= PAYS_FROM and (os.cpu_count() or 1) > 1
            and threading.active_count() == 1 and "fork" in multiprocessing.get_all_start_methods())


def _work(number: int) -> Compact:
    assert _JOB is not None
    model, pieces, deadline, memo_bytes = _JOB
    piece = pieces[number]
    outcome = search(model, piece, deadline, number, memo_bytes)
    if outcome.violation is None:
        return number, outcome.verdict, None
    index = {id(op): at for at, op in enumerate(piece)}
    violation = outcome.violation
    return number, outcome.verdict, ([index[id(op)] for op in violation.prefix], violation.state,
                                     [(index[id(item.op)], item.reason) for item in violation.unplaced])


def check_in_parallel(model: Model, pieces: list[list[Operation]], deadline: float | None,
                      memo_bytes: int) -> Iterator[tuple[int, Outcome]]:
    """(part number, outcome) as parts finish; stops the workers when the caller stops iterating."""
    global _JOB
    workers = min(len(pieces), os.cpu_count() or 1)
    _JOB = (model, pieces, deadline, max(1 << 20, memo_bytes // workers))
    # a checker killed midway (even by SIGKILL) leaves no worker searching on
    pool = multiprocessing.get_context("fork").Pool(workers, initializer=die_with_parent())
    try:
        # the biggest parts first, so that one big part does not start last
        order = sorted(range(len(pieces)), key=lambda number: -len(pieces[number]))
        for number, verdict, compact in pool.imap_unordered(_work, order):
            violation = None
            if compact is not None:
                prefix, state, unplaced = compact
                piece = pieces[number]
                violation = Violation(number, [piece[at] for at in prefix], state,
                                      [Unplaced(piece[at], reason) for at, reason in unplaced])
            yield number, Outcome(verdict, violation)
            if verdict == NOT_LINEARIZABLE:
                return
    finally:
        pool.terminate()
        pool.join()
        _JOB = None
