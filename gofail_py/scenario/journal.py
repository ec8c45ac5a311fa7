"""The timeline of a scenario run: one record per step (the Recorder writes them to the journal file)."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

# what a record is: a statement of the scenario, a `for` window's timer, a cleanup action, the
# end-of-scenario check, the end of a background traffic
RecordKind = Literal["step", "timer", "cleanup", "end", "traffic"]
Outcome = Literal["ok", "failed", "not-reached", "error", "interrupted"]  # not-reached: a `reach` timed out


@dataclass
class StepRecord:
    """What one step did: when, to which target, what it sent, what came back, how it ended."""

    index: str  # position in the scenario: "3", "5.2" inside a block, "cleanup"
    statement: str
    location: str
    target: str | None = None
    start: float = 0.0  # seconds since the run began
    end: float = 0.0
    outcome: Outcome = "ok"
    sent: Any = None
    answer: Any = None
    message: str = ""
    kind: RecordKind = "step"
    members: list[str] | None = None  # the processes a role word or an alias stood for when it ran

    def line(self) -> str:
        """The readable one-line form for the summary."""
        text = f"[{self.start:8.3f}s +{self.end - self.start:6.3f}s] {self.outcome:<6} {self.index:<8} {self.statement}"
        if self.members is not None:  # what a role word or an alias stood for
            text += f" [{', '.join(self.members)}]"
        if self.answer not in (None, "", {}, []):
            text += f"  -> {_short(self.answer)}"
        if self.message:
            text += f"\n{' ' * 28}{self.message}"
        return text


def _short(value: Any, limit: int = 120) -> str:
    text = value if isinstance(value, str) else json.dumps(value, default=str)
    text = text.replace("\n", "\\n")
    return text if len(text) <= limit else text[: limit - 3] + "..."


@dataclass
class Journal:
    """Collects records and hands each to ``on_record``. The file at ``path`` is written by the
    run's Recorder (gofail_py.recording.recorder): step records there are `step` events among the others."""

    path: Path | None = None
    on_record: Callable[[StepRecord], None] | None = None
    records: list[StepRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def add(self, record: StepRecord) -> None:
        with self._lock:
            self.records.append(record)
            if self.on_record is not None:
                self.on_record(record)
