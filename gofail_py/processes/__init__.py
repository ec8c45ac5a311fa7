"""Processes: the one supervisor that starts, waits for, stops and sweeps every process gofail-py
starts (supervisor), the process table as /proc shows it (proctable), and the local gofail
binaries found there (procfind, which asks them through the client).

It offers the others Supervisor, Child, poll_until, free_port and the sweep of what dead runs
left behind. It knows argv and environments, not scenarios or source files.

Must not import: gofail_py.rewriter, gofail_py.recording, gofail_py.report, gofail_py.scenario,
    gofail_py.explore, gofail_py.pytest, gofail_py.cli, gofail_py.history, gofail_py.check,
    gofail_py.traffic
"""

from __future__ import annotations

from typing import Any


def __getattr__(name: str) -> Any:
    """gofail_py.processes was the supervisor's module in 0.1: its names still work for one
    release, with a DeprecationWarning naming gofail_py.processes.supervisor."""
    if name.startswith("_") or name in ("supervisor", "proctable", "procfind"):
        raise AttributeError(name)  # a submodule not loaded yet: `from gofail_py.processes import X` then loads it
    import gofail_py.processes.supervisor as supervisor
    from gofail_py import _moved

    return _moved.forward(supervisor, __name__, name)
