"""The journal of a run: its JSON-lines events (events), the recorder that writes them as failpoints
are armed and processes start, stop and crash (recorder), a client's recording view (view), and
which failpoint a Go panic came from (panics).

It offers the others Recorder, RecordingClient and recording (here, as the docs teach them), the
events and read_journal. It asks a client only what its own protocol names (the client records
through it: ``Client(journal=...)``), and reads the rewriter's inventory to attribute a panic.

Must not import: gofail_py.client, gofail_py.processes, gofail_py.report, gofail_py.scenario,
    gofail_py.explore, gofail_py.pytest, gofail_py.cli, gofail_py.traffic
"""

from __future__ import annotations

from gofail_py.recording.panics import hits_at_panic
from gofail_py.recording.recorder import Recorder
from gofail_py.recording.view import RecordingClient, recording

__all__ = ["Recorder", "RecordingClient", "hits_at_panic", "recording"]
