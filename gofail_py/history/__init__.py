"""Histories of client operations: the JSON-lines format, a thread-safe Recorder, a streaming reader.

    from gofail_py.history import Recorder, read_history

The format is in docs/check.md."""

from __future__ import annotations

from gofail_py.history.operation import Operation
from gofail_py.history.reader import HistoryReader, read_history
from gofail_py.history.recorder import Call, Recorder

__all__ = ["Call", "HistoryReader", "Operation", "Recorder", "read_history"]
