"""The linearizability checker: ``check(history, model="kv", timeout=30.0)`` (docs/check.md): the
general search (search, parallel), the kv revision check (kvprep, kvfast, kvlocal, kvexplain),
the result and its explanation (result), and the picture of a history (picture).

It offers check, CheckResult and the picture's HTML fragment to the CLI, scenarios and reports.
It reads histories and models; it runs nothing and talks to no endpoint. The picture is written
through gofail_py.recording.outputs, the one place that decides where reports may go.

Must not import: gofail_py.client, gofail_py.processes, gofail_py.report, gofail_py.scenario,
    gofail_py.explore, gofail_py.pytest, gofail_py.cli, gofail_py.traffic, gofail_py.rewriter
"""

from __future__ import annotations

from gofail_py.check.result import EXIT_CODES, LINEARIZABLE, NOT_LINEARIZABLE, UNKNOWN, CheckResult, Violation
from gofail_py.check.run import check

__all__ = ["EXIT_CODES", "LINEARIZABLE", "NOT_LINEARIZABLE", "UNKNOWN", "CheckResult", "Violation", "check"]
