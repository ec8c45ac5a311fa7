"""Explaining where the kv revision check (kvfast.py) could not go on: the deepest dead end it
met, worded only when it is the deepest yet (a search meets thousands), and the violation built
from it: the linearizable prefix, the store at its end, the operations that could not come next."""

from __future__ import annotations

import json
from typing import Any

from gofail_py.check import kvprep
from gofail_py.check.result import Unplaced, Violation
from gofail_py.models.operation import Operation
from gofail_py.models.kvstore import Store, Undo, execute, rollback


class Best:
    """The deepest dead end: the prefix is every write up to ``revision`` with the reads of each
    revision after it (those of ``revision`` itself only when ``reads_at_end``), less ``excluded``."""

    __slots__ = ("placed", "revision", "reads_at_end", "excluded", "choices", "unplaced", "store")

    def __init__(self) -> None:
        self.placed = -1
        self.revision = 1
        self.reads_at_end = True
        self.excluded: set[int] = set()  # ids of reads left out of the prefix
        self.choices: dict[int, Operation] = {}  # gap revision -> the unanswered write placed there
        self.unplaced: list[Unplaced] = []
        self.store: Store = {}


def short(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"), default=repr)
    return text if len(text) <= 300 else text[:300] + "..."


def called_after(plan: kvprep.Plan, revision: int, moment: float) -> tuple[list[Operation], list[Operation]]:
    """The answered operations that keep revision ``revision`` from having taken effect by
    ``moment``: the reads of older revisions, and the writes of it and older ones, called after
    ``moment`` (each by revision). Only answered operations can: a gap's write is tried only when
    it was called before every later operation returned (kvprep's bound)."""
    reads: list[Operation] = []
    for older in range(1, revision):
        group = plan.reads[older]
        if group is not None and plan.read_calls[older] > moment:
            reads.extend(read for read in group if read.call > moment)
    writes = [write for older in range(2, revision + 1) for write in plan.writers[older] or () if write.call > moment]
    return reads, writes


def stale(read: Operation, newer: Operation) -> Unplaced:
    """``read`` saw an older revision than ``newer`` had answered before ``read`` was called."""
    return Unplaced(read, f"it saw revision {read.output['revision']}, but was called after {newer.where()} "  # type: ignore[index]
                          f"had returned revision {newer.output['revision']}")  # type: ignore[index]


def late_reads(plan: kvprep.Plan, revision: int, late: list[Operation]) -> tuple[list[Unplaced], list[Operation]]:
    """Reads of ``revision`` (answered) that returned before its write could take effect: what is at
    fault, and those of ``late`` that are not (their answers are still to compare). A read of an
    older revision called after one of them returned saw the past (a stale read): that read is at
    fault. A write of this revision or an older one called after one of them returned means the
    late read saw the future: it is at fault itself."""
    reads, writes = called_after(plan, revision, min(read.ret or 0 for read in late))
    unplaced: list[Unplaced] = []
    innocent: list[Operation] = []
    blamed: set[int] = set()
    for read in late:
        future = next((write for write in writes if write.call > read.ret), None)  # type: ignore[operator]
        if future is not None:
            unplaced.append(Unplaced(read, f"it saw revision {revision}, but {future.where()}, which created revision "
                                           f"{future.output['revision']}, was called only after this read returned"))  # type: ignore[index]
            continue
        past = [older for older in reads if older.call > read.ret]  # type: ignore[operator]
        if past:
            innocent.append(read)
            for older in past:
                if id(older) not in blamed:
                    blamed.add(id(older))
                    unplaced.append(stale(older, read))
            continue
        unplaced.append(Unplaced(read, f"it saw revision {revision}, but returned before the write of revision "
                                       f"{revision} could take effect"))  # not met: called_after names every cause
    return unplaced, innocent


def wrong_reads(store: Store, revision: int, reads: list[Operation]) -> list[Unplaced]:
    """Those of ``reads`` (of ``revision``) that answer what the store at it would not, and why."""
    unplaced = []
    for read in reads:
        undo: Undo = []
        out = execute(store, revision, read.op, read.input, undo)[1]
        rollback(store, undo)
        if out != read.output:
            unplaced.append(Unplaced(read, f"its answer is not the store's at revision {revision}, which would "
                                           f"answer {short(out)}"))
    return unplaced


def no_writer(plan: kvprep.Plan, revision: int) -> list[Unplaced]:
    """The answers that need revision ``revision`` to exist, when nothing can have created it."""
    waiting: list[Operation] = []
    for later in range(revision, plan.top + 1):
        waiting = plan.reads[later] or plan.writers[later + 1] or []
        if waiting:
            break
    return [Unplaced(op, f"it answered revision {op.output['revision']}, but no operation can have created "  # type: ignore[index]
                         f"revision {revision}: no write without an answer fits there") for op in waiting[:10]]


def violation(plan: kvprep.Plan, best: Best) -> Violation:
    prefix: list[Operation] = []
    for revision in range(1, best.revision + 1):
        claimed = plan.writers[revision]
        writer = claimed[0] if claimed and revision > 1 else best.choices.get(revision)
        if writer is not None:
            prefix.append(writer)
        if revision < best.revision or best.reads_at_end:
            prefix.extend(read for read in plan.reads[revision] or () if id(read) not in best.excluded)
    kvs = []
    for _, entry in sorted(best.store.items()):
        kv = dict(entry)
        if not isinstance(kv["value"], str):
            kv["value"] = None  # a value no read saw: the check did not keep it
        kvs.append(kv)
    return Violation(0, prefix, {"revision": best.revision, "kvs": kvs}, best.unplaced)


def too_many_revisions(plan: kvprep.Plan, ops: list[Operation], most: int) -> Violation:
    """An answer naming a revision that more writes than the history holds would have to make."""
    far = [op for op in ops if op.output is not None and op.output["revision"] > most]
    far.sort(key=lambda op: op.output["revision"])  # type: ignore[index]
    unplaced = [Unplaced(op, f"it answered revision {op.output['revision']}, but the history holds only "  # type: ignore[index]
                             f"{most - 1} operations that could write: the store cannot have passed revision {most}")
                for op in far[:10]]
    return Violation(0, [], {"revision": 1, "kvs": []}, unplaced)
