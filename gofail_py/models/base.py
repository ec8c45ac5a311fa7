"""The protocol a model follows, for the checker's general search (docs/check.md, "Your own model").

A model is a sequential specification: an initial state and a step that says whether an
operation's output is allowed in a state and which state follows. States must be hashable and
never changed in place (the search keeps them and compares them); equal states must compare equal.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gofail_py.models.operation import Operation


class Model:
    """Subclass it and override ``init`` and ``step`` (the rest have defaults)."""

    name = "model"
    #: the operations a history of this model may hold; None: any name (``validate`` sees each)
    operations: frozenset[str] | None = None

    def init(self) -> Hashable:
        """The state before the first operation."""
        raise NotImplementedError

    def step(self, state: Any, op: str, input: Any, output: Any) -> Any:
        """The state after ``op`` with ``input`` ran in ``state`` and answered ``output``, or None
        when that output is not possible there. ``output`` is None for an indeterminate operation
        (no answer came): return the state it leaves whatever it answered."""
        raise NotImplementedError

    def validate(self, op: str, input: Any, output: Any) -> str | None:
        """What is wrong with an operation's input or output (``output`` None: indeterminate), as
        "expected ..." for the FILE:LINE error, or None when it is well formed. Called once per
        operation when a history is read, so ``step`` may trust the shapes."""
        if self.operations is not None and op not in self.operations:
            return f"expected an operation of the {self.name} model ({', '.join(sorted(self.operations))}), not {op!r}"
        return None

    def partition(self, ops: Sequence[Operation]) -> list[list[Operation]]:
        """Independent parts of a history: the history is linearizable exactly when every part is
        (e.g. one part per key when no operation reads or writes two keys). Default: one part."""
        return [list(ops)]

    def describe_state(self, state: Any) -> Any:
        """The state as a JSON value, for explanations."""
        return state if isinstance(state, (str, int, float, bool, type(None))) else repr(state)

    def changes(self, state: Any, op: str, input: Any) -> bool:
        """Whether an indeterminate operation would change ``state``; one that would not is never
        tried (taking effect without a change is the same as never taking effect). Default: step."""
        return bool(self.step(state, op, input, None) != state)
