"""The test process's own children, to check that nothing a run forks outlives it."""

from __future__ import annotations

import os
from pathlib import Path


def children() -> set[int]:
    """This process's children now (the test process may have others, from other tests)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found
