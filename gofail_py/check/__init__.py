"""The linearizability checker: ``check(history, model="kv", timeout=30.0)`` (docs/check.md)."""

from __future__ import annotations

from gofail_py.check.result import EXIT_CODES, LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, CheckResult, Violation
from gofail_py.check.run import check

__all__ = ["EXIT_CODES", "LINEARIZABLE", "NOT_LINEARIZABLE", "UNKNOWN", "CheckResult", "Violation", "check"]
