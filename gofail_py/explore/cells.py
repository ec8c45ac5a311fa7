"""The cells of a campaign: the source inventory's failpoints × terms, filtered and sampled."""

from __future__ import annotations

import fnmatch
import hashlib
import random
import re
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from gofail_py.errors import WorkspaceError
from gofail_py.explore.table import Table, table_error


@dataclass(frozen=True)
class Cell:
    """One run of a campaign: a failpoint (with its Go type) armed with one terms string."""

    failpoint: str
    failpoint_type: str
    terms: str
    why: str = ""  # the failpoint table's reason why it cannot be reached (explore --table), if any

    @property
    def id(self) -> str:
        """`raftAfterSave-panic`, the form pytest ids and the matrix use."""
        return f"{self.failpoint}-{self.terms}"

    @property
    def slug(self) -> str:
        """The id made safe as a file name, `slowWrite-sleep__100ms__-1a2b3c`: distinct ids, distinct slugs."""
        safe = re.sub(r"[^A-Za-z0-9._-]", "_", self.id)
        return safe if safe == self.id else f"{safe}-{hashlib.sha1(self.id.encode()).hexdigest()[:6]}"

    def variables(self) -> dict[str, str]:
        return {"failpoint": self.failpoint, "terms": self.terms, "failpoint_type": self.failpoint_type}


def inventory(sources: Sequence[str | Path], only: Sequence[str] = ()) -> list[tuple[str, str]]:
    """(name, type) of every failpoint under the sources, in file and line order, once per name.

    ``only`` keeps the names matching any of the globs. A name found twice (two packages) is one
    cell: the runtime's HTTP endpoint addresses failpoints by name alone.
    """
    from gofail_py.rewriter import workspace

    seen: dict[str, str] = {}
    for located in workspace.list_failpoints(list(sources)):
        name = located.failpoint.name
        if only and not any(fnmatch.fnmatchcase(name, glob) for glob in only):
            continue
        seen.setdefault(name, located.failpoint.type)
    if not seen:
        what = f" matching {' '.join(only)}" if only else ""
        raise WorkspaceError(f"no failpoints{what} under {' '.join(str(s) for s in sources)}")
    return list(seen.items())


def make_cells(failpoints: Sequence[tuple[str, str]], terms: Sequence[str], seed: int | None = None,
               sample: int | None = None, table: Table | None = None) -> list[Cell]:
    """Every failpoint × terms pair, or ``sample`` of them picked with ``seed``, in matrix order.

    The same inputs give the same cells on every machine and every pytest-xdist worker. With a
    ``table``, every failpoint must have a row (TableError naming those without, exit 2); the
    cells carry its `why`.
    """
    if table is not None:
        missing = table.missing(name for name, _ in failpoints)
        if missing:
            raise table_error(table.path, 0, f"no row for {len(missing)} failpoint(s) of the source: {', '.join(missing)} "
                             "(add a row for each, or leave them out with --only)")
    cells = [Cell(name, type_, term, table.why(name) if table is not None else "")
             for name, type_ in failpoints for term in dict.fromkeys(terms)]
    if sample is None or sample >= len(cells):
        return cells
    picked = set(random.Random(seed if seed is not None else 0).sample(range(len(cells)), sample))
    return [cell for index, cell in enumerate(cells) if index in picked]
