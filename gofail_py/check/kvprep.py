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

from gofail_py.history.operation import Operation
from gofail_py.models.kv import wrote
from gofail_py.models.kvstore import UNSEEN

NEVER = float("inf")  # the return time of an indeterminate operation


class Plan:
    """The fixed skeleton of a kv history and the open choices, for kvfast.search."""

    def __init__(self) -> None:
        self.top = 1  # the highest revision any answer names
        self.writers: dict[int, list[Operation]] = {}  # revision -> the answered writes claiming it
        self.reads: dict[int, list[Operation]] = {}  # revision -> answered reads of it, by call time
        self.read_calls: dict[int, float] = {}  # revision -> the latest call among its reads
        self.bound: list[float] = []  # [r]: the latest moment the write of r may take effect
        self.classes: list[list[Operation]] = []  # interchangeable indeterminate writes, each by call time
        self.class_inputs: list[tuple[str, dict[str, Any]]] = []  # (op, input) one member stands for
        self.pins: dict[int, Operation | None] = {}  # revision -> the one op that must create it (None: two must)
        self.pin_inputs: dict[int, tuple[str, dict[str, Any]]] = {}
        self.bad_writes: list[Operation] = []  # answered writes naming revision 1 or less


def _observed(ops: Sequence[Operation]) -> tuple[set[tuple[str, str]], dict[tuple[str, str], set[int]]]:
    """Every (key, value) some operation could see: in an answered read's kvs or in any txn's
    value compare; and for each seen (key, value) the mod revisions it was seen with."""
    seen: set[tuple[str, str]] = set()
    mods: dict[tuple[str, str], set[int]] = {}

    def kvs(items: list[dict[str, Any]]) -> None:
        for kv in items:
            pair = (kv["key"], kv["value"])
            seen.add(pair)
            mods.setdefault(pair, set()).add(kv["mod_revision"])

    for op in ops:
        if op.op == "txn":
            for condition in op.input["compare"]:
                if condition["target"] == "value":
                    seen.add((condition["key"], condition["value"]))
        output = op.output
        if output is None:
            continue
        if op.op == "get":
            kvs(output["kvs"])
        elif op.op == "txn":
            for result in output["results"]:
                if "kvs" in result:
                    kvs(result["kvs"])
    return seen, mods


def _puts(op: Operation) -> list[tuple[str, str]]:
    if op.op == "put":
        return [(op.input["key"], op.input["value"])]
    if op.op == "txn":
        return [(sub["key"], sub["value"]) for branch in ("success", "failure") for sub in op.input[branch] if sub["op"] == "put"]
    return []


def plan(ops: Sequence[Operation]) -> Plan:
    result = Plan()
    seen, mods = _observed(ops)
    putters: dict[tuple[str, str], list[Operation]] = {}
    for op in ops:
        for pair in _puts(op):
            putters.setdefault(pair, []).append(op)
    open_ops: list[Operation] = []
    for op in ops:
        output = op.output
        if output is None:
            if op.op != "get":  # an unanswered get changes nothing: it never needs a place
                open_ops.append(op)
            continue
        revision = output["revision"]
        result.top = max(result.top, revision)
        if wrote(op.op, op.input, output):
            if revision <= 1:
                result.bad_writes.append(op)
            else:
                result.writers.setdefault(revision, []).append(op)
        else:
            result.reads.setdefault(revision, []).append(op)
    for revision, reads in result.reads.items():
        reads.sort(key=lambda op: op.call)
        result.read_calls[revision] = reads[-1].call

    # pins: a value put by one operation only, seen with mod_revision m, was put at m by it
    pinned: dict[int, Operation] = {}  # id(op) -> op
    for pair, revisions in mods.items():
        owners = putters.get(pair, [])
        if len(owners) != 1 or owners[0].output is not None:
            continue
        owner = owners[0]
        pinned[id(owner)] = owner
        for revision in revisions:
            if revision in result.pins and result.pins[revision] is not owner:
                result.pins[revision] = None  # two operations would have to create one revision
            else:
                result.pins[revision] = owner
                result.pin_inputs[revision] = (owner.op, owner.input)
    # the rest of the unanswered writes, in classes of operations with the same effect
    classes: dict[str, int] = {}
    for op in sorted(open_ops, key=lambda op: op.call):
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
    result.bound = _bounds(result)
    return result


def _ret(op: Operation) -> float:
    return NEVER if op.ret is None else op.ret


def _bounds(plan: Plan) -> list[float]:
    """bound[r]: the write of revision r takes effect before every later-placed operation
    returns: the reads of r and beyond and the writes after r."""
    bound = [NEVER] * (plan.top + 2)
    running = NEVER
    for revision in range(plan.top, 0, -1):
        for read in plan.reads.get(revision, ()):
            running = min(running, _ret(read))
        bound[revision] = running
        for writer in plan.writers.get(revision, ()):
            running = min(running, _ret(writer))
    return bound
