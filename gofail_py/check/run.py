"""check(): read the history, split it into independent parts, check each before the deadline."""

from __future__ import annotations

import gc
import os
import time
from collections.abc import Iterable, Sequence
from typing import Any, Union

from gofail_py.check.result import LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, CheckResult, PartResult, Violation
from gofail_py.check.search import Outcome, search
from gofail_py.errors import GofailError, HistoryError, ModelError
from gofail_py.models.operation import Operation
from gofail_py.history import twohalves
from gofail_py.history.reader import read_history
from gofail_py.history.twohalves import OutOfTime
from gofail_py.models import Model, get_model

History = Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]], Iterable[Operation]]
METHODS = ("auto", "search", "revisions")
MEMORY = 256  # megabytes of memo, by default


def load(history: History, model: str | Model | None, deadline: float | None) -> tuple[Model, list[Operation], list[str]]:
    """The model and the operations of one history: a path, several paths (one history in several
    files, e.g. one per process, all on one machine's monotonic clock) or Operation objects."""
    if isinstance(history, (str, os.PathLike)):
        history = [history]
    items: list[Any] = list(history)
    given = [item for item in items if isinstance(item, Operation)]
    if items and len(given) == len(items):
        resolved = get_model(model if model is not None else "kv")
        for op in given:
            problem = resolved.validate(op.op, op.input, op.output)
            if problem is not None:
                raise HistoryError(op.path or "<operations>", op.line or 0, f"operation id {op.id}: {problem}")
        return resolved, given, []
    if not all(isinstance(item, (str, os.PathLike)) for item in items):
        raise ModelError("check() takes a history file's path, several paths, or Operation objects")
    files = [os.fspath(item) for item in items]
    ops: list[Operation] = []
    chosen: Model | None = None
    for path in files:
        reader = read_history(path, model if model is not None else chosen)
        if chosen is None:
            chosen = reader.model
        ops.extend(twohalves.read_operations(reader, deadline))
    return chosen if chosen is not None else get_model(model or "kv"), ops, files


def _uses_revisions(model: Model, method: str) -> bool:
    if method == "revisions" and model.name != "kv":
        raise ModelError("method 'revisions' is the kv model's own check")
    return model.name == "kv" and method in ("auto", "revisions") and type(model).__module__ == "gofail_py.models.kv"


def check(history: History, model: str | Model | None = None, timeout: float | None = None,
          method: str = "auto", memory: int = MEMORY) -> CheckResult:
    """Whether a history is linearizable with respect to a model (docs/check.md).

    ``history``: a path, several paths, or Operation objects. ``model``: "kv", "register" or a
    Model; by default the history header's, else "kv". ``timeout`` (seconds, None: none) is a
    deadline for the whole call, reading included; reaching it gives the verdict "unknown".
    ``method``: "auto"; "search" forces the general search, "revisions" the kv model's own check.
    ``memory``: the megabytes the search may hold in its memo of configurations already tried
    (beyond it the older half is forgotten: slower, never wrong)."""
    if method not in METHODS:
        raise ModelError(f"unknown method {method!r}: expected one of {', '.join(METHODS)}")
    if type(memory) is not int or memory < 1:
        raise ModelError(f"memory must be a whole number of megabytes >= 1, not {memory!r}")
    if timeout is not None and timeout < 0:
        raise ModelError(f"timeout must be >= 0 seconds, not {timeout}")
    start = time.monotonic()
    deadline = None if timeout is None else start + timeout
    collecting = gc.isenabled()
    # a history is many small dicts and lists with no cycles: the cycle collector would walk them
    # again and again as they are made (3-6x the time of a 50k-operation check); it runs after
    gc.disable()
    try:
        return _check(history, model, timeout, method, start, deadline, memory << 20)
    finally:
        if collecting:
            gc.enable()


def _check(history: History, model: str | Model | None, timeout: float | None, method: str, start: float,
           deadline: float | None, memo_bytes: int) -> CheckResult:
    files = [os.fspath(h) for h in ([history] if isinstance(history, (str, os.PathLike)) else [])]
    try:
        resolved, ops, files = load(history, model, deadline)
    except OutOfTime:
        name = model if isinstance(model, str) else getattr(model, "name", "kv") if model is not None else "kv"
        return CheckResult(UNKNOWN, str(name), files, 0, 0, [], None, timeout, time.monotonic() - start)
    indeterminate = sum(op.ret is None for op in ops)
    if _uses_revisions(resolved, method):
        from gofail_py.check.kvfast import check_revisions

        outcome = check_revisions(ops, deadline, memo_bytes)
        parts = [PartResult("all keys", len(ops), outcome.verdict, "revisions")]
        return CheckResult(outcome.verdict, resolved.name, files, len(ops), indeterminate, parts, outcome.violation,
                           timeout, time.monotonic() - start, ops)
    verdict, parts, violation = _check_parts(resolved, ops, deadline, memo_bytes)
    return CheckResult(verdict, resolved.name, files, len(ops), indeterminate, parts, violation, timeout,
                       time.monotonic() - start, ops)


def _check_parts(model: Model, ops: Sequence[Operation], deadline: float | None,
                 memo_bytes: int) -> tuple[str, list[PartResult], Violation | None]:
    """Each independent part alone (in parallel when that pays); the first violation settles the verdict
    (parts not checked by then are left so)."""
    try:
        pieces = model.partition(ops)
    except GofailError:
        raise
    except Exception as error:
        raise ModelError(f"the {model.name} model's partition failed: {type(error).__name__}: {error}") from error
    if sum(map(len, pieces)) != len(ops) or len({id(op) for piece in pieces for op in piece}) != len(ops):
        raise ModelError(f"the {model.name} model's partition must put every operation in exactly one part")
    # here, not at the top: multiprocessing is a tenth of the kv check's start-up, which never needs it
    from gofail_py.check.parallel import check_in_parallel, worth_it

    outcomes: dict[int, Outcome] = {}
    if worth_it(pieces):
        outcomes.update(check_in_parallel(model, pieces, deadline, memo_bytes))
    else:
        for number, piece in enumerate(pieces):
            outcomes[number] = search(model, piece, deadline, number, memo_bytes)
            if outcomes[number].verdict == NOT_LINEARIZABLE:
                break
    results: list[PartResult] = []
    verdict, violation = LINEARIZABLE, None
    for number, piece in enumerate(pieces):
        outcome = outcomes.get(number)
        results.append(PartResult(_label(piece, number, len(pieces)), len(piece),
                                  None if outcome is None else outcome.verdict, "search"))
        if outcome is None:
            continue
        if outcome.verdict == NOT_LINEARIZABLE and violation is None:
            verdict, violation = NOT_LINEARIZABLE, outcome.violation
        elif outcome.verdict == UNKNOWN and violation is None:
            verdict = UNKNOWN
    return verdict, results, violation


def _label(piece: Sequence[Operation], number: int, total: int) -> str:
    return "all" if total == 1 else f"part {number + 1} of {total}"


