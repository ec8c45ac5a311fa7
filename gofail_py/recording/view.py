"""A recording view of a client: its enable, disable and count go through a Recorder, so every
armed window is written with its hits; everything else passes through.

    with recording(Client(endpoint), "run.jsonl", process="kv") as client:
        client.enable("afterCommit", "panic")
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

from gofail_py.errors import ClientError
from gofail_py.recording.recorder import Client, Recorder
from gofail_py.terms import Terms

if TYPE_CHECKING:
    from gofail_py.rewriter.gofiles import PathArg


class RecordingClient:
    """A Client whose enable/disable/count go through a Recorder; everything else passes through."""

    def __init__(self, client: Client, recorder: Recorder, process: str | None = None) -> None:
        self.client = client
        self.recorder = recorder
        self.process = process or client.endpoint

    def __getattr__(self, name: str) -> Any:
        return getattr(self.client, name)

    def enable(self, name: str, terms: str | Terms) -> None:
        self.recorder.set(self.client, name, terms, self.process)

    def enable_many(self, failpoints: Mapping[str, str | Terms]) -> None:
        self.recorder.set_many(self.client, failpoints, self.process)

    def disable(self, name: str, *, strict: bool = False) -> bool:
        return self.recorder.unset(self.client, name, self.process, strict=strict)

    def disable_all(self) -> list[str]:
        active = self.client.active()  # by name inside the registration window (no GET /)
        for name in active:
            self.disable(name)
        return active

    def count(self, name: str, *, until: float | None = None) -> int:
        value = self.client.count(name, until=until)
        self.recorder.observe(self.process, name, value)
        return value

    def wait_count(self, name: str, at_least: int, timeout: float, interval: float = 0.01) -> int:
        value = self.client.wait_count(name, at_least, timeout, interval)
        self.recorder.observe(self.process, name, value)
        return value

    @contextmanager
    def failpoint(self, name: str, terms: str | Terms) -> Iterator[RecordingClient]:
        self.enable(name, terms)
        try:
            yield self
        finally:
            try:
                self.disable(name)
            except ClientError:
                pass  # already off, or the process is gone (a panic action does that)


@contextmanager
def recording(client: Client, journal: PathArg | Recorder, *, process: str | None = None,
              name: str = "", source: Sequence[PathArg] = ()) -> Iterator[RecordingClient]:
    """A recording view of ``client``; at the end its open windows close with their counts read."""
    recorder = journal if isinstance(journal, Recorder) else Recorder(journal, name=name, source=source)
    wrapped = RecordingClient(client, recorder, process)
    try:
        yield wrapped
    finally:
        if isinstance(journal, Recorder):
            recorder.before_stop(wrapped.process, client, closed_by="end")
        else:
            recorder.close({wrapped.process: client})


__all__ = ["RecordingClient", "recording"]
