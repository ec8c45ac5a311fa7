"""What a scenario talks to: endpoints and declared processes (started through the supervisor)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

from gofail_py.client import Client
from gofail_py.processes import Child, tail

PANIC_MARK = "failpoint panic"  # what the runtime's `panic` action writes to stderr


def stderr_excerpt(path: Path | None, lines: int = 8) -> str:
    """'last lines of its stderr:' and them, or a plain statement that there were none."""
    text = tail(path, lines) if path is not None else ""
    return f"last lines of its stderr:\n{text}" if text.strip() else "its stderr was empty"


@dataclass
class Target:
    """A process or endpoint the scenario talks to, with the failpoints it armed there."""

    name: str
    client: Client
    armed: dict[str, str] = field(default_factory=dict)

    @property
    def may_panic(self) -> bool:
        """True while a `panic` the scenario armed could take the process down."""
        return any("panic" in terms for terms in self.armed.values())


@dataclass
class Process(Target):
    """A declared process: its ports (kept across restarts) and its current child."""

    ports: tuple[int, ...] = ()
    child: Child | None = None  # the current run; its `accounted` says whether its exit is expected

    @property
    def pid(self) -> int | None:
        return self.child.pid if self.child is not None else None

    def alive(self) -> bool:
        return self.child is not None and self.child.alive()

    def exit_code(self) -> int | None:
        return None if self.child is None else self.child.exit_code()

    def stderr_excerpt(self) -> str:
        return stderr_excerpt(self.child.stderr_path if self.child else None)

    def panic_line(self) -> str | None:
        """The runtime's panic line in the stderr of the last run, if it died by a `panic` action."""
        if self.child is None:
            return None
        return next((line.strip() for line in tail(self.child.stderr_path, 60).splitlines() if PANIC_MARK in line), None)

    def started(self, child: Child) -> None:
        self.child = child
        self.armed.clear()

    def stop(self, kill: bool = False) -> int | None:
        """Ends the current child (if any); the exit counts as accounted for."""
        if self.child is None:
            return None
        code = self.child.stop(kill=kill)  # accounts for the exit
        self.armed.clear()
        self.client.close()
        return code
