"""The process table as /proc shows it (Linux): states, sessions, groups, run tokens; stopping a
set of pids and waiting until they are gone; what dead runs left behind.

"Gone" is stricter than "not a zombie": a multi-threaded program (any Go binary) whose main
thread exited is shown as a zombie while its other threads are still exiting and still hold its
sockets and files; it is gone when none of its threads runs.
"""

from __future__ import annotations

import os
import secrets
import signal
import stat as stat_module
import sys
import threading
import time
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

RUN_ENV = "GOFAIL_PY_RUN"  # the token every started process carries: "<pid>.<starttime>.<random>"
STOP_GRACE = 3.0  # seconds between SIGTERM and SIGKILL
KILL_WAIT = 10.0  # seconds a SIGKILLed process may take to be gone (a loaded machine, many threads)
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


def stat(pid: int) -> list[str] | None:
    """Fields of /proc/PID/stat after the command name (state [0], ppid [1], pgrp [2], sid [3])."""
    try:
        raw = (_PROC / str(pid) / "stat").read_text()
    except OSError:
        return None
    return raw[raw.rfind(")") + 2:].split()


def start_time(pid: int) -> str | None:
    fields = stat(pid)
    return fields[19] if fields else None


def environ_value(pid: int, key: str) -> str | None:
    try:
        raw = (_PROC / str(pid) / "environ").read_bytes()
    except OSError:
        return None
    prefix = key.encode() + b"="
    for item in raw.split(b"\0"):
        if item.startswith(prefix):
            return item[len(prefix):].decode("utf-8", "replace")
    return None


def pids() -> list[int]:
    return [int(entry.name) for entry in _PROC.iterdir() if entry.name.isdigit()]


def _dead(state: str) -> bool:
    return state in ("Z", "X")


def alive(pid: int) -> bool:
    """True while any thread of the process runs (a zombie main thread with live threads is alive)."""
    fields = stat(pid)
    if fields is None:
        return False
    if not _dead(fields[0]):
        return True
    try:
        tasks = [entry.name for entry in (_PROC / str(pid) / "task").iterdir() if entry.name != str(pid)]
    except OSError:
        return False
    for tid in tasks:
        try:
            state = (_PROC / str(pid) / "task" / tid / "stat").read_text()
        except OSError:
            continue
        if not _dead(state[state.rfind(")") + 2:].split()[0]):
            return True
    return False


def new_token() -> str:
    """A run token naming this process (pid and start time, so a reused pid is not mistaken)."""
    return f"{os.getpid()}.{start_time(os.getpid())}.{secrets.token_hex(4)}"


def token_alive(token: str) -> bool:
    """True while the process that made the token still runs."""
    pid, _, rest = token.partition(".")
    start, _, _ = rest.partition(".")
    return pid.isdigit() and alive(int(pid)) and start_time(int(pid)) == start


def kill(pid: int, sig: int) -> None:
    try:
        os.kill(pid, sig)
    except (ProcessLookupError, PermissionError):
        pass


def reap_adopted(pid: int) -> None:
    """Collects the exit of an adopted orphan (our child only because we are its subreaper).
    Never called for a Popen's own child: a waitpid would steal its exit code."""
    fields = stat(pid)
    if fields is None or fields[1] != str(os.getpid()):
        return
    try:
        os.waitpid(pid, os.WNOHANG)
    except ChildProcessError:
        pass


def identify(found: Iterable[int]) -> dict[int, str | None]:
    """pid -> start time: a pid that dies and is reused meanwhile is not taken for the same process."""
    return {pid: start_time(pid) for pid in found}


def alive_as(pid: int, started: str | None) -> bool:
    return alive(pid) and start_time(pid) == started


def signal_each(found: Mapping[int, str | None], sig: int) -> None:
    for pid, started in found.items():
        if alive_as(pid, started):
            kill(pid, sig)


def wait_gone(found: Mapping[int, str | None], deadline: float) -> bool:
    """Waits until none of ``found`` is alive, or ``deadline``; True when none is."""
    return poll_until(lambda: None if any(alive_as(p, s) for p, s in found.items()) else True, deadline) is not None


def sweep(find: Callable[[], list[int]], grace: float = STOP_GRACE, kill_wait: float = KILL_WAIT,
          popen_pids: Collection[int] = ()) -> list[int]:
    """TERM to every pid ``find`` returns, KILL to those still alive after ``grace``, then waits
    (``kill_wait`` at most) until every one is gone; adopted orphans among them are reaped (not
    ``popen_pids``: their Popen collects their exit). Returns the pids signalled."""
    found = identify(find())
    signal_each(found, signal.SIGTERM)
    if not wait_gone(found, time.monotonic() + grace):
        signal_each(found, signal.SIGKILL)
        wait_gone(found, time.monotonic() + kill_wait)
    for pid in found:
        if pid not in popen_pids:
            reap_adopted(pid)
    return list(found)


# --- what dead runs left behind ---------------------------------------------------------------


@dataclass(frozen=True)
class StaleProcess:
    """A process carrying the token of a run whose supervisor is gone."""

    pid: int
    token: str
    command: str


def of_run(token: str, run: str | None) -> bool:
    """Whether a token is the run's: ``run`` is a whole token or its first fields (`PID`, `PID.START`)."""
    return run is None or token == run or token.startswith(run + ".")


