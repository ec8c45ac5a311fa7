"""The one process supervisor: start, wait for, stop and sweep every process gofail-py starts.

Used by the scenario runner and the pytest fixtures. It knows argv and environments, not the
scenario language. Each process it starts:

- runs in a session (and so a process group) of its own, so a stop reaches a wrapper's children;
- carries the run's token in its environment (``GOFAIL_PY_RUN``), and a tag of its own
  (``GOFAIL_PY_PROCESS``), inherited by its descendants, so a stop or a sweep of /proc finds the
  ones that left the group or the session;
- is stopped with everything that came from it: TERM to all of it, KILL to what is left after the
  grace period, and the stop returns only once all of it is gone (a SIGKILLed Go binary may still
  hold its ports for a moment; a restart must find them free);
- gets SIGKILL from the kernel if the supervising Python process dies (``PR_SET_PDEATHSIG``); the
  fork happens in one long-lived thread because Linux ties that signal to the forking *thread*;
- writes stdout and stderr to files (a pipe nobody reads blocks a chatty binary).

The supervising process is also made a child subreaper (``PR_SET_CHILD_SUBREAPER``): orphans of
a wrapper that exited are re-parented to it instead of init, and the sweep reaps them.

Limits: a descendant that clears its environment *and* leaves the session is not found by the
sweep; one that outlives a SIGKILL of the supervisor is found later by ``stale_processes``.
"""

from __future__ import annotations

import collections
import os
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from gofail_py.children import die_with_parent, libc
from gofail_py.errors import ProcessStartError
from gofail_py.processes.proctable import (KILL_WAIT, RUN_ENV, STOP_GRACE, Cancelled, StaleProcess, alive, alive_as, environ_value, explore_temp_dir,
                                 identify, new_token, pids, poll_until, reap_adopted, signal_each, stale_processes,
                                 stale_temp_dirs, start_time, stat, stop_stale, sweep, temp_dir, token_alive, wait_gone)

PROCESS_ENV = "GOFAIL_PY_PROCESS"  # names the started process each descendant comes from: "<token>/<n>"
_PR_SET_CHILD_SUBREAPER = 36
_start_time = start_time  # the older private name, used by tests


_HANDED_OUT: collections.deque[int] = collections.deque(maxlen=4096)
_HANDED_OUT_LOCK = threading.Lock()


def free_port() -> int:
    """A loopback TCP port that was free a moment ago, and not one this process handed out lately:
    the kernel's bind to port 0 often returns a port it just freed, so a process's {port} and its
    GOFAIL_HTTP port, asked for one after the other, could be the same port."""
    with _HANDED_OUT_LOCK:
        for _ in range(64):
            with socket.socket() as sock:
                sock.bind(("127.0.0.1", 0))
                port = int(sock.getsockname()[1])
            if port not in _HANDED_OUT:
                break
        _HANDED_OUT.append(port)
        return port


TAIL_BYTES = 1 << 20  # of a log read back (a stderr tail, a command's output): the rest stays in its file


def tail_bytes(path: Path, limit: int = TAIL_BYTES) -> tuple[bytes, int]:
    """The last ``limit`` bytes of a file and its size, read without reading the rest
    (b"", 0 when it cannot be read): a command's 300 MB of output stays on disk."""
    try:
        with open(path, "rb") as file:
            size = os.fstat(file.fileno()).st_size
            file.seek(max(0, size - limit))
            return file.read(limit), size
    except OSError:
        return b"", 0


def tail(path: Path, lines: int = 8) -> str:
    """The last lines of a log file ("" when it cannot be read), from its last TAIL_BYTES."""
    data, size = tail_bytes(path)
    text = data.decode("utf-8", errors="replace")
    kept = text.splitlines()
    if size > len(data) and kept:
        kept = kept[1:]  # the first line read is cut
    return "\n".join(kept[-lines:])




