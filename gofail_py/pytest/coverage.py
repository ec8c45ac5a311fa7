"""Fault coverage of a pytest session: ``--gofail-report``, ``--gofail-source``, ``--gofail-fail-under``.

Each fixture records its processes and failpoints into one journal per worker (pytest-xdist
workers share the controller's directory through an environment variable); at the end the
controller merges them, prints the summary line like pytest-cov does, writes the HTML report and
fails the session under ``--gofail-fail-under``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from gofail_py.recording.recorder import Recorder
from gofail_py.rewriter.workspace import LocatedFailpoint

SESSION_DIR_ENV = "GOFAIL_PY_COVERAGE_DIR"  # where the workers of one session write their journals


@dataclass
class _Session:
    """What this process knows of the session's coverage (the lines to print at its end)."""

    inventory: dict[int, list[LocatedFailpoint]] = field(default_factory=dict)
    lines: list[str] = field(default_factory=list)

    def sources(self, config: pytest.Config) -> list[str]:
        return list(config.getoption("gofail_source") or [])

    def enabled(self, config: pytest.Config) -> bool:
        return bool(config.getoption("gofail_report") or self.sources(config)
                    or config.getoption("gofail_fail_under") is not None)

    def inventory_of(self, config: pytest.Config) -> list[LocatedFailpoint] | None:
        if not self.sources(config):
            return None
        if id(config) not in self.inventory:
            from gofail_py.rewriter.workspace import list_failpoints

            self.inventory[id(config)] = list_failpoints(self.sources(config))
        return self.inventory[id(config)]


SESSION = _Session()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("gofail", "fault coverage (gofail-py)")
    group.addoption("--gofail-report", metavar="PATH", default=None,
                    help="write the HTML fault-coverage report (timelines and table) of the session here")
    group.addoption("--gofail-source", metavar="PATH", action="append", default=[],
                    help="Go source whose failpoints the coverage counts (as `gofail-py list` takes paths; repeatable)")
    group.addoption("--gofail-fail-under", metavar="PCT", type=float, default=None,
                    help="fail the session when fewer than PCT percent of the source's failpoints were hit")


def _is_worker(config: pytest.Config) -> bool:
    return hasattr(config, "workerinput")  # a pytest-xdist worker


def pytest_configure(config: pytest.Config) -> None:
    if not SESSION.enabled(config):
        return
    fail_under = config.getoption("gofail_fail_under")
    if fail_under is not None and not SESSION.sources(config):
        raise pytest.UsageError("--gofail-fail-under needs --gofail-source: without the inventory there is nothing to divide by")
    if fail_under is not None and not 0 <= fail_under <= 100:  # NaN fails this too
        raise pytest.UsageError(f"--gofail-fail-under {fail_under:g}: expected a percentage from 0 to 100")
    _check_report_path(config.getoption("gofail_report"))
    from gofail_py.errors import GofailError

    try:
        SESSION.inventory_of(config)  # a bad --gofail-source path stops the session before any test
    except GofailError as error:
        raise pytest.UsageError(f"--gofail-source: {error}") from None
    if not _is_worker(config):  # last: a usage error above leaves no directory behind
        os.environ[SESSION_DIR_ENV] = tempfile.mkdtemp(prefix="gofail-py-coverage-")


def _check_report_path(report: str | None) -> None:
    """--gofail-report must name a file in an existing directory: found out before the tests run,
    not after them."""
    if not report:
        return
    from gofail_py.errors import GofailError
    from gofail_py.recording.outputs import REPORT, target as output_target

    try:
        target = Path(output_target(report, REPORT)[0])
    except GofailError as error:  # another user's link on the way, an existing file that is not a report
        raise pytest.UsageError(f"--gofail-report {error}") from None
    if target.is_dir():
        raise pytest.UsageError(f"--gofail-report {report}: is a directory; name the HTML file")
    if not target.parent.is_dir():
        raise pytest.UsageError(f"--gofail-report {report}: the directory {target.parent} does not exist")


def journal_of_this_worker(config: pytest.Config) -> Path | None:
    """This worker's journal in the session's directory; None when coverage is off."""
    directory = os.environ.get(SESSION_DIR_ENV)
    if not SESSION.enabled(config) or not directory:
        return None
    worker = getattr(config, "workerinput", {}).get("workerid", "main")
    return Path(directory) / f"{worker}-{os.getpid()}.jsonl"


def recorder_for(config: pytest.Config, test: str) -> Recorder | None:
    """A recorder for one fixture instance (one run, named after the test); None when coverage is off."""
    journal = journal_of_this_worker(config)
    if journal is None:
        return None
    return Recorder(journal, name=test, inventory=SESSION.inventory_of(config))


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    config = session.config
    directory = os.environ.get(SESSION_DIR_ENV)
    if not SESSION.enabled(config) or _is_worker(config) or not directory:
        return
    from gofail_py.report.coverage import build
    from gofail_py.errors import GofailError
    from gofail_py.recording.events import read_journals

    try:
        coverage = build(read_journals(sorted(Path(directory).glob("*.jsonl"))), SESSION.inventory_of(config))
        report = config.getoption("gofail_report")
        if report:
            from gofail_py.report.html import render_html, write_report

            write_report(report, (), render_html(coverage).encode("utf-8"))
        SESSION.lines = [f"gofail-py fault coverage: {coverage.summary()}"]
        if report:
            SESSION.lines.append(f"gofail-py fault coverage report: {report}")
        fail_under = config.getoption("gofail_fail_under")
        hit = coverage.percent(coverage.hit) or 0.0
        if fail_under is not None and hit < fail_under:
            SESSION.lines.append(f"FAIL: {hit:.1f}% of the failpoints hit, under --gofail-fail-under {fail_under:g}%")
            session.exitstatus = pytest.ExitCode.TESTS_FAILED
    except (GofailError, OSError) as error:
        SESSION.lines = [f"gofail-py fault coverage: cannot be reported: {error}"]
        session.exitstatus = pytest.ExitCode.INTERNAL_ERROR
    finally:
        shutil.rmtree(directory, ignore_errors=True)
        os.environ.pop(SESSION_DIR_ENV, None)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config) -> None:
    if SESSION.lines:
        terminalreporter.write_sep("-", "gofail-py fault coverage")
        for line in SESSION.lines:
            terminalreporter.write_line(line)
        SESSION.lines = []
