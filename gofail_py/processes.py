"""The one process supervisor: start, wait for, stop and sweep every process gofail-py starts.

Used by the scenario runner and the pytest fixtures. It knows argv and environments, not the
scenario language. Each process it starts:

- runs in a session (and so a process group) of its own, so a stop reaches a wrapper's children;
- carries the run's token in its environment (``GOFAIL_PY_RUN``), inherited by its descendants, so
  a sweep of /proc finds the ones that left the group or the session;
- gets SIGKILL from the kernel if the supervising Python process dies (``PR_SET_PDEATHSIG``); the
  fork happens in one long-lived thread because Linux ties that signal to the forking *thread*;
- writes stdout and stderr to files (a pipe nobody reads blocks a chatty binary).

The supervising process is also made a child subreaper (``PR_SET_CHILD_SUBREAPER``): orphans of
a wrapper that exited are re-parented to it instead of init, and the sweep reaps them.

Limits: a descendant that clears its environment *and* leaves the session is not found by the
sweep; one that outlives a SIGKILL of the supervisor is found later by ``stale_processes``.
"""

from __future__ import annotations

import ctypes
import os
import secrets
import signal
import socket
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from gofail_py.errors import ProcessStartError

RUN_ENV = "GOFAIL_PY_RUN"  # the token every started process carries: "<pid>.<starttime>.<random>"
STOP_GRACE = 3.0  # seconds between SIGTERM and SIGKILL
_PR_SET_PDEATHSIG = 1
_PR_SET_CHILD_SUBREAPER = 36
_PROC = Path("/proc")
T = TypeVar("T")


class Cancelled(KeyboardInterrupt):
    """The run was interrupted: waits in other threads stop at their next poll."""


def poll_until(check: Callable[[], T | None], deadline: float, cancel: threading.Event | None = None,
               interval: float = 0.01) -> T | None:
    """Calls ``check`` until it returns something other than None, or until ``deadline``
    (a ``time.monotonic()`` value); None then. ``check`` is always called at least once, and once
    more at the deadline, so a slow poll never loses a last chance. Cancelled when ``cancel`` is set."""
    while True:
        value = check()
        if value is not None:
            return value
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        if cancel is not None and cancel.wait(min(interval, remaining)):
            raise Cancelled
        if cancel is None:
            time.sleep(min(interval, remaining))


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


def _libc() -> ctypes.CDLL | None:
    try:
        return ctypes.CDLL(None, use_errno=True)
    except OSError:
        return None


_LIBC = _libc()


def _die_with(parent: int) -> Callable[[], None]:
    """What the child runs between fork and exec (keep it tiny): SIGKILL when ``parent`` dies."""

    def preexec() -> None:
        if _LIBC is not None:
            _LIBC.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
            if os.getppid() != parent:  # the parent died before the prctl: the signal will not come
                os._exit(1)

    return preexec


def become_subreaper() -> bool:
    """Orphaned descendants are re-parented to this process (Linux); False where unsupported."""
    return _LIBC is not None and _LIBC.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) == 0


# --- /proc --------------------------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state is [0], ppid [1], sid [3])."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()


def _start_time(pid: int) -> str | None:
    fields = _stat(pid)
    return fields[19] if fields else None


def _environ_value(pid: int, key: str) -> str | None:
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    prefix = key.encode() + b"="
    for item in raw.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix):].decode("utf-8", "replace")
    return None


def _pids() -> list[int]:
    return [int(entry.name) for entry in _PROC.iterdir() if entry.name.isdigit()]


def _alive(pid: int) -> bool:
    fields = _stat(pid)
    return fields is not None and fields[0] not in ("Z", "X")


def new_token() -> str:
    """A run token naming this process (pid and start time, so a reused pid is not mistaken)."""
    return f"{os.getpid()}.{_start_time(os.getpid())}.{secrets.token_hex(4)}"


def token_alive(token: str) -> bool:
    """True while the process that made the token still runs."""
    pid, _, rest = token.partition(".")
    start, _, _ = rest.partition(".")
    return pid.isdigit() and _alive(int(pid)) and _start_time(int(pid)) == start


