"""The linearizability checker: ``check(history, model="kv", timeout=30.0)`` (docs/check.md).

Must not import: gofail_py.rewriter, gofail_py.client, gofail_py.processes, gofail_py.report,
    gofail_py.scenario, gofail_py.explore, gofail_py.pytest, gofail_py.cli, gofail_py.traffic
"""

from __future__ import annotations

from gofail_py.check.result import EXIT_CODES, LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, CheckResult, Violation
from gofail_py.check.run import check

__all__ = ["EXIT_CODES", "LINEARIZABLE", "NOT_LINEARIZABLE", "UNKNOWN", "CheckResult", "Violation", "check"]
