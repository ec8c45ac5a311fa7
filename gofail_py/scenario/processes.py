"""The processes a scenario starts and the commands it runs: spawn, wait, stop, each in its own group."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gofail_py.client import Client
from gofail_py.errors import ProcessStartError
from gofail_py.scenario import model

STOP_GRACE = 3.0  # seconds between SIGTERM and SIGKILL
PANIC_MARK = "failpoint panic"  # what the runtime's `panic` action writes to stderr


class Cancelled(KeyboardInterrupt):
    """The run was interrupted: steps in other threads stop at their next pause."""


def free_port() -> int:
    """A loopback TCP port that was free a moment ago."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def tail(path: Path, lines: int = 8) -> str:
    """The last lines of a log file ("" when it cannot be read)."""
    try:
        text = path.read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


def signal_group(popen: subprocess.Popen[bytes], sig: int) -> None:
    """Signals the process group a child leads (it was started in a session of its own)."""
    try:
        os.killpg(popen.pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def end_group(popen: subprocess.Popen[bytes], kill: bool = False, grace: float = STOP_GRACE) -> int:
    """SIGTERM (or SIGKILL) to the child's group, SIGKILL after the grace period; its exit code.

    The group, not the pid: a shell script or `go run` started as a process must not leave its
    own children behind.
    """
    if popen.poll() is None:
        signal_group(popen, signal.SIGKILL if kill else signal.SIGTERM)
        try:
            popen.wait(timeout=grace)
        except subprocess.TimeoutExpired:
            signal_group(popen, signal.SIGKILL)
            popen.wait()
    signal_group(popen, signal.SIGKILL)  # stragglers of the group, if any
    return popen.returncode


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
    """A declared process: its ports (kept across restarts), logs and current child."""

    decl: model.ProcessDecl | None = None
    ports: tuple[int, ...] = ()
    popen: subprocess.Popen[bytes] | None = None
    stdout_path: Path = Path()
    stderr_path: Path = Path()
    # False from a start until a step accounts for the end of that run (stop, kill, expect exit,
    # start or restart): an exit nobody accounted for fails the scenario.
    exit_accounted: bool = True

    def alive(self) -> bool:
        return self.popen is not None and self.popen.poll() is None

    def exit_code(self) -> int | None:
        return None if self.popen is None else self.popen.poll()

    def panic_line(self) -> str | None:
        """The runtime's panic line in the stderr of the last run, if it died by a `panic` action."""
        return next((line.strip() for line in tail(self.stderr_path, 60).splitlines() if PANIC_MARK in line), None)

    def spawn(self, argv: Sequence[str], env: Mapping[str, str]) -> None:
        """Starts the child with GOFAIL_HTTP set; its output goes to this run's log files."""
        full_env = {**os.environ, **env, "GOFAIL_HTTP": self.client.endpoint}
        # truncated at each start, so the stderr searched for a panic is this run's only
        with open(self.stdout_path, "wb") as out, open(self.stderr_path, "wb") as err:
            try:
                self.popen = subprocess.Popen(list(argv), env=full_env, stdout=out, stderr=err,
                                              stdin=subprocess.DEVNULL, start_new_session=True)
            except OSError as error:
                raise ProcessStartError(f"cannot start {self.name} ({argv[0]}): {error.strerror}") from error
        self.armed.clear()
        self.exit_accounted = False

    def wait_ready(self, timeout: float, cancel: threading.Event) -> None:
        """Waits until the gofail endpoint answers; ProcessStartError if it exits or never does."""
        assert self.popen is not None
        deadline = time.monotonic() + timeout
        while not self.client.available():
            code = self.popen.poll()
            if code is not None:
                self.exit_accounted = True
                raise ProcessStartError(
                    f"process {self.name} exited with code {code} before its gofail endpoint answered; "
                    f"last lines of its stderr:\n{tail(self.stderr_path)}"
                )
            if time.monotonic() > deadline:
                raise ProcessStartError(
                    f"process {self.name} did not answer on {self.client.endpoint} within {timeout:g} s: "
                    "is it built with failpoints enabled?"
                )
            if cancel.wait(0.01):
                raise Cancelled

    def stop(self, kill: bool = False) -> int | None:
        """Ends the current child (if any); the exit counts as accounted for."""
        if self.popen is None:
            return None
        self.exit_accounted = True
        code = end_group(self.popen, kill=kill)
        self.armed.clear()
        self.client.close()
        return code


@dataclass
class Commands:
    """The commands `run` started, foreground and background, so cleanup can end every one."""

    log_dir: Path
    background: list[subprocess.Popen[bytes]] = field(default_factory=list)
    foreground: set[subprocess.Popen[bytes]] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def start_background(self, argv: Sequence[str]) -> subprocess.Popen[bytes]:
        with self.lock:
            number = len(self.background) + 1
        with open(self.log_dir / f"background-{number}.log", "ab") as log:
            popen = subprocess.Popen(list(argv), stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     start_new_session=True)
        with self.lock:
            self.background.append(popen)
        return popen

    def run(self, argv: Sequence[str], timeout: float, cancel: threading.Event) -> tuple[int, bytes, bytes]:
        """Runs a command to its end: (exit code, stdout, stderr). TimeoutExpired, Cancelled."""
        popen = subprocess.Popen(list(argv), stdout=subprocess.PIPE, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL,
                                 start_new_session=True)
        with self.lock:
            self.foreground.add(popen)
        try:
            deadline = time.monotonic() + timeout
            while True:
                try:
                    out, err = popen.communicate(timeout=0.05)
                    break
                except subprocess.TimeoutExpired:
                    if cancel.is_set():
                        raise Cancelled from None
                    if time.monotonic() > deadline:
                        raise
            return popen.returncode, out, err
        finally:
            if popen.poll() is None:
                end_group(popen, kill=True)
                popen.communicate()
            with self.lock:
                self.foreground.discard(popen)

    def end_all(self) -> None:
        with self.lock:
            running = [*self.foreground, *self.background]
        for popen in running:
            end_group(popen)
