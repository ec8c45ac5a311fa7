"""One operation of a history: what a client asked, what it got back, and when."""

from __future__ import annotations

from typing import Any


class Operation:
    """One line of a history file (docs/check.md). ``ret`` and ``output`` are None for an
    indeterminate operation (timed out, connection lost): it may have taken effect at any point
    after its call, or never. ``path`` and ``line`` say where it was read (None for one built in
    Python); they are what errors and explanations point at.

    A plain class with slots, not a dataclass: a 50k-operation history makes 50k of them."""

    __slots__ = ("id", "client", "op", "input", "output", "call", "ret", "error", "meta", "path", "line")

    def __init__(self, id: int, client: int, op: str, input: dict[str, Any], call: int, ret: int | None,
                 output: dict[str, Any] | None, error: str | None = None, meta: dict[str, Any] | None = None,
                 path: str | None = None, line: int | None = None) -> None:
        self.id = id
        self.client = client
        self.op = op
        self.input = input
        self.output = output
        self.call = call
        self.ret = ret
        self.error = error
        self.meta = meta
        self.path = path
        self.line = line

    @property
    def indeterminate(self) -> bool:
        return self.ret is None

    def where(self) -> str:
        """``FILE:LINE`` where it was read, or ``id N`` for an operation built in Python."""
        return f"{self.path}:{self.line}" if self.path is not None else f"id {self.id}"

    def to_dict(self) -> dict[str, Any]:
        """The operation as its history line (the format of docs/check.md)."""
        line: dict[str, Any] = {"id": self.id, "client": self.client, "op": self.op, "input": self.input,
                                "call": self.call, "return": self.ret, "output": self.output}
        if self.error is not None:
            line["error"] = self.error
        if self.meta is not None:
            line["meta"] = self.meta
        return line

    def __repr__(self) -> str:
        where = f" at {self.where()}" if self.path is not None else ""
        return (f"Operation(id={self.id}, client={self.client}, op={self.op!r}, input={self.input!r}, "
                f"output={self.output!r}, call={self.call}, ret={self.ret}{where})")

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Operation):
            return NotImplemented
        return self.to_dict() == other.to_dict()

    __hash__ = None  # type: ignore[assignment]  # mutable fields: compared by value, never hashed