def _kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def _reap(pid: int) -> None:
    """Collects an adopted orphan's exit (it is our child only because we are its subreaper)."""
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


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

    def stop(self, kill: bool = False, grace: float = STOP_GRACE) -> int:
        """SIGTERM (or SIGKILL) to the group, SIGKILL after the grace period; the exit code."""
        self.account()
        if self.popen.poll() is None:
            self.signal_group(signal.SIGKILL if kill else signal.SIGTERM)
            try:
                self.popen.wait(timeout=grace)
            except subprocess.TimeoutExpired:
                self.signal_group(signal.SIGKILL)
                self.popen.wait()
        self.signal_group(signal.SIGKILL)  # stragglers of the group, if any
        return self.popen.returncode


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
              merge_stderr: bool = False, accounted: bool = False) -> Child:
        """Starts argv with the environment plus ``env`` and the run token; output to log files.

        ``accounted``: its exit is expected from the start (a command whose exit is its result).

        ProcessStartError when it cannot be started (missing program, NUL byte in an argument...).
        """
        with self.lock:
            self._counter += 1
            stem = f"{name}.{self._counter}"  # unique: a restart or a repeat never overwrites a log
        stdout_path, stderr_path = self.log_dir / f"{stem}.stdout.log", self.log_dir / f"{stem}.stderr.log"
        full_env = {**os.environ, **(env or {}), RUN_ENV: self.token}

        def spawn() -> subprocess.Popen[bytes]:
            with open(stdout_path, "wb") as out, open(stderr_path, "wb") as err:
                return subprocess.Popen(list(argv), env=full_env, stdout=out,
                                        stderr=subprocess.STDOUT if merge_stderr else err,
                                        stdin=subprocess.DEVNULL, start_new_session=True,
                                        preexec_fn=_die_with(os.getpid()))

        try:
            popen = self._spawner.submit(spawn).result()
        except (OSError, ValueError, subprocess.SubprocessError) as error:
            reason = error.strerror if isinstance(error, OSError) and error.strerror else str(error)
            raise ProcessStartError(f"cannot start {name} ({argv[0] if argv else '?'}): {reason}") from error
        child = Child(name, popen, stdout_path, stdout_path if merge_stderr else stderr_path, self.lock, accounted)
        with self.lock:
            self.children.append(child)
        return child

    def run(self, name: str, argv: Sequence[str], timeout: float, cancel: threading.Event | None = None
            ) -> tuple[int, bytes, bytes]:
        """Runs a command to its end: (exit code, stdout, stderr). TimeoutExpired, Cancelled."""
        child = self.start(name, argv, accounted=True)
        try:
            deadline = time.monotonic() + timeout
            if poll_until(child.exit_code, deadline, cancel, interval=0.02) is None:
                raise subprocess.TimeoutExpired(list(argv), timeout)
            return child.popen.returncode, child.stdout_path.read_bytes(), child.stderr_path.read_bytes()
        finally:
            if child.alive():
                child.stop(kill=True)

    def descendants(self) -> list[int]:
        """Live processes carrying this run's token, or in a session one of its children leads."""
        with self.lock:
            sessions = {str(child.pid) for child in self.children}
        found = []
        for pid in _pids():
            if pid == os.getpid():
                continue
            fields = _stat(pid)
            # a zombie is not reaped here: it may be another Popen's child of this process, whose
            # exit code a waitpid would steal; the sweep reaps only the pids it signalled
            if fields is None or fields[0] in ("Z", "X"):
                continue
            if fields[3] in sessions or _environ_value(pid, RUN_ENV) == self.token:
                found.append(pid)
        return found

    def close(self, grace: float = STOP_GRACE) -> None:
        """Stops every child (TERM to its group, KILL after ``grace``), then every descendant left."""
        with self.lock:
            children = list(self.children)
        for child in children:
            child.stop(grace=grace)
        sweep(self.descendants, grace)
        self._spawner.shutdown(wait=True)


def sweep(find: Callable[[], list[int]], grace: float = STOP_GRACE) -> list[int]:
    """TERM to every pid ``find`` returns, KILL to those still alive after ``grace``; adopted
    orphans among them are reaped. Returns the pids signalled."""
    pids = find()
    for pid in pids:
        _kill(pid, signal.SIGTERM)
    poll_until(lambda: None if any(_alive(pid) for pid in pids) else True, time.monotonic() + grace)
    for pid in pids:
        if _alive(pid):
            _kill(pid, signal.SIGKILL)
    for pid in pids:
        _reap(pid)
    return pids


# --- what dead runs left behind ---------------------------------------------------------------


@dataclass(frozen=True)
class StaleProcess:
    """A process carrying the token of a run whose supervisor is gone."""

    pid: int
    token: str
    command: str


def stale_processes() -> list[StaleProcess]:
    """Every readable process whose run token names a supervisor that no longer runs."""
    found = []
    for pid in _pids():
        token = _environ_value(pid, RUN_ENV)
        if token is None or not _alive(pid) or token_alive(token):
            continue
        try:
            command = (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        found.append(StaleProcess(pid, token, command))
    return found


def stop_stale(grace: float = STOP_GRACE) -> list[StaleProcess]:
    """Stops what ``stale_processes`` finds (TERM, then KILL) and removes dead runs' temp dirs."""
    stale = stale_processes()
    sweep(lambda: [p.pid for p in stale], grace)
    for directory in stale_temp_dirs():
        _remove_tree(directory)
    return stale


TEMP_PREFIX = "gofail-py-run-"


def temp_dir(token: str) -> Path:
    """A run's temp dir, named by its token so a later sweep can tell whether its run is gone."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{token}-"))


def stale_temp_dirs() -> list[Path]:
    import tempfile

    root = Path(tempfile.gettempdir())
    return [path for path in root.glob(f"{TEMP_PREFIX}*")
            if path.is_dir() and not token_alive(path.name[len(TEMP_PREFIX):].rpartition("-")[0])]


def _remove_tree(path: Path) -> None:
    import shutil

    shutil.rmtree(path, ignore_errors=True)
