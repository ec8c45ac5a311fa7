"""Histories of client operations: the JSON-lines format, a thread-safe Recorder (recorder), a
streaming reader (reader); the format is in docs/check.md.

    from gofail_py.history import Recorder, read_history

It offers Recorder to whoever records traffic, and read_history to the checker. The recorder and
the reader ask a model (gofail_py.models) which operations and fields exist; the Operation type
lives in gofail_py.models, below both, since the models step through it.

Must not import: gofail_py.check, gofail_py.client, gofail_py.processes, gofail_py.recording,
    gofail_py.report, gofail_py.scenario, gofail_py.explore, gofail_py.pytest, gofail_py.cli,
    gofail_py.traffic, gofail_py.rewriter
"""

from __future__ import annotations

from gofail_py.models.operation import Operation
from gofail_py.history.reader import HistoryReader, read_history
from gofail_py.history.recorder import Call, Recorder

__all__ = ["Call", "HistoryReader", "Operation", "Recorder", "read_history"]