def stale_processes(run: str | None = None) -> list[StaleProcess]:
    """Every readable process whose run token names a supervisor that no longer runs (of the run
    ``run`` names, when given: see ``of_run``)."""
    found = []
    for pid in pids():
        token = environ_value(pid, RUN_ENV)
        if token is None or not of_run(token, run) or not alive(pid) or token_alive(token):
            continue
        try:
            command = (_PROC / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode("utf-8", "replace").strip()
        except OSError:
            continue
        found.append(StaleProcess(pid, token, command))
    return found


def spared() -> dict[int, str]:
    """Processes a sweep never signals, with why: this process, its ancestors (a shell that
    inherited a dead run's token is not something that run left; signalling it would end the
    command and the shell it runs in), and the members of its process group when that group holds
    an ancestor (a script run without job control shares its group with everything it started)."""
    why = {os.getpid(): "this command"}
    groups = set()
    pid = os.getppid()
    while pid > 1 and pid not in why:  # to init, or to the edge of a pid namespace (ppid 0)
        fields = stat(pid)
        if fields is None:
            break
        why[pid] = "an ancestor of this command"
        groups.add(fields[2])
        pid = int(fields[1])
    own_group = str(os.getpgrp())
    if own_group in groups:
        for other in pids():
            fields = stat(other)
            if other not in why and fields is not None and fields[2] == own_group:
                why[other] = "in this command's process group, with its shell"
    return why


@dataclass(frozen=True)
class SweepResult:
    """What `stop_stale` did: only what it really stopped and removed is in ``stopped`` and ``removed``."""

    stopped: list[StaleProcess]
    spared: list[tuple[StaleProcess, str]]  # not signalled, with why (this command, an ancestor...)
    still_running: list[StaleProcess]  # signalled, but alive after the sweep (another user's, say)
    removed: list[tuple[Path, str]]  # temp dirs removed, with their run's token
    kept: list[tuple[Path, str, str]]  # temp dirs not removed: path, token, why


def stop_stale(grace: float = STOP_GRACE, run: str | None = None) -> SweepResult:
    """Stops what ``stale_processes`` finds (TERM, then KILL), never this process or an ancestor
    (``spared``), and removes dead runs' temp dirs (of the run ``run`` names, when given); says
    what it really did."""
    stale = stale_processes(run)
    why = spared()
    targets = [process for process in stale if process.pid not in why]
    started = identify(process.pid for process in targets)
    sweep(lambda: list(started), grace)
    stopped = [process for process in targets if not alive_as(process.pid, started[process.pid])]
    result = SweepResult(stopped, [(process, why[process.pid]) for process in stale if process.pid in why],
                         [process for process in targets if process not in stopped], [], [])
    for directory, token in stale_temp_dirs(run):
        problem = _remove_tree(directory)
        if problem is None:
            result.removed.append((directory, token))
        else:
            result.kept.append((directory, token, problem))
    return result


TEMP_PREFIX = "gofail-py-run-"


def temp_dir(token: str) -> Path:
    """A run's temp dir, named by its token so a later sweep can tell whether its run is gone."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"{TEMP_PREFIX}{token}-"))


EXPLORE_PREFIX = "gofail-py-explore-"


def explore_temp_dir() -> Path:
    """An explore campaign's temp dir, named by a token of this process like a run's."""
    import tempfile

    return Path(tempfile.mkdtemp(prefix=f"{EXPLORE_PREFIX}{new_token()}-"))


def stale_temp_dirs(run: str | None = None) -> list[tuple[Path, str]]:
    """The temp dirs of runs and explore campaigns that are gone, with their tokens (a dir named
    without a token, by an older gofail-py, cannot be told from a live one: left alone)."""
    import tempfile

    root = Path(tempfile.gettempdir())
    found = []
    for prefix in (TEMP_PREFIX, EXPLORE_PREFIX):
        for path in sorted(root.glob(f"{prefix}*")):
            token = path.name[len(prefix):].rpartition("-")[0]
            if token.partition(".")[0].isdigit() and of_run(token, run) and _own_dir(path) and not token_alive(token):
                found.append((path, token))
    return found


def _own_dir(path: Path) -> bool:
    """A real directory (not a link to one) of this user: another user's dir named like a run's,
    in the shared temp dir, is not this user's to remove (nor to list as left by a run)."""
    try:
        info = path.lstat()
    except OSError:
        return False
    return stat_module.S_ISDIR(info.st_mode) and info.st_uid == os.geteuid()


def _remove_tree(path: Path) -> str | None:
    """Removes a dead run's temp dir (shutil's rmtree works through directory fds and never
    follows a link); None when it is gone, else what stopped it."""
    import shutil

    errors: list[str] = []

    def on_error(function: object, name: str, info: object) -> None:
        error = info[1] if isinstance(info, tuple) else info  # onerror gets exc_info, onexc the exception
        errors.append(f"{name}: {getattr(error, 'strerror', None) or error}")

    if not _own_dir(path):
        return "not a directory of this user"
    if sys.version_info >= (3, 12):
        shutil.rmtree(path, onexc=on_error)
    else:
        shutil.rmtree(path, onerror=on_error)
    if os.path.lexists(path):
        return errors[0] if errors else "still there"
    return None
