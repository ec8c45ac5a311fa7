"""A failpoint table: what explore needs to know per failpoint beyond its name (how to reach it,
on which member, why it cannot be reached), kept as data beside a template.

Tab-separated, UTF-8, a header row whose first column is `failpoint`, one row per failpoint;
blank lines and lines starting with `#` are skipped. Every other column becomes a placeholder of
that failpoint's cells (`{trigger}`, `{member}`...), filled in before the template is parsed; the
column `why` says why a failpoint cannot be reached, and explore's reports show it for a cell that
was not. ``read_table`` is a pure read of the text (``parse_table``) after a bounded file read.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

from gofail_py.errors import TableError
from gofail_py.names import is_go_identifier

MAX_TABLE = 1_000_000  # bytes: a table of every failpoint of etcd is a few KB
FIRST = "failpoint"
WHY = "why"
# names a column cannot take: the runner's built-in placeholders
RESERVED = ("tmp", "dir", "port", "port2", "port3", "endpoint")
# a column named as the template's own placeholders is data only: the cell's own value wins
# (examples/etcd/failpoints.tsv has `terms`, the terms a failpoint needs for its body to act)
OWN = ("terms", "failpoint_type")
_COLUMN = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def table_error(path: str, line: int, message: str) -> TableError:
    """The one TableError of gofail_py.errors (exit 2), said `FILE:LINE: message` (line 0: the file)."""
    return TableError(f"{path}:{line}: {message}" if line > 0 else f"{path}: {message}")


@dataclass(frozen=True)
class Table:
    path: str
    columns: tuple[str, ...]  # after `failpoint`
    rows: Mapping[str, Mapping[str, str]]  # failpoint -> column -> value

    @property
    def placeholders(self) -> tuple[str, ...]:
        """The columns that are placeholders of the template (not `terms`, `failpoint_type`)."""
        return tuple(column for column in self.columns if column not in OWN)

    def row(self, failpoint: str) -> dict[str, str]:
        """The failpoint's placeholder values by column; TableError when it has no row."""
        if failpoint not in self.rows:
            raise table_error(self.path, 0, f"no row for failpoint {failpoint} (the table's first column)")
        return {column: value for column, value in self.rows[failpoint].items() if column not in OWN}

    def why(self, failpoint: str) -> str:
        return self.rows.get(failpoint, {}).get(WHY, "")

    def missing(self, failpoints: Iterable[str]) -> list[str]:
        """The failpoints with no row, in the order given."""
        return [name for name in failpoints if name not in self.rows]


def parse_table(text: str, path: str = "<table>") -> Table:
    """The table in ``text``; TableError at the first line that is wrong."""
    header: list[str] | None = None
    rows: dict[str, dict[str, str]] = {}
    for number, line in enumerate(text.split("\n"), start=1):
        line = line.removesuffix("\r")
        if not line.strip() or line.startswith("#"):
            continue
        if "\0" in line:
            raise table_error(path, number, "a NUL byte")
        fields = line.split("\t")
        if header is None:
            header = _header(fields, path, number)
            continue
        if len(fields) > len(header):
            raise table_error(path, number, f"{len(fields)} fields, the header has {len(header)} columns")
        fields += [""] * (len(header) - len(fields))  # an editor may drop trailing empty fields
        name = fields[0].strip()
        if not is_go_identifier(name):
            raise table_error(path, number, f"{name[:60]!r} is not a failpoint name (a Go identifier)")
        if name in rows:
            raise table_error(path, number, f"failpoint {name} has a second row")
        rows[name] = {column: value.strip() for column, value in zip(header[1:], fields[1:])}
    if header is None:
        raise table_error(path, 0, f"empty: expected a header row starting with `{FIRST}`, tab-separated")
    return Table(path, tuple(header[1:]), rows)


def _header(fields: list[str], path: str, number: int) -> list[str]:
    names = [field.strip() for field in fields]
    if names[0] != FIRST:
        raise table_error(path, number, f"the header's first column is {names[0][:40]!r}, not `{FIRST}` (tab-separated)")
    for name in names[1:]:
        if not _COLUMN.fullmatch(name):
            raise table_error(path, number, f"column {name[:40]!r} is not a placeholder name (letters, digits, _)")
        if name in RESERVED:
            raise table_error(path, number, f"column {name!r} is a name the template already has ({{{name}}})")
    if FIRST in names[1:]:
        raise table_error(path, number, f"column {FIRST!r} is there twice")
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise table_error(path, number, f"column {duplicates[0]!r} is there twice")
    return names


def read_table(path: str | Path) -> Table:
    """The table at ``path``: a regular UTF-8 file of at most MAX_TABLE bytes."""
    shown = str(path)
    try:
        if Path(path).exists() and not Path(path).is_file():
            raise table_error(shown, 0, "not a regular file")
        with open(path, "rb") as file:
            raw = file.read(MAX_TABLE + 1)
    except FileNotFoundError as error:
        raise table_error(shown, 0, "no such file") from error
    except OSError as error:
        raise table_error(shown, 0, f"cannot read: {error.strerror or error}") from error
    if len(raw) > MAX_TABLE:
        raise table_error(shown, 0, f"larger than {MAX_TABLE // 1000} KB; not a failpoint table")
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise table_error(shown, raw.count(b"\n", 0, error.start) + 1, "invalid UTF-8") from error
    return parse_table(text, shown)