def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process (Linux); False where unsupported."""
    loaded = libc()
    return loaded is not None and loaded.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


# --- one started process --------------------------------------------------------------------


@dataclass
class Child:
    """A started process: its Popen, the log files its output goes to."""

    name: str
    popen: subprocess.Popen[bytes]
    stdout_path: Path
    stderr_path: Path
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)  # the supervisor's
    # its exit is expected (it was stopped, or its caller allowed or reported it); an exit that is
    # not is a death to report, once
    accounted: bool = False
    tag: str = ""  # the PROCESS_ENV value its descendants carry

    def account(self) -> None:
        with self.lock:
            self.accounted = True

    def claim_unexpected_exit(self) -> bool:
        """True once for a child that exited while nobody expected it; accounted for from then on."""
        with self.lock:
            if self.accounted or self.popen.poll() is None:
                return False
            self.accounted = True
            return True

    @property
    def pid(self) -> int:
        return self.popen.pid

    def alive(self) -> bool:
        return self.popen.poll() is None

    def exit_code(self) -> int | None:
        return self.popen.poll()

    def signal_group(self, sig: int) -> None:
        """The group, not the pid: a shell script or `go run` must not leave its children behind."""
        try:
            os.killpg(self.popen.pid, sig)
        except (ProcessLookupError, PermissionError):
            pass

    def members(self) -> list[int]:
        """Live processes that came from this one: its group, its session, and those carrying its
        tag (a descendant that left both keeps its environment). Not the process itself."""
        own = str(self.pid)
        found = []
        for pid in pids():
            fields = stat(pid)
            if pid in (self.pid, os.getpid()) or fields is None:
                continue
            if (fields[2] == own or fields[3] == own or (self.tag and environ_value(pid, PROCESS_ENV) == self.tag)) \
                    and alive(pid):
                found.append(pid)
        return found

    def stop(self, kill: bool = False, grace: float = STOP_GRACE, kill_wait: float = KILL_WAIT) -> int:
        """SIGTERM (or SIGKILL) to the process and everything that came from it, SIGKILL to what is
        left after ``grace``; returns once all of it is gone (``kill_wait`` more at most: a process
        in the kernel dies when it leaves it). The exit code."""
        self.account()
        deadline = time.monotonic() + grace
        first = signal.SIGKILL if kill else signal.SIGTERM
        seen: dict[int, str | None] = {}

        def signal_new() -> None:
            # the group had its signal from killpg (twice could mean "force" to a program): the
            # others, and any found later (a dying wrapper's child), get theirs one by one
            new = identify(pid for pid in self.members() if pid not in seen)
            signal_each({p: s for p, s in new.items() if (stat(p) or ["", "", ""])[2] != str(self.pid)}, first)
            seen.update(new)

        def done() -> bool | None:
            signal_new()
            return True if self.popen.poll() is not None and not any(alive_as(p, s) for p, s in seen.items()) else None

        self.signal_group(first)
        if poll_until(done, deadline, interval=0.02) is None:
            self.signal_group(signal.SIGKILL)
            first = signal.SIGKILL
            signal_new()
            signal_each(seen, signal.SIGKILL)
            try:
                self.popen.wait(timeout=kill_wait)
            except subprocess.TimeoutExpired:
                pass
            wait_gone(seen, time.monotonic() + kill_wait)
        for pid in seen:
            reap_adopted(pid)  # an orphan of this process, adopted by us: never a Popen's child
        self.popen.wait()
        return self.popen.returncode


class Ran(NamedTuple):
    """A command run to its end: its exit code, the tails of its output and their whole sizes."""

    code: int
    stdout: bytes
    stdout_size: int
    stderr: bytes
    stderr_size: int


@dataclass
class Supervisor:
    """Starts processes for one run and, at ``close``, stops every one and all their descendants."""

    log_dir: Path
    token: str = field(default_factory=new_token)
    children: list[Child] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    _spawner: ThreadPoolExecutor = field(default_factory=lambda: ThreadPoolExecutor(1, "gofail-py-spawner"))
    _counter: int = 0

    def __post_init__(self) -> None:
        become_subreaper()

    def start(self, name: str, argv: Sequence[str], env: Mapping[str, str] | None = None, *,
              merge_stderr: bool = False, accounted: bool = False, death_signal: int = signal.SIGKILL) -> Child:
        """Starts argv with the environment plus ``env`` and the run token; output to log files.

        ``accounted``: its exit is expected from the start (a command whose exit is its result).
        ``death_signal``: what the kernel sends it if this process dies (SIGTERM lets a child that
        supervises processes of its own, like a `gofail-py run`, clean up as on Ctrl-C).

        ProcessStartError when it cannot be started (missing program, NUL byte in an argument...).
        """
        with self.lock:
            self._counter += 1
            stem = f"{name}.{self._counter}"  # unique: a restart or a repeat never overwrites a log
            tag = f"{self.token}/{self._counter}"
        stdout_path, stderr_path = self.log_dir / f"{stem}.stdout.log", self.log_dir / f"{stem}.stderr.log"
        full_env = {**os.environ, **(env or {}), RUN_ENV: self.token, PROCESS_ENV: tag}

        def spawn() -> subprocess.Popen[bytes]:
            with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
                return subprocess.Popen(list(argv), env=full_env, stdout=out,
                                        stderr=subprocess.STDOUT if merge_stderr else err,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=die_with_parent(death_signal))

        try:
            popen = self._spawner.submit(spawn).result()
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise ProcessStartError(f"cannot start {name} ({argv[0] if argv else '?'}): {reason}") from error
        child = Child(name, popen, stdout_path, stdout_path if merge_stderr else stderr_path, self.lock, accounted, tag)
        with self.lock:
            self.children.append(child)
        return child

    def run(self, name: str, argv: Sequence[str], timeout: float, cancel: threading.Event | None = None,
            keep: int = TAIL_BYTES) -> Ran:
        """Runs a command to its end: its exit code and the last ``keep`` bytes of its stdout and
        stderr (spooled to the log files: memory does not grow with the output). TimeoutExpired,
        Cancelled."""
        child = self.start(name, argv, accounted=True)
        try:
            deadline = time.monotonic() + timeout
            if poll_until(child.exit_code, deadline, cancel, interval=0.02) is None:
                raise subprocess.TimeoutExpired(list(argv), timeout)
            return Ran(child.popen.returncode, *tail_bytes(child.stdout_path, keep), *tail_bytes(child.stderr_path, keep))
        finally:
            if child.alive():
                child.stop(kill=True)

    def descendants(self) -> list[int]:
        """Live processes carrying this run's token, or in a session one of its children leads."""
        with self.lock:
            sessions = {str(child.pid) for child in self.children}
        found = []
        for pid in pids():
            fields = stat(pid)
            if pid == os.getpid() or fields is None:
                continue
            if (fields[3] in sessions or environ_value(pid, RUN_ENV) == self.token) and alive(pid):
                found.append(pid)
        return found

    def close(self, grace: float = STOP_GRACE) -> None:
        """Stops every child and what came from it (TERM, KILL after ``grace``), then every
        descendant left; returns when all of them are gone."""
        with self.lock:
            children = list(self.children)
        for child in children:
            child.stop(grace=grace)
        sweep(self.descendants, grace, popen_pids={child.pid for child in children})
        self._spawner.shutdown(wait=True)


__all__ = ["KILL_WAIT", "PROCESS_ENV", "RUN_ENV", "STOP_GRACE", "Cancelled", "Child", "StaleProcess", "Supervisor",
           "become_subreaper", "explore_temp_dir", "free_port", "new_token", "poll_until", "stale_processes", "stale_temp_dirs",
           "stop_stale", "sweep", "tail", "temp_dir", "token_alive"]
