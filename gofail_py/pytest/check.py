"""A pytest helper for robustness tests: a recorded history must be linearizable.

    from gofail_py.pytest.check import assert_linearizable

    def test_kv_survives_a_crash(gofail_process, tmp_path):
        ...
        run_traffic(Kvserver(address), tmp_path / "h.jsonl", TrafficConfig(duration=5))
        assert_linearizable(tmp_path / "h.jsonl")

It fails the test with the checker's explanation (the longest linearizable prefix's end, the
state there, the operations that could not be placed and why), never with a traceback into the
checker; a check that reached its timeout fails too (unknown is never a pass)."""

from __future__ import annotations

import os
from collections.abc import Iterable

import pytest

from gofail_py.check import CheckResult, check
from gofail_py.check.explain import explain
from gofail_py.models import Model


def assert_linearizable(history: str | os.PathLike[str] | Iterable[str | os.PathLike[str]],
                        model: str | Model | None = None, timeout: float = 120.0) -> CheckResult:
    """Checks the history (one file or several, one history) and gives the result; fails the test unless linearizable."""
    result = check(history, model=model, timeout=timeout)
    if not result.linearizable:
        pytest.fail(explain(result), pytrace=False)
    return result
