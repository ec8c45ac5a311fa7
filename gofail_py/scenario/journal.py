"""The timeline of a scenario run: one record per step, written as JSON lines as it happens."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import IO, Any, Literal

from gofail_py.errors import ScenarioFileError

# what a record is: a statement of the scenario, a `for` window's timer, a cleanup action, the
# end-of-scenario check
RecordKind = Literal["step", "timer", "cleanup", "end"]
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

    def line(self) -> str:
        """The readable one-line form for the summary."""
        text = f"[{self.start:8.3f}s +{self.end - self.start:6.3f}s] {self.outcome:<6} {self.index:<8} {self.statement}"
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
    """Collects records; writes each as a JSON line to ``path`` and hands it to ``on_record``."""

    path: Path | None = None
    on_record: Callable[[StepRecord], None] | None = None
    records: list[StepRecord] = field(default_factory=list)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)
    _file: IO[str] | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.path is not None:
            try:
                self.path.parent.mkdir(parents=True, exist_ok=True)
                self._file = self.path.open("w", encoding="utf-8")
            except OSError as error:
                raise ScenarioFileError(f"cannot write the journal {self.path}: {error.strerror or error}") from error

    def add(self, record: StepRecord) -> None:
        with self._lock:
            self.records.append(record)
            if self._file is not None:
                self._file.write(json.dumps(asdict(record), default=str) + "\n")
                self._file.flush()
            if self.on_record is not None:
                self.on_record(record)

    def close(self) -> None:
        if self._file is not None:
            self._file.close()
            self._file = None
