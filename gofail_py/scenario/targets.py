"""What a scenario talks to: endpoints and declared processes (started through the supervisor)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

from gofail_py.client.client import Client
from gofail_py.processes.supervisor import Child, tail

PANIC_MARK = "failpoint panic"  # what the runtime's `panic` action writes to stderr
_NAMED = re.compile(re.escape(PANIC_MARK) + r": ([A-Za-z_][A-Za-z0-9_]*)")
PANIC_SCAN = 4 << 20  # bytes at the end of stderr searched for it: a program may log a lot after the panic


def find_panic(path: Path) -> str | None:
    """The first line holding the runtime's panic mark in the last PANIC_SCAN bytes of a log.

    Not just the last lines: etcd panics again while logging the failpoint panic, and its stderr
    then ends with dozens of lines of the second panic's stack.
    """
    try:
        with path.open("rb") as log:
            log.seek(0, 2)
            log.seek(max(0, log.tell() - PANIC_SCAN))
            data = log.read()
    except OSError:
        return None
    lines = [line.strip() for line in data.decode("utf-8", "replace").splitlines() if PANIC_MARK in line]
    # the Go runtime's own line ("panic: failpoint panic: NAME") first, else a logger's copy of it
    return next((line for line in lines if line.startswith("panic: ")), lines[0] if lines else None)


def panic_names(line: str) -> str:
    """The word after the mark: the failpoint's name for a bare `panic`, the value's for `panic("x")`."""
    match = _NAMED.search(line)
    return match.group(1) if match else ""


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
        return find_panic(self.child.stderr_path)

    def panicked_at(self, failpoint: str) -> bool:
        """The last run died by a failpoint panic of ``failpoint``: named in the panic line (a bare
        `panic` writes the name), or, when the line names no armed failpoint, armed with a panic."""
        line = self.panic_line()
        if line is None or self.alive():
            return False
        said = panic_names(line)
        if said == failpoint:
            return True
        return said not in self.armed and "panic" in self.armed.get(failpoint, "")

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
