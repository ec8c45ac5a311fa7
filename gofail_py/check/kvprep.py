"""What the revision-driven kv check (kvfast.py) knows before it searches, read off the answers.

Every answered write carries the revision it created, and every answered read the revision it
saw, so each answered operation has a fixed place: the write of revision r between the writes of
r-1 and r+1, a read of revision r after the write of r and before the write of r+1. What is left
open: which operation without an answer created each revision that no answered write claims (a
"gap"), and when. Unique put values narrow that: a read that shows key k with value v and
mod_revision m proves that the only operation putting v into k created revision m ("pins" it)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from gofail_py.models.operation import Operation
from gofail_py.models.kvstore import UNSEEN

NEVER = float("inf")  # the return time of an indeterminate operation


class Plan:
    """The fixed skeleton of a kv history and the open choices, for kvfast. Lists are indexed by
    revision, 0 .. top + 1."""

    def __init__(self, top: int) -> None:
        self.top = top  # the highest revision any answer names
        self.writers: list[list[Operation] | None] = [None] * (top + 2)  # the answered writes claiming r
        self.reads: list[list[Operation] | None] = [None] * (top + 2)  # answered reads of r, by call time
        self.read_calls: list[float] = [_EARLIEST] * (top + 2)  # the latest call among the reads of r
        self.bound: list[float] = []  # the latest moment the write of r may take effect
        self.classes: list[list[Operation]] = []  # interchangeable unanswered writes, each by call time
        self.class_inputs: list[tuple[str, dict[str, Any]]] = []  # (op, input) one member stands for
        self.pins: dict[int, Operation | None] = {}  # revision -> the one op that must create it (None: two must)
        self.bad_writes: list[Operation] = []  # answered writes naming revision 1 or less
        self.overflow: int | None = None  # the highest revision the writes can make, when an answer names more


_EARLIEST = float("-inf")


def _txn_wrote(input: dict[str, Any], output: dict[str, Any]) -> bool:
    for sub, result in zip(input["success"] if output["succeeded"] else input["failure"], output["results"]):
        if sub["op"] == "put" or (sub["op"] == "delete" and result["deleted"] > 0):
            return True
    return False


def _puts(op: Operation) -> list[tuple[str, Any]]:
    if op.op == "put":
        return [(op.input["key"], op.input["value"])]
    if op.op == "txn":
        return [(sub["key"], sub["value"]) for branch in ("success", "failure") for sub in op.input[branch] if sub["op"] == "put"]
    return []


def plan(ops: Sequence[Operation]) -> Plan:
    writers: dict[int, list[Operation]] = {}
    reads: dict[int, list[Operation]] = {}
    open_ops: list[Operation] = []
    bad: list[Operation] = []
    top = 1
    for op in ops:
        output = op.output
        kind = op.op
        if output is None:
            if kind != "get":  # an unanswered get changes nothing: it never needs a place
                open_ops.append(op)
            continue
        revision = output["revision"]
        if revision > top:
            top = revision
        # whether it changed the store, read off its answer: then its revision is the one it created
        if kind == "put" or (kind == "delete" and output["deleted"]) or (kind == "txn" and _txn_wrote(op.input, output)):
            if revision <= 1:
                bad.append(op)
            elif revision in writers:
                writers[revision].append(op)
            else:
                writers[revision] = [op]
        elif revision in reads:
            reads[revision].append(op)
        else:
            reads[revision] = [op]
    most = 1 + sum(map(len, writers.values())) + len(open_ops)
    if top > most + 65536:  # beyond what the writes can make: no lists of a billion revisions for it
        result = Plan(1)
        result.overflow = most
        return result
    result = Plan(top)
    result.bad_writes = bad
    for revision, claimed in writers.items():
        result.writers[revision] = claimed
    calls = result.read_calls
    for revision, group in reads.items():
        if len(group) > 1:
            group.sort(key=_call)
        result.reads[revision] = group
        calls[revision] = group[-1].call
    if open_ops:
        _choices(result, ops, open_ops)
    result.bound = _bounds(result)
    return result


def _call(op: Operation) -> int:
    return op.call


def _choices(result: Plan, ops: Sequence[Operation], open_ops: list[Operation]) -> None:
    """Pins and classes of the unanswered writes. Only the values they put matter here, so the
    answers are searched for those alone."""
    wanted = {value for op in open_ops for _, value in _puts(op)}
    seen: set[tuple[str, Any]] = set()  # (key, value) some operation could see
    mods: dict[tuple[str, Any], set[int]] = {}  # ... and the mod revisions it was seen with
    owners: dict[tuple[str, Any], list[Operation]] = {}

    looked: set[int] = set()  # the kvs lists already looked at: the reader shares one between equal answers

    def saw(kvs: list[dict[str, Any]]) -> None:
        looked.add(id(kvs))
        for kv in kvs:
            if kv["value"] in wanted:
                pair = (kv["key"], kv["value"])
                seen.add(pair)
                mods.setdefault(pair, set()).add(kv["mod_revision"])

    for op in ops:  # one pass, the common cases first: a line costs a few membership tests
        kind, input, output = op.op, op.input, op.output
        if kind == "get":
            if output is not None:
                kvs = output["kvs"]
                if kvs and id(kvs) not in looked:
                    saw(kvs)
        elif kind == "put":
            if input["value"] in wanted:
                owners.setdefault((input["key"], input["value"]), []).append(op)
        elif kind == "txn":
            for condition in input["compare"]:
                if condition["target"] == "value" and condition["value"] in wanted:
                    seen.add((condition["key"], condition["value"]))
            for sub in (*input["success"], *input["failure"]):
                if sub["op"] == "put" and sub["value"] in wanted:
                    owners.setdefault((sub["key"], sub["value"]), []).append(op)
            if output is not None:
                for item in output["results"]:
                    if "kvs" in item:
                        saw(item["kvs"])
    # pins: a value put by one operation only, seen with mod_revision m, was put at m by it
    pinned: set[int] = set()
    for pair, revisions in mods.items():
        alone = owners.get(pair, [])
        if len(alone) != 1 or alone[0].output is not None:
            continue
        owner = alone[0]
        pinned.add(id(owner))
        for revision in revisions:
            if revision in result.pins and result.pins[revision] is not owner:
                result.pins[revision] = None  # two operations would have to create one revision
            else:
                result.pins[revision] = owner
    # the rest, in classes of operations with the same effect
    classes: dict[str, int] = {}
    for op in sorted(open_ops, key=_call):
        if id(op) in pinned:
            continue
        input = op.input
        if op.op == "put" and (input["key"], input["value"]) not in seen:
            input = {"key": input["key"], "value": UNSEEN}
            name = json.dumps(["put", input["key"]])
        else:
            name = json.dumps([op.op, op.input], sort_keys=True)
        number = classes.setdefault(name, len(classes))
        if number == len(result.classes):
            result.classes.append([])
            result.class_inputs.append((op.op, input))
        result.classes[number].append(op)


def _bounds(plan: Plan) -> list[float]:
    """bound[r]: the write of revision r takes effect before every later-placed operation
    returns: the reads of r and beyond and the writes after r."""
    bound = [NEVER] * (plan.top + 2)
    running = NEVER
    reads, writers = plan.reads, plan.writers
    for revision in range(plan.top, 0, -1):
        group = reads[revision]
        if group is not None:
            for read in group:
                if read.ret < running:  # type: ignore[operator]
                    running = read.ret  # type: ignore[assignment]
        bound[revision] = running
        claimed = writers[revision]
        if claimed is not None:
            for writer in claimed:
                if writer.ret < running:  # type: ignore[operator]
                    running = writer.ret  # type: ignore[assignment]
    return bound
