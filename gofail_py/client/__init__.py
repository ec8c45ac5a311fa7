"""The client of the gofail runtime: one endpoint over HTTP, its answers read, all-or-nothing
batches (client, transport, answers, batch), and several endpoints at once (cluster).

It offers the others Client (here, as the docs teach it) and Cluster. Given a journal, a Client
records through gofail_py.recording. It knows nothing of source files or of starting processes.

Must not import: gofail_py.rewriter, gofail_py.processes, gofail_py.report, gofail_py.scenario,
    gofail_py.explore, gofail_py.pytest, gofail_py.cli, gofail_py.history, gofail_py.check,
    gofail_py.traffic
"""

from __future__ import annotations

from gofail_py.client.client import DEFAULT_REGISTRATION_GRACE, ENV_ENDPOINT, Client, parse_endpoint

__all__ = ["DEFAULT_REGISTRATION_GRACE", "ENV_ENDPOINT", "Client", "parse_endpoint"]
