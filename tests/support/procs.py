"""The test process's own children, to check that nothing a run forks outlives it; a child's end
waited for with its threads' stacks shown when it hangs."""

from __future__ import annotations

import os
import signal
import subprocess
from pathlib import Path

import pytest


def children() -> set[int]:
    """This process's children now (the test process may have others, from other tests)."""
    found: set[int] = set()
    for task in Path(f"/proc/{os.getpid()}/task").iterdir():
        found.update(int(pid) for pid in (task / "children").read_text().split())
    return found


def communicate_or_dump(proc: subprocess.Popen[str], timeout: float, what: str) -> tuple[str, str]:
    """proc.communicate(timeout); when it does not end in time: SIGABRT, which (started with
    ``python -X faulthandler``) prints every thread's stack on stderr, and the test fails with it."""
    try:
        return proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGABRT)
        out, err = proc.communicate(timeout=30)
        pytest.fail(f"{what} did not end within {timeout:g} s; stdout:\n{out}\nstderr (its threads):\n{err}")


def default_sigint() -> None:
    """preexec_fn for a child a test sends SIGINT to, as a terminal's Ctrl-C would: a suite started
    as a shell's background job (`cmd &` without job control) inherits SIGINT ignored, Python then
    keeps ignoring it (the shell's rule for such jobs), and the child would never see it."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)
