"""pytest plugin: `@pytest.mark.gofail_explore(...)` turns a test into one test per failpoint × terms.

    @pytest.mark.gofail_explore(template="robust.gofail", source="../server/...", terms=["panic"])
    def test_robust(gofail_cell):
        result = gofail_cell.run(server=str(binary))
        assert result.outcome == "passed", result.message

Ids read `test_robust[raftAfterSave-panic]`. ``table="failpoints.tsv"`` gives every cell its
failpoint's row, as `explore --table` does (a failpoint of the source without a row is a usage
error at collection; `gofail_cell.why` is the row's reason for a failpoint that cannot be reached). The cells come from the source and the marker alone
(sampling needs a seed), so every pytest-xdist worker collects the same tests: `pytest -n 8`
spreads them over workers. Relative paths are taken from the test file's directory.
`--gofail-explore-journal DIR` keeps every run's journal there, one file per cell, whatever the
worker, so the journals of all workers end up side by side.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from gofail_py.explore.campaign import Campaign, RunResult
from gofail_py.errors import TableError
from gofail_py.explore.cells import Cell, inventory, make_cells
from gofail_py.explore.table import read_table

MARKER = "gofail_explore"


@dataclass(frozen=True)
class ExploreCell:
    """One parametrized cell: which failpoint and terms, and how to run the template for it."""

    cell: Cell
    template: Path
    variables: Mapping[str, str] = field(default_factory=dict)
    journal_dir: Path | None = None
    timeout: float = 600.0
    table: Path | None = None

    @property
    def failpoint(self) -> str:
        return self.cell.failpoint

    @property
    def terms(self) -> str:
        return self.cell.terms

    @property
    def why(self) -> str:
        """The failpoint table's reason why the failpoint cannot be reached ("" without one)."""
        return self.cell.why

    def run(self, **variables: str) -> RunResult:
        """Runs the template for this cell as its own `gofail-py run`; ``variables`` fill {NAME}s."""
        campaign = Campaign(self.template, self.journal_dir, {**self.variables, **variables}, self.timeout, self.table)
        try:
            return campaign.run_cell(self.cell)
        finally:
            campaign.stop()  # an interrupted test leaves nothing running


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--gofail-explore-journal", metavar="DIR", help="Keep each gofail_explore run's journal in DIR.")


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        f"{MARKER}(template, source, terms=['panic'], only=None, seed=None, sample=None, variables=None, timeout=600, "
        "table=None): "
        "one test per failpoint under source × terms, each running the scenario template (fixture argument gofail_cell)",
    )


def _paths(value: str | Sequence[str], base: Path) -> list[Path]:
    items = [value] if isinstance(value, str) else list(value)
    return [base / item for item in items]


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    marker = metafunc.definition.get_closest_marker(MARKER)
    if marker is None:
        return
    if "gofail_cell" not in metafunc.fixturenames:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: a {MARKER} test takes a `gofail_cell` argument")
    options: dict[str, Any] = dict(marker.kwargs)
    base = metafunc.definition.path.parent
    unknown = set(options) - {"template", "source", "terms", "only", "seed", "sample", "variables", "timeout", "table"}
    if unknown or "template" not in options or "source" not in options:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: {MARKER} takes template=, source= and optionally "
                                f"terms=, only=, seed=, sample=, variables=, timeout=, table= (got {sorted(options)})")
    if options.get("sample") is not None and options.get("seed") is None:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: {MARKER}(sample=...) needs seed=, so every worker picks the same cells")
    only = options.get("only") or ()
    terms = options.get("terms") or ["panic"]
    table_path = _paths(options["table"], base)[0].resolve() if options.get("table") else None
    try:
        table = read_table(table_path) if table_path is not None else None
        cells = make_cells(
            inventory(_paths(options["source"], base), [only] if isinstance(only, str) else list(only)),
            [terms] if isinstance(terms, str) else list(terms), options.get("seed"), options.get("sample"), table,
        )
    except TableError as error:
        raise pytest.UsageError(f"{metafunc.definition.nodeid}: {MARKER}(table=...): {error}") from None
    journal = _journal_dir(metafunc.config.getoption("--gofail-explore-journal"))
    template = _paths(options["template"], base)[0].resolve()
    params = [
        ExploreCell(cell, template, dict(options.get("variables") or {}), journal, float(options.get("timeout", 600.0)),
                    table_path)
        for cell in cells
    ]
    metafunc.parametrize("gofail_cell", params, ids=[cell.id for cell in cells])


def _journal_dir(option: str | None) -> Path | None:
    """--gofail-explore-journal, its links followed only where they are ours or root's."""
    if not option:
        return None
    from gofail_py.errors import GofailError
    from gofail_py.recording.outputs import JOURNAL, resolve

    try:
        return Path(resolve(option, JOURNAL))
    except GofailError as error:
        raise pytest.UsageError(f"--gofail-explore-journal {error}") from None
