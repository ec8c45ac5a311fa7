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


def wrong_reads(plan: kvprep.Plan, store: Store, revision: int, point: float, failed: list[Operation],
                writer: Operation | None) -> list[Unplaced]:
    """Why each read of ``revision`` in ``failed`` could not be placed (``writer``: the write of it)."""
    unplaced = []
    for read in failed:
        if read.ret < point:  # type: ignore[operator]
            if writer is not None and writer.call > read.ret:  # type: ignore[operator]
                reason = (f"it saw revision {revision}, written by {writer.where()}, which was called only after "
                          "this read returned")
            else:
                reason = (f"it saw revision {revision}, but returned before the write of revision {revision} could "
                          "take effect (the operations that must come before that write had not all been called)")
            unplaced.append(Unplaced(read, reason))
            continue
        undo: Undo = []
        out = execute(store, revision, read.op, read.input, undo)[1]
        rollback(store, undo)
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
