"""The kv model's own check, driven by the revisions in the answers (docs/check.md): placeholder."""

from __future__ import annotations

from collections.abc import Sequence

from gofail_py.check.search import Outcome, search
from gofail_py.history.operation import Operation
from gofail_py.models import get_model


def check_revisions(ops: Sequence[Operation], deadline: float | None) -> Outcome:
    return search(get_model("kv"), ops, deadline)
