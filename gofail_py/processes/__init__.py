"""Processes: the one supervisor that starts, waits for, stops and sweeps every process gofail-py
starts (supervisor), the process table as /proc shows it (proctable), and the local gofail
binaries found there (procfind, which asks them through the client).

It offers the others Supervisor, Child, poll_until, free_port and the sweep of what dead runs
left behind. It knows argv and environments, not scenarios or source files.

Must not import: gofail_py.rewriter, gofail_py.recording, gofail_py.report, gofail_py.scenario,
    gofail_py.explore, gofail_py.pytest, gofail_py.cli, gofail_py.history, gofail_py.check,
    gofail_py.traffic
"""
