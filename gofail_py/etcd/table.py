"""The table of which trigger reaches which failpoint (examples/etcd/failpoints.tsv), read and
checked: a pure transform of its text into rows, or a TableError naming the line.

Columns, tab-separated, the first line naming them: failpoint, file, trigger (an action and its
arguments; empty: none reaches it), target (the member to send it to), member (where the
failpoint fires: where to arm it; `target` is the member the trigger went to), terms (special
terms it needs; empty: any), flags (what the members must be started with), why (for a
failpoint no trigger reaches: the code path it guards and what would reach it)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from gofail_py.errors import TableError, TriggerUsageError
from gofail_py.etcd.triggers import check_arguments
from gofail_py.names import is_go_identifier

COLUMNS = ("failpoint", "file", "trigger", "target", "member", "terms", "flags", "why")
TARGETS = ("leader", "follower", "any")
MEMBERS = (*TARGETS, "target")


@dataclass(frozen=True)
class Row:
    failpoint: str
    file: str
    trigger: str
    target: str
    member: str
    terms: str
    flags: str
    why: str

    @property
    def action(self) -> str:
        return self.trigger.split()[0] if self.trigger else ""

    @property
    def args(self) -> tuple[str, ...]:
        return tuple(self.trigger.split()[1:])

    def as_dict(self) -> dict[str, str]:
        return {column: getattr(self, column) for column in COLUMNS}


def parse_table(text: str, path: str = "<table>") -> list[Row]:
    lines = text.splitlines()
    if not lines or tuple(lines[0].split("\t")) != COLUMNS:
        raise TableError(f"{path}:1: the first line must name the columns {' '.join(COLUMNS)} (tab-separated)")
    rows: list[Row] = []
    seen: set[str] = set()
    for number, line in enumerate(lines[1:], start=2):
        if not line.strip():
            continue
        cells = line.split("\t")
        if len(cells) != len(COLUMNS):
            raise TableError(f"{path}:{number}: {len(cells)} cells, not {len(COLUMNS)}")
        row = Row(*cells)
        if not is_go_identifier(row.failpoint):
            raise TableError(f"{path}:{number}: {row.failpoint!r} is not a failpoint name")
        if row.failpoint in seen:
            raise TableError(f"{path}:{number}: {row.failpoint} has a row already")
        seen.add(row.failpoint)
        if row.trigger:
            try:
                check_arguments(row.action, row.args)
            except TriggerUsageError as error:
                raise TableError(f"{path}:{number}: {error}") from None
            if row.target not in TARGETS or row.member not in MEMBERS:
                raise TableError(f"{path}:{number}: target must be one of {', '.join(TARGETS)} and member one of "
                                 f"{', '.join(MEMBERS)}, not {row.target!r} and {row.member!r}")
        elif not row.why.strip():
            raise TableError(f"{path}:{number}: {row.failpoint} has no trigger and no why")
        rows.append(row)
    return rows


def read_table(path: str | Path) -> list[Row]:
    try:
        text = Path(path).read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise TableError(f"cannot read the table {path}: {error}") from None
    return parse_table(text, str(path))


def compare(rows: list[Row], source: dict[str, str]) -> list[str]:
    """What keeps the table from matching a source's inventory (failpoint name -> file): a row
    whose failpoint the source no longer has, a failpoint of the source with no row, a file
    that moved. Empty when they match."""
    problems = []
    named = {row.failpoint: row for row in rows}
    for row in rows:
        if row.failpoint not in source:
            problems.append(f"{row.failpoint} has a row but is not in the source any more")
        elif source[row.failpoint] != row.file:
            problems.append(f"{row.failpoint} is in {source[row.failpoint]}, not {row.file} as its row says")
    problems += [f"{name} ({file}) is in the source but has no row" for name, file in source.items() if name not in named]
    return problems
