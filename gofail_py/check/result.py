"""What a check finds: the verdict, per part, and for a violation its explanation (as data)."""

from __future__ import annotations

import json
from typing import Any

from gofail_py.models.operation import Operation
from gofail_py.terminal import visible

LINEARIZABLE = "linearizable"
NOT_LINEARIZABLE = "not linearizable"
UNKNOWN = "unknown"
# exit codes of `gofail-py check` (docs/check.md): the one place that maps a verdict to one
EXIT_CODES = {LINEARIZABLE: 0, NOT_LINEARIZABLE: 1, UNKNOWN: 3}


def ref(op: Operation) -> dict[str, Any]:
    """How JSON output points at an operation: its file and line (null for one made in Python) and id."""
    return {"file": op.path, "line": op.line, "id": op.id}


class Unplaced:
    """An operation that could not be placed next after the prefix, and why."""

    __slots__ = ("op", "reason")

    def __init__(self, op: Operation, reason: str) -> None:
        self.op = op
        self.reason = reason

    def to_json(self) -> dict[str, Any]:
        return {**ref(self.op), "client": self.op.client, "op": self.op.op, "input": self.op.input,
                "output": self.op.output, "reason": self.reason}


class Violation:
    """Why a part is not linearizable: the longest prefix of its operations that could be
    linearized (in that order), the model's state at its end, and what could not come next."""

    __slots__ = ("part", "prefix", "state", "unplaced")

    def __init__(self, part: int, prefix: list[Operation], state: Any, unplaced: list[Unplaced]) -> None:
        self.part = part
        self.prefix = prefix
        self.state = state  # the model's describe_state: a JSON value
        self.unplaced = unplaced

    def to_json(self) -> dict[str, Any]:
        return {"part": self.part, "prefix": [ref(op) for op in self.prefix], "state": self.state,
                "unplaced": [item.to_json() for item in self.unplaced]}


class PartResult:
    """The verdict on one independent part of the history."""

    __slots__ = ("label", "operations", "verdict", "method")

    def __init__(self, label: str, operations: int, verdict: str | None, method: str) -> None:
        self.label = label
        self.operations = operations
        self.verdict = verdict  # None: not checked (another part's violation settled the verdict first)
        self.method = method

    def to_json(self) -> dict[str, Any]:
        return {"label": self.label, "operations": self.operations, "verdict": self.verdict, "method": self.method}


class CheckResult:
    """``verdict`` is LINEARIZABLE, NOT_LINEARIZABLE or UNKNOWN (the deadline came first: never
    reported as linearizable); ``violation`` explains a NOT_LINEARIZABLE one."""

    def __init__(self, verdict: str, model: str, files: list[str], operations: int, indeterminate: int,
                 parts: list[PartResult], violation: Violation | None, timeout: float | None, elapsed: float,
                 history: list[Operation] | None = None) -> None:
        self.verdict = verdict
        self.history = history if history is not None else []  # the operations checked, as read (not in to_json)
        self.model = model
        self.files = files
        self.operations = operations
        self.indeterminate = indeterminate
        self.parts = parts
        self.violation = violation
        self.timeout = timeout
        self.elapsed = elapsed

    @property
    def linearizable(self) -> bool:
        return self.verdict == LINEARIZABLE

    @property
    def exit_code(self) -> int:
        return EXIT_CODES[self.verdict]

    def to_json(self) -> dict[str, Any]:
        """The dict `gofail-py check --json` prints (its shape is in docs/check.md)."""
        return {"verdict": self.verdict, "model": self.model, "files": self.files, "operations": self.operations,
                "indeterminate": self.indeterminate, "timeout": self.timeout, "elapsed": round(self.elapsed, 3),
                "parts": [part.to_json() for part in self.parts],
                "violation": None if self.violation is None else self.violation.to_json()}

    def __repr__(self) -> str:
        return f"<CheckResult {self.verdict} {self.model} {self.operations} operations>"


def describe(op: Operation) -> str:
    """One operation on one line: where, client, what it asked and what it got (the history's text
    escaped where it could drive a terminal)."""
    output = "no answer" + (f" ({op.error})" if op.error else "") if op.ret is None else _compact(op.output)
    return visible(f"{op.where()}  client {op.client}  {op.op} {_compact(op.input)} -> {output}")


def _compact(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    return text if len(text) <= 300 else text[:300] + "..."
