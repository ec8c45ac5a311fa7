"""Answers that no order can explain, found from the answers alone: when the revision check meets
a read whose answer the store does not give, and that answer is impossible whatever the gaps
hold, every order fails there and the check stops (else it would try every choice of every gap
before it: a late wrong read in a history with many lost writes made it run out of time).

A kv a get shows, ``(key, value, mod_revision m)`` seen at revision r, is impossible when:
- m > r (a write from the future);
- the answered write that made revision m does not leave that value in that key;
- no operation at all puts that value into that key when no answered write made m;
- an answered write of a revision after m and up to r changed that key (then m is not its last)."""

from __future__ import annotations

from bisect import bisect_right
from typing import Any

from gofail_py.check.kvprep import Plan
from gofail_py.models.operation import Operation


def _left(op: Operation) -> dict[str, Any]:
    """key -> what an answered write left there (its value, or None when it deleted the key)."""
    if op.op == "put":
        return {op.input["key"]: op.input["value"]}
    if op.op == "delete":
        return {op.input["key"]: None}
    left: dict[str, Any] = {}
    output = op.output
    assert output is not None
    for sub, result in zip(op.input["success"] if output["succeeded"] else op.input["failure"], output["results"]):
        if sub["op"] == "put":
            left[sub["key"]] = sub["value"]
        elif sub["op"] == "delete" and result["deleted"] > 0:
            left[sub["key"]] = None
    return left


class Local:
    """The answered writes by key, and every (key, value) anything puts, built once, on demand."""

    def __init__(self, plan: Plan, ops: list[Operation]) -> None:
        self.plan = plan
        self.changed: dict[str, list[int]] = {}  # key -> the revisions answered writes changed it at
        for revision, claimed in enumerate(plan.writers):
            if claimed is not None and len(claimed) == 1:
                for key in _left(claimed[0]):
                    self.changed.setdefault(key, []).append(revision)
        self.put: set[tuple[str, Any]] = set()
        for op in ops:
            if op.op == "put":
                self.put.add((op.input["key"], op.input["value"]))
            elif op.op == "txn":
                self.put.update((sub["key"], sub["value"]) for branch in ("success", "failure")
                                for sub in op.input[branch] if sub["op"] == "put")

    def impossible(self, read: Operation) -> bool:
        """Whether a get's answer is impossible whatever the gaps hold."""
        if read.op != "get":
            return False
        output = read.output
        assert output is not None
        revision = output["revision"]
        for kv in output["kvs"]:
            key, value, mod = kv["key"], kv["value"], kv["mod_revision"]
            if mod > revision or mod < 2 or (key, value) not in self.put:
                return True
            claimed = self.plan.writers[mod]
            if claimed is not None and (len(claimed) > 1 or _left(claimed[0]).get(key, _NOTHING) != value):
                return True
            changes = self.changed.get(key, ())
            if changes and bisect_right(changes, revision) > bisect_right(changes, mod):
                return True
        return False


_NOTHING = object()
